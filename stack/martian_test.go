package stack

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

func pkt(src, dst netip.Addr, flags wire.Flags) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: src, Dst: dst},
		TCP: wire.Segment{SrcPort: 80, DstPort: 80, Seq: 7000, Flags: flags, Window: 65535},
	}
	return p.Append(nil)
}

// RFC 1122 §4.2.3.10: "A TCP implementation MUST silently discard an
// incoming SYN segment that is addressed to a broadcast or multicast
// address." RFC 1812 §5.3.7: packets whose source is "0.0.0.0", "an IP
// broadcast address", "a Class D (multicast) address", 127/8 off the
// loopback interface, or ours (LAND), and SYN with FIN or RST: each
// dropped without an answer and counted by its reason.
func TestMartiansDropped(t *testing.T) {
	a := netip.MustParseAddr
	for _, tc := range []struct {
		name     string
		src, dst netip.Addr
		flags    wire.Flags
		cause    trace.DropCause
		counter  func(Counters) uint64
	}{
		{"LAND", hostAddr, hostAddr, wire.SYN, trace.DropLAND, func(c Counters) uint64 { return c.InLands }},
		{"broadcast source", a("255.255.255.255"), hostAddr, wire.SYN, trace.DropMartianSource, func(c Counters) uint64 { return c.InMartianSrcs }},
		{"multicast source", a("224.0.0.1"), hostAddr, wire.SYN, trace.DropMartianSource, func(c Counters) uint64 { return c.InMartianSrcs }},
		{"unspecified source", a("0.0.0.0"), hostAddr, wire.SYN, trace.DropMartianSource, func(c Counters) uint64 { return c.InMartianSrcs }},
		{"network 0 source", a("0.1.2.3"), hostAddr, wire.SYN, trace.DropMartianSource, func(c Counters) uint64 { return c.InMartianSrcs }},
		{"loopback source", a("127.0.0.1"), hostAddr, wire.SYN, trace.DropMartianSource, func(c Counters) uint64 { return c.InMartianSrcs }},
		{"SYN+FIN", peerAddr, hostAddr, wire.SYN | wire.FIN, trace.DropBadFlags, func(c Counters) uint64 { return c.InBadFlags }},
		{"SYN+RST", peerAddr, hostAddr, wire.SYN | wire.RST, trace.DropBadFlags, func(c Counters) uint64 { return c.InBadFlags }},
		{"ACK from ourselves", hostAddr, hostAddr, wire.ACK, trace.DropLAND, func(c Counters) uint64 { return c.InLands }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec trace.Log
			s := newHost(t, hostAddr, &rec)
			s.Listen(80, 0)
			s.Input(0, pkt(tc.src, tc.dst, tc.flags))
			wantOut(t, out(t, s, 0))
			if n := tc.counter(s.Counters()); n != 1 || len(s.Conns()) != 0 {
				t.Fatalf("counter %d, %d connections; want 1, 0", n, len(s.Conns()))
			}
			ev := rec.Events
			if len(ev) != 1 || ev[0].Kind != trace.Drop || ev[0].Cause != tc.cause {
				t.Fatalf("events %v; want one drop for %v", ev, tc.cause)
			}
		})
	}
	// The multicast and broadcast destinations of an AnyDestination host.
	for _, dst := range []netip.Addr{a("224.0.0.1"), a("255.255.255.255")} {
		s, _ := New(Config{Name: "h", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), AnyDestination: true})
		s.ListenAny(0)
		s.Input(0, pkt(peerAddr, dst, wire.SYN))
		wantOut(t, out(t, s, 0))
		if c := s.Counters(); c.InMartianDsts != 1 {
			t.Fatalf("to %v: InMartianDsts %d", dst, c.InMartianDsts)
		}
	}
	// On a loopback host, loopback sources are its peers.
	lo := newHost(t, a("127.0.0.1"), nil)
	lo.Listen(80, 0)
	p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: a("127.0.0.2"), Dst: a("127.0.0.1")},
		TCP: wire.Segment{SrcPort: 4000, DstPort: 80, Seq: 7000, Flags: wire.SYN, Window: 65535}}
	lo.Input(0, p.Append(nil))
	if got := out(t, lo, 0); len(got) != 1 {
		t.Fatalf("loopback host: want a SYN-ACK, got %v", got)
	}
}

// A spoofed LAND SYN (our address and port as its source) on a link that
// routes every packet we send back to us: no loop, nothing sent at all.
// (Issue 15: before, one such SYN made a loop of 1.1–1.5M packets a second
// for 63 s.)
func TestLANDNoLoop(t *testing.T) {
	s, _ := New(Config{Name: "h", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), AnyDestination: true})
	s.Listen(80, 0)
	s.ListenAny(0)
	other := netip.MustParseAddr("203.0.113.9") // an AnyDestination address to itself
	queue := [][]byte{pkt(hostAddr, hostAddr, wire.SYN), pkt(other, other, wire.SYN)}
	sent := 0
	for i := 0; len(queue) > 0 && i < 1000; i++ {
		s.Input(0, queue[0])
		queue = queue[1:]
		s.Output(0, func(b []byte) {
			sent++
			queue = append(queue, append([]byte(nil), b...)) // the link routes it back
		})
	}
	if sent != 0 || s.Counters().InLands != 2 {
		t.Fatalf("sent %d packets, InLands %d; want 0, 2", sent, s.Counters().InLands)
	}
}
