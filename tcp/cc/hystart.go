package cc

import (
	"math"
	"time"
)

// RFC 9406 §4.3's constants.
const (
	// HyStartMinRTTThresh is MIN_RTT_THRESH ("MIN_RTT_THRESH = 4 msec").
	HyStartMinRTTThresh = 4 * time.Millisecond
	// HyStartMaxRTTThresh is MAX_RTT_THRESH ("MAX_RTT_THRESH = 16 msec").
	HyStartMaxRTTThresh = 16 * time.Millisecond
	// HyStartMinRTTDivisor is MIN_RTT_DIVISOR ("MIN_RTT_DIVISOR = 8").
	HyStartMinRTTDivisor = 8
	// HyStartNRTTSample is N_RTT_SAMPLE ("N_RTT_SAMPLE = 8").
	HyStartNRTTSample = 8
	// HyStartCSSGrowthDivisor is CSS_GROWTH_DIVISOR ("CSS_GROWTH_DIVISOR
	// = 4").
	HyStartCSSGrowthDivisor = 4
	// HyStartCSSRounds is CSS_ROUNDS ("CSS_ROUNDS = 5").
	HyStartCSSRounds = 5
	// HyStartL is L for a sender that is not paced ("L = infinity if
	// paced, L = 8 if non-paced").
	HyStartL = 8
)

// infRTT is RFC 9406's "infinity" for the round minimums.
const infRTT = time.Duration(math.MaxInt64)

// HyStart++ phases.
const (
	// hsOff: HyStart++ is not in use (disabled, or the first slow start
	// has ended: RFC 9406, "An implementation SHOULD use HyStart++
	// only for the initial slow start").
	hsOff uint8 = iota
	// hsSS: standard slow start with the delay-increase check.
	hsSS
	// hsCSS: Conservative Slow Start.
	hsCSS
)

// hystart is RFC 9406's state for one connection's initial slow start.
// Rounds are counted with sequence numbers (windowEnd), handed in by the
// ACK as 32-bit values compared modulo 2^32.
type hystart struct {
	phase uint8
	// paced sets L to infinity.
	paced bool
	// started is set once windowEnd holds the first round's end.
	started            bool
	windowEnd          uint32
	lastRoundMinRTT    time.Duration
	currentRoundMinRTT time.Duration
	rttSampleCount     int
	cssBaselineMinRTT  time.Duration
	// cssRounds counts the rounds spent in CSS, the partial round of the
	// transition included.
	cssRounds int
}

// reset starts the initial slow start again (a new connection, SetMSS).
func (h *hystart) reset(enabled bool) {
	*h = hystart{paced: h.paced, lastRoundMinRTT: infRTT, currentRoundMinRTT: infRTT, cssBaselineMinRTT: infRTT}
	if enabled {
		h.phase = hsSS
	}
}

// seqGE is a >= b modulo 2^32 (RFC 9293 §3.4's comparison).
func seqGE(a, b uint32) bool { return int32(a-b) >= 0 }

// onAck runs RFC 9406 §4.2 for one ACK in slow start that acknowledged
// acked new bytes, and returns the window increase in bytes and whether
// slow start ends (CSS_ROUNDS rounds of CSS completed: the caller sets
// ssthresh = cwnd).
func (h *hystart) onAck(a Ack, acked, mss int) (inc float64, exit bool) {
	// "windowEnd: A sequence number [...] used to mark the end of the
	// current round": "When windowEnd is ACKed, the current round ends
	// and windowEnd is set to SND.NXT."
	if !h.started || seqGE(a.SndUna, h.windowEnd) {
		newRound := h.started
		h.started, h.windowEnd = true, a.SndNxt
		// "At the start of each round during standard slow start
		// [RFC5681] and CSS, initialize the variables used to compute the
		// last round's and current round's minimum RTT":
		h.lastRoundMinRTT = h.currentRoundMinRTT
		h.currentRoundMinRTT = infRTT
		h.rttSampleCount = 0
		if newRound && h.phase == hsCSS {
			// "If CSS_ROUNDS rounds are complete, enter congestion
			// avoidance by setting the ssthresh to the current cwnd."
			if h.cssRounds >= HyStartCSSRounds {
				h.phase = hsOff
				return 0, true
			}
			h.cssRounds++
		}
	}
	// "cwnd = cwnd + min(N, L * SMSS)" in slow start; in CSS "cwnd = cwnd
	// + (min(N, L * SMSS) / CSS_GROWTH_DIVISOR)".
	n := acked
	if !h.paced {
		n = min(n, HyStartL*a.unit(mss)) // super-segments with offload, as slowStart
	}
	inc = float64(n)
	if h.phase == hsCSS {
		inc /= HyStartCSSGrowthDivisor
	}
	// "Keep track of the minimum observed RTT: currentRoundMinRTT =
	// min(currentRoundMinRTT, currRTT); rttSampleCount += 1"
	if a.RTT > 0 {
		h.currentRoundMinRTT = min(h.currentRoundMinRTT, a.RTT)
		h.rttSampleCount++
	}
	if h.rttSampleCount < HyStartNRTTSample {
		return inc, false
	}
	switch h.phase {
	case hsSS:
		// "if ((rttSampleCount >= N_RTT_SAMPLE) AND (currentRoundMinRTT
		// != infinity) AND (lastRoundMinRTT != infinity)) RttThresh =
		// max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR,
		// MAX_RTT_THRESH)) if (currentRoundMinRTT >= (lastRoundMinRTT +
		// RttThresh)) cssBaselineMinRtt = currentRoundMinRTT exit slow
		// start and enter CSS"
		if h.currentRoundMinRTT == infRTT || h.lastRoundMinRTT == infRTT {
			return inc, false
		}
		thresh := max(HyStartMinRTTThresh, min(h.lastRoundMinRTT/HyStartMinRTTDivisor, HyStartMaxRTTThresh))
		if h.currentRoundMinRTT >= h.lastRoundMinRTT+thresh {
			h.cssBaselineMinRTT = h.currentRoundMinRTT
			h.phase = hsCSS
			// "If the transition into CSS happens in the middle of a
			// round, that partial round counts towards the limit."
			h.cssRounds = 1
		}
	case hsCSS:
		// "if (currentRoundMinRTT < cssBaselineMinRtt) cssBaselineMinRtt
		// = infinity resume slow start including HyStart++"
		if h.currentRoundMinRTT < h.cssBaselineMinRTT {
			h.cssBaselineMinRTT = infRTT
			h.phase = hsSS
			h.cssRounds = 0
		}
	}
	return inc, false
}
