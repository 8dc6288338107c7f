package stack

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

func newForwarder(t *testing.T, max int, timeout time.Duration) (*Stack, *TCPForwarder) {
	t.Helper()
	s := newAnyHost(t)
	f, err := s.ForwardTCP(max, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return s, f
}

var mssOpts = wire.Options{HasMSS: true, MSS: 1460}

// synTo is a SYN with an MSS option from the peer to dst.
func synTo(dst netip.Addr, srcPort, dstPort uint16, iss uint32) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: dst},
		TCP: wire.Segment{SrcPort: srcPort, DstPort: dstPort, Seq: seq.Value(iss), Flags: wire.SYN, Window: 65535, Options: mssOpts},
	}
	return p.Append(nil)
}

// The forwarder holds a SYN for any destination and sends nothing until
// the application decides; its Complete answers the held SYN as a
// listener would, from the destination the client dialled: RFC 9293
// §3.10.7.2, "If the SYN bit is set, ... ISS should be selected and a SYN
// segment sent of the form: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>", with
// RCV.NXT = SEG.SEQ+1. A retransmitted SYN while the decision is pending
// is dropped; the final ACK establishes the connection.
func TestForwardComplete(t *testing.T) {
	s, f := newForwarder(t, 0, 0)
	calls := 0
	f.SetNotify(func() { calls++ })
	s.Input(0, synTo(elsewhere, 40000, 443, 7000))
	wantOut(t, out(t, s, 0))
	if calls != 1 || f.Pending() != 1 {
		t.Fatalf("after the SYN: notified %d times, %d pending; want 1 and 1", calls, f.Pending())
	}
	r := f.Next()
	if r == nil || f.Next() != nil {
		t.Fatal("Next: want exactly one request")
	}
	want := tcp.Tuple{Local: netip.AddrPortFrom(elsewhere, 443), Remote: netip.AddrPortFrom(peerAddr, 40000)}
	if r.Tuple() != want {
		t.Fatalf("request tuple %v, want %v", r.Tuple(), want)
	}
	// The client retransmits its SYN after its 1 s RTO (RFC 6298 §2.1).
	s.Input(ms(1000), synTo(elsewhere, 40000, 443, 7000))
	wantOut(t, out(t, s, ms(1000)))
	if calls != 1 || f.Stats().Dups != 1 {
		t.Fatalf("retransmitted SYN: notified %d times, stats %+v", calls, f.Stats())
	}
	c, err := r.Complete(ms(1200))
	if err != nil {
		t.Fatal(err)
	}
	if c.State() != tcp.SynReceived {
		t.Fatalf("completed connection in %v, want SYN-RECEIVED", c.State())
	}
	got := out(t, s, ms(1200))
	if len(got) != 1 || !strings.HasPrefix(got[0], "198.19.5.5:443 > 198.18.0.2:40000 SA seq="+strconv.FormatUint(uint64(c.ISS()), 10)+" ack=7001 ") {
		t.Fatalf("sent %v, want the SYN-ACK from 198.19.5.5:443 seq=%d ack=7001", got, c.ISS())
	}
	s.Input(ms(1250), packetTo(elsewhere, 40000, 443, wire.ACK, 7001, c.ISS().Add(1)))
	if c.State() != tcp.Established {
		t.Fatalf("after the ACK: %v, want ESTABLISHED", c.State())
	}
	if _, err := r.Complete(ms(1300)); !errors.Is(err, ErrRequestDecided) {
		t.Fatalf("second Complete: %v, want ErrRequestDecided", err)
	}
	if st := f.Stats(); st.Requests != 1 || st.Completed != 1 || f.Pending() != 0 {
		t.Fatalf("stats %+v, pending %d", st, f.Pending())
	}
	if n := s.Counters().PassiveOpens; n != 1 {
		t.Fatalf("PassiveOpens %d, want 1", n)
	}
}

// A refusal with RST is a closed port's answer, RFC 9293 §3.10.7.1: "If
// the ACK bit is off, sequence number zero is used,
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>", sent from the destination.
func TestForwardRefuseReset(t *testing.T) {
	s, f := newForwarder(t, 0, 0)
	s.Input(0, synTo(elsewhere, 40000, 443, 7000))
	out(t, s, 0)
	r := f.Next()
	if err := r.Refuse(ms(30), RefuseReset); err != nil {
		t.Fatal(err)
	}
	wantOut(t, out(t, s, ms(30)), "198.19.5.5:443 > 198.18.0.2:40000 RA seq=0 ack=7001 win=0 len=0")
	if err := r.Refuse(ms(30), RefuseReset); !errors.Is(err, ErrRequestDecided) {
		t.Fatalf("second Refuse: %v", err)
	}
	// The request is gone: the next SYN of the tuple is a new request.
	s.Input(ms(40), synTo(elsewhere, 40000, 443, 7000))
	if f.Pending() != 1 || f.Stats().Refused != 1 {
		t.Fatalf("pending %d, stats %+v", f.Pending(), f.Stats())
	}
}

// A refusal by ICMP is a Destination Unreachable from the destination that
// quotes the SYN: RFC 792, "Internet Header + 64 bits of Original Data
// Datagram" (synack quotes as much as RFC 1812 §4.3.2.3 allows), with the
// code asked for; over IPv6 RFC 4443 §3.1's codes (3, "Address
// unreachable", for a host).
func TestForwardRefuseICMP(t *testing.T) {
	s, f := newForwarder(t, 0, 0)
	s.Input(0, synTo(elsewhere, 40000, 443, 7000))
	s.Input(0, synTo(elsewhere, 40001, 444, 8000))
	out(t, s, 0)
	cases := []struct {
		how  Refusal
		code uint8
	}{{RefuseHostUnreachable, wire.ICMPv4HostUnreachable}, {RefuseNetUnreachable, wire.ICMPv4NetUnreachable}}
	for _, tc := range cases {
		r := f.Next()
		if err := r.Refuse(ms(10), tc.how); err != nil {
			t.Fatal(err)
		}
		var raw [][]byte
		got := outAny(t, s, ms(10), &raw)
		if len(raw) != 1 {
			t.Fatalf("%v: sent %v, want one ICMP message", tc.how, got)
		}
		ip, payload, err := wire.ParseIP(raw[0])
		if err != nil || ip.Protocol() != wire.ProtocolICMP || ip.Src() != elsewhere || ip.Dst() != peerAddr {
			t.Fatalf("%v: sent %v (%v), want ICMP from %v to %v", tc.how, got, err, elsewhere, peerAddr)
		}
		m, err := wire.ParseICMPv4(payload)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != wire.ICMPv4DestUnreachable || m.Code != tc.code {
			t.Fatalf("%v: type %v code %d, want destination unreachable code %d", tc.how, m.Type, m.Code, tc.code)
		}
		q := m.Quote
		rt := r.Tuple()
		if !q.HasSeq || q.IP.Src() != peerAddr || q.IP.Dst() != rt.Local.Addr() || q.SrcPort != rt.Remote.Port() || q.DstPort != rt.Local.Port() || q.Seq != r.SYN().Seq {
			t.Fatalf("%v: the quote %+v is not the SYN of %v", tc.how, q, rt)
		}
	}
}

func TestForwardRefuseICMPv6(t *testing.T) {
	s := newDual(t, Config{AnyDestination: true})
	f, err := s.ForwardTCP(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	other6 := netip.MustParseAddr("2001:2:0:7::5")
	seg := wire.Segment{SrcPort: 40000, DstPort: 443, Seq: 7000, Flags: wire.SYN, Window: 65535}
	ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: peer6, Dst: other6}
	s.Input(0, seg.Append(ip.Append(nil, seg.Len()), peer6, other6))
	wantOut(t, outAny(t, s, 0, nil))
	if err := f.Next().Refuse(ms(10), RefuseHostUnreachable); err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	got := outAny(t, s, ms(10), &raw)
	if len(raw) != 1 {
		t.Fatalf("sent %v", got)
	}
	h, payload, _ := wire.ParseIP(raw[0])
	m, err := wire.ParseICMPv6(payload, h.Src(), h.Dst())
	if err != nil || h.Src() != other6 || m.Type != wire.ICMPv6DestUnreachable || m.Code != wire.ICMPv6AddressUnreachable {
		t.Fatalf("sent %v (%v), want an address unreachable from %v", got, err, other6)
	}
}

// At most max requests are held: a SYN beyond them is dropped unanswered,
// as a full SYN queue without cookies drops it (the client retransmits).
func TestForwardBound(t *testing.T) {
	s, f := newForwarder(t, 2, 0)
	for i := range 3 {
		s.Input(0, synTo(elsewhere, 40000+uint16(i), 443, 7000))
	}
	wantOut(t, out(t, s, 0))
	if f.Pending() != 2 || f.Stats().Dropped != 1 || s.Counters().ListenDrops != 1 {
		t.Fatalf("pending %d, stats %+v, ListenDrops %d; want 2 held and 1 dropped", f.Pending(), f.Stats(), s.Counters().ListenDrops)
	}
}

// A request not decided within the timeout expires at that deadline
// (NextDeadline shows it): it is forgotten, deciding it later fails, and
// the client's next SYN is a new request.
func TestForwardTimeout(t *testing.T) {
	s, f := newForwarder(t, 0, 5*time.Second)
	s.Input(0, synTo(elsewhere, 40000, 443, 7000))
	s.Input(ms(2000), synTo(elsewhere, 40001, 443, 7000))
	r := f.Next()
	if d := s.NextDeadline(); d != ms(5000) {
		t.Fatalf("NextDeadline %v, want 5s", d)
	}
	s.HandleTimeout(ms(4999))
	if f.Pending() != 2 {
		t.Fatalf("pending %d before the deadline", f.Pending())
	}
	s.HandleTimeout(ms(5000))
	wantOut(t, out(t, s, ms(5000)))
	if f.Pending() != 1 || f.Stats().Expired != 1 || s.NextDeadline() != ms(7000) {
		t.Fatalf("pending %d, stats %+v, next deadline %v", f.Pending(), f.Stats(), s.NextDeadline())
	}
	if _, err := r.Complete(ms(5000)); !errors.Is(err, ErrRequestExpired) {
		t.Fatalf("Complete after expiry: %v, want ErrRequestExpired", err)
	}
	// A request decided at its deadline, before any timer ran, has expired too.
	r2 := f.Next()
	if err := r2.Refuse(ms(7000), RefuseReset); !errors.Is(err, ErrRequestExpired) {
		t.Fatalf("Refuse at the deadline: %v, want ErrRequestExpired", err)
	}
	s.Input(ms(7000), synTo(elsewhere, 40000, 443, 7000))
	if f.Pending() != 1 || f.Next() == nil || s.NextDeadline() != ms(12000) {
		t.Fatalf("retransmitted SYN after expiry: pending %d, next deadline %v", f.Pending(), s.NextDeadline())
	}
	wantOut(t, out(t, s, ms(7000)))
}

// Only SYNs are held: an ACK for a tuple the forwarder holds nothing for
// gets the no-connection RST (RFC 9293 §3.10.7.1: "If the ACK bit is on,
// <SEQ=SEG.ACK><CTL=RST>"); a port's own listener keeps its SYNs; without
// AnyDestination there is no forwarder; after Close, SYNs get RSTs.
func TestForwardOnlySYNs(t *testing.T) {
	s, f := newForwarder(t, 0, 0)
	if _, err := s.ForwardTCP(0, 0); err == nil {
		t.Fatal("second ForwardTCP accepted")
	}
	s.Input(0, packetTo(elsewhere, 40000, 443, wire.ACK, 7001, 555))
	wantOut(t, out(t, s, 0), "198.19.5.5:443 > 198.18.0.2:40000 R seq=555 ack=- win=0 len=0")
	l, _ := s.Listen(80, 0)
	s.Input(0, synTo(elsewhere, 40001, 80, 100))
	out(t, s, 0)
	if l.HalfOpen() != 1 || f.Pending() != 0 {
		t.Fatalf("port 80's SYN: listener %d half-open, forwarder %d", l.HalfOpen(), f.Pending())
	}
	s.Input(0, synTo(elsewhere, 40002, 443, 200))
	r := f.Next()
	f.Close()
	if err := r.Refuse(0, RefuseReset); !errors.Is(err, ErrRequestDecided) {
		t.Fatalf("Refuse after Close: %v", err)
	}
	s.Input(0, synTo(elsewhere, 40003, 443, 300))
	wantOut(t, out(t, s, 0), "198.19.5.5:443 > 198.18.0.2:40003 RA seq=0 ack=301 win=0 len=0")

	plain, err := New(Config{Name: "plain", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.ForwardTCP(0, 0); err == nil || !strings.Contains(err.Error(), "AnyDestination") {
		t.Fatalf("ForwardTCP without AnyDestination: %v", err)
	}
}

// tsSegTo is a segment with a timestamp from the peer:40000 to elsewhere:443.
func tsSegTo(flags wire.Flags, sq, ack seq.Value, tsval uint32) []byte {
	p := wire.Packet{
		IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: elsewhere},
		TCP: wire.Segment{SrcPort: 40000, DstPort: 443, Seq: sq, Ack: ack, Flags: flags, Window: 65535,
			Options: wire.Options{HasTimestamps: true, TSVal: tsval}},
	}
	return p.Append(nil)
}

// A forwarded connection that closed first sits in TIME-WAIT; a SYN of a
// new incarnation (RFC 6191 §2: with timestamps, "if the timestamp value
// of the incoming SYN is greater than the last timestamp seen on the
// previous incarnation", the SYN is accepted) is held for the forwarder
// like any other, and its connection's ISS is above the old SND.NXT (RFC
// 1122 §4.2.2.13: "the new initial sequence number [is] larger than the
// largest sequence number it used on the previous connection
// incarnation"). An old duplicate leaves TIME-WAIT alone.
func TestForwardTimeWaitReopen(t *testing.T) {
	s, f := newForwarder(t, 0, 0)
	s.Input(0, tsSegTo(wire.SYN, 7000, 0, 100))
	c, err := f.Next().Complete(0)
	if err != nil {
		t.Fatal(err)
	}
	out(t, s, 0)
	s.Input(0, tsSegTo(wire.ACK, 7001, c.ISS().Add(1), 101))
	s.Close(0, c)
	out(t, s, 0)
	s.Input(0, tsSegTo(wire.ACK|wire.FIN, 7001, c.ISS().Add(2), 102))
	out(t, s, 0)
	if c.State() != tcp.TimeWait {
		t.Fatalf("state %v, want TIME-WAIT", c.State())
	}
	old := c.ISS().Add(2) // SND.NXT after the FIN
	// An old duplicate SYN (TSval not above 102): TIME-WAIT answers it with
	// an ACK, and the forwarder holds nothing.
	s.Input(ms(10), tsSegTo(wire.SYN, 6000, 0, 50))
	if got := out(t, s, ms(10)); len(got) != 1 || !strings.Contains(got[0], " A seq=") || f.Pending() != 0 {
		t.Fatalf("old duplicate: sent %v, pending %d", got, f.Pending())
	}
	s.Input(ms(20), tsSegTo(wire.SYN, 9000, 0, 200))
	wantOut(t, out(t, s, ms(20)))
	if c.State() != tcp.Closed || f.Pending() != 1 {
		t.Fatalf("new incarnation: old connection %v, %d pending; want CLOSED and 1", c.State(), f.Pending())
	}
	n, err := f.Next().Complete(ms(30))
	if err != nil {
		t.Fatal(err)
	}
	if !n.ISS().GreaterThan(old) {
		t.Fatalf("new ISS %d not above the old SND.NXT %d", n.ISS(), old)
	}
	got := out(t, s, ms(30))
	if len(got) != 1 || !strings.Contains(got[0], " SA ") || !strings.Contains(got[0], "ack=9001") {
		t.Fatalf("sent %v, want the new incarnation's SYN-ACK", got)
	}
}

// Data in a held SYN is not kept (Linux without TCP Fast Open does not
// take it either): the SYN-ACK acknowledges the SYN alone, ack=SEG.SEQ+1,
// and the client sends the data again after the handshake.
func TestForwardSYNData(t *testing.T) {
	s, f := newForwarder(t, 0, 0)
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: elsewhere},
		TCP: wire.Segment{SrcPort: 40000, DstPort: 443, Seq: 7000, Flags: wire.SYN, Window: 65535, Payload: []byte("early data")},
	}
	s.Input(0, p.Append(nil))
	r := f.Next()
	if n := len(r.SYN().Payload); n != 0 {
		t.Fatalf("held SYN keeps %d bytes of data", n)
	}
	if _, err := r.Complete(0); err != nil {
		t.Fatal(err)
	}
	if got := out(t, s, 0); len(got) != 1 || !strings.Contains(got[0], " SA ") || !strings.Contains(got[0], "ack=7001 ") {
		t.Fatalf("sent %v, want a SYN-ACK with ack=7001", got)
	}
}

// The ICMP errors' token bucket starts full, as the echo replies' does
// (Config.EchoBurst: "a token bucket of EchoBurst tokens"): a refusal by
// ICMP at the stack's first instant, before any UDP endpoint was made, is
// sent, not rate-limited.
func TestForwardRefuseICMPAtStart(t *testing.T) {
	s, f := newForwarder(t, 0, 0)
	s.Input(0, synTo(elsewhere, 40000, 443, 7000))
	out(t, s, 0)
	if err := f.Next().Refuse(0, RefuseHostUnreachable); err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	got := outAny(t, s, 0, &raw)
	if len(raw) != 1 {
		t.Fatalf("sent %v at time 0, want one ICMP host unreachable", got)
	}
	if c := s.UDPCounters(); c.OutRateLimited != 0 {
		t.Errorf("%d ICMP errors rate-limited, want 0", c.OutRateLimited)
	}
}
