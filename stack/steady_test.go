package stack

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
)

// wirePair is two stacks joined by a perfect link in virtual time, for
// measuring the stack's own cost: what one stack outputs is handed to the
// other's Input, with no allocation in the harness itself.
type wirePair struct {
	a, b     *Stack
	ca, cb   *tcp.Conn // client end (on a) and server end (on b)
	now      clock.Time
	step     time.Duration
	bufs     [2][][]byte // packets in flight towards a (0) and b (1)
	n        [2]int
	emitA    func([]byte)
	emitB    func([]byte)
	segments int // packets carried
	drop     func(toB bool, pkt []byte) bool
}

func newWirePair(tb testing.TB, cfg tcp.Config) *wirePair {
	tb.Helper()
	return newWirePairOn(tb, cfg, peerAddr, hostAddr)
}

// newWirePairOn is newWirePair with client a and server b at the given
// addresses (both IPv4 or both IPv6).
func newWirePairOn(tb testing.TB, cfg tcp.Config, aAddr, bAddr netip.Addr) *wirePair {
	tb.Helper()
	mk := func(addr netip.Addr, seed uint64) *Stack {
		c := Config{Name: addr.String(), Addr: addr, TCP: cfg, Rand: rand.New(rand.NewPCG(seed, 2))}
		if addr.Is6() {
			c.Addr, c.Addr6 = netip.Addr{}, addr
		}
		s, err := New(c)
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	w := &wirePair{a: mk(aAddr, 1), b: mk(bAddr, 2), step: 50 * time.Microsecond}
	for i := range w.bufs {
		w.bufs[i] = make([][]byte, 1024)
		for k := range w.bufs[i] {
			w.bufs[i][k] = make([]byte, 0, 65536)
		}
	}
	w.emitA = func(p []byte) { w.carry(1, p) }
	w.emitB = func(p []byte) { w.carry(0, p) }
	l, err := w.b.Listen(80, 0)
	if err != nil {
		tb.Fatal(err)
	}
	w.ca, err = w.a.Connect(w.now, netip.AddrPortFrom(bAddr, 80))
	if err != nil {
		tb.Fatal(err)
	}
	for range 10 {
		w.round()
	}
	w.cb = l.Accept()
	if w.cb == nil || w.ca.State() != tcp.Established {
		tb.Fatalf("handshake did not complete: client %v", w.ca.State())
	}
	return w
}

func (w *wirePair) carry(to int, p []byte) {
	if w.drop != nil && w.drop(to == 1, p) {
		return
	}
	if w.n[to] == len(w.bufs[to]) {
		panic("wirePair: too many packets in flight")
	}
	w.bufs[to][w.n[to]] = append(w.bufs[to][w.n[to]][:0], p...)
	w.n[to]++
	w.segments++
}

// round advances the clock by one step: timers, then each side's output
// is delivered to the other. It reports whether anything was carried.
func (w *wirePair) round() bool {
	w.now = w.now.Add(w.step)
	for _, s := range []*Stack{w.a, w.b} {
		if s.NextDeadline() <= w.now {
			s.HandleTimeout(w.now)
		}
	}
	w.a.Output(w.now, w.emitA)
	w.b.Output(w.now, w.emitB)
	moved := w.n[0]+w.n[1] > 0
	for i := range w.n[1] {
		w.b.Input(w.now, w.bufs[1][i])
	}
	for i := range w.n[0] {
		w.a.Input(w.now, w.bufs[0][i])
	}
	w.n = [2]int{}
	return moved
}

// transfer sends len(data) bytes from a to b, reading them at b as they
// arrive into sink, until all are read and nothing is in flight.
func (w *wirePair) transfer(tb testing.TB, data, sink []byte) {
	sent, got := 0, 0
	for idle := 0; idle < 3; {
		if sent < len(data) {
			k, err := w.a.Write(w.now, w.ca, data[sent:])
			if err != nil {
				tb.Fatal(err)
			}
			sent += k
		}
		for {
			k := w.b.Read(w.now, w.cb, sink)
			if k == 0 {
				break
			}
			got += k
		}
		if w.round() || sent < len(data) || got < len(data) {
			idle = 0
		} else {
			idle++
		}
		if w.now > clock.Time(time.Hour) {
			tb.Fatalf("transfer stuck: sent %d, read %d", sent, got)
		}
	}
	if got != len(data) {
		tb.Fatalf("read %d bytes, sent %d", got, len(data))
	}
}

// TestSteadyStateZeroAllocs requires a steady bulk exchange between two
// stacks (data one way, ACKs the other) to allocate nothing per segment
// once the connection has warmed up (buffers grown, windows open).
func TestSteadyStateZeroAllocs(t *testing.T) {
	w := newWirePair(t, tcp.Config{})
	data := make([]byte, 256<<10)
	sink := make([]byte, 64<<10)
	for range 8 {
		w.transfer(t, data, sink)
	}
	w.segments = 0
	allocs := testing.AllocsPerRun(10, func() { w.transfer(t, data, sink) })
	segs := w.segments / 11
	t.Logf("%d segments per transfer, %.1f allocations", segs, allocs)
	if allocs != 0 {
		t.Errorf("%.2f allocations per transfer of %d segments, want 0", allocs, segs)
	}
}

// TestSteadyStateIPv6ZeroAllocs is TestSteadyStateZeroAllocs over IPv6:
// the connections map keyed by the whole tuple and the IPv6 header cost
// no allocation either.
func TestSteadyStateIPv6ZeroAllocs(t *testing.T) {
	w := newWirePairOn(t, tcp.Config{}, peer6, host6)
	data := make([]byte, 256<<10)
	sink := make([]byte, 64<<10)
	for range 8 {
		w.transfer(t, data, sink)
	}
	allocs := testing.AllocsPerRun(10, func() { w.transfer(t, data, sink) })
	if allocs != 0 {
		t.Errorf("%.2f allocations per transfer over IPv6, want 0", allocs)
	}
	// RFC 9293 §3.7.1: the MSS is the MTU less the IPv6 and TCP headers.
	if mss := w.ca.Info().MSS; mss != 1440 {
		t.Errorf("IPv6 MSS %d, want 1440", mss)
	}
}

// TestSteadyStateLossZeroAllocs is TestSteadyStateZeroAllocs with loss:
// every 37th data segment is dropped, so the receiver holds data out of
// order and reports it in SACK blocks, and the sender recovers with
// RACK-TLP. Once warmed up (the reassembly ranges and the retransmission
// queue grown), that too must allocate nothing.
func TestSteadyStateLossZeroAllocs(t *testing.T) {
	w := newWirePair(t, tcp.Config{})
	dataSegs := 0
	w.drop = func(toB bool, pkt []byte) bool {
		if !toB || len(pkt) <= 100 {
			return false
		}
		dataSegs++
		return dataSegs%37 == 0
	}
	data := make([]byte, 256<<10)
	sink := make([]byte, 64<<10)
	for range 8 {
		w.transfer(t, data, sink)
	}
	rs, ss := w.cb.Stats(), w.ca.Stats()
	w.segments = 0
	allocs := testing.AllocsPerRun(10, func() { w.transfer(t, data, sink) })
	segs := w.segments / 11
	rs2, ss2 := w.cb.Stats(), w.ca.Stats()
	t.Logf("%d segments per transfer, %.1f allocations; %d out of order, %d recoveries, %d retransmissions, %d timeouts over %d transfers",
		segs, allocs, rs2.OutOfOrderIn-rs.OutOfOrderIn, ss2.FastRecoveries-ss.FastRecoveries, ss2.Retransmits-ss.Retransmits, ss2.Timeouts-ss.Timeouts, 11)
	if rs2.OutOfOrderIn == rs.OutOfOrderIn || ss2.FastRecoveries == ss.FastRecoveries {
		t.Fatalf("no loss recovery was exercised: %d out-of-order segments, %d recoveries", rs2.OutOfOrderIn-rs.OutOfOrderIn, ss2.FastRecoveries-ss.FastRecoveries)
	}
	if allocs != 0 {
		t.Errorf("%.2f allocations per transfer of %d segments, want 0", allocs, segs)
	}
}

// BenchmarkSteadyState is the exchange of TestSteadyStateZeroAllocs,
// timed: the stack's and tcp's cost per segment without any I/O.
func BenchmarkSteadyState(b *testing.B) {
	w := newWirePair(b, tcp.Config{})
	data := make([]byte, 256<<10)
	sink := make([]byte, 64<<10)
	w.transfer(b, data, sink)
	w.segments = 0
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		w.transfer(b, data, sink)
	}
	b.ReportMetric(float64(w.segments)/float64(b.N), "segs/op")
}

// TestIdleConnsNotVisited checks that a step visits only the connections
// called into: with many idle connections, an Output after nothing
// happened visits none, and NextDeadline (kept in a heap) is the earliest
// deadline of them all.
func TestIdleConnsNotVisited(t *testing.T) {
	w := newWirePair(t, tcp.Config{KeepAliveIdle: time.Minute})
	l, err := w.b.Listen(81, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		if _, err := w.a.Connect(w.now, netip.AddrPortFrom(hostAddr, 81)); err != nil {
			t.Fatal(err)
		}
		w.round()
	}
	for range 10 {
		w.round()
	}
	for l.Accept() != nil {
	}
	for _, s := range []*Stack{w.a, w.b} {
		if n := len(s.Conns()); n != 201 {
			t.Fatalf("%s has %d connections, want 201", s.Name(), n)
		}
		s.Output(w.now, func([]byte) { t.Fatal("an idle stack sent a packet") })
		if n := len(s.Changed()); n != 0 {
			t.Errorf("%s: an Output with nothing new visited %d connections, want 0", s.Name(), n)
		}
		want := clock.Never
		for _, c := range s.Conns() {
			want = clock.Min(want, c.NextDeadline())
		}
		if got := s.NextDeadline(); got != want || want == clock.Never {
			t.Errorf("%s: NextDeadline %v, earliest connection deadline %v", s.Name(), got, want)
		}
	}
	// The keepalive timers fire: every connection is visited once, in
	// creation order.
	w.now = w.a.NextDeadline()
	w.a.HandleTimeout(w.now)
	w.a.Output(w.now, func([]byte) {})
	ch := w.a.Changed()
	if len(ch) == 0 {
		t.Fatal("no connection visited after the keepalive timers fired")
	}
	for i := 1; i < len(ch); i++ {
		if ch[i-1].Tuple().Local.Port() == ch[i].Tuple().Local.Port() && ch[i-1].Tuple().Remote == ch[i].Tuple().Remote {
			t.Fatalf("connection %v visited twice", ch[i].Tuple())
		}
	}
}

// TestSteadyStatePacedZeroAllocs is TestSteadyStateZeroAllocs with pacing
// (tcp.Config.Pacing) and HyStart++ on at both ends: the pacing deadline is
// a field among the timers, nothing is allocated for it.
func TestSteadyStatePacedZeroAllocs(t *testing.T) {
	w := newWirePair(t, tcp.Config{Pacing: true, HyStart: true})
	data := make([]byte, 256<<10)
	sink := make([]byte, 64<<10)
	for range 8 {
		w.transfer(t, data, sink)
	}
	w.segments = 0
	allocs := testing.AllocsPerRun(10, func() { w.transfer(t, data, sink) })
	segs := w.segments / 11
	t.Logf("%d segments per transfer, %.1f allocations", segs, allocs)
	if allocs != 0 {
		t.Errorf("%.2f allocations per transfer of %d segments, want 0", allocs, segs)
	}
}
