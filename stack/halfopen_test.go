package stack

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// frozenCount is how many of s's entries are half-open connections kept
// small.
func frozenCount(s *Stack) int {
	n := 0
	for _, e := range s.order {
		if !e.removed && e.frozen {
			n++
		}
	}
	return n
}

// TestHalfOpenSameAsWhole runs one hostile exchange against two hosts: one
// keeps its half-open connections small between calls (halfopen.go), the
// other is made to keep them whole (Conns after every step pins every
// connection, as before issue 15). Both must send the same packets, byte
// for byte, record the same trace events and keep the same counters and
// queues: SYNs and their retransmissions, SYN-ACK retransmissions on the
// timer, the final ACK (RFC 9293 §3.10.7.4: "If SND.UNA < SEG.ACK =<
// SND.NXT, then enter ESTABLISHED state") and wrong ones ("form a reset
// segment <SEQ=SEG.ACK><CTL=RST>"), RSTs in and out of the window, SYNs
// with text, SYNs with a new ISN, data without an ACK, ICMP errors quoting
// the SYN-ACK, cookies when the SYN queue is full, a full accept queue,
// Accept, and the listener's Close; over IPv4 and IPv6.
func TestHalfOpenSameAsWhole(t *testing.T) {
	kept := 0
	for seed := range uint64(24) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { kept += halfOpenDiff(t, seed) })
	}
	if kept == 0 {
		t.Fatal("no half-open connection was ever kept small")
	}
}

// halfOpenDiff is one run of TestHalfOpenSameAsWhole; it returns the most
// half-open connections the small host kept small at once.
func halfOpenDiff(t *testing.T, seed uint64) int {
	rng := rand.New(rand.NewPCG(seed, 99))
	mode := []SynCookieMode{CookiesWhenFull, CookiesOff, CookiesWhenFull}[seed%3]
	tc := tcp.Config{}
	if seed%4 == 1 {
		tc = tcp.Config{NoTimestamps: true, NoSACK: true, NoWindowScale: true}
	}
	var logs [2]trace.Log
	var hosts [2]*Stack
	var ls [2]*Listener
	for i := range hosts {
		s, err := New(Config{Name: "h", Addr: hostAddr, Addr6: host6, Rand: rand.New(rand.NewPCG(1, 2)), ISNKey: tcp.ISNKey{7},
			SynBacklog: 4, SynCookies: mode, MaxConns: 12, TCP: tc, Recorder: &logs[i]})
		if err != nil {
			t.Fatal(err)
		}
		hosts[i] = s
		ls[i], _ = s.Listen(80, 2)
	}
	small, whole := hosts[0], hosts[1]
	now := clock.Time(rng.Int64N(int64(time.Hour)))
	iss := map[uint16]seq.Value{} // the ISS each peer port was last offered
	irs := map[uint16]seq.Value{} // each port's ISN
	last := map[uint16][]byte{}   // the last packet sent to each port
	v6 := map[uint16]bool{}       // ports 40004 and up speak IPv6
	var accepted [2][]*tcp.Conn
	maxKept := 0
	build := func(port uint16, flags wire.Flags, sq, ack seq.Value, payload []byte, o wire.Options) []byte {
		sg := wire.Segment{SrcPort: port, DstPort: 80, Seq: sq, Ack: ack, Flags: flags, Window: uint16(1000 + rng.IntN(60000)), Payload: payload, Options: o}
		if v6[port] {
			ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: peer6, Dst: host6}
			return sg.Append(ip.Append(nil, sg.Len()), peer6, host6)
		}
		p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr}, TCP: sg}
		return p.Append(nil)
	}
	for port := uint16(40004); port < 40008; port++ {
		v6[port] = true
	}
	step := func(what string, f func(s *Stack, l *Listener, i int)) {
		var sent [2][][]byte
		for i, s := range hosts {
			f(s, ls[i], i)
			s.Output(now, func(b []byte) { sent[i] = append(sent[i], append([]byte(nil), b...)) })
			if i == 1 {
				whole.Conns() // pins every connection: kept whole
			}
		}
		if len(sent[0]) != len(sent[1]) {
			t.Fatalf("%v %s: sent %d packets kept small, %d whole", now, what, len(sent[0]), len(sent[1]))
		}
		for j := range sent[0] {
			if !bytes.Equal(sent[0][j], sent[1][j]) {
				t.Fatalf("%v %s: packet %d differs:\n small %s\n whole %s", now, what, j, describe(t, sent[0][j]), describe(t, sent[1][j]))
			}
			p := sent[0][j]
			ip, payload, err := wire.ParseIP(p)
			if err == nil && ip.Protocol() == wire.ProtocolTCP {
				if sg, err := wire.ParseTCP(payload, ip.Src(), ip.Dst()); err == nil {
					last[sg.DstPort] = p
					if sg.Flags&(wire.SYN|wire.ACK) == wire.SYN|wire.ACK {
						iss[sg.DstPort] = sg.Seq
					}
				}
			}
		}
		if a, b := logText(&logs[0]), logText(&logs[1]); a != b {
			t.Fatalf("%v %s: trace differs:\n small:\n%s\n whole:\n%s", now, what, a, b)
		}
		logs[0].Events, logs[1].Events = logs[0].Events[:0], logs[1].Events[:0]
		if a, b := small.Counters(), whole.Counters(); a != b {
			t.Fatalf("%v %s: counters differ:\n small %+v\n whole %+v", now, what, a, b)
		}
		if ls[0].HalfOpen() != ls[1].HalfOpen() || ls[0].Pending() != ls[1].Pending() || small.NextDeadline() != whole.NextDeadline() {
			t.Fatalf("%v %s: half-open %d/%d, pending %d/%d, next deadline %v/%v", now, what, ls[0].HalfOpen(), ls[1].HalfOpen(),
				ls[0].Pending(), ls[1].Pending(), small.NextDeadline(), whole.NextDeadline())
		}
		if n := frozenCount(whole); n != 0 {
			t.Fatalf("%s: the whole host kept %d connections small", what, n)
		}
		maxKept = max(maxKept, frozenCount(small))
	}
	input := func(what string, pkt []byte) {
		step(what, func(s *Stack, _ *Listener, _ int) { s.Input(now, pkt) })
	}
	synOpts := []wire.Options{
		{},
		{HasMSS: true, MSS: 1460},
		{HasMSS: true, MSS: 1400, HasWScale: true, WScale: 7, SACKPermitted: true, HasTimestamps: true, TSVal: 1000},
		{HasMSS: true, MSS: 536, HasTimestamps: true, TSVal: 5},
	}
	opts := map[uint16]wire.Options{}
	for range 200 {
		port := uint16(40000 + rng.IntN(8))
		o := opts[port]
		if o.HasTimestamps {
			o.TSVal += uint32(rng.IntN(50))
			opts[port] = o
		}
		o.HasMSS, o.HasWScale, o.SACKPermitted = false, false, false
		switch k := rng.IntN(20); {
		case k < 5:
			// A SYN: new, or again, or with a new ISN, sometimes with text.
			if _, ok := irs[port]; !ok || rng.IntN(4) == 0 {
				irs[port] = seq.Value(rng.Uint32())
				opts[port] = synOpts[rng.IntN(len(synOpts))]
			}
			var text []byte
			if rng.IntN(6) == 0 {
				text = []byte("hello")
			}
			input("SYN", build(port, wire.SYN, irs[port], 0, text, opts[port]))
		case k < 8:
			// The final ACK, right or wrong, sometimes with data.
			ack := iss[port].Add(1)
			if rng.IntN(3) == 0 {
				ack = ack.Add(seq.Size(rng.IntN(3))) - 1
			}
			var data []byte
			if rng.IntN(3) == 0 {
				data = []byte("GET /")
			}
			input("ACK", build(port, wire.ACK, irs[port].Add(1), ack, data, o))
		case k < 10:
			// A RST at RCV.NXT, elsewhere in the window, or anywhere.
			sq := irs[port].Add(1)
			switch rng.IntN(3) {
			case 1:
				sq = sq.Add(seq.Size(1 + rng.IntN(100)))
			case 2:
				sq = seq.Value(rng.Uint32())
			}
			input("RST", build(port, wire.RST, sq, 0, nil, wire.Options{}))
		case k < 11:
			// Anything: random flags and numbers.
			input("junk", build(port, wire.Flags(rng.IntN(64))&^(wire.SYN|wire.RST), irs[port].Add(seq.Size(rng.IntN(4))), iss[port].Add(seq.Size(rng.IntN(4))), []byte("x"), o))
		case k < 12:
			// An ICMP error quoting the last packet to the port.
			p := last[port]
			if p == nil {
				continue
			}
			var m []byte
			if v6[port] {
				m = icmp6Error(wire.ICMPv6PacketTooBig, 0, uint32(1280+rng.IntN(200)), p)
				if rng.IntN(2) == 0 {
					m = icmp6Error(wire.ICMPv6DestUnreachable, 3, 0, p)
				}
			} else {
				m = icmp4Error(wire.ICMPv4DestUnreachable, 4, uint16(576+rng.IntN(900)), p)
				if rng.IntN(2) == 0 {
					m = icmp4Error(wire.ICMPv4DestUnreachable, 1, 0, p)
				}
			}
			input("ICMP", m)
		case k < 17:
			// Time passes: to the next timer, or a little.
			d := now.Add(time.Duration(rng.Int64N(int64(2 * time.Second))))
			if nd := small.NextDeadline(); nd != clock.Never && rng.IntN(2) == 0 {
				d = max(now, nd)
			}
			now = d
			step("timers", func(s *Stack, _ *Listener, _ int) { s.HandleTimeout(now) })
		case k < 19:
			step("accept", func(_ *Stack, l *Listener, i int) {
				if c := l.Accept(); c != nil {
					accepted[i] = append(accepted[i], c)
				}
			})
		default:
			// The application reads what the accepted connections have.
			step("read", func(s *Stack, _ *Listener, i int) {
				buf := make([]byte, 100)
				for _, c := range accepted[i] {
					s.Read(now, c, buf)
				}
			})
		}
	}
	step("close", func(_ *Stack, l *Listener, _ int) { l.Close(now) })
	for range 20 {
		nd := small.NextDeadline()
		if nd == clock.Never {
			break
		}
		now = max(now, nd)
		step("timers after close", func(s *Stack, _ *Listener, _ int) { s.HandleTimeout(now) })
	}
	return maxKept
}

// 100,000 abandoned half-open connections (spoofed SYNs, cookies off)
// cost at most 300 bytes of heap each (Linux's request sock is 300–400; a
// whole TCB made them 870–998 before issue 15). In a SYN queue of 200,000
// they send the SYN-ACK and its five retransmissions, RFC 6298's doubling
// from 1 s ("RTO <- RTO * 2"), and are all freed at 63 s, as Linux frees
// them. In a SYN queue of 100,000 (full) the oldest half are given up
// sooner, at 7 s after two retransmissions, and the rest, the queue no
// longer more than half full, at 63 s.
func TestHalfOpenFloodMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 connections")
	}
	const n = 100_000
	r := halfOpenFlood(t, n, 2*n)
	if r.perEntry > 300 {
		t.Errorf("%d bytes of heap per half-open connection, above 300", r.perEntry)
	}
	if r.synacks != 6*n || r.freedAt != clock.Time(63*time.Second) || r.first != n {
		t.Errorf("%d SYN-ACKs, %d freed first, the last at %v; want %d, %d, 63s", r.synacks, r.first, time.Duration(r.freedAt), 6*n, n)
	}
	r = halfOpenFlood(t, n, n)
	if r.synacks != 3*n+3*n/2 || r.first != n/2 || r.firstAt != clock.Time(7*time.Second) || r.freedAt != clock.Time(63*time.Second) {
		t.Errorf("under pressure: %d SYN-ACKs, %d freed at %v, the last at %v; want %d, %d at 7s, 63s",
			r.synacks, r.first, time.Duration(r.firstAt), time.Duration(r.freedAt), 3*n+3*n/2, n/2)
	}
	runtime.GC()
}

// Linux's pruning of the SYN queue (reqsk_timer_handler: "we reserve half
// of room for young embrions; and abort old ones without pity, if old ones
// are about to clog our table"): 16 spoofed SYNs fill a SYN queue of 16.
// At 1 s all are young and every SYN-ACK is retransmitted; at 3 s none is
// young, the queue more than half full: the threshold falls to 2, and at 7
// s the oldest 8 are given up silently after their second retransmission,
// until the queue is half full; the other 8 keep RFC 6298's schedule to
// 63 s. A queue at most half full is never pruned: 8 SYNs in a queue of 16
// get all 5 retransmissions.
func TestHalfOpenPruned(t *testing.T) {
	for _, tc := range []struct {
		syns int
		want map[time.Duration]int // SYN-ACKs sent at each time
		// freed at each time
		freed map[time.Duration]int
	}{
		{16, map[time.Duration]int{0: 16, time.Second: 16, 3 * time.Second: 16, 7 * time.Second: 8, 15 * time.Second: 8, 31 * time.Second: 8},
			map[time.Duration]int{7 * time.Second: 8, 63 * time.Second: 8}},
		{8, map[time.Duration]int{0: 8, time.Second: 8, 3 * time.Second: 8, 7 * time.Second: 8, 15 * time.Second: 8, 31 * time.Second: 8},
			map[time.Duration]int{63 * time.Second: 8}},
	} {
		t.Run(fmt.Sprint(tc.syns), func(t *testing.T) {
			s, err := New(Config{Name: "h", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), SynBacklog: 16})
			if err != nil {
				t.Fatal(err)
			}
			l, _ := s.Listen(80, 0)
			for i := range tc.syns {
				s.Input(0, packet(uint16(40000+i), 80, wire.SYN, 7000, 0, ""))
			}
			got, freed := map[time.Duration]int{}, map[time.Duration]int{}
			now := clock.Time(0)
			for {
				h := l.HalfOpen()
				s.Output(now, func(b []byte) {
					p, err := wire.ParsePacket(b)
					if err != nil || p.TCP.Flags != wire.SYN|wire.ACK || p.TCP.Ack != 7001 {
						t.Fatalf("at %v sent %v, want only SYN-ACKs", time.Duration(now), p.String())
					}
					got[time.Duration(now)]++
				})
				if n := h - l.HalfOpen(); n > 0 {
					freed[time.Duration(now)] += n
				}
				now = s.NextDeadline()
				if now == clock.Never {
					break
				}
				h = l.HalfOpen()
				s.HandleTimeout(now)
				if n := h - l.HalfOpen(); n > 0 {
					freed[time.Duration(now)] += n
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || fmt.Sprint(freed) != fmt.Sprint(tc.freed) {
				t.Fatalf("SYN-ACKs sent %v, freed %v;\nwant %v, %v", got, freed, tc.want, tc.freed)
			}
			if c := s.Counters(); c.PassiveOpens != uint64(tc.syns) || c.AttemptFails != uint64(tc.syns) {
				t.Fatalf("counters %+v", c)
			}
		})
	}
}

// A half-open connection kept small answers as a whole one did, at the
// times RFC 6298 sets: the SYN-ACK at once and again at 1, 3, 7, 15 and 31
// s; a retransmitted SYN gets the SYN-ACK again (not a bare ACK: RFC 9293
// §3.10.7.4's LISTEN-in-SYN-RECEIVED case for a SYN repeated); the ACK of
// ISS+1 makes the connection ("If SND.UNA < SEG.ACK =< SND.NXT, then enter
// ESTABLISHED state"), with the options the SYN asked for, and it is kept
// small in between.
func TestHalfOpenKeptSmall(t *testing.T) {
	for _, fam := range []string{"IPv4", "IPv6"} {
		t.Run(fam, func(t *testing.T) {
			s := newDual(t, Config{SynCookies: CookiesOff})
			l, _ := s.Listen(80, 0)
			o := wire.Options{HasMSS: true, MSS: 1400, HasWScale: true, WScale: 3, SACKPermitted: true, HasTimestamps: true, TSVal: 100}
			pkt := func(flags wire.Flags, sq, ack seq.Value, oo wire.Options) []byte {
				if fam == "IPv6" {
					return packet6(40000, 80, flags, sq, ack, "", oo)
				}
				return optPacket(40000, flags, sq, ack, oo)
			}
			var raw [][]byte
			s.Input(0, pkt(wire.SYN, 7000, 0, o))
			got := outAny(t, s, 0, &raw)
			if len(got) != 1 || frozenCount(s) != 1 || l.HalfOpen() != 1 {
				t.Fatalf("sent %v; %d kept small, %d half-open; want one SYN-ACK, 1, 1", got, frozenCount(s), l.HalfOpen())
			}
			first := raw[0]
			synack := func(at clock.Time) wire.Segment {
				t.Helper()
				raw = raw[:0]
				got := outAny(t, s, at, &raw)
				if len(got) != 1 {
					t.Fatalf("at %v sent %v, want one SYN-ACK", time.Duration(at), got)
				}
				ip, payload, _ := wire.ParseIP(raw[0])
				sg, _ := wire.ParseTCP(payload, ip.Src(), ip.Dst())
				if sg.Flags != wire.SYN|wire.ACK || sg.Ack != 7001 {
					t.Fatalf("at %v sent %v, want a SYN-ACK of 7001", time.Duration(at), got[0])
				}
				if frozenCount(s) != 1 {
					t.Fatalf("at %v the half-open connection is not kept small", time.Duration(at))
				}
				return sg
			}
			for _, at := range []time.Duration{time.Second, 3 * time.Second} {
				if d := s.NextDeadline(); d != clock.Time(at) {
					t.Fatalf("next deadline %v, want %v", time.Duration(d), at)
				}
				s.HandleTimeout(clock.Time(at))
				synack(clock.Time(at))
			}
			// The SYN again, at 3.5 s: the SYN-ACK again.
			s.Input(clock.Time(3500*time.Millisecond), pkt(wire.SYN, 7000, 0, o))
			sa := synack(clock.Time(3500 * time.Millisecond))
			if d := s.NextDeadline(); d != clock.Time(7*time.Second) {
				t.Fatalf("next deadline %v after the repeated SYN, want 7s", time.Duration(d))
			}
			ip, payload, _ := wire.ParseIP(first)
			sg1, _ := wire.ParseTCP(payload, ip.Src(), ip.Dst())
			if sa.Seq != sg1.Seq {
				t.Fatalf("SYN-ACK seq %v, the first %v", sa.Seq, sg1.Seq)
			}
			// An ACK of ISS+2 is not acceptable: "<SEQ=SEG.ACK><CTL=RST>".
			now := clock.Time(4 * time.Second)
			s.Input(now, pkt(wire.ACK, 7001, sa.Seq.Add(2), wire.Options{HasTimestamps: true, TSVal: 150, TSEcr: sa.Options.TSVal}))
			raw = raw[:0]
			if got := outAny(t, s, now, &raw); len(got) != 1 || !bytes.Contains([]byte(got[0]), []byte("R seq=")) {
				t.Fatalf("bad ACK answered with %v, want a RST", got)
			}
			// The right one: ESTABLISHED, with what the SYN asked for.
			s.Input(now, pkt(wire.ACK, 7001, sa.Seq.Add(1), wire.Options{HasTimestamps: true, TSVal: 160, TSEcr: sa.Options.TSVal}))
			c := l.Accept()
			if c == nil {
				t.Fatalf("no connection; counters %+v", s.Counters())
			}
			in := c.Info()
			if in.State != tcp.Established || in.ISS != sa.Seq || in.RcvNxt != 7001 || in.MSS != 1400 || !in.SACK || !in.Timestamps || in.SndWScale != 3 ||
				in.Stats.SegsIn != 4 || in.Stats.Retransmits != 3 {
				t.Fatalf("connection %+v", in)
			}
			if ctr := s.Counters(); ctr.PassiveOpens != 1 || ctr.CurrEstab != 1 || ctr.RetransSegs != 3 || l.HalfOpen() != 0 || frozenCount(s) != 0 {
				t.Fatalf("counters %+v, half-open %d, kept small %d", ctr, l.HalfOpen(), frozenCount(s))
			}
			_ = netip.Addr{}
		})
	}
}
