package cc

import (
	"math"
	"time"

	"github.com/gosynack/synack/clock"
)

// RFC 9438 constants.
const (
	// CubicC is C of RFC 9438 §5 (segments/second³).
	CubicC = 0.4
	// CubicBeta is β_cubic, the multiplicative decrease factor (RFC 9438
	// §4.6: "The parameter β_cubic SHOULD be set to 0.7").
	CubicBeta = 0.7
	// CubicAlpha is α_cubic = 3(1-β_cubic)/(1+β_cubic) (RFC 9438 §4.3).
	CubicAlpha = 3 * (1 - CubicBeta) / (1 + CubicBeta)
)

// cubicState is what RFC 9438 §4.9 saves before a reduction and restores
// on Undo. Windows are in bytes; W_max = 0 means "undefined" (before the
// first congestion event and after a timeout, §4.8).
type cubicState struct {
	cwndPrior  float64
	wMax       float64
	k          float64 // seconds
	epochValid bool
	epochStart clock.Time
	cwndEpoch  float64
	wEst       float64
}

// Cubic is RFC 9438's congestion control. The window is a float64 count of
// bytes (Window rounds it down); RFC 9438's formulas, written in segments,
// are applied with SMSS factored in (§4.1). The zero value is not usable:
// use NewCubic.
type Cubic struct {
	mss, iwConfig int
	// hs is HyStart++'s state, nil unless Config.HyStart.
	hs       *hystart
	cwnd     float64
	ssthresh int
	st       cubicState
	// lastAck is the time of the last OnAck or OnIdle (haveLast once set):
	// the start of an application-limited or idle period.
	lastAck    clock.Time
	haveLast   bool
	inRTO      bool
	inRecovery bool
	undoValid  bool
	// rtoSlowStart is set by OnRTO until cwnd reaches ssthresh (RFC
	// 3465's L is 1 SMSS there); ssLimit is Config.SlowStartLimit and
	// fromWindow Config.ReduceFromWindow.
	rtoSlowStart bool
	fromWindow   bool
	ssLimit      int8
	// undo is saved by the last congestion event, made at the first one:
	// a connection that never saw one does not carry it.
	undo *cubicUndo
}

type cubicUndo struct {
	cwnd     float64
	ssthresh int
	st       cubicState
}

// NewCubic returns a CUBIC controller with cwnd at the initial window and
// ssthresh at NoThreshold.
func NewCubic(cfg Config) *Cubic {
	c := &Cubic{iwConfig: cfg.InitialWindow, ssthresh: NoThreshold,
		ssLimit: slowStartLimit(cfg.SlowStartLimit), fromWindow: cfg.ReduceFromWindow}
	if cfg.HyStart {
		c.hs = &hystart{paced: cfg.Paced}
	}
	c.SetMSS(cfg.MSS)
	return c
}

// Name returns "cubic".
func (c *Cubic) Name() string { return NameCubic }

// Window returns cwnd in bytes, rounded down.
func (c *Cubic) Window() int { return int(c.cwnd) }

// Threshold returns ssthresh in bytes.
func (c *Cubic) Threshold() int { return c.ssthresh }

// SetMSS sets SMSS (clamped to [1, MaxMSS]; 0 or less means 1460), sets cwnd
// to the initial window and forgets W_max, the epoch and the undo state.
func (c *Cubic) SetMSS(mss int) {
	c.mss = clampMSS(mss)
	c.cwnd = float64(initialWindow(c.iwConfig, c.mss))
	if c.ssthresh != NoThreshold {
		c.ssthresh = max(c.ssthresh, 2*c.mss)
	}
	c.st = cubicState{}
	c.undoValid, c.inRTO, c.inRecovery, c.rtoSlowStart = false, false, false, false
	if c.hs != nil {
		c.hs.reset(c.ssthresh == NoThreshold)
	}
}

// OnAck grows the window: Reno's slow start below ssthresh (RFC 9438 §4.10,
// RFC 5681 equation (2) with RFC 3465's limit L), then the larger of W_est and the cubic target
// (§4.2 - §4.5). An application-limited ACK does not grow it, and the time
// since the previous ACK is taken out of the epoch (§4.2, §5.8).
func (c *Cubic) OnAck(a Ack) {
	c.inRTO = false
	prev, hadPrev := c.lastAck, c.haveLast
	c.lastAck, c.haveLast = a.Now, true
	if a.AppLimited {
		if hadPrev {
			c.shiftEpoch(a.Now.Sub(prev))
		}
		return
	}
	acked := clampBytes(a.Acked)
	if acked == 0 {
		return
	}
	if c.cwnd < float64(c.ssthresh) {
		if c.hs != nil && c.hs.phase != hsOff && c.ssthresh == NoThreshold {
			inc, exit := c.hs.onAck(a, acked, c.mss)
			c.cwnd = math.Min(c.cwnd+inc, MaxWindow)
			if exit {
				// RFC 9406: "enter congestion avoidance by setting
				// the ssthresh to the current cwnd".
				c.ssthresh = max(int(c.cwnd), 2*c.mss)
			}
			return
		}
		w, rest := slowStart(int(c.cwnd), c.ssthresh, acked, a.unit(c.mss), c.ssLimit, c.rtoSlowStart)
		// int(c.cwnd) drops a fraction of a byte only after a
		// reduction, which slowStart's sum keeps.
		c.cwnd = math.Min(c.cwnd+float64(w-int(c.cwnd)), MaxWindow)
		if c.cwnd >= float64(c.ssthresh) {
			c.rtoSlowStart = false
		}
		if rest == 0 {
			return
		}
		acked = rest
	}
	if !c.st.epochValid {
		c.startEpoch(a.Now)
	}
	mss, b := float64(c.mss), float64(acked)
	// §4.3 Figure 4 in bytes: W_est += α_cubic * acked*SMSS/cwnd, with
	// α_cubic = 1 once W_est >= cwnd_prior.
	alpha := CubicAlpha
	if c.st.wEst >= c.st.cwndPrior {
		alpha = 1
	}
	c.st.wEst = math.Min(c.st.wEst+float64(alpha*b*mss)/c.cwnd, MaxWindow)

	rtt := a.SRTT
	if rtt <= 0 {
		rtt = a.RTT
	}
	t := max(a.Now.Sub(c.st.epochStart), 0)
	if rtt <= 0 || c.wCubic(t) < c.st.wEst {
		// Reno-friendly region (§4.3): cwnd = W_est, never lowered on
		// an ACK. Without an RTT there is no target.
		c.cwnd = math.Max(c.cwnd, c.st.wEst)
		return
	}
	// Concave and convex regions (§4.4, §4.5): target = W_cubic(t+RTT)
	// clamped to [cwnd, 1.5*cwnd]; cwnd += (target-cwnd)/cwnd per SMSS
	// acknowledged.
	target := math.Min(math.Max(c.wCubic(t+rtt), c.cwnd), 1.5*c.cwnd)
	c.cwnd = math.Min(c.cwnd+float64((target-c.cwnd)*b)/c.cwnd, MaxWindow)
}

// wCubic is RFC 9438 Figure 1 in bytes: C*SMSS*(t-K)³ + W_max.
func (c *Cubic) wCubic(t time.Duration) float64 {
	d := t.Seconds() - c.st.k
	return float64(CubicC*float64(c.mss)*d*d*d) + c.st.wMax
}

// startEpoch begins a congestion avoidance stage (the first ACK in
// congestion avoidance after an event, as Linux's bictcp_update).
func (c *Cubic) startEpoch(now clock.Time) {
	s := &c.st
	s.epochValid, s.epochStart = true, now
	s.cwndEpoch, s.wEst = c.cwnd, c.cwnd
	if s.wMax > c.cwnd {
		// §4.2 Figure 2: K = cbrt((W_max - cwnd_epoch)/C), in segments.
		s.k = math.Cbrt((s.wMax - c.cwnd) / float64(c.mss) / CubicC)
	} else {
		// §4.8 and §4.10: K = 0 and W_max = cwnd_epoch when W_max is
		// undefined (after a timeout) or already reached.
		s.k, s.wMax = 0, c.cwnd
	}
}

// shiftEpoch moves the epoch start later by d, so that t leaves out an
// application-limited or idle period (§4.2: "The elapsed time t in Figure 1
// MUST NOT include periods during which cwnd has not been updated due to
// application-limited behavior").
func (c *Cubic) shiftEpoch(d time.Duration) {
	if !c.st.epochValid || d <= 0 {
		return
	}
	c.st.epochStart = clock.Min(c.st.epochStart.Add(d), c.lastAck)
}

// OnCongestion applies fast convergence (§4.7) and the multiplicative
// decrease (§4.6): ssthresh = max(flight*β_cubic, 2*SMSS), cwnd = ssthresh.
func (c *Cubic) OnCongestion(now clock.Time, flight int) {
	c.save()
	c.reduce(flight)
	c.cwnd = float64(c.ssthresh)
	c.inRecovery, c.inRTO, c.rtoSlowStart = true, false, false
}

// reduce sets cwnd_prior, W_max (with fast convergence) and ssthresh.
func (c *Cubic) reduce(flight int) {
	if c.hs != nil {
		c.hs.phase = hsOff
	}
	s := &c.st
	s.cwndPrior = c.cwnd
	if c.cwnd < s.wMax {
		s.wMax = c.cwnd * (1 + CubicBeta) / 2
	} else {
		s.wMax = c.cwnd
	}
	s.epochValid = false
	// flight*0.7 in integers, exactly: flight <= MaxWindow. With
	// ReduceFromWindow cwnd stands for flight (§4.6 allows it, see
	// Config).
	if c.fromWindow {
		flight = int(c.cwnd)
	}
	c.ssthresh = max(int(int64(clampBytes(flight))*7/10), 2*c.mss)
}

// OnRecoveryEnd deflates the window by RFC 6582 §3.2 step 3 option (1),
// which RFC 9438 §4.2 leaves unchanged: cwnd = min(ssthresh, max(FlightSize,
// SMSS) + SMSS). It does nothing unless OnCongestion started the recovery.
func (c *Cubic) OnRecoveryEnd(now clock.Time, flight int) {
	if !c.inRecovery {
		return
	}
	c.inRecovery = false
	c.cwnd = float64(max(min(c.ssthresh, max(clampBytes(flight), c.mss)+c.mss), c.mss))
}

// OnRTO sets ssthresh with β_cubic and cwnd to 1 SMSS (§4.8); the next
// congestion avoidance stage starts with K = 0 and W_max = cwnd_epoch. A
// second timeout with no ACK in between holds ssthresh (RFC 5681 §3.1) and
// keeps the first one's undo state.
func (c *Cubic) OnRTO(now clock.Time, flight int) {
	if !c.inRTO {
		c.save()
		c.reduce(flight)
		c.st.wMax = 0
	}
	c.st.epochValid = false
	c.cwnd = float64(c.mss)
	c.inRTO, c.inRecovery, c.rtoSlowStart = true, false, true
}

// Undo restores cwnd, cwnd_prior, ssthresh, W_max, K, the epoch and W_est
// saved by the last OnCongestion or OnRTO if cwnd < cwnd_prior (§4.9.2);
// otherwise it keeps the current values ("CUBIC SHOULD continue to use the
// current and the most recent values of these variables").
func (c *Cubic) Undo(now clock.Time) {
	if !c.undoValid {
		return
	}
	c.undoValid, c.inRecovery, c.inRTO, c.rtoSlowStart = false, false, false, false
	if c.cwnd < c.st.cwndPrior {
		c.cwnd, c.ssthresh, c.st = c.undo.cwnd, c.undo.ssthresh, c.undo.st
	}
}

// OnIdle reduces cwnd to the restart window min(IW, cwnd) (RFC 5681 §4.1)
// and, as Linux's bictcp_cwnd_event, moves the epoch start by the time since
// the last ACK so that t leaves out the idle period (RFC 9438 §5.8).
func (c *Cubic) OnIdle(now clock.Time) {
	c.cwnd = math.Min(c.cwnd, float64(initialWindow(c.iwConfig, c.mss)))
	prev, hadPrev := c.lastAck, c.haveLast
	c.lastAck, c.haveLast = now, true
	if hadPrev {
		c.shiftEpoch(now.Sub(prev))
	}
}

func (c *Cubic) save() {
	if c.undo == nil {
		c.undo = new(cubicUndo)
	}
	c.undoValid = true
	c.undo.cwnd, c.undo.ssthresh, c.undo.st = c.cwnd, c.ssthresh, c.st
}
