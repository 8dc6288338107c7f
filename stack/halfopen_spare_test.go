package stack

import (
	"math/rand/v2"
	"testing"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// The Conn of a half-open connection kept small, or of one given up that
// nothing outside the stack held, is the stack's spare, and the next SYN's
// connection is made in it (halfopen.go): each SYN of a flood allocates its
// entry and no TCB. One that was handed out (Accept) is never reused: the
// application may still hold it after the peer's RST ("If the RST bit is
// set ... enter the CLOSED state, delete the TCB", RFC 9293 §3.10.7.4).
func TestHalfOpenConnReused(t *testing.T) {
	s, err := New(Config{Name: "h", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), SynCookies: CookiesOff})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := s.Listen(80, 0)
	last := func() *entry { return s.order[len(s.order)-1] }
	synack := func(now clock.Time, port uint16) seq.Value {
		t.Helper()
		var got []wire.Segment
		s.Output(now, func(b []byte) {
			p, err := wire.ParsePacket(b)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p.TCP)
		})
		if len(got) != 1 || got[0].Flags != wire.SYN|wire.ACK || got[0].DstPort != port || got[0].Ack != 7001 {
			t.Fatalf("sent %+v, want one SYN-ACK of 7001 to port %d", got, port)
		}
		return got[0].Seq
	}
	s.Input(0, packet(40000, 80, wire.SYN, 7000, 0, ""))
	synack(0, 40000)
	c1 := s.spare
	if c1 == nil || frozenCount(s) != 1 {
		t.Fatalf("spare %p, %d kept small; want the first SYN's Conn, 1", c1, frozenCount(s))
	}
	// A second SYN: its connection is made in the first one's Conn.
	s.Input(0, packet(40001, 80, wire.SYN, 7000, 0, ""))
	if e := last(); e.conn != c1 || s.spare != nil {
		t.Fatalf("second SYN's Conn %p, spare %p; want %p, nil", e.conn, s.spare, c1)
	}
	iss2 := synack(0, 40001)
	// The first one reset: made whole in c1, given up, c1 spare again.
	s.Input(clock.Time(500e6), packet(40000, 80, wire.RST, 7001, 0, ""))
	s.Output(clock.Time(500e6), func(b []byte) { t.Fatalf("sent %x after a RST", b) })
	if l.HalfOpen() != 1 || s.spare != c1 || len(s.Changed()) != 0 {
		t.Fatalf("half-open %d, spare %p, changed %v; want 1, %p, none", l.HalfOpen(), s.spare, s.Changed(), c1)
	}
	// The second one made whole (in c1), established and accepted.
	s.Input(clock.Time(600e6), packet(40001, 80, wire.ACK, 7001, iss2.Add(1), ""))
	s.Output(clock.Time(600e6), func([]byte) {})
	c := l.Accept()
	if c != c1 || c.State() != tcp.Established || c.Tuple().Remote.Port() != 40001 {
		t.Fatalf("accepted %p (%v), want %p, established, from 40001", c, c, c1)
	}
	// The peer resets it: it is done, but the application holds it.
	s.Input(clock.Time(700e6), packet(40001, 80, wire.RST, 7001, 0, ""))
	s.Output(clock.Time(700e6), func([]byte) {})
	if !c.Done() || s.spare == c {
		t.Fatalf("done %v, spare %p: the accepted Conn must not be spare", c.Done(), s.spare)
	}
	s.Input(clock.Time(800e6), packet(40002, 80, wire.SYN, 7000, 0, ""))
	synack(clock.Time(800e6), 40002)
	if last().conn == c || c.Tuple().Remote.Port() != 40001 || c.State() != tcp.Closed {
		t.Fatalf("a new SYN's connection made in the accepted Conn: %v", c)
	}
}

// In a flood of spoofed SYNs, each SYN and its SYN-ACK allocate at most
// two objects once the stack's tables have grown: the entry (with its
// HalfOpen) and nothing for the TCB, which is the spare's.
func TestHalfOpenFloodAllocs(t *testing.T) {
	s, err := New(Config{Name: "h", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), SynCookies: CookiesOff, SynBacklog: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	s.Listen(80, 0)
	const warm, runs = 4000, 2000
	syns := make([][]byte, warm+runs+1)
	for i := range syns {
		syns[i] = packet(uint16(10000+i), 80, wire.SYN, 7000, 0, "")
	}
	emit := func([]byte) {}
	for _, p := range syns[:warm] {
		s.Input(0, p)
		s.Output(0, emit)
	}
	i := warm
	a := testing.AllocsPerRun(runs, func() {
		s.Input(0, syns[i])
		s.Output(0, emit)
		i++
	})
	t.Logf("%.2f allocations per SYN", a)
	if a > 1 {
		t.Errorf("%.2f allocations per SYN, want at most 1 (its entry)", a)
	}
	if frozenCount(s) != i {
		t.Errorf("%d kept small, want %d", frozenCount(s), i)
	}
}
