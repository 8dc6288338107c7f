package stack

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

var (
	hostAddr = netip.MustParseAddr("198.18.0.1")
	peerAddr = netip.MustParseAddr("198.18.0.2")
)

func newHost(t *testing.T, addr netip.Addr, rec trace.Recorder) *Stack {
	t.Helper()
	s, err := New(Config{Name: addr.String(), Addr: addr, Rand: rand.New(rand.NewPCG(1, 2)), Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// packet builds an IPv4 packet from peer:port to the host.
func packet(srcPort, dstPort uint16, flags wire.Flags, sq, ack seq.Value, payload string) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
		TCP: wire.Segment{SrcPort: srcPort, DstPort: dstPort, Seq: sq, Ack: ack, Flags: flags, Window: 65535, Payload: []byte(payload)},
	}
	return p.Append(nil)
}

// out collects what a stack sends, as canonical lines with addresses.
func out(t *testing.T, s *Stack, now clock.Time) []string {
	t.Helper()
	var lines []string
	s.Output(now, func(b []byte) {
		p, err := wire.ParsePacket(b)
		if err != nil {
			t.Fatalf("stack sent a packet that does not parse: %v", err)
		}
		lines = append(lines, p.String())
	})
	return lines
}

func wantOut(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sent:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// RFC 9293 §3.10.7.1: "If the ACK bit is off, sequence number zero is used,
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"
func TestResetForSYNToClosedPort(t *testing.T) {
	s := newHost(t, hostAddr, nil)
	s.Input(0, packet(40000, 81, wire.SYN, 7000, 0, ""))
	wantOut(t, out(t, s, 0), "198.18.0.1:81 > 198.18.0.2:40000 RA seq=0 ack=7001 win=0 len=0")
	if c := s.Counters(); c.OutRsts != 1 || c.InSegs != 1 || c.OutSegs != 1 {
		t.Fatalf("counters %+v", c)
	}
}

// "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"; data counts in SEG.LEN.
func TestResetForACKAndData(t *testing.T) {
	s := newHost(t, hostAddr, nil)
	s.Input(0, packet(40000, 81, wire.ACK|wire.PSH, 7000, 123456, "hello"))
	wantOut(t, out(t, s, 0), "198.18.0.1:81 > 198.18.0.2:40000 R seq=123456 ack=- win=0 len=0")
	s.Input(0, packet(40000, 81, wire.FIN, 7000, 0, "hey"))
	wantOut(t, out(t, s, 0), "198.18.0.1:81 > 198.18.0.2:40000 RA seq=0 ack=7004 win=0 len=0")
}

// "An incoming segment containing a RST is discarded."
func TestNoResetForReset(t *testing.T) {
	s := newHost(t, hostAddr, nil)
	s.Input(0, packet(40000, 81, wire.RST, 7000, 0, ""))
	s.Input(0, packet(40000, 81, wire.RST|wire.ACK, 7000, 5, ""))
	wantOut(t, out(t, s, 0))
	if c := s.Counters(); c.OutRsts != 0 || c.InSegs != 2 {
		t.Fatalf("counters %+v", c)
	}
}

// LISTEN (§3.10.7.2): "Any acknowledgment is bad if it arrives on a
// connection still in the LISTEN state. An acceptable reset segment should be
// formed for any arriving ACK-bearing segment ... <SEQ=SEG.ACK><CTL=RST>";
// an RST or a segment without SYN or ACK is dropped.
func TestListenerAnswersACKWithRST(t *testing.T) {
	s := newHost(t, hostAddr, nil)
	if _, err := s.Listen(80, 0); err != nil {
		t.Fatal(err)
	}
	s.Input(0, packet(40000, 80, wire.ACK, 7000, 999, ""))
	wantOut(t, out(t, s, 0), "198.18.0.1:80 > 198.18.0.2:40000 R seq=999 ack=- win=0 len=0")
	s.Input(0, packet(40000, 80, wire.RST, 7000, 0, ""))
	s.Input(0, packet(40000, 80, wire.FIN, 7000, 0, ""))
	wantOut(t, out(t, s, 0))
	if n := len(s.Conns()); n != 0 {
		t.Fatalf("%d connections created by non-SYN segments", n)
	}
}

func TestListenerSYNMakesConnection(t *testing.T) {
	var log trace.Log
	s := newHost(t, hostAddr, &log)
	l, _ := s.Listen(80, 0)
	s.Input(0, packet(40000, 80, wire.SYN, 7000, 0, ""))
	got := out(t, s, 0)
	if len(got) != 1 || !strings.Contains(got[0], "SA seq=") || !strings.Contains(got[0], "ack=7001") {
		t.Fatalf("want a SYN-ACK acknowledging 7001, got %v", got)
	}
	c := s.Conns()[0]
	if c.State() != tcp.SynReceived || l.Accept() != nil {
		t.Fatalf("state %v, or accepted before the handshake completed", c.State())
	}
	s.Input(0, packet(40000, 80, wire.ACK, 7001, c.ISS().Add(1), ""))
	if a := l.Accept(); a != c || a.State() != tcp.Established {
		t.Fatalf("accept gave %v", a)
	}
	if ctr := s.Counters(); ctr.PassiveOpens != 1 || ctr.CurrEstab != 1 {
		t.Fatalf("counters %+v", ctr)
	}
}

// The SYN queue (Config.SynBacklog) and the accept queue (the backlog) are
// bounded apart (RFC 4987 §3.3); with cookies off a SYN beyond the SYN
// queue is dropped (ListenDrops), and while the accept queue is full every
// SYN is (ListenOverflows, as Linux's).
func TestBacklog(t *testing.T) {
	s, err := New(Config{Name: "h", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), SynBacklog: 2, SynCookies: CookiesOff})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := s.Listen(80, 1)
	for port := uint16(40000); port < 40003; port++ {
		s.Input(0, packet(port, 80, wire.SYN, 7000, 0, ""))
	}
	if got := out(t, s, 0); len(got) != 2 {
		t.Fatalf("want 2 SYN-ACKs, got %v", got)
	}
	if c := s.Counters(); c.ListenDrops != 1 || c.ListenOverflows != 0 || l.HalfOpen() != 2 {
		t.Fatalf("ListenDrops = %d, ListenOverflows = %d, half-open %d; want 1, 0, 2", c.ListenDrops, c.ListenOverflows, l.HalfOpen())
	}
	// Complete one handshake: the accept queue (1) is full, so the next
	// SYN is dropped although the SYN queue has room.
	c := s.Lookup(tcp.Tuple{Local: netip.AddrPortFrom(hostAddr, 80), Remote: netip.AddrPortFrom(peerAddr, 40000)})
	s.Input(0, packet(40000, 80, wire.ACK, 7001, c.ISS().Add(1), ""))
	s.Input(0, packet(40002, 80, wire.SYN, 7000, 0, ""))
	if got := out(t, s, 0); len(got) != 0 {
		t.Fatalf("accept queue full: want nothing sent, got %v", got)
	}
	if ctr := s.Counters(); ctr.ListenOverflows != 1 || ctr.ListenDrops != 2 || l.HalfOpen() != 1 || l.Pending() != 1 {
		t.Fatalf("counters %+v, half-open %d, pending %d", ctr, l.HalfOpen(), l.Pending())
	}
	if l.Accept() != c {
		t.Fatal("accept")
	}
	s.Input(0, packet(40002, 80, wire.SYN, 7000, 0, ""))
	if got := out(t, s, 0); len(got) != 1 {
		t.Fatalf("after accept, want a SYN-ACK, got %v", got)
	}
}

// Segments are delivered by the whole 4-tuple: two connections to the same
// port from different peer ports are separate.
func TestDemux(t *testing.T) {
	s := newHost(t, hostAddr, nil)
	l, _ := s.Listen(80, 0)
	for _, port := range []uint16{40000, 40001} {
		s.Input(0, packet(port, 80, wire.SYN, 7000, 0, ""))
	}
	out(t, s, 0)
	conns := s.Conns()
	for i, port := range []uint16{40000, 40001} {
		s.Input(0, packet(port, 80, wire.ACK, 7001, conns[i].ISS().Add(1), ""))
	}
	a, b := l.Accept(), l.Accept()
	s.Input(0, packet(40001, 80, wire.ACK|wire.PSH, 7001, b.ISS().Add(1), "to b"))
	buf := make([]byte, 10)
	if n := s.Read(0, a, buf); n != 0 {
		t.Fatalf("a got %q", buf[:n])
	}
	if n := s.Read(0, b, buf); string(buf[:n]) != "to b" {
		t.Fatalf("b got %q", buf[:n])
	}
}

func TestEphemeralPorts(t *testing.T) {
	s := newHost(t, hostAddr, nil)
	dst := netip.AddrPortFrom(peerAddr, 80)
	seen := map[uint16]bool{}
	for i := 0; i < 100; i++ {
		c, err := s.Connect(0, dst)
		if err != nil {
			t.Fatal(err)
		}
		p := c.Tuple().Local.Port()
		if p < 32768 || p > 60999 || seen[p] {
			t.Fatalf("port %d out of range or reused", p)
		}
		seen[p] = true
	}
	// A tiny range runs out with a clear error.
	small, _ := New(Config{Name: "h", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), EphemeralLow: 5000, EphemeralHigh: 5001})
	small.Connect(0, dst)
	small.Connect(0, dst)
	if _, err := small.Connect(0, dst); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("third connect in a range of two: %v", err)
	}
}

func TestAddressErrors(t *testing.T) {
	s := newHost(t, hostAddr, nil)
	if _, err := s.Listen(80, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen(80, 0); !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("second listen: %v", err)
	}
	dst := netip.AddrPortFrom(peerAddr, 80)
	if _, err := s.ConnectFrom(0, 5000, dst); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConnectFrom(0, 5000, dst); !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("second connect from the same port: %v", err)
	}
	for _, bad := range []netip.AddrPort{{}, netip.AddrPortFrom(peerAddr, 0), netip.MustParseAddrPort("[::]:80"), netip.MustParseAddrPort("224.0.0.1:80")} {
		if _, err := s.Connect(0, bad); !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("connect to %v: %v", bad, err)
		}
	}
	// The host has no IPv6 address: it cannot open an IPv6 connection.
	if _, err := s.Connect(0, netip.MustParseAddrPort("[2001:2::2]:80")); !errors.Is(err, ErrNoAddress) {
		t.Errorf("connect over IPv6 from an IPv4-only host: %v", err)
	}
	if _, err := New(Config{Addr: netip.MustParseAddr("::1"), Rand: rand.New(rand.NewPCG(1, 2))}); err == nil {
		t.Error("an IPv6 address as Addr was accepted")
	}
	if _, err := New(Config{Addr6: hostAddr, Rand: rand.New(rand.NewPCG(1, 2))}); err == nil {
		t.Error("an IPv4 address as Addr6 was accepted")
	}
	if _, err := New(Config{Rand: rand.New(rand.NewPCG(1, 2))}); err == nil {
		t.Error("a stack without an address was accepted")
	}
	if _, err := New(Config{Addr6: host6, MTU: 1000, Rand: rand.New(rand.NewPCG(1, 2))}); err == nil {
		t.Error("an IPv6 host with an MTU below 1280 was accepted")
	}
	if _, err := New(Config{Addr: hostAddr}); err == nil {
		t.Error("a stack without randomness was accepted")
	}
}

// A packet that does not parse is counted in InErrs and recorded with the
// parser's reason, never answered.
func TestBadPacket(t *testing.T) {
	var log trace.Log
	s := newHost(t, hostAddr, &log)
	p := packet(40000, 81, wire.SYN, 7000, 0, "")
	p[len(p)-1] ^= 0xff // break the TCP checksum
	s.Input(0, p)
	s.Input(0, p[:10])
	wantOut(t, out(t, s, 0))
	if c := s.Counters(); c.InErrs != 2 || c.InSegs != 2 {
		t.Fatalf("counters %+v", c)
	}
	if len(log.Events) != 2 || log.Events[0].Kind != trace.Drop || log.Events[0].Cause != trace.DropChecksum || log.Events[1].Cause != trace.DropTruncated {
		t.Fatalf("events %v", log.Events)
	}
	// Not addressed to us: dropped, not answered.
	q := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: netip.MustParseAddr("198.18.0.9")},
		TCP: wire.Segment{SrcPort: 1, DstPort: 2, Flags: wire.SYN}}
	s.Input(0, q.Append(nil))
	wantOut(t, out(t, s, 0))
}

// A full exchange between two stacks: the MIB counters come out as Linux's
// would.
func TestCountersOverAConnection(t *testing.T) {
	a, b := newHost(t, peerAddr, nil), newHost(t, hostAddr, nil)
	l, _ := b.Listen(80, 0)
	now := clock.Time(0)
	pump := func() {
		for i := 0; i < 50; i++ {
			var qa, qb [][]byte
			a.Output(now, func(p []byte) { qa = append(qa, append([]byte(nil), p...)) })
			b.Output(now, func(p []byte) { qb = append(qb, append([]byte(nil), p...)) })
			if len(qa)+len(qb) == 0 {
				return
			}
			now = now.Add(time.Millisecond)
			for _, p := range qa {
				b.Input(now, p)
			}
			for _, p := range qb {
				a.Input(now, p)
			}
		}
		t.Fatal("no quiet after 50 rounds")
	}
	c, _ := a.Connect(now, netip.AddrPortFrom(hostAddr, 80))
	pump()
	sc := l.Accept()
	if ac, bc := a.Counters(), b.Counters(); ac.ActiveOpens != 1 || bc.PassiveOpens != 1 || ac.CurrEstab != 1 || bc.CurrEstab != 1 {
		t.Fatalf("after handshake: %+v %+v", ac, bc)
	}
	a.Write(now, c, []byte("x"))
	pump()
	b.Abort(now, sc)
	pump()
	ac, bc := a.Counters(), b.Counters()
	// The aborting side leaves ESTABLISHED for CLOSED directly, and so does
	// the side that receives the RST: both count EstabResets (as Linux).
	if ac.EstabResets != 1 || bc.EstabResets != 1 || bc.OutRsts != 1 || ac.CurrEstab != 0 || bc.CurrEstab != 0 {
		t.Fatalf("after abort: %+v %+v", ac, bc)
	}
	if !errors.Is(c.Err(), tcp.ErrConnReset) {
		t.Fatalf("client error %v", c.Err())
	}
	if len(a.Conns())+len(b.Conns()) != 0 {
		t.Fatal("TCBs left after both sides closed")
	}
	// client: SYN, ACK, data out; SYN-ACK, RST in. server: the mirror. The
	// server's ACK of the data would wait for the delayed-ACK timer (40 ms),
	// which pump never reaches: the abort comes first.
	if ac.OutSegs != 3 || ac.InSegs != 2 || bc.OutSegs != 2 || bc.InSegs != 3 {
		t.Fatalf("segment counts: client in %d out %d, server in %d out %d", ac.InSegs, ac.OutSegs, bc.InSegs, bc.OutSegs)
	}
}

// Closing a listener aborts the connections nobody accepted.
func TestListenerClose(t *testing.T) {
	s := newHost(t, hostAddr, nil)
	l, _ := s.Listen(80, 0)
	s.Input(0, packet(40000, 80, wire.SYN, 7000, 0, ""))
	out(t, s, 0)
	c := s.Conns()[0]
	s.Input(0, packet(40000, 80, wire.ACK, 7001, c.ISS().Add(1), ""))
	l.Close(0)
	got := out(t, s, 0)
	if len(got) != 1 || !strings.Contains(got[0], " RA seq=") {
		t.Fatalf("want one RST (with ACK), got %v", got)
	}
	if len(s.Conns()) != 0 {
		t.Fatal("connection left after listener close")
	}
	if _, err := s.Listen(80, 0); err != nil {
		t.Fatalf("port not free after close: %v", err)
	}
}
