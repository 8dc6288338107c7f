package cc

import (
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
)

// hsFeed drives a HyStart++ CUBIC through rounds of ACKs: each round
// acknowledges `acks` segments of 1000 bytes, one every ms, each with the
// RTT rtt(round, i); SND.NXT runs a window ahead.
type hsFeed struct {
	t    *testing.T
	c    *Cubic
	now  clock.Time
	una  uint32
	next uint32
	// acked sums the bytes the ACKs acknowledged.
	acked int
}

func newHSFeed(t *testing.T) *hsFeed {
	c := NewCubic(Config{MSS: 1000, InitialWindow: 10000, HyStart: true})
	// The first ACK opens round 1, whose end is SND.NXT then.
	return &hsFeed{t: t, c: c, una: 1 << 31, next: 1<<31 + 10000}
}

// round acknowledges every segment up to the current windowEnd, n ACKs.
func (f *hsFeed) round(n int, rtt time.Duration) {
	end := f.next
	step := (end - f.una) / uint32(n)
	for i := 0; i < n; i++ {
		f.now = f.now.Add(time.Millisecond)
		f.una += step
		if i == n-1 {
			f.una = end
		}
		f.acked += int(step)
		f.next += 2 * step // slow start: two segments out per one acknowledged
		f.c.OnAck(Ack{Now: f.now, Acked: int(step), Flight: f.c.Window(), RTT: rtt, SRTT: rtt, MinRTT: rtt,
			SndUna: f.una, SndNxt: f.next})
	}
}

func TestHyStartConstants(t *testing.T) {
	// RFC 9406 §4.3: "MIN_RTT_THRESH = 4 msec, MAX_RTT_THRESH = 16 msec,
	// MIN_RTT_DIVISOR = 8, N_RTT_SAMPLE = 8, CSS_GROWTH_DIVISOR = 4,
	// CSS_ROUNDS = 5, L = infinity if paced, L = 8 if non-paced".
	if HyStartMinRTTThresh != 4*time.Millisecond || HyStartMaxRTTThresh != 16*time.Millisecond ||
		HyStartMinRTTDivisor != 8 || HyStartNRTTSample != 8 || HyStartCSSGrowthDivisor != 4 ||
		HyStartCSSRounds != 5 || HyStartL != 8 {
		t.Fatal("RFC 9406 constants changed")
	}
}

// The delay increase takes the sender from slow start to CSS, CSS grows by
// a quarter, and after CSS_ROUNDS rounds ssthresh = cwnd.
func TestHyStartExitThroughCSS(t *testing.T) {
	f := newHSFeed(t)
	c := f.c
	// Round 1 sets currentRoundMinRTT = 100 ms.
	f.round(8, 100*time.Millisecond)
	if c.hs.phase != hsSS || c.Window() != 10000+10000 {
		t.Fatalf("after round 1: phase %d cwnd %d, want slow start and 20000", c.hs.phase, c.Window())
	}
	// Round 2: RttThresh = max(4 ms, min(100 ms / 8, 16 ms)) = 12.5 ms;
	// 112 ms < 100 + 12.5: "if (currentRoundMinRTT >= (lastRoundMinRTT +
	// RttThresh))" does not hold, slow start goes on.
	f.round(8, 112*time.Millisecond)
	if c.hs.phase != hsSS {
		t.Fatalf("112 ms after 100 ms left slow start (threshold 12.5 ms)")
	}
	// Round 3: 112 + max(4, min(14, 16)) = 126 ms: "cssBaselineMinRtt =
	// currentRoundMinRTT; exit slow start and enter CSS", on the 8th
	// sample of the round ("rttSampleCount >= N_RTT_SAMPLE").
	w, a := c.Window(), f.acked
	f.round(7, 126*time.Millisecond)
	if c.hs.phase != hsSS {
		t.Fatal("entered CSS with 7 RTT samples in the round, N_RTT_SAMPLE is 8")
	}
	f.una-- // keep the round open for one more ACK
	f.now = f.now.Add(time.Millisecond)
	c.OnAck(Ack{Now: f.now, Acked: 1000, RTT: 126 * time.Millisecond, SndUna: f.una, SndNxt: f.next})
	if c.hs.phase != hsCSS || c.hs.cssBaselineMinRTT != 126*time.Millisecond || c.hs.cssRounds != 1 {
		t.Fatalf("8th sample of 126 ms: phase %d baseline %v cssRounds %d, want CSS, 126ms, 1 (\"that partial round counts towards the limit\")",
			c.hs.phase, c.hs.cssBaselineMinRTT, c.hs.cssRounds)
	}
	if got, want := c.Window()-w, f.acked-a+1000; got != want || f.acked-a > 7*HyStartL*1000 {
		t.Fatalf("slow start grew by %d over 8 ACKs, want %d (\"cwnd = cwnd + min(N, L * SMSS)\")", got, want)
	}
	// In CSS: "cwnd = cwnd + (min(N, L * SMSS) / CSS_GROWTH_DIVISOR)".
	w = c.Window()
	f.now = f.now.Add(time.Millisecond)
	c.OnAck(Ack{Now: f.now, Acked: 4000, RTT: 130 * time.Millisecond, SndUna: f.una, SndNxt: f.next})
	if got := c.Window() - w; got != 1000 {
		t.Fatalf("a 4000-byte ACK in CSS grew cwnd by %d, want 1000", got)
	}
	// L = 8: one ACK of 20 segments counts 8.
	w = c.Window()
	f.now = f.now.Add(time.Millisecond)
	c.OnAck(Ack{Now: f.now, Acked: 20000, RTT: 130 * time.Millisecond, SndUna: f.una, SndNxt: f.next})
	if got := c.Window() - w; got != 2000 {
		t.Fatalf("a 20-segment ACK in CSS grew cwnd by %d, want 8*1000/4", got)
	}
	// Rounds 2..5 of CSS, RTT staying up: still CSS, ssthresh unset.
	for r := 2; r <= HyStartCSSRounds; r++ {
		f.round(8, 130*time.Millisecond)
		if c.hs.phase != hsCSS || c.Threshold() != NoThreshold {
			t.Fatalf("CSS round %d: phase %d ssthresh %d", r, c.hs.phase, c.Threshold())
		}
	}
	// The ACK that completes round 5 opens round 6: "If CSS_ROUNDS rounds
	// are complete, enter congestion avoidance by setting the ssthresh to
	// the current cwnd."
	f.round(1, 130*time.Millisecond)
	if c.hs.phase != hsOff || c.Threshold() != c.Window() {
		t.Fatalf("after %d CSS rounds: phase %d ssthresh %d cwnd %d, want ssthresh = cwnd", HyStartCSSRounds, c.hs.phase, c.Threshold(), c.Window())
	}
}

// "if (currentRoundMinRTT < cssBaselineMinRtt) cssBaselineMinRtt =
// infinity resume slow start including HyStart++"
func TestHyStartCSSBackToSlowStart(t *testing.T) {
	f := newHSFeed(t)
	c := f.c
	f.round(8, 20*time.Millisecond)
	f.round(8, 30*time.Millisecond) // 20 + max(4, min(2.5, 16)) = 24 <= 30: CSS
	if c.hs.phase != hsCSS || c.hs.cssBaselineMinRTT != 30*time.Millisecond {
		t.Fatalf("phase %d baseline %v, want CSS at 30ms", c.hs.phase, c.hs.cssBaselineMinRTT)
	}
	// A CSS round whose minimum (29 ms) is below the baseline, once it has
	// 8 samples: back to slow start.
	f.round(7, 29*time.Millisecond)
	if c.hs.phase != hsCSS {
		t.Fatal("left CSS before N_RTT_SAMPLE samples")
	}
	f.una--
	f.now = f.now.Add(time.Millisecond)
	c.OnAck(Ack{Now: f.now, Acked: 1000, RTT: 29 * time.Millisecond, SndUna: f.una, SndNxt: f.next})
	if c.hs.phase != hsSS || c.hs.cssBaselineMinRTT != infRTT || c.Threshold() != NoThreshold {
		t.Fatalf("phase %d baseline %v ssthresh %d, want slow start again", c.hs.phase, c.hs.cssBaselineMinRTT, c.Threshold())
	}
}

// "An implementation SHOULD use HyStart++ only for the initial slow start":
// after a loss, slow start is RFC 5681's again (min(N, SMSS) per ACK).
func TestHyStartOnlyInitialSlowStart(t *testing.T) {
	for _, name := range Names() {
		c, _ := New(name, Config{MSS: 1000, InitialWindow: 10000, HyStart: true})
		c.OnAck(Ack{Now: 1, Acked: 4000, RTT: time.Millisecond, SndUna: 4000, SndNxt: 14000})
		if c.Window() != 14000 {
			t.Fatalf("%s: HyStart++ slow start: cwnd %d after a 4-segment ACK, want 14000 (L = 8)", name, c.Window())
		}
		c.OnRTO(2, 14000)
		c.OnAck(Ack{Now: 3, Acked: 4000, RTT: time.Millisecond, SndUna: 8000, SndNxt: 9000})
		if c.Window() != 2000 {
			t.Fatalf("%s: after a timeout cwnd %d, want 1000+min(4000, SMSS)", name, c.Window())
		}
	}
	// Without HyStart, RFC 5681 with RFC 3465's L = 2: min(N, 2*SMSS).
	c := NewCubic(Config{MSS: 1000, InitialWindow: 10000})
	c.OnAck(Ack{Now: 1, Acked: 4000, RTT: time.Millisecond})
	if c.Window() != 12000 {
		t.Fatalf("without HyStart++: cwnd %d, want 12000", c.Window())
	}
	// Paced: "L = infinity if paced".
	c = NewCubic(Config{MSS: 1000, InitialWindow: 10000, HyStart: true, Paced: true})
	c.OnAck(Ack{Now: 1, Acked: 20000, RTT: time.Millisecond, SndUna: 20000, SndNxt: 30000})
	if c.Window() != 30000 {
		t.Fatalf("paced: cwnd %d after a 20-segment ACK, want 30000", c.Window())
	}
}

// NewReno runs the same state machine; its CSS quarters are carried.
func TestHyStartNewRenoCSS(t *testing.T) {
	r := NewNewReno(Config{MSS: 1000, InitialWindow: 10000, HyStart: true})
	r.hs.phase = hsCSS
	r.hs.started, r.hs.windowEnd = true, 1<<20
	for i := 0; i < 4; i++ {
		r.OnAck(Ack{Now: clock.Time(i + 1), Acked: 1001, RTT: time.Millisecond, SndUna: uint32(i), SndNxt: 1 << 20})
	}
	if r.Window() != 10000+1001 {
		t.Fatalf("four 1001-byte ACKs in CSS: cwnd %d, want 11001", r.Window())
	}
}
