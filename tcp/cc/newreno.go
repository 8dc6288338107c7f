package cc

import "github.com/gosynack/synack/clock"

// NewReno is RFC 5681's congestion control with RFC 6582's end of recovery.
// The window is kept in bytes. The zero value is not usable: use NewNewReno.
type NewReno struct {
	mss, iwConfig int
	// hs is HyStart++'s state, nil unless Config.HyStart.
	hs       *hystart
	cwnd     int
	ssthresh int
	// bytesAcked counts bytes acknowledged in congestion avoidance
	// (RFC 5681 §3.1, RFC 3465).
	bytesAcked int
	// hsCarry is the fraction of a byte (in quarters) that CSS's
	// increases have not yet added to cwnd.
	hsCarry int
	// inRTO is set by OnRTO and cleared by OnAck: another OnRTO before
	// any ACK is a timeout of the same retransmission.
	inRTO bool
	// inRecovery is set by OnCongestion and cleared by OnRecoveryEnd and
	// OnRTO: only a recovery that OnCongestion started is deflated.
	inRecovery bool
	// rtoSlowStart is set by OnRTO until cwnd reaches ssthresh: the slow
	// start after a timeout, where RFC 3465's L is 1 SMSS.
	rtoSlowStart bool
	// ssLimit is Config.SlowStartLimit (RFC 3465's L in segments, -1 for
	// none).
	ssLimit int8
	// Saved by the last congestion event for Undo.
	undoValid              bool
	undoCwnd, undoSsthresh int
}

// NewNewReno returns a NewReno controller with cwnd at the initial window
// and ssthresh at NoThreshold.
func NewNewReno(cfg Config) *NewReno {
	r := &NewReno{iwConfig: cfg.InitialWindow, ssthresh: NoThreshold, ssLimit: slowStartLimit(cfg.SlowStartLimit)}
	if cfg.HyStart {
		r.hs = &hystart{paced: cfg.Paced}
	}
	r.SetMSS(cfg.MSS)
	return r
}

// Name returns "newreno".
func (r *NewReno) Name() string { return NameNewReno }

// Window returns cwnd in bytes.
func (r *NewReno) Window() int { return r.cwnd }

// Threshold returns ssthresh in bytes.
func (r *NewReno) Threshold() int { return r.ssthresh }

// SetMSS sets SMSS (clamped to [1, MaxMSS]; 0 or less means 1460), sets cwnd
// to the initial window and forgets the undo state.
func (r *NewReno) SetMSS(mss int) {
	r.mss = clampMSS(mss)
	r.cwnd = initialWindow(r.iwConfig, r.mss)
	if r.ssthresh != NoThreshold {
		r.ssthresh = max(r.ssthresh, 2*r.mss)
	}
	r.bytesAcked, r.inRTO, r.inRecovery, r.undoValid, r.rtoSlowStart = 0, false, false, false, false
	if r.hs != nil {
		r.hs.reset(r.ssthresh == NoThreshold)
	}
	r.hsCarry = 0
}

// OnAck grows the window: RFC 5681 equation (2) with RFC 3465's limit L in
// slow start, byte counting in congestion avoidance. An application-limited
// ACK does not grow it.
func (r *NewReno) OnAck(a Ack) {
	r.inRTO = false
	acked := clampBytes(a.Acked)
	if a.AppLimited || acked == 0 {
		return
	}
	if r.cwnd < r.ssthresh && r.hs != nil && r.hs.phase != hsOff && r.ssthresh == NoThreshold {
		inc, exit := r.hs.onAck(a, acked, r.mss)
		// CSS's quarter increases are carried in bytes*4 so that none is
		// lost to rounding.
		r.hsCarry += int(inc * HyStartCSSGrowthDivisor)
		r.cwnd = min(r.cwnd+r.hsCarry/HyStartCSSGrowthDivisor, MaxWindow)
		r.hsCarry %= HyStartCSSGrowthDivisor
		if exit {
			// RFC 9406: "enter congestion avoidance by setting the
			// ssthresh to the current cwnd".
			r.ssthresh = max(r.cwnd, 2*r.mss)
		}
		return
	}
	if r.cwnd < r.ssthresh {
		// RFC 5681 §3.1 (2), "cwnd += min (N, SMSS)", with RFC 3465
		// §2.2's L*SMSS for SMSS (L super-segments with segmentation
		// offload, slowStart).
		r.cwnd, acked = slowStart(r.cwnd, r.ssthresh, acked, a.unit(r.mss), r.ssLimit, r.rtoSlowStart)
		if r.cwnd >= r.ssthresh {
			r.rtoSlowStart = false
		}
		if acked == 0 {
			return
		}
	}
	// RFC 5681 §3.1: "When the number of bytes acknowledged reaches cwnd,
	// then cwnd can be incremented by up to SMSS bytes." RFC 3465 §2.1:
	// bytes_acked is then reduced by cwnd. At most one SMSS per ACK.
	r.bytesAcked += acked
	if r.bytesAcked >= r.cwnd {
		r.bytesAcked -= r.cwnd
		r.cwnd = min(r.cwnd+r.mss, MaxWindow)
		// Keep the count below one window so that a huge ACK cannot
		// buy growth in later RTTs.
		r.bytesAcked = min(r.bytesAcked, r.cwnd-1)
	}
}

// OnCongestion sets ssthresh by RFC 5681 equation (4) and cwnd = ssthresh
// (RFC 6675 §5 step (4.2); RFC 6582 §3.2 step 2 adds 3*SMSS of inflation,
// which package tcp does not use).
func (r *NewReno) OnCongestion(now clock.Time, flight int) {
	if r.hs != nil {
		r.hs.phase = hsOff
	}
	r.save()
	r.ssthresh = max(clampBytes(flight)/2, 2*r.mss)
	r.cwnd = r.ssthresh
	r.bytesAcked, r.inRTO, r.inRecovery, r.rtoSlowStart = 0, false, true, false
}

// OnRecoveryEnd deflates the window by RFC 6582 §3.2 step 3, option (1):
// cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS). It does nothing
// unless OnCongestion started the recovery (not after OnRTO: RFC 5681 has no
// deflation after a timeout, the window is already in slow start).
func (r *NewReno) OnRecoveryEnd(now clock.Time, flight int) {
	if !r.inRecovery {
		return
	}
	r.inRecovery = false
	r.cwnd = max(min(r.ssthresh, max(clampBytes(flight), r.mss)+r.mss), r.mss)
	r.bytesAcked = 0
}

// OnRTO sets ssthresh by RFC 5681 equation (4) and cwnd to the loss window
// (equation (5)). A second timeout with no ACK in between is a timeout of
// the same retransmitted segment: ssthresh is held constant (RFC 5681 §3.1)
// and the undo state of the first one is kept.
func (r *NewReno) OnRTO(now clock.Time, flight int) {
	if r.hs != nil {
		r.hs.phase = hsOff
	}
	if !r.inRTO {
		r.save()
		r.ssthresh = max(clampBytes(flight)/2, 2*r.mss)
	}
	r.cwnd = r.mss
	r.bytesAcked, r.inRTO, r.inRecovery, r.rtoSlowStart = 0, true, false, true
}

// Undo restores cwnd and ssthresh saved by the last OnCongestion or OnRTO,
// never lowering either (as Linux's tcp_undo_cwnd_reduction), and ends the
// recovery episode (a later OnRecoveryEnd does not deflate). It does nothing
// if there is no saved state or it was already undone.
func (r *NewReno) Undo(now clock.Time) {
	if !r.undoValid {
		return
	}
	r.undoValid = false
	r.cwnd = max(r.cwnd, r.undoCwnd)
	r.ssthresh = max(r.ssthresh, r.undoSsthresh)
	r.inRTO, r.inRecovery, r.rtoSlowStart = false, false, false
}

// OnIdle reduces cwnd to the restart window, min(IW, cwnd) (RFC 5681 §4.1).
func (r *NewReno) OnIdle(now clock.Time) {
	r.cwnd = min(r.cwnd, initialWindow(r.iwConfig, r.mss))
	r.bytesAcked = 0
}

func (r *NewReno) save() {
	r.undoValid = true
	r.undoCwnd, r.undoSsthresh = r.cwnd, r.ssthresh
}
