package stack

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/clock"
)

// fragLine describes a packet the stack sent as gopacket decodes it, the
// independent view: the fragment fields of an IPv4 header or an IPv6
// Fragment header, and the length of what the fragment carries.
func fragLine(t *testing.T, b []byte) string {
	t.Helper()
	if b[0]>>4 == 4 {
		p := gopacket.NewPacket(b, layers.LayerTypeIPv4, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if ip == nil || p.ErrorLayer() != nil {
			t.Fatalf("gopacket IPv4: %v\n% x", p.ErrorLayer(), b[:min(len(b), 40)])
		}
		return fmt.Sprintf("IPv4 %v > %v id=%d flags=%v offset=%d len=%d", ip.SrcIP, ip.DstIP, ip.Id, ip.Flags, int(ip.FragOffset)*8, len(ip.Payload))
	}
	p := gopacket.NewPacket(b, layers.LayerTypeIPv6, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	fh, _ := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
	if ip == nil {
		t.Fatalf("gopacket IPv6: %v", p.ErrorLayer())
	}
	if fh == nil {
		return fmt.Sprintf("IPv6 %v > %v next=%v len=%d", ip.SrcIP, ip.DstIP, ip.NextHeader, len(ip.Payload))
	}
	return fmt.Sprintf("IPv6 %v > %v frag next=%v offset=%d more=%v len=%d", ip.SrcIP, ip.DstIP, fh.NextHeader, int(fh.FragmentOffset)*8, fh.MoreFragments, len(fh.Payload))
}

// gopacketDefrag reassembles fragments with gopacket's defragmenters and
// returns the UDP datagram's data.
func gopacketDefrag(t *testing.T, pkts [][]byte) []byte {
	t.Helper()
	d4, d6 := ip4defrag.NewIPv4Defragmenter(), ip6defrag.NewIPv6Defragmenter()
	at := time.Unix(0, 0)
	for _, b := range pkts {
		var whole []byte
		if b[0]>>4 == 4 {
			p := gopacket.NewPacket(b, layers.LayerTypeIPv4, gopacket.Default)
			ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			out, err := d4.DefragIPv4WithTimestamp(ip, at)
			if err != nil {
				t.Fatalf("gopacket ip4defrag: %v", err)
			}
			if out == nil {
				continue
			}
			whole = out.Payload
		} else {
			p := gopacket.NewPacket(b, layers.LayerTypeIPv6, gopacket.Default)
			ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
			fh := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
			out := d6.DefragIPv6(ip, fh)
			if out == nil {
				continue
			}
			whole = out.Payload
		}
		u := &layers.UDP{}
		if err := u.DecodeFromBytes(whole, gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("gopacket UDP of the reassembled datagram: %v", err)
		}
		if int(u.Length) != len(whole) {
			t.Fatalf("reassembled UDP length %d, datagram %d bytes", u.Length, len(whole))
		}
		return u.Payload
	}
	t.Fatal("gopacket did not reassemble the fragments")
	return nil
}

// A datagram over the path MTU is sent in fragments, as Linux sends it from
// a UDP socket by default (IP_PMTUDISC_WANT): RFC 791 §3.2 "the
// fragmentation must occur on 8-octet boundaries", the same
// Identification, MF on all but the last, no DF; over IPv6 a Fragment
// header on each (RFC 8200 §4.5: "The Fragmentable Part of the original
// packet is divided into fragments. The length of each fragment except
// possibly the last one is an integer multiple of 8 octets"). gopacket
// decodes each and reassembles them, and a second stack's reassembly
// gives the endpoint the 4000 bytes. With SetDontFragment the send fails
// with ErrMessageTooLong, as before.
func TestUDPSendFragments(t *testing.T) {
	data := pattern(4000)
	for _, tc := range []struct {
		name string
		mtu  int
		to   netip.AddrPort
		want []string
	}{
		{"IPv4 MTU 1500", 1500, ap(peerAddr, 53), []string{
			"IPv4 198.18.0.1 > 198.18.0.2 id=1 flags=MF offset=0 len=1480",
			"IPv4 198.18.0.1 > 198.18.0.2 id=1 flags=MF offset=1480 len=1480",
			"IPv4 198.18.0.1 > 198.18.0.2 id=1 flags= offset=2960 len=1048",
		}},
		{"IPv4 MTU 1280", 1280, ap(peerAddr, 53), []string{
			"IPv4 198.18.0.1 > 198.18.0.2 id=1 flags=MF offset=0 len=1256",
			"IPv4 198.18.0.1 > 198.18.0.2 id=1 flags=MF offset=1256 len=1256",
			"IPv4 198.18.0.1 > 198.18.0.2 id=1 flags=MF offset=2512 len=1256",
			"IPv4 198.18.0.1 > 198.18.0.2 id=1 flags= offset=3768 len=240",
		}},
		{"IPv6 MTU 1500", 1500, ap(peer6, 53), []string{
			"IPv6 2001:2::1 > 2001:2::2 frag next=UDP offset=0 more=true len=1448",
			"IPv6 2001:2::1 > 2001:2::2 frag next=UDP offset=1448 more=true len=1448",
			"IPv6 2001:2::1 > 2001:2::2 frag next=UDP offset=2896 more=false len=1112",
		}},
		{"IPv6 MTU 1280", 1280, ap(peer6, 53), []string{
			"IPv6 2001:2::1 > 2001:2::2 frag next=UDP offset=0 more=true len=1232",
			"IPv6 2001:2::1 > 2001:2::2 frag next=UDP offset=1232 more=true len=1232",
			"IPv6 2001:2::1 > 2001:2::2 frag next=UDP offset=2464 more=true len=1232",
			"IPv6 2001:2::1 > 2001:2::2 frag next=UDP offset=3696 more=false len=312",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newDual(t, Config{MTU: tc.mtu})
			e, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 5000))
			if err := e.Send(0, tc.to, data); err != nil {
				t.Fatal(err)
			}
			var pkts [][]byte
			var got []string
			s.Output(0, func(b []byte) {
				if len(b) > tc.mtu {
					t.Errorf("a %d-byte packet over the MTU of %d", len(b), tc.mtu)
				}
				pkts = append(pkts, append([]byte(nil), b...))
				got = append(got, fragLine(t, b))
			})
			wantOut(t, got, tc.want...)
			if c := s.Counters(); c.FragOKs != 1 || c.FragCreates != uint64(len(tc.want)) || s.UDPCounters().OutDatagrams != 1 {
				t.Errorf("FragOKs %d FragCreates %d OutDatagrams %d, want 1 %d 1", c.FragOKs, c.FragCreates, s.UDPCounters().OutDatagrams, len(tc.want))
			}
			if !bytes.Equal(gopacketDefrag(t, pkts), data) {
				t.Error("gopacket's reassembly of the fragments is not the data sent")
			}
			// The peer reassembles them, in reverse for good measure.
			peer := newPeer(t, tc.mtu)
			pe, _ := peer.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
			for i := len(pkts) - 1; i >= 0; i-- {
				peer.Input(0, pkts[i])
			}
			d, ok, _ := pe.Recv()
			if !ok || !bytes.Equal(d.Payload, data) || d.Src.Port() != 5000 {
				t.Errorf("the peer got %d bytes from %v, want the 4000 bytes from port 5000", len(d.Payload), d.Src)
			}
			// IP_PMTUDISC_DO: the old behaviour.
			e.SetDontFragment(true)
			if err := e.Send(0, tc.to, data); !errorsIsTooLong(err) {
				t.Errorf("with SetDontFragment: %v, want ErrMessageTooLong", err)
			}
		})
	}
}

// The largest datagrams, as on Linux: 65507 bytes of data over IPv4 (a
// 65535-byte Total Length), 65527 over IPv6 (a 65535-byte Payload Length);
// one byte more fails. The largest goes in 45 and 54 fragments, which the
// peer reassembles.
func TestUDPSendLargest(t *testing.T) {
	for _, tc := range []struct {
		to  netip.AddrPort
		max int
	}{{ap(peerAddr, 53), 65507}, {ap(peer6, 53), 65527}} {
		s := newDual(t, Config{MTU: 1500})
		e, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 5000))
		if err := e.Send(0, tc.to, make([]byte, tc.max+1)); !errorsIsTooLong(err) {
			t.Errorf("%d bytes to %v: %v, want ErrMessageTooLong", tc.max+1, tc.to, err)
		}
		if err := e.Send(0, tc.to, pattern(tc.max)); err != nil {
			t.Fatalf("%d bytes to %v: %v", tc.max, tc.to, err)
		}
		peer := newPeer(t, 1500)
		pe, _ := peer.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
		s.Output(0, func(b []byte) { peer.Input(0, b) })
		d, ok, _ := pe.Recv()
		if !ok || !bytes.Equal(d.Payload, pattern(tc.max)) {
			t.Errorf("to %v: the peer got %d bytes, want %d", tc.to, len(d.Payload), tc.max)
		}
		checkFragState(t, peer)
	}
}

func errorsIsTooLong(err error) bool { return errors.Is(err, ErrMessageTooLong) }

// newPeer is the peer's stack, at peerAddr and peer6.
func newPeer(t *testing.T, mtu int) *Stack {
	t.Helper()
	s, err := New(Config{Name: "peer", Addr: peerAddr, Addr6: peer6, MTU: mtu, Rand: rand.New(rand.NewPCG(3, 4))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Two stacks exchange large datagrams both ways over links of 1280 and
// 1500 bytes in both families, each answer echoing the question: every
// datagram over the MTU goes in fragments no larger than it and comes out
// whole.
func TestUDPFragmentsBetweenStacks(t *testing.T) {
	for _, mtu := range []int{1280, 1500} {
		for _, fam := range []string{"IPv4", "IPv6"} {
			a := newDual(t, Config{MTU: mtu})
			b := newPeer(t, mtu)
			to := ap(peerAddr, 53)
			if fam == "IPv6" {
				to = ap(peer6, 53)
			}
			ea, _ := a.BindUDP(AnyFamily, ap(netip.Addr{}, 5000))
			eb, _ := b.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
			now := clock.Time(0)
			for i, n := range []int{1, 1500, 4000, 9000, 30000} {
				q := pattern(n + i)
				if err := ea.Send(now, to, q); err != nil {
					t.Fatal(err)
				}
				a.Output(now, func(p []byte) { b.Input(now, p) })
				d, ok, _ := eb.Recv()
				if !ok || !bytes.Equal(d.Payload, q) {
					t.Fatalf("%s MTU %d: %d bytes sent, %d received", fam, mtu, len(q), len(d.Payload))
				}
				if err := eb.Send(now, d.Src, d.Payload); err != nil {
					t.Fatal(err)
				}
				b.Output(now, func(p []byte) {
					if len(p) > mtu {
						t.Fatalf("a %d-byte packet over the MTU of %d", len(p), mtu)
					}
					a.Input(now, p)
				})
				r, ok, _ := ea.Recv()
				if !ok || !bytes.Equal(r.Payload, q) {
					t.Fatalf("%s MTU %d: %d bytes echoed, %d received", fam, mtu, len(q), len(r.Payload))
				}
				now = now.Add(time.Millisecond)
			}
			if ca, cb := a.Counters(), b.Counters(); ca.ReasmFails+cb.ReasmFails != 0 || ca.ReasmOKs != 4 || cb.ReasmOKs != 4 {
				t.Errorf("%s MTU %d: ReasmOKs %d and %d, ReasmFails %d and %d", fam, mtu, ca.ReasmOKs, cb.ReasmOKs, ca.ReasmFails, cb.ReasmFails)
			}
		}
	}
}
