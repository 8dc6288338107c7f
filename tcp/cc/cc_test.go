package cc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
)

func TestNew(t *testing.T) {
	for _, name := range Names() {
		c, err := New(name, Config{})
		if err != nil || c.Name() != name {
			t.Fatalf("New(%q) = %v, %v", name, c, err)
		}
	}
	if c, err := New("", Config{}); err != nil || c.Name() != Default {
		t.Fatalf(`New("") = %v, %v; want %s`, c, err, Default)
	}
	if !slices.Contains(Names(), Default) || !slices.IsSorted(Names()) {
		t.Fatalf("Names() = %v, Default %q", Names(), Default)
	}
	_, err := New("vegas", Config{})
	if err == nil {
		t.Fatal(`New("vegas") did not fail`)
	}
	for _, want := range append(Names(), `"vegas"`) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func mssOf(c Controller) int {
	switch c := c.(type) {
	case *NewReno:
		return c.mss
	case *Cubic:
		return c.mss
	}
	panic("unknown controller")
}

// invariants checks what must hold after any sequence of calls: RFC 5681's
// loss window is the floor of cwnd ("cwnd MUST be set to no more than the
// loss window, LW, which equals 1 full-sized segment" is also the least a
// sender can send), equation (4) keeps ssthresh at 2*SMSS or more, and no
// value overflows.
func invariants(c Controller) error {
	mss := mssOf(c)
	if mss < 1 || mss > MaxMSS {
		return fmt.Errorf("SMSS %d", mss)
	}
	if w := c.Window(); w < mss || w > MaxWindow {
		return fmt.Errorf("cwnd %d outside [SMSS %d, %d]", w, mss, MaxWindow)
	}
	if s := c.Threshold(); s < 2*mss || s > NoThreshold {
		return fmt.Errorf("ssthresh %d outside [2*SMSS %d, NoThreshold]", s, 2*mss)
	}
	if cu, ok := c.(*Cubic); ok {
		for _, v := range []float64{cu.cwnd, cu.st.wMax, cu.st.k, cu.st.cwndPrior, cu.st.cwndEpoch, cu.st.wEst} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > MaxWindow {
				return fmt.Errorf("CUBIC state %+v", cu.st)
			}
		}
	}
	return nil
}

// opReader turns bytes into calls; it never fails (zeros past the end).
type opReader struct {
	b []byte
	i int
}

func (r *opReader) byte() byte {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

func (r *opReader) u32() uint32 {
	return uint32(r.byte()) | uint32(r.byte())<<8 | uint32(r.byte())<<16 | uint32(r.byte())<<24
}

// amount picks a byte count: edge values or a random one.
func (r *opReader) amount(mss int) int {
	switch r.byte() % 10 {
	case 0:
		return 0
	case 1:
		return -int(r.u32())
	case 2:
		return math.MaxInt
	case 3:
		return math.MinInt
	case 4:
		return MaxWindow + int(r.byte())
	case 5, 6:
		return mss * int(r.byte())
	default:
		return int(r.u32() >> (r.byte() % 32))
	}
}

func (r *opReader) duration() time.Duration {
	switch r.byte() % 6 {
	case 0:
		return 0
	case 1:
		return -time.Duration(r.u32())
	case 2:
		return math.MaxInt64
	case 3:
		return time.Duration(r.u32()) * time.Second
	default:
		return time.Duration(r.u32()) * time.Microsecond
	}
}

// run applies the calls that data encodes to c, checking the invariants
// after each.
func run(c Controller, data []byte) error {
	r := &opReader{b: data}
	var now clock.Time
	for step := 0; r.i < len(r.b); step++ {
		now += clock.Time(r.duration())
		var call string
		switch op := r.byte() % 16; op {
		case 0:
			mss := r.amount(1460)
			call = fmt.Sprintf("SetMSS(%d)", mss)
			c.SetMSS(mss)
		case 1:
			n := r.amount(mssOf(c))
			call = fmt.Sprintf("OnCongestion(%v, %d)", now, n)
			c.OnCongestion(now, n)
		case 2:
			n := r.amount(mssOf(c))
			call = fmt.Sprintf("OnRecoveryEnd(%v, %d)", now, n)
			c.OnRecoveryEnd(now, n)
		case 3:
			n := r.amount(mssOf(c))
			call = fmt.Sprintf("OnRTO(%v, %d)", now, n)
			c.OnRTO(now, n)
		case 4:
			call = fmt.Sprintf("Undo(%v)", now)
			c.Undo(now)
		case 5:
			call = fmt.Sprintf("OnIdle(%v)", now)
			c.OnIdle(now)
		default:
			a := Ack{Now: now, Acked: r.amount(mssOf(c)), Flight: r.amount(mssOf(c)),
				RTT: r.duration(), SRTT: r.duration(), MinRTT: r.duration(), AppLimited: r.byte()%4 == 0}
			call = fmt.Sprintf("OnAck(%+v)", a)
			// ACKs come in runs, as they do.
			for range 1 + int(r.byte()%64) {
				c.OnAck(a)
				a.Now += clock.Time(time.Millisecond)
			}
			now = a.Now
		}
		if err := invariants(c); err != nil {
			return fmt.Errorf("step %d, after %s: %v", step, call, err)
		}
	}
	return nil
}

func newBoth(data []byte) []Controller {
	cfg := Config{}
	if len(data) > 0 && data[0]%2 == 0 {
		cfg = Config{MSS: int(data[0]) * 17, InitialWindow: int(data[0]) * 1000}
	}
	return []Controller{NewNewReno(cfg), NewCubic(cfg)}
}

// TestRandomCalls is the property test: seeded random call sequences never
// break the invariants, overflow or panic.
func TestRandomCalls(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for seq := range 2000 {
		data := make([]byte, 20+rng.IntN(600))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		for _, c := range newBoth(data) {
			if err := run(c, data); err != nil {
				t.Fatalf("sequence %d, %s: %v", seq, c.Name(), err)
			}
		}
	}
}

func FuzzControllers(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{2, 8, 5, 200, 0, 0, 0, 0, 3, 1, 9, 2, 3, 4, 5, 6, 7, 8, 9, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range newBoth(data) {
			if err := run(c, data); err != nil {
				t.Fatalf("%s: %v", c.Name(), err)
			}
		}
	})
}

// steadyAcks drives c in congestion avoidance: one ACK per segment, RTT
// 50 ms, with a loss every 20000 ACKs so that the window stays realistic.
func steadyAcks(c Controller, n int) {
	const rtt = 50 * time.Millisecond
	now := clock.Time(0)
	c.OnCongestion(now, 200*smss)
	for i := range n {
		if i%20000 == 19999 {
			c.OnCongestion(now, c.Window())
		}
		now += clock.Time(rtt / 100)
		c.OnAck(Ack{Now: now, Acked: smss, Flight: c.Window(), RTT: rtt, SRTT: rtt, MinRTT: rtt})
	}
}

func TestOnAckAllocs(t *testing.T) {
	for _, name := range Names() {
		c, _ := New(name, Config{})
		if n := testing.AllocsPerRun(10, func() { steadyAcks(c, 1000) }); n != 0 {
			t.Errorf("%s: %v allocations per 1000 ACKs", name, n)
		}
	}
}

func BenchmarkOnAck(b *testing.B) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			c, _ := New(name, Config{})
			b.ReportAllocs()
			steadyAcks(c, b.N)
		})
	}
}
