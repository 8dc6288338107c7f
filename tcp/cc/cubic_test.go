package cc

import (
	"math"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
)

// RFC 9438's constants, written out again for the reference model.
const (
	rfcC     = 0.4
	rfcBeta  = 0.7
	rfcAlpha = 3 * (1 - rfcBeta) / (1 + rfcBeta)
)

// rfcCubic is RFC 9438 §4 transcribed in segments and seconds, as the RFC
// writes it, to check the byte-based controller against.
type rfcCubic struct {
	cwnd, ssthresh       float64
	wMax, k, cwndPrior   float64
	wEst, tEpoch, tShift float64
	inCA                 bool
}

func newRFCCubic(cwnd float64) *rfcCubic {
	return &rfcCubic{cwnd: cwnd, ssthresh: math.Inf(1)}
}

// wCubic is Figure 1: W_cubic(t) = C*(t-K)^3 + W_max.
func (r *rfcCubic) wCubic(t float64) float64 { return rfcC*math.Pow(t-r.k, 3) + r.wMax }

// ack is a new ACK of segs segments at time now, with smoothed RTT rtt.
func (r *rfcCubic) ack(now, rtt, segs float64) {
	if r.cwnd < r.ssthresh { // §4.10, RFC 5681 (2)
		r.cwnd += math.Min(segs, 1)
		return
	}
	if !r.inCA {
		// §4.2: t_epoch, cwnd_epoch; Figure 2: K.
		r.inCA, r.tEpoch, r.wEst = true, now, r.cwnd
		if r.wMax > r.cwnd {
			r.k = math.Cbrt((r.wMax - r.cwnd) / rfcC)
		} else { // §4.8, §4.10
			r.k, r.wMax = 0, r.cwnd
		}
	}
	alpha := rfcAlpha // §4.3
	if r.wEst >= r.cwndPrior {
		alpha = 1
	}
	r.wEst += alpha * segs / r.cwnd // Figure 4
	t := now - r.tEpoch
	if rtt == 0 || r.wCubic(t) < r.wEst {
		r.cwnd = math.Max(r.cwnd, r.wEst)
		return
	}
	target := math.Min(math.Max(r.wCubic(t+rtt), r.cwnd), 1.5*r.cwnd)
	r.cwnd += (target - r.cwnd) / r.cwnd * segs // §4.4, §4.5
}

// loss is §4.7 then §4.6 for a loss detected by ACKs.
func (r *rfcCubic) loss(flight float64) {
	r.cwndPrior = r.cwnd
	if r.cwnd < r.wMax {
		r.wMax = r.cwnd * (1 + rfcBeta) / 2
	} else {
		r.wMax = r.cwnd
	}
	r.ssthresh = math.Max(flight*rfcBeta, 2)
	r.cwnd = math.Max(r.ssthresh, 2)
	r.inCA = false
}

// timeout is §4.8.
func (r *rfcCubic) timeout(flight float64) {
	r.loss(flight)
	r.cwnd, r.wMax = 1, 0
}

// cubicRun drives a Cubic and the reference model with the same ACKs: one
// round per RTT, Window()/SMSS full-sized segments per round, their ACKs
// spread evenly over the round.
type cubicRun struct {
	t   *testing.T
	c   *Cubic
	ref *rfcCubic
	now clock.Time
	rtt time.Duration
}

func sec(t clock.Time) float64 { return float64(t) / 1e9 }

func (d *cubicRun) round(appLimited bool) {
	d.t.Helper()
	n := max(d.c.Window()/smss, 1)
	for i := 1; i <= n; i++ {
		at := d.now + clock.Time(int64(d.rtt)*int64(i)/int64(n))
		d.c.OnAck(Ack{Now: at, Acked: smss, RTT: d.rtt, SRTT: d.rtt, AppLimited: appLimited})
		if !appLimited {
			d.ref.ack(sec(at)-d.ref.tShift, d.rtt.Seconds(), 1)
		}
		d.check("ACK")
	}
	d.now += clock.Time(d.rtt)
	if appLimited {
		// §4.2: t "MUST NOT include periods during which cwnd has not
		// been updated due to application-limited behavior".
		d.ref.tShift += d.rtt.Seconds()
	}
}

// idle is an idle period of length idle after the last ACK, then OnIdle.
func (d *cubicRun) idle(idle time.Duration, iwSegs float64) {
	d.t.Helper()
	d.now += clock.Time(idle)
	d.c.OnIdle(d.now)
	d.ref.tShift += idle.Seconds()
	d.ref.cwnd = math.Min(d.ref.cwnd, iwSegs)
	d.check("OnIdle")
}

// check compares cwnd and ssthresh with the reference model; the two differ
// only by floating-point rounding.
func (d *cubicRun) check(what string) {
	d.t.Helper()
	want := d.ref.cwnd * smss
	if math.Abs(d.c.cwnd-want) > 1e-9*want {
		d.t.Fatalf("at %v after %s: cwnd %.6f bytes, RFC 9438 gives %.6f (%.6f segments)", d.now, what, d.c.cwnd, want, d.ref.cwnd)
	}
	if wantT := d.ref.ssthresh * smss; !math.IsInf(d.ref.ssthresh, 1) && math.Abs(float64(d.c.ssthresh)-wantT) > 1 {
		d.t.Fatalf("at %v after %s: ssthresh %d, RFC 9438 gives %.3f", d.now, what, d.c.ssthresh, wantT)
	}
}

// newCubicRun starts a flow with the default initial window of 10 segments,
// slow-starts it to w0 >= 10 segments at time 0 and applies one loss with a
// full window in flight.
func newCubicRun(t *testing.T, w0 int, rtt time.Duration) *cubicRun {
	d := &cubicRun{t: t, c: NewCubic(Config{MSS: smss}), ref: newRFCCubic(10), rtt: rtt}
	for range w0 - 10 {
		d.ack(0)
	}
	d.loss(w0)
	return d
}

// ack is one ACK of one segment at time at.
func (d *cubicRun) ack(at clock.Time) {
	d.t.Helper()
	d.c.OnAck(Ack{Now: at, Acked: smss, RTT: d.rtt, SRTT: d.rtt})
	d.ref.ack(sec(at)-d.ref.tShift, d.rtt.Seconds(), 1)
	d.check("ACK")
}

func (d *cubicRun) loss(flightSegs int) {
	d.c.OnCongestion(d.now, flightSegs*smss)
	d.ref.loss(float64(flightSegs))
	d.check("OnCongestion")
	d.c.OnRecoveryEnd(d.now, d.c.Window())
	d.check("OnRecoveryEnd")
}

// wCubicAfterLoss is RFC 9438 Figure 1 with Figure 2's K for cwnd_epoch =
// β_cubic*W_max: K = cbrt(W_max*(1-β_cubic)/C).
func wCubicAfterLoss(wMax, t float64) float64 {
	k := math.Cbrt(wMax * (1 - rfcBeta) / rfcC)
	return rfcC*math.Pow(t-k, 3) + wMax
}

func TestCubicConcaveConvex(t *testing.T) {
	const wMax = 1000
	rtt := 100 * time.Millisecond
	d := newCubicRun(t, wMax, rtt)
	// §4.6 Figure 5: "ssthresh = flight_size * β_cubic", "cwnd =
	// max(ssthresh, 2)"; "W_max: Size of cwnd in segments just before
	// cwnd was reduced in the last congestion event".
	if d.c.Threshold() != wMax*smss*7/10 || d.c.Window() != wMax*smss*7/10 || d.c.st.wMax != wMax*smss {
		t.Fatalf("after the loss: cwnd %d ssthresh %d W_max %.0f", d.c.Window(), d.c.Threshold(), d.c.st.wMax)
	}
	k := math.Cbrt(wMax * (1 - rfcBeta) / rfcC)
	var epoch clock.Time
	prevCwnd, prevInc := d.c.cwnd/smss, 0.0
	for round := 1; round <= 180; round++ {
		d.round(false)
		if round == 1 {
			// §4.2 Figure 2: "K = cbrt((W_max - cwnd_epoch)/C)".
			epoch = d.c.st.epochStart
			if math.Abs(d.c.st.k-k) > 1e-12 {
				t.Fatalf("K = %.15f, RFC 9438 gives %.15f", d.c.st.k, k)
			}
		}
		// §4.2: "CUBIC computes the target congestion window size after
		// the next RTT using Figure 1": cwnd never passes the target
		// W_cubic(t + RTT). Closing (target-cwnd)/cwnd per ACK, about
		// 1-1/e of the gap per RTT, it follows W_cubic with about one
		// RTT of lag: it stays above W_cubic(t - 2*RTT).
		tt, cwnd := sec(d.now-epoch), d.c.cwnd/smss
		lo, hi := wCubicAfterLoss(wMax, tt-2*rtt.Seconds()), wCubicAfterLoss(wMax, tt+rtt.Seconds())
		if cwnd < lo || cwnd > hi {
			t.Fatalf("t=%.1fs: cwnd %.3f segments outside [W_cubic(t-2RTT), W_cubic(t+RTT)] = [%.3f, %.3f]", tt, cwnd, lo, hi)
		}
		// Not in the Reno-friendly region: W_est stays below.
		if d.c.st.wEst >= d.c.cwnd {
			t.Fatalf("t=%.1fs: W_est %.3f >= cwnd %.3f", tt, d.c.st.wEst/smss, cwnd)
		}
		inc := cwnd - prevCwnd
		switch {
		case tt+rtt.Seconds() < k:
			// §4.4: the concave region, "cwnd is less than W_max";
			// the increase slows down toward the plateau.
			if cwnd >= wMax || (round > 1 && inc >= prevInc) {
				t.Fatalf("t=%.1fs concave: cwnd %.3f, increase %.4f after %.4f", tt, cwnd, inc, prevInc)
			}
		case tt-2*rtt.Seconds() > k:
			// §4.5: the convex region, "cwnd is larger than or equal to
			// W_max"; the increase speeds up.
			if cwnd < wMax || inc <= prevInc {
				t.Fatalf("t=%.1fs convex: cwnd %.3f, increase %.4f after %.4f", tt, cwnd, inc, prevInc)
			}
		}
		prevCwnd, prevInc = cwnd, inc
	}
}

func TestCubicRenoFriendly(t *testing.T) {
	// §4.3: "If so, CUBIC is in the Reno-friendly region and cwnd SHOULD
	// be set to W_est at each reception of a new ACK." with Figure 4,
	// W_est += α_cubic * segments_acked / cwnd, and "Once W_est has grown
	// to reach the cwnd at the time of most recently setting ssthresh --
	// that is, W_est >= cwnd_prior -- the sender SHOULD set α_cubic to 1".
	const wMax = 20
	d := newCubicRun(t, wMax, time.Millisecond)
	sawAlpha1 := false
	var epoch clock.Time
	for round := 1; round <= 100; round++ {
		before, n := d.c.cwnd/smss, max(d.c.Window()/smss, 1)
		d.round(false)
		if round == 1 {
			epoch = d.c.st.epochStart
		}
		after, tt := d.c.cwnd/smss, sec(d.now-epoch)
		if w := wCubicAfterLoss(wMax, tt); w >= after || d.c.cwnd != d.c.st.wEst {
			t.Fatalf("t=%.3fs: W_cubic(t) = %.3f, cwnd %.4f, W_est %.4f: not Reno-friendly", tt, w, after, d.c.st.wEst/smss)
		}
		// W_est = cwnd: α_cubic is 1 from the ACK where cwnd >= cwnd_prior.
		alphaLo, alphaHi := rfcAlpha, rfcAlpha
		if before >= wMax {
			alphaLo, sawAlpha1 = 1, true
		}
		if after >= wMax {
			alphaHi = 1
		}
		// n ACKs, each adding α_cubic/cwnd with cwnd in [before, after].
		inc := after - before
		if lo, hi := alphaLo*float64(n)/after, alphaHi*float64(n)/before; inc < lo-1e-12 || inc > hi+1e-12 {
			t.Fatalf("t=%.3fs: increase %.5f segments per RTT, want in [%.5f, %.5f]", tt, inc, lo, hi)
		}
	}
	if !sawAlpha1 {
		t.Fatalf("W_est never reached cwnd_prior: cwnd %.3f", d.c.cwnd/smss)
	}
}

func TestCubicFastConvergence(t *testing.T) {
	// §4.7: "W_max = cwnd * (1 + β_cubic) / 2 if cwnd < W_max and fast
	// convergence enabled, further reduce W_max"; "cwnd otherwise,
	// remember cwnd before reduction".
	d := newCubicRun(t, 100, 100*time.Millisecond)
	for range 10 {
		d.round(false)
	}
	cwnd := d.c.cwnd
	if cwnd >= 100*smss {
		t.Fatalf("setup: cwnd %.0f is not below W_max", cwnd)
	}
	d.loss(d.c.Window() / smss)
	if want := cwnd * (1 + rfcBeta) / 2; math.Abs(d.c.st.wMax-want) > 1e-9 || d.c.st.cwndPrior != cwnd {
		t.Fatalf("W_max %.3f cwnd_prior %.3f, want %.3f and %.3f", d.c.st.wMax, d.c.st.cwndPrior, want, cwnd)
	}
	// The next epoch: K = cbrt((W_max - cwnd_epoch)/C).
	wMax, cwndEpoch := d.c.st.wMax/smss, d.c.cwnd/smss
	d.round(false)
	if want := math.Cbrt((wMax - cwndEpoch) / rfcC); math.Abs(d.c.st.k-want) > 1e-12 {
		t.Fatalf("K %.15f, want %.15f", d.c.st.k, want)
	}
	// Past W_max: the next loss remembers cwnd.
	for range 100 {
		d.round(false)
	}
	cwnd = d.c.cwnd
	if cwnd < wMax*smss {
		t.Fatalf("setup: cwnd %.0f below W_max %.0f", cwnd, wMax*smss)
	}
	d.loss(d.c.Window() / smss)
	if d.c.st.wMax != cwnd {
		t.Fatalf("W_max %.3f, want cwnd %.3f", d.c.st.wMax, cwnd)
	}
	for range 50 {
		d.round(false)
	}
}

func TestCubicMultiplicativeDecrease(t *testing.T) {
	// §4.6 Figure 5: "ssthresh = flight_size * β_cubic", "cwnd =
	// max(ssthresh, 2)", "ssthresh = max(ssthresh, 2)" (segments).
	for _, flight := range []int{1000 * smss, 100*smss + 7, 10 * smss, 3 * smss, 2 * smss, 100, 0} {
		c := NewCubic(Config{MSS: smss})
		c.OnCongestion(0, flight)
		want := max(int(math.Floor(float64(flight)*rfcBeta+1e-9)), 2*smss)
		if c.Threshold() != want || c.Window() != want {
			t.Errorf("flight %d: cwnd %d ssthresh %d, want both %d", flight, c.Window(), c.Threshold(), want)
		}
	}
}

func TestCubicTimeout(t *testing.T) {
	// §4.8: "In the case of a timeout, CUBIC follows Reno to reduce cwnd
	// [RFC5681] but sets ssthresh using β_cubic (same as in Section 4.6)".
	d := newCubicRun(t, 100, 100*time.Millisecond)
	for range 20 {
		d.round(false)
	}
	flight := d.c.Window() / smss
	d.c.OnRTO(d.now, flight*smss)
	d.ref.timeout(float64(flight))
	d.check("OnRTO")
	if d.c.Window() != smss {
		t.Fatalf("after RTO: cwnd %d, want %d", d.c.Window(), smss)
	}
	// RFC 5681 §3.1: a second timeout of the same segment holds ssthresh.
	d.c.OnRTO(d.now, smss)
	d.check("second OnRTO")
	// "During the first congestion avoidance stage after a timeout, CUBIC
	// increases its congestion window size using Figure 1, where t is the
	// elapsed time since the beginning of the current congestion avoidance
	// stage, K is set to 0, and W_max is set to the congestion window size
	// at the beginning of the current congestion avoidance stage."
	for d.c.cwnd < float64(d.c.ssthresh) {
		d.now += clock.Time(time.Millisecond)
		d.ack(d.now)
	}
	cwndEpoch := d.c.cwnd
	d.now += clock.Time(time.Millisecond)
	d.ack(d.now)
	if d.c.st.k != 0 || d.c.st.wMax != cwndEpoch {
		t.Fatalf("after the timeout: K %v W_max %.0f, want 0 and cwnd_epoch %.0f", d.c.st.k, d.c.st.wMax, cwndEpoch)
	}
	for range 50 {
		d.round(false)
	}
}

// twin feeds the same ACK to two controllers and requires equal windows.
func twin(t *testing.T, a, b Controller, ack Ack) {
	t.Helper()
	a.OnAck(ack)
	b.OnAck(ack)
	if a.Window() != b.Window() || a.Threshold() != b.Threshold() {
		t.Fatalf("at %v: %s cwnd %d ssthresh %d, %s cwnd %d ssthresh %d", ack.Now, a.Name(), a.Window(), a.Threshold(), b.Name(), b.Window(), b.Threshold())
	}
}

func TestCubicSlowStartIsReno(t *testing.T) {
	// §4.10: CUBIC "MAY use the Reno TCP slow start algorithm [RFC5681]".
	c, r := NewCubic(Config{MSS: smss}), NewNewReno(Config{MSS: smss})
	now := clock.Time(0)
	sizes := []int{smss, 2 * smss, 100, 3 * smss, smss - 1}
	for i := 0; c.Window() < 200*smss; i++ {
		now += clock.Time(time.Millisecond)
		twin(t, c, r, Ack{Now: now, Acked: sizes[i%len(sizes)], SRTT: 50 * time.Millisecond})
	}
	// After a timeout both slow-start from 1 SMSS, ACK by ACK, to a
	// threshold (they differ: β_cubic against 1/2).
	c.OnRTO(now, 100*smss)
	r.OnRTO(now, 140*smss)
	if c.Threshold() != r.Threshold() {
		t.Fatalf("setup: ssthresh %d and %d", c.Threshold(), r.Threshold())
	}
	for c.Window() < c.Threshold() {
		now += clock.Time(time.Millisecond)
		twin(t, c, r, Ack{Now: now, Acked: smss, SRTT: 50 * time.Millisecond})
	}
}

// cubicPair returns a Cubic and a copy of it in congestion avoidance at time
// now, after a loss at W_max = 100 segments and a few rounds.
func cubicPair(t *testing.T) (a, b *Cubic, now clock.Time) {
	d := newCubicRun(t, 100, 100*time.Millisecond)
	for range 5 {
		d.round(false)
	}
	b = new(Cubic)
	*b = *d.c
	return d.c, b, d.now
}

func TestCubicUndo(t *testing.T) {
	// §4.9.2: "CUBIC MAY restore the original values of the
	// above-mentioned variables as follows if the current cwnd is lower
	// than cwnd_prior" (cwnd, cwnd_prior, ssthresh, W_max, K, t_epoch,
	// W_est). Undone, the flow continues as if the loss never happened.
	const rtt = 100 * time.Millisecond
	for _, event := range []string{"OnCongestion", "OnRTO"} {
		a, b, now := cubicPair(t)
		if event == "OnCongestion" {
			b.OnCongestion(now, b.Window())
			b.OnRecoveryEnd(now+clock.Time(rtt), b.Window())
		} else {
			b.OnRTO(now, b.Window())
			b.OnAck(Ack{Now: now + 1, Acked: smss, SRTT: rtt}) // slow start
		}
		b.Undo(now + clock.Time(rtt))
		if b.cwnd != a.cwnd || b.ssthresh != a.ssthresh || b.st != a.st {
			t.Fatalf("%s undone: cwnd %.3f ssthresh %d %+v, want %.3f %d %+v", event, b.cwnd, b.ssthresh, b.st, a.cwnd, a.ssthresh, a.st)
		}
		for i := 1; i <= 5000; i++ {
			twin(t, a, b, Ack{Now: now + clock.Time(i)*clock.Time(time.Millisecond), Acked: smss, SRTT: rtt})
		}
	}
	// "when the detection happens long after a spurious fast retransmit
	// event and the current cwnd is already higher than cwnd_prior, CUBIC
	// SHOULD continue to use the current and the most recent values of
	// these variables."
	_, b, now := cubicPair(t)
	b.OnCongestion(now, b.Window())
	b.cwnd = b.st.cwndPrior + smss // as if it had grown back past cwnd_prior
	saved := *b
	b.Undo(now)
	if b.cwnd != saved.cwnd || b.ssthresh != saved.ssthresh || b.st != saved.st {
		t.Fatalf("late undo changed the state: cwnd %.3f ssthresh %d", b.cwnd, b.ssthresh)
	}
}

func TestCubicAppLimited(t *testing.T) {
	// §5.8: "CUBIC does not increase its congestion window if a flow is
	// application limited. Per Section 4.2, it is required that t in
	// Figure 1 not include application-limited periods".
	d := newCubicRun(t, 100, 100*time.Millisecond)
	for range 5 {
		d.round(false)
	}
	w := d.c.cwnd
	for range 30 {
		d.round(true)
		if d.c.cwnd != w {
			t.Fatalf("application-limited round: cwnd %.3f, want %.3f", d.c.cwnd, w)
		}
	}
	for range 60 {
		d.round(false)
	}
	// A twin that was never application-limited sees the same windows.
	a, b, now := cubicPair(t)
	const gap = 3 * time.Second
	for i := 1; i <= 300; i++ {
		b.OnAck(Ack{Now: now + clock.Time(i)*clock.Time(gap/300), Acked: smss, SRTT: 100 * time.Millisecond, AppLimited: true})
	}
	for i := 1; i <= 3000; i++ {
		at := now + clock.Time(i)*clock.Time(time.Millisecond)
		a.OnAck(Ack{Now: at, Acked: smss, SRTT: 100 * time.Millisecond})
		b.OnAck(Ack{Now: at + clock.Time(gap), Acked: smss, SRTT: 100 * time.Millisecond})
		if a.cwnd != b.cwnd {
			t.Fatalf("ACK %d: cwnd %.6f after an application-limited period, %.6f without", i, b.cwnd, a.cwnd)
		}
	}
}

func TestCubicIdle(t *testing.T) {
	// RFC 5681 §4.1: "RW = min(IW,cwnd)"; RFC 9438 §5.8: t must not
	// include "application-limited periods, such as idle periods;
	// otherwise, W_cubic(t) might be very high after restarting from
	// these periods."
	d := newCubicRun(t, 100, 100*time.Millisecond)
	for range 5 {
		d.round(false)
	}
	epoch := d.c.st.epochStart
	const idle = 100 * time.Second
	d.idle(idle, 10)
	if d.c.Window() != 10*smss {
		t.Fatalf("after idle: cwnd %d, want IW %d", d.c.Window(), 10*smss)
	}
	if d.c.st.epochStart != epoch+clock.Time(idle) {
		t.Fatalf("epoch start %v, want %v", d.c.st.epochStart, epoch+clock.Time(idle))
	}
	for range 100 {
		d.round(false)
	}
	// Idle again with cwnd below IW: the window stays.
	d.c.OnRTO(d.now, 100*smss)
	d.ref.timeout(100)
	d.idle(time.Second, 10)
	if d.c.Window() != smss {
		t.Fatalf("idle after RTO: cwnd %d, want %d", d.c.Window(), smss)
	}
}

func TestCubicRTTSources(t *testing.T) {
	// The package's rule: Ack.SRTT is RFC 9438's RTT ("Smoothed round-trip
	// time in seconds"); Ack.RTT when SRTT is 0.
	a, b, now := cubicPair(t)
	for i := 1; i <= 3000; i++ {
		at := now + clock.Time(i)*clock.Time(time.Millisecond)
		a.OnAck(Ack{Now: at, Acked: smss, SRTT: 100 * time.Millisecond})
		b.OnAck(Ack{Now: at, Acked: smss, RTT: 100 * time.Millisecond})
		if a.cwnd != b.cwnd {
			t.Fatalf("ACK %d: cwnd %.6f with RTT only, %.6f with SRTT", i, b.cwnd, a.cwnd)
		}
	}
	// Without any RTT there is no target: cwnd follows W_est.
	d := newCubicRun(t, 100, 100*time.Millisecond)
	d.rtt = 0
	for i := 1; i <= 2000; i++ {
		at := clock.Time(i) * clock.Time(time.Millisecond)
		d.c.OnAck(Ack{Now: at, Acked: smss})
		d.ref.ack(sec(at), 0, 1)
		d.check("ACK without RTT")
		if d.c.cwnd != d.c.st.wEst {
			t.Fatalf("ACK %d without RTT: cwnd %.3f, W_est %.3f", i, d.c.cwnd, d.c.st.wEst)
		}
	}
}

func TestCubicReduceFromWindow(t *testing.T) {
	// RFC 9438 §4.6: "Some implementations of CUBIC currently use _cwnd_
	// instead of _flight_size_ when calculating a new _ssthresh_." With
	// Config.ReduceFromWindow ssthresh = max(cwnd*β_cubic, 2*SMSS) on a
	// timeout and on loss, whatever the flight; without it the flight.
	for _, from := range []bool{false, true} {
		c := NewCubic(Config{MSS: 1000, InitialWindow: 10000, ReduceFromWindow: from})
		c.OnRTO(0, 1000) // one segment in flight, cwnd 10 segments
		want := 2000
		if from {
			want = 7000
		}
		if c.Threshold() != want || c.Window() != 1000 {
			t.Errorf("ReduceFromWindow %v: timeout with cwnd 10000, flight 1000: ssthresh %d cwnd %d, want %d and 1000", from, c.Threshold(), c.Window(), want)
		}
		c = NewCubic(Config{MSS: 1000, InitialWindow: 20000, ReduceFromWindow: from})
		c.OnCongestion(0, 4000)
		want = 2800
		if from {
			want = 14000
		}
		if c.Threshold() != want || c.Window() != want {
			t.Errorf("ReduceFromWindow %v: loss with cwnd 20000, flight 4000: ssthresh %d cwnd %d, want %d", from, c.Threshold(), c.Window(), want)
		}
	}
}
