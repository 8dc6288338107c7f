package stack

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// FuzzStackInput feeds a host with a listener and an established
// connection a sequence of packets: some raw bytes, most well-formed
// segments whose fields come from the fuzzer. The host must never panic,
// never answer an RST with an RST, and only ever send packets that parse.
func FuzzStackInput(f *testing.F) {
	f.Add([]byte{0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte{0xff})
	f.Add([]byte{0x10, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0x12, 0x34, 9}, []byte{0x45, 0, 0, 20})
	f.Fuzz(func(t *testing.T, ops []byte, raw []byte) {
		s := newHost(t, hostAddr, nil)
		s.Listen(80, 2)
		s.Input(0, packet(40000, 80, wire.SYN, 7000, 0, ""))
		check := func(now clock.Time, in wire.Flags) {
			n := 0
			s.Output(now, func(b []byte) {
				if n++; n > 10000 {
					t.Fatalf("one Output call sent more than 10000 packets: a runaway loop")
				}
				p, err := wire.ParsePacket(b)
				if err != nil {
					t.Fatalf("sent an unparseable packet: %v", err)
				}
				if in&wire.RST != 0 && p.TCP.Flags&wire.RST != 0 && p.TCP.DstPort == 40000 && p.TCP.Window == 0 && p.TCP.Flags&wire.SYN == 0 && len(s.Conns()) == 0 {
					t.Fatalf("answered an RST with an RST: %v", p.String())
				}
			})
		}
		check(0, 0)
		if c := s.Conns(); len(c) == 1 {
			s.Input(0, packet(40000, 80, wire.ACK, 7001, c[0].ISS().Add(1), ""))
		}
		now := clock.Time(0)
		s.Input(now, raw)
		check(now, 0)
		for len(ops) >= 14 {
			op := ops[:14]
			ops = ops[14:]
			flags := wire.Flags(op[0])
			port := []uint16{80, 81, 40000}[int(op[1])%3]
			src := uint16(40000 + int(op[2])%3)
			base := seq.Value(7001)
			if c := s.Conns(); len(c) > 0 {
				base = c[0].Info().RcvNxt
			}
			sq := base.Add(seq.Size(int32(binary.BigEndian.Uint16(op[3:5])) - 1000))
			ack := seq.Value(binary.BigEndian.Uint32(op[5:9]))
			if op[9]&1 == 0 && len(s.Conns()) > 0 {
				ack = s.Conns()[0].Info().SndNxt.Add(seq.Size(int32(int8(op[10]))))
			}
			payload := make([]byte, int(op[11])%64)
			s.Input(now, packet(src, port, flags, sq, ack, string(payload)))
			check(now, flags)
			now = now.Add(time.Duration(op[12]) * 10 * time.Millisecond)
			if op[13]&1 == 1 {
				s.HandleTimeout(now)
				check(now, 0)
			}
			if d := s.NextDeadline(); d < now && d != clock.Never {
				s.HandleTimeout(now)
				check(now, 0)
				if d2 := s.NextDeadline(); d2 < now {
					t.Fatalf("deadline %v still in the past at %v after HandleTimeout", d2, now)
				}
			}
		}
	})
}

// FuzzStackInputIPv6ICMP feeds a dual-stack host, with a listener and an
// established connection of each family with data in flight, IPv6
// segments, ICMP and ICMPv6 messages (echo and errors whose quotes are
// built from the connections' own packets with fuzzed fields, or are raw
// bytes) and raw packets. The host must never panic, and only ever send
// packets that parse.
func FuzzStackInputIPv6ICMP(f *testing.F) {
	f.Add([]byte{0, 3, 4, 0, 0, 0, 0, 1, 0, 0, 0}, []byte{0x60, 0, 0, 0})
	f.Add([]byte{1, 2, 0, 5, 0xdc, 0, 0, 0, 0, 1, 1}, []byte{0x45})
	f.Add([]byte{2, 3, 4, 5, 0, 0, 0, 2, 0, 0, 1, 4, 1, 128, 0, 0, 0, 0, 0, 0, 0, 0}, []byte{})
	f.Fuzz(fuzzIPv6ICMP)
}

func fuzzIPv6ICMP(t *testing.T, ops []byte, raw []byte) {
	{
		s, err := New(Config{Name: "dual", Addr: hostAddr, Addr6: host6, Rand: rand.New(rand.NewPCG(1, 2)), EchoBurst: 3})
		if err != nil {
			t.Fatal(err)
		}
		s.Listen(80, 2)
		emitted := 0
		var last [][]byte
		check := func(now clock.Time) {
			last = last[:0]
			s.Output(now, func(b []byte) {
				if emitted++; emitted > 100000 {
					t.Fatalf("more than 100000 packets sent: a runaway loop")
				}
				describe(t, b)
				last = append(last, append([]byte(nil), b...))
			})
		}
		var conns []*tcp.Conn
		var sent [][]byte
		for _, peer := range []netip.Addr{peerAddr, peer6} {
			c, err := s.Connect(0, netip.AddrPortFrom(peer, 80))
			if err != nil {
				t.Fatal(err)
			}
			check(0)
			lp := c.Tuple().Local.Port()
			opts := wire.Options{HasMSS: true, MSS: 1460}
			if peer.Is4() {
				p := wire.Packet{IP: wire.IPv4{Protocol: wire.ProtocolTCP, Src: peer, Dst: hostAddr},
					TCP: wire.Segment{SrcPort: 80, DstPort: lp, Seq: 5000, Ack: c.ISS().Add(1), Flags: wire.SYN | wire.ACK, Window: 65535, Options: opts}}
				s.Input(0, p.Append(nil))
			} else {
				s.Input(0, packet6(80, lp, wire.SYN|wire.ACK, 5000, c.ISS().Add(1), "", opts))
			}
			check(0)
			s.Write(0, c, make([]byte, 5000))
			check(0)
			sent = append(sent, last...)
			conns = append(conns, c)
		}
		if len(sent) == 0 {
			t.Fatal("nothing sent")
		}
		// At most 64 operations, so that each input stays fast.
		ops = ops[:min(len(ops), 64*11)]
		now := clock.Time(0)
		s.Input(now, raw)
		check(now)
		for len(ops) >= 11 {
			op := ops[:11]
			ops = ops[11:]
			inv := sent[int(op[1])%len(sent)]
			if len(last) > 0 && op[1]&0x80 != 0 {
				inv = last[0]
			}
			inv = append([]byte(nil), inv...)
			// Fuzz a byte of the quoted packet (its sequence number, a port,
			// an address, a length).
			if k := int(op[2]); k < len(inv) && op[3] != 0 {
				inv[k] ^= op[3]
			}
			mtu := binary.BigEndian.Uint16(op[4:6])
			body := ops
			switch op[0] % 5 {
			case 0:
				m := wire.ICMPv4{Type: wire.ICMPv4Type(op[6] % 13), Code: op[7] % 16, MTU: mtu, Body: inv[:min(len(inv), int(op[8]))]}
				ip := wire.IPv4{Protocol: wire.ProtocolICMP, Src: router4, Dst: hostAddr}
				s.Input(now, m.Append(ip.Append(nil, m.Len())))
			case 1:
				m := wire.ICMPv6{Type: wire.ICMPv6Type(op[6] % 5), Code: op[7] % 8, MTU: uint32(mtu), Body: inv[:min(len(inv), int(op[8])*8)]}
				ip := wire.IPv6{NextHeader: wire.ProtocolICMPv6, Src: router6, Dst: host6}
				s.Input(now, m.Append(ip.Append(nil, m.Len()), router6, host6))
			case 2:
				m := wire.ICMPv6{Type: wire.ICMPv6Type(op[6]), Code: op[7], Body: body[:min(len(body), int(op[8]))]}
				ip := wire.IPv6{NextHeader: wire.ProtocolICMPv6, Src: peer6, Dst: host6}
				s.Input(now, m.Append(ip.Append(nil, m.Len()), peer6, host6))
			case 3:
				c := conns[1]
				sq := seq.Value(5001).Add(seq.Size(int32(int8(op[6]))))
				ack := c.Info().SndUna.Add(seq.Size(int32(int8(op[7])) * 100))
				port := []uint16{80, 81, c.Tuple().Local.Port()}[int(op[8])%3]
				s.Input(now, packet6(80, port, wire.Flags(op[9]), sq, ack, string(make([]byte, int(op[10])%64)), wire.Options{}))
			case 4:
				s.Input(now, body[:min(len(body), int(op[8]))])
			}
			check(now)
			now = now.Add(time.Duration(op[10]) * 5 * time.Millisecond)
			if d := s.NextDeadline(); d <= now {
				s.HandleTimeout(now)
				check(now)
			}
		}
	}
}
