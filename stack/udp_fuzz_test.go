package stack

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/gosynack/synack/wire"
)

// FuzzUDPInput feeds arbitrary IP packets to a dual-stack, any-destination
// host with bound, connected and any-destination UDP endpoints: no panic,
// every queue within its bounds, every packet the host sends parses, and
// each queued datagram's data is what a valid datagram on the wire held.
func FuzzUDPInput(f *testing.F) {
	f.Add(udp4(ap(peerAddr, 1000), ap(hostAddr, 53), "q"), byte(0))
	f.Add(udp6(ap(peer6, 1000), ap(host6, 53), "q"), byte(1))
	f.Add(udp4(ap(peerAddr, 53), ap(hostAddr, 54), "answer"), byte(2))
	f.Add(udp4(ap(peerAddr, 1), ap(netip.MustParseAddr("198.19.0.1"), 9), "far"), byte(3))
	f.Add(icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4PortUnreachable, 0, udp4(ap(hostAddr, 54), ap(peerAddr, 53), "q")), byte(4))
	f.Add(icmp6Error(wire.ICMPv6DestUnreachable, wire.ICMPv6PortUnreachable, 0, udp6(ap(host6, 54), ap(peer6, 53), "q")), byte(5))
	f.Fuzz(func(t *testing.T, pkt []byte, op byte) {
		s, err := New(Config{Name: "h", Addr: hostAddr, Addr6: host6, Rand: rand.New(rand.NewPCG(1, 2)), AnyDestination: true})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
		c, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 54))
		c.Connect(ap(peerAddr, 53))
		a, _ := s.ListenUDPAny()
		b.SetRecvBuffer(2, 100)
		for i := range 3 {
			s.Input(ms(i), pkt)
		}
		if op&1 != 0 {
			c.Send(ms(3), netip.AddrPort{}, pkt[:min(len(pkt), 100)])
		}
		s.Output(ms(3), func(p []byte) {
			if _, _, err := wire.ParseIP(p); err != nil {
				t.Fatalf("host sent a packet that does not parse: %v", err)
			}
		})
		for _, e := range []*UDPEndpoint{b, c, a} {
			if e.Queued() > e.maxD || e.bytes > e.maxB {
				t.Fatalf("queue of %d datagrams, %d bytes over its bounds %d, %d", e.Queued(), e.bytes, e.maxD, e.maxB)
			}
			for {
				d, ok, _ := e.Recv()
				if !ok {
					break
				}
				ip, payload, err := wire.ParseIP(pkt)
				if err != nil {
					t.Fatalf("datagram %v delivered from a packet that is not IP: %v", d, err)
				}
				u, err := wire.ParseUDP(payload, ip.Src(), ip.Dst())
				if err != nil || string(u.Payload) != string(d.Payload) {
					t.Fatalf("delivered %q, the packet held %q (%v)", d.Payload, u.Payload, err)
				}
			}
		}
	})
}
