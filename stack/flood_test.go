package stack

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// floodResult is what a SYN flood left.
type floodResult struct {
	legit, completed int
	maxHalfOpen      int
	ctr              Counters
}

// synFlood drives a listener (ListenAny's if any) with rate spoofed SYNs a
// second of virtual time for d, and legit real clients spread over the same
// time, each of which answers its SYN-ACK 10 ms later. sample, if not nil,
// is called every 1024 attack SYNs.
func synFlood(t testing.TB, any bool, rate int, d time.Duration, legit int, sample func()) floodResult {
	return synFloodMode(t, CookiesWhenFull, any, rate, d, legit, sample)
}

func synFloodMode(t testing.TB, mode SynCookieMode, any bool, rate int, d time.Duration, legit int, sample func()) floodResult {
	s, err := New(Config{Name: "server", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)),
		ISNKey: tcp.ISNKey{9, 9, 9}, AnyDestination: any, SynCookies: mode})
	if err != nil {
		t.Fatal(err)
	}
	var l *Listener
	if any {
		l, err = s.ListenAny(0)
	} else {
		l, err = s.Listen(80, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, uint64(rate)))
	type client struct {
		port  uint16
		ackAt clock.Time
		ack   seq.Value
		sent  bool
	}
	clients := map[uint16]*client{}
	var pendingACKs []*client
	var res floodResult
	res.legit = legit
	emit := func(b []byte) {
		p, err := wire.ParsePacket(b)
		if err != nil {
			t.Fatal(err)
		}
		if p.IP.Dst != peerAddr || p.TCP.Flags != wire.SYN|wire.ACK {
			return
		}
		if c := clients[p.TCP.DstPort]; c != nil && !c.sent {
			c.sent, c.ack = true, p.TCP.Seq.Add(1)
			pendingACKs = append(pendingACKs, c)
		}
	}
	attacks := int(int64(rate) * int64(d) / int64(time.Second))
	steps := max(attacks, legit)
	dst := hostAddr
	var buf []byte
	for i := 0; i < steps || len(pendingACKs) > 0; i++ {
		now := clock.Time(int64(d) * int64(i) / int64(steps))
		if i >= steps {
			now = pendingACKs[0].ackAt
		} else if i*attacks/steps != (i+1)*attacks/steps {
			src := netip.AddrFrom4([4]byte{198, 19, byte(rng.Uint32()), byte(rng.Uint32())})
			if any {
				dst = netip.AddrFrom4([4]byte{203, 0, 113, byte(rng.Uint32())})
			}
			p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: src, Dst: dst},
				TCP: wire.Segment{SrcPort: uint16(rng.Uint32()), DstPort: 80, Seq: seq.Value(rng.Uint32()), Flags: wire.SYN, Window: 65535,
					Options: wire.Options{HasMSS: true, MSS: 1460}}}
			buf = p.Append(buf[:0])
			s.Input(now, buf)
			if sample != nil && i%1024 == 0 {
				sample()
			}
		}
		if i < steps && i*legit/steps != (i+1)*legit/steps {
			c := &client{port: uint16(10000 + len(clients)), ackAt: now + clock.Time(10*time.Millisecond)}
			clients[c.port] = c
			p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
				TCP: wire.Segment{SrcPort: c.port, DstPort: 80, Seq: 1000, Flags: wire.SYN, Window: 65535,
					Options: wire.Options{HasMSS: true, MSS: 1460}}}
			s.Input(now, p.Append(nil))
		}
		for len(pendingACKs) > 0 && pendingACKs[0].ackAt <= now {
			c := pendingACKs[0]
			pendingACKs = pendingACKs[1:]
			p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
				TCP: wire.Segment{SrcPort: c.port, DstPort: 80, Seq: 1001, Ack: c.ack, Flags: wire.ACK, Window: 65535}}
			s.Input(now, p.Append(nil))
		}
		if s.NextDeadline() <= now {
			s.HandleTimeout(now)
		}
		s.Output(now, emit)
		res.maxHalfOpen = max(res.maxHalfOpen, l.HalfOpen())
		for c := l.Accept(); c != nil; c = l.Accept() {
			if c.Tuple().Remote.Addr() == peerAddr {
				res.completed++
			}
			s.Abort(now, c)
		}
	}
	if sample != nil {
		sample()
	}
	res.ctr = s.Counters()
	return res
}

// RFC 4987 §3.6: with SYN cookies "the server ... keeps no state" for the
// SYNs beyond the SYN queue, so a flood of spoofed SYNs keeps no real client
// out. Issue 15: before cookies, 20 spoofed SYNs a second kept every one of
// 100 real clients out.
func TestSynFloodLegitimateClientsGetIn(t *testing.T) {
	for _, tc := range []struct {
		any  bool
		rate int
	}{{false, 20}, {false, 10000}, {true, 20}, {true, 10000}} {
		r := synFlood(t, tc.any, tc.rate, 20*time.Second, 100, nil)
		if r.completed != r.legit || r.maxHalfOpen > 256 {
			t.Errorf("any=%v rate=%d: %d of %d legitimate handshakes, SYN queue up to %d (bound 256); counters %+v",
				tc.any, tc.rate, r.completed, r.legit, r.maxHalfOpen, r.ctr)
		}
		if tc.rate == 10000 && r.ctr.SyncookiesSent == 0 {
			t.Errorf("rate %d: no cookies sent", tc.rate)
		}
	}
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// spoofedSYNs returns n SYNs to the host's port 80 from random sources.
func spoofedSYNs(n int) [][]byte {
	rng := rand.New(rand.NewPCG(5, 6))
	out := make([][]byte, n)
	for i := range out {
		src := netip.AddrFrom4([4]byte{198, 19, byte(rng.Uint32()), byte(rng.Uint32())})
		p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: src, Dst: hostAddr},
			TCP: wire.Segment{SrcPort: uint16(rng.Uint32()), DstPort: 80, Seq: seq.Value(rng.Uint32()), Flags: wire.SYN, Window: 65535,
				Options: wire.Options{HasMSS: true, MSS: 1460}}}
		out[i] = p.Append(nil)
	}
	return out
}

// BenchmarkSynCookie is the CPU per spoofed SYN answered with a cookie.
func BenchmarkSynCookie(b *testing.B) {
	s, _ := New(Config{Name: "server", Addr: hostAddr, Rand: newRand(), SynCookies: CookiesAlways})
	s.Listen(80, 0)
	pkts := spoofedSYNs(1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Input(0, pkts[i%len(pkts)])
		if i%64 == 63 {
			s.Output(0, func([]byte) {})
		}
	}
}
