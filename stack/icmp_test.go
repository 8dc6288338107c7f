package stack

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

var (
	router4 = netip.MustParseAddr("198.18.9.9")
	router6 = netip.MustParseAddr("2001:2::9")
)

var plainTCP = tcp.Config{NoTimestamps: true, NoSACK: true, NoWindowScale: true, DelayedACK: -1}

// echo4 is an ICMP echo request from peerAddr to dst.
func echo4(dst netip.Addr, id, sq uint16, data string) []byte {
	m := wire.ICMPv4{Type: wire.ICMPv4EchoRequest, ID: id, Seq: sq, Body: []byte(data)}
	ip := wire.IPv4{TTL: 64, Protocol: wire.ProtocolICMP, Src: peerAddr, Dst: dst}
	return m.Append(ip.Append(nil, m.Len()))
}

// echo6 is an ICMPv6 echo request from peer6 to dst.
func echo6(dst netip.Addr, id, sq uint16, data string) []byte {
	m := wire.ICMPv6{Type: wire.ICMPv6EchoRequest, ID: id, Seq: sq, Body: []byte(data)}
	ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolICMPv6, Src: peer6, Dst: dst}
	return m.Append(ip.Append(nil, m.Len()), peer6, dst)
}

// icmp4Error is an ICMP error from a router to the host quoting the IP
// header and the first 8 bytes of invoking, as RFC 792 has it.
func icmp4Error(typ wire.ICMPv4Type, code uint8, mtu uint16, invoking []byte) []byte {
	m := wire.ICMPv4{Type: typ, Code: code, MTU: mtu, Body: invoking[:min(len(invoking), 28)]}
	ip := wire.IPv4{TTL: 64, Protocol: wire.ProtocolICMP, Src: router4, Dst: hostAddr}
	return m.Append(ip.Append(nil, m.Len()))
}

// icmp6Error is an ICMPv6 error from a router to the host quoting "as much
// of invoking packet as possible without the ICMPv6 packet exceeding the
// minimum IPv6 MTU" (RFC 4443 §3.1).
func icmp6Error(typ wire.ICMPv6Type, code uint8, mtu uint32, invoking []byte) []byte {
	m := wire.ICMPv6{Type: typ, Code: code, MTU: mtu, Body: invoking[:min(len(invoking), 1280-48)]}
	ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolICMPv6, Src: router6, Dst: host6}
	return m.Append(ip.Append(nil, m.Len()), router6, host6)
}

// RFC 792: "The data received in the echo message must be returned in the
// echo reply message"; RFC 4443 §4.2 likewise. Requests to another address
// are not answered.
func TestEchoReplies(t *testing.T) {
	s := newDual(t, Config{})
	s.Input(0, echo4(hostAddr, 7, 1, "ping"))
	s.Input(0, echo6(host6, 8, 2, "ping6"))
	s.Input(0, echo4(elsewhere, 9, 3, "not for us"))
	wantOut(t, outAny(t, s, 0, nil),
		"198.18.0.1 > 198.18.0.2 ICMP echo-reply id=7 seq=1 len=4",
		"2001:2::1 > 2001:2::2 ICMPv6 echo-reply id=8 seq=2 len=5")
	c := s.Counters()
	if c.IcmpInMsgs != 2 || c.IcmpInEchos != 2 || c.IcmpOutEchoReps != 2 || c.InErrs != 0 || c.InSegs != 0 {
		t.Fatalf("counters %+v", c)
	}
}

// The echo replies are limited by a token bucket: EchoBurst at once, then
// EchoRate a second of the virtual clock.
func TestEchoRateLimit(t *testing.T) {
	s := newDual(t, Config{EchoRate: 10, EchoBurst: 2})
	for i := range 3 {
		s.Input(0, echo4(hostAddr, 1, uint16(i), "x"))
	}
	if got := outAny(t, s, 0, nil); len(got) != 2 {
		t.Fatalf("a burst of 3 with EchoBurst 2 gave %d replies: %v", len(got), got)
	}
	// 99 ms later the bucket has no token yet; at 100 ms it has one.
	s.Input(clock.Time(99*time.Millisecond), echo6(host6, 1, 3, "x"))
	wantOut(t, outAny(t, s, clock.Time(99*time.Millisecond), nil))
	s.Input(clock.Time(100*time.Millisecond), echo6(host6, 1, 4, "x"))
	wantOut(t, outAny(t, s, clock.Time(100*time.Millisecond), nil), "2001:2::1 > 2001:2::2 ICMPv6 echo-reply id=1 seq=4 len=1")
	if c := s.Counters(); c.IcmpEchoLimited != 2 || c.IcmpOutEchoReps != 3 {
		t.Fatalf("counters %+v", c)
	}
	off := newDual(t, Config{EchoRate: -1})
	off.Input(0, echo4(hostAddr, 1, 1, "x"))
	wantOut(t, outAny(t, off, 0, nil))
}

// established opens a connection from s to peer:80 (either family) and
// completes the handshake with a SYN-ACK announcing mss.
func established(t *testing.T, s *Stack, peer netip.Addr, mss uint16) *tcp.Conn {
	t.Helper()
	c, err := s.Connect(0, netip.AddrPortFrom(peer, 80))
	if err != nil {
		t.Fatal(err)
	}
	outAny(t, s, 0, nil)
	lp := c.Tuple().Local.Port()
	opts := wire.Options{HasMSS: true, MSS: mss}
	if peer.Is4() {
		p := wire.Packet{
			IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peer, Dst: hostAddr},
			TCP: wire.Segment{SrcPort: 80, DstPort: lp, Seq: 5000, Ack: c.ISS().Add(1), Flags: wire.SYN | wire.ACK, Window: 65535, Options: opts},
		}
		s.Input(0, p.Append(nil))
	} else {
		s.Input(0, packet6(80, lp, wire.SYN|wire.ACK, 5000, c.ISS().Add(1), "", opts))
	}
	outAny(t, s, 0, nil)
	if c.State() != tcp.Established {
		t.Fatalf("handshake: %v", c.State())
	}
	return c
}

// sendData writes n bytes on c and returns the packets that go.
func sendData(t *testing.T, s *Stack, c *tcp.Conn, now clock.Time, n int) [][]byte {
	t.Helper()
	if k, err := s.Write(now, c, make([]byte, n)); k != n || err != nil {
		t.Fatalf("write: %d, %v", k, err)
	}
	var raw [][]byte
	outAny(t, s, now, &raw)
	return raw
}

// withSeq returns a copy of an IPv4 TCP packet with its sequence number
// changed (the checksum is not fixed: a quote is not checked).
func withSeq(pkt []byte, hdr int, sq seq.Value) []byte {
	b := append([]byte(nil), pkt...)
	b[hdr+4], b[hdr+5], b[hdr+6], b[hdr+7] = byte(sq>>24), byte(sq>>16), byte(sq>>8), byte(sq)
	return b
}

// RFC 5927 §4.1: "TCP SHOULD check that the TCP sequence number contained
// in the payload of the ICMP error message is within the range SND.UNA =<
// SEG.SEQ < SND.NXT." A Fragmentation Needed, a Packet Too Big or a port
// unreachable quoting a sequence number outside it changes nothing: no
// packet, the MSS and path MTU as they were, the connection alive; it is
// counted in OutOfWindowIcmps.
func TestICMPErrorOutsideWindowChangesNothing(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	c4 := established(t, s, peerAddr, 1460)
	raw4 := sendData(t, s, c4, ms(10), 3000)
	c6 := established(t, s, peer6, 1440)
	raw6 := sendData(t, s, c6, ms(10), 3000)
	una4, una6 := c4.Info().SndUna, c6.Info().SndUna
	for _, bad := range []seq.Size{3000, 100000} {
		s.Input(ms(20), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 1000, withSeq(raw4[0], 20, una4.Add(bad))))
		s.Input(ms(20), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4PortUnreachable, 0, withSeq(raw4[0], 20, una4.Add(bad))))
		s.Input(ms(20), icmp6Error(wire.ICMPv6PacketTooBig, 0, 1280, withSeq(raw6[0], 40, una6.Add(bad))))
	}
	s.Input(ms(20), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 1000, withSeq(raw4[0], 20, una4-1)))
	wantOut(t, outAny(t, s, ms(20), nil))
	if c := s.Counters(); c.OutOfWindowIcmps != 7 || c.PathMTUChanges != 0 || c.InErrs != 0 {
		t.Fatalf("counters %+v", c)
	}
	if c4.Info().MSS != 1460 || c6.Info().MSS != 1440 || c4.State() != tcp.Established || c4.SoftError() != nil {
		t.Fatalf("MSS %d and %d, state %v, soft error %v", c4.Info().MSS, c6.Info().MSS, c4.State(), c4.SoftError())
	}
	if m := s.PathMTU(ms(20), peerAddr); m != 1500 {
		t.Fatalf("path MTU %d after invalid messages", m)
	}
}

// RFC 1191 §6.1: "When a Datagram Too Big message is received, it MUST
// reduce its estimate of the PMTU for the relevant path, based on the value
// of the Next-Hop MTU field in the message"; the segments in flight that
// no longer fit are re-cut and resent at once (not after an RTO), with DF
// still set. A new connection to that destination still announces the
// link's MSS: RFC 1191 §6.4, "PMTU Discovery does not affect the value sent
// in the TCP MSS option" (its first segments are the smaller:
// TestPathMTUCacheICMPNeverRaises).
func TestFragmentationNeededLowersMSS(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	c := established(t, s, peerAddr, 1460)
	raw := sendData(t, s, c, ms(10), 3000)
	if len(raw) != 3 {
		t.Fatalf("%d packets, want 3", len(raw))
	}
	s.Input(ms(20), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 1000, raw[1]))
	iss := c.ISS()
	lp := c.Tuple().Local.Port()
	line := func(off int, flags string, n int) string {
		return fmt.Sprintf("198.18.0.1:%d > 198.18.0.2:80 %s seq=%d ack=5001 win=65535 len=%d", lp, flags, iss.Add(seq.Size(1+off)), n)
	}
	wantOut(t, outAny(t, s, ms(20), nil),
		line(0, "A", 960), line(960, "A", 500), line(1460, "A", 960), line(2420, "A", 500))
	if m := c.Info().MSS; m != 960 {
		t.Fatalf("MSS %d, want 960 (1000 - 20 - 20)", m)
	}
	if m := s.PathMTU(ms(20), peerAddr); m != 1000 {
		t.Fatalf("path MTU %d, want 1000", m)
	}
	if ctr := s.Counters(); ctr.PathMTUChanges != 1 || ctr.RetransSegs != 4 {
		t.Fatalf("counters %+v", ctr)
	}
	c2, _ := s.Connect(ms(30), netip.AddrPortFrom(peerAddr, 443))
	if got := outAny(t, s, ms(30), nil); len(got) != 1 || !strings.HasSuffix(got[0], "<mss 1460>") {
		t.Fatalf("a new connection to the destination: %v", got)
	}
	_ = c2
	// RFC 1191 §3: "a host MUST never reduce its estimate of the PMTU
	// below 68 octets"; synack floors it at Linux's 552.
	s.Input(ms(40), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 100, raw[0]))
	if m := s.PathMTU(ms(40), peerAddr); m != 552 {
		t.Fatalf("path MTU %d after an MTU of 100, want the floor 552", m)
	}
	// The cache forgets after PathMTUExpiry.
	if m := s.PathMTU(ms(40).Add(PathMTUExpiry), peerAddr); m != 1500 {
		t.Fatalf("path MTU %d after the expiry", m)
	}
}

// RFC 8201 §4: "the source node reduces its assumed PMTU for the path based
// on the MTU of the constricting hop as reported in the Packet Too Big
// message", never below 1280: "A node MUST NOT reduce its estimate of the
// Path MTU below the IPv6 minimum link MTU."
func TestPacketTooBigLowersMSS(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP, MTU: 9000})
	c := established(t, s, peer6, 8940)
	raw := sendData(t, s, c, ms(10), 9000)
	if len(raw) != 2 {
		t.Fatalf("%d packets, want 2", len(raw))
	}
	s.Input(ms(20), icmp6Error(wire.ICMPv6PacketTooBig, 0, 1000, raw[0]))
	got := outAny(t, s, ms(20), nil)
	// 8940 bytes re-cut to 1220 (1280 - 40 - 20): 7 of 1220 and one of 400.
	if len(got) != 8 || !strings.HasSuffix(got[0], "len=1220") || !strings.HasSuffix(got[7], "len=400") {
		t.Fatalf("resent:\n%s", strings.Join(got, "\n"))
	}
	if m := s.PathMTU(ms(20), peer6); m != 1280 || c.Info().MSS != 1220 {
		t.Fatalf("path MTU %d, MSS %d", m, c.Info().MSS)
	}
}

// RFC 1122 §4.2.3.9: "Destination Unreachable -- codes 2-4: These are hard
// error conditions, so TCP SHOULD abort the connection." In SYN-SENT the
// attempt fails at once with the error (RFC 5461 §4.1); a soft error there
// only is noted.
func TestHardICMPErrorInSynSent(t *testing.T) {
	s := newDual(t, Config{})
	var raw [][]byte
	c4, _ := s.Connect(0, netip.AddrPortFrom(peerAddr, 80))
	c6, _ := s.Connect(0, netip.AddrPortFrom(peer6, 80))
	c6b, _ := s.Connect(0, netip.AddrPortFrom(peer6, 81))
	outAny(t, s, 0, &raw)
	s.Input(ms(5), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4PortUnreachable, 0, raw[0]))
	s.Input(ms(5), icmp6Error(wire.ICMPv6DestUnreachable, wire.ICMPv6AdminProhibited, 0, raw[1]))
	s.Input(ms(5), icmp6Error(wire.ICMPv6DestUnreachable, wire.ICMPv6AddressUnreachable, 0, raw[2]))
	wantOut(t, outAny(t, s, ms(5), nil))
	if !errors.Is(c4.Err(), tcp.ErrConnRefused) || c4.State() != tcp.Closed {
		t.Errorf("IPv4 port unreachable: %v, %v", c4.State(), c4.Err())
	}
	if !errors.Is(c6.Err(), tcp.ErrHostUnreachable) || c6.State() != tcp.Closed {
		t.Errorf("ICMPv6 administratively prohibited: %v, %v", c6.State(), c6.Err())
	}
	if c6b.State() != tcp.SynSent || c6b.SoftError() != tcp.ErrHostUnreachable {
		t.Errorf("ICMPv6 address unreachable (soft): %v, soft %v", c6b.State(), c6b.SoftError())
	}
	if ctr := s.Counters(); ctr.AttemptFails != 2 || len(s.Conns()) != 1 {
		t.Fatalf("counters %+v, %d connections", ctr, len(s.Conns()))
	}
}

// An ICMP error that quotes no connection of ours is counted in
// IcmpInErrors, as Linux counts it, and never as a TCP input error.
func TestICMPErrorForNoConnection(t *testing.T) {
	s := newDual(t, Config{})
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: hostAddr, Dst: peerAddr},
		TCP: wire.Segment{SrcPort: 40000, DstPort: 80, Seq: 1, Flags: wire.SYN},
	}
	s.Input(0, icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4PortUnreachable, 0, p.Append(nil)))
	s.Input(0, icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4PortUnreachable, 0, p.Append(nil)[:22]))
	wantOut(t, outAny(t, s, 0, nil))
	if c := s.Counters(); c.IcmpInMsgs != 2 || c.IcmpInErrors != 2 || c.InErrs != 0 || c.InSegs != 0 {
		t.Fatalf("counters %+v", c)
	}
}

func ms(n int) clock.Time { return clock.Time(time.Duration(n) * time.Millisecond) }
