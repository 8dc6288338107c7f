package stack

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

var elsewhere = netip.MustParseAddr("198.19.5.5")

// packetTo builds an IPv4 packet from peer:srcPort to dst:dstPort.
func packetTo(dst netip.Addr, srcPort, dstPort uint16, flags wire.Flags, sq, ack seq.Value) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: dst},
		TCP: wire.Segment{SrcPort: srcPort, DstPort: dstPort, Seq: sq, Ack: ack, Flags: flags, Window: 65535},
	}
	return p.Append(nil)
}

func newAnyHost(t *testing.T) *Stack {
	t.Helper()
	s, err := New(Config{Name: "proxy", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), AnyDestination: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Without AnyDestination a packet for another address is dropped, and
// ListenAny is refused.
func TestAnyDestinationOff(t *testing.T) {
	s := newHost(t, hostAddr, nil)
	if _, err := s.ListenAny(0); err == nil || !strings.Contains(err.Error(), "AnyDestination") {
		t.Fatalf("ListenAny without AnyDestination: %v", err)
	}
	s.Input(0, packetTo(elsewhere, 40000, 443, wire.SYN, 7000, 0))
	wantOut(t, out(t, s, 0))
}

// With AnyDestination, ListenAny takes a SYN for any address and port; the
// SYN-ACK comes from that address, and the accepted connection's local
// address is it.
func TestAnyDestinationAccept(t *testing.T) {
	s := newAnyHost(t)
	l, err := s.ListenAny(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListenAny(0); err == nil {
		t.Fatal("second ListenAny accepted")
	}
	s.Input(0, packetTo(elsewhere, 40000, 443, wire.SYN, 7000, 0))
	var synack wire.Packet
	s.Output(0, func(b []byte) {
		p, err := wire.ParsePacket(b)
		if err != nil {
			t.Fatal(err)
		}
		synack = p
	})
	if synack.IP.Src != elsewhere || synack.IP.Dst != peerAddr || synack.TCP.SrcPort != 443 || synack.TCP.DstPort != 40000 ||
		synack.TCP.Flags != wire.SYN|wire.ACK || synack.TCP.Ack != 7001 {
		t.Fatalf("answer %v, want a SYN-ACK 198.19.5.5:443 > 198.18.0.2:40000 ack=7001", synack.String())
	}
	s.Input(0, packetTo(elsewhere, 40000, 443, wire.ACK, 7001, synack.TCP.Seq.Add(1)))
	c := l.Accept()
	if c == nil {
		t.Fatal("no connection to accept after the handshake")
	}
	if want := netip.AddrPortFrom(elsewhere, 443); c.Tuple().Local != want {
		t.Fatalf("local address %v, want %v", c.Tuple().Local, want)
	}
	if l.Port() != 0 {
		t.Fatalf("ListenAny's port %d, want 0", l.Port())
	}
}

// A port's own listener takes precedence over ListenAny's, for every
// address; once ListenAny's listener is closed, other SYNs get RSTs from the
// address they were sent to.
func TestAnyDestinationPrecedenceAndClose(t *testing.T) {
	s := newAnyHost(t)
	any, _ := s.ListenAny(0)
	port80, err := s.Listen(80, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Input(0, packetTo(elsewhere, 40001, 80, wire.SYN, 100, 0))
	s.Input(0, packetTo(hostAddr, 40002, 22, wire.SYN, 200, 0))
	out(t, s, 0)
	if port80.pending() != 1 || any.pending() != 1 {
		t.Fatalf("pending: port 80 %d, any %d; want 1 and 1", port80.pending(), any.pending())
	}
	any.Close(0)
	out(t, s, 0)
	s.Input(0, packetTo(elsewhere, 40003, 443, wire.SYN, 300, 0))
	wantOut(t, out(t, s, 0), "198.19.5.5:443 > 198.18.0.2:40003 RA seq=0 ack=301 win=0 len=0")
	if _, err := s.ListenAny(0); err != nil {
		t.Fatalf("ListenAny after Close: %v", err)
	}
}

// AnyDestination over IPv6: a SYN to any IPv6 address is taken by
// ListenAny's listener, answered from that address, and the connection's
// local address is it; a host with an IPv4 address only still takes them.
func TestAnyDestinationIPv6(t *testing.T) {
	s := newAnyHost(t)
	l, _ := s.ListenAny(0)
	other6 := netip.MustParseAddr("2001:2:0:7::5")
	seg := wire.Segment{SrcPort: 40000, DstPort: 443, Seq: 7000, Flags: wire.SYN, Window: 65535}
	ip := wire.IPv6{NextHeader: wire.ProtocolTCP, Src: peer6, Dst: other6}
	s.Input(0, seg.Append(ip.Append(nil, seg.Len()), peer6, other6))
	got := outAny(t, s, 0, nil)
	if len(got) != 1 || !strings.HasPrefix(got[0], "[2001:2:0:7::5]:443 > [2001:2::2]:40000 SA ") || !strings.Contains(got[0], "ack=7001") {
		t.Fatalf("answer %v, want a SYN-ACK from [2001:2:0:7::5]:443", got)
	}
	c := s.Conns()[0]
	ack := wire.Segment{SrcPort: 40000, DstPort: 443, Seq: 7001, Ack: c.ISS().Add(1), Flags: wire.ACK, Window: 65535}
	s.Input(0, ack.Append(ip.Append(nil, ack.Len()), peer6, other6))
	if a := l.Accept(); a != c || a.Tuple().Local != netip.AddrPortFrom(other6, 443) {
		t.Fatalf("accepted %v", a)
	}
}
