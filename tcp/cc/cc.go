// Package cc holds synack's TCP congestion controllers behind one small
// interface: NewReno (RFC 5681, RFC 6582) and CUBIC (RFC 9438, the default).
//
// A Controller only decides the congestion window. Package tcp detects loss,
// runs loss recovery (RFC 6675 with SACK, or NewReno's partial-ACK rule
// without it) and tells the controller what happened; it never reads a
// clock: time is an argument. Each controller is constructible and testable
// alone with a fake clock.
//
// # Units and limits
//
// Windows are in bytes. Byte counts handed in (Acked, flight) are clamped to
// [0, MaxWindow] and SMSS to [1, MaxMSS] (0 or less means DefaultMSS), so
// no input overflows an int, even a 32-bit one; cwnd never exceeds
// MaxWindow and never falls below 1 SMSS, and ssthresh never falls below
// 2*SMSS. The initial window is Config.InitialWindow (at least 1 SMSS) or
// RFC 6928's min(10*MSS, max(2*MSS, 14600)).
//
// # NewReno
//
// Slow start while cwnd < ssthresh, cwnd += min(acked, L*SMSS) per ACK (RFC
// 5681 equation (2) with RFC 3465's Appropriate Byte Counting limit L:
// Config.SlowStartLimit, 2 by default, 1 in the slow start after a
// timeout, or no limit as Linux; with segmentation offload L counts the
// sender's super-segments, Ack.Unit, instead of SMSS); congestion avoidance by byte counting (RFC 5681 §3.1,
// RFC 3465): once the bytes acknowledged reach cwnd, cwnd += SMSS and the
// count drops by cwnd. At most one SMSS per ACK, and the carried count is
// kept below one window (our addition, so one huge ACK cannot buy growth in
// later rounds). On congestion ssthresh = max(flight/2, 2*SMSS) and cwnd =
// ssthresh (RFC 6675 §5; no RFC 6582 inflation by 3*SMSS, tcp counts the
// pipe itself); at the end of recovery cwnd = min(ssthresh, max(flight,
// SMSS) + SMSS) (RFC 6582 §3.2 step 3, option (1)). After a timeout cwnd =
// 1 SMSS; a second timeout with no ACK in between holds ssthresh (RFC 5681
// §3.1). Undo restores cwnd and ssthresh without lowering either, as Linux.
// After idle cwnd = min(IW, cwnd) (RFC 5681 §4.1).
//
// # CUBIC
//
// RFC 9438 with C = 0.4, β_cubic = 0.7 and α_cubic = 3(1-β)/(1+β) ≈ 0.529,
// set to 1 once W_est >= cwnd_prior (§4.3). The window is a float64 number
// of bytes (Window rounds down, so it need not be a multiple of SMSS); the
// RFC's segment formulas are applied with SMSS factored in (§4.1). Floats
// make the code a transcription of the RFC; every product is rounded
// explicitly (no fused multiply-add), so the results are deterministic and,
// math.Cbrt being pure Go except on s390x, the same on every platform. ssthresh = max(floor(flight*7/10), 2*SMSS) is
// computed in integers (from cwnd instead of flight with
// Config.ReduceFromWindow, which §4.6 allows). Choices and deviations:
//
//   - Slow start is Reno's (RFC 5681), which §4.10 allows ("MAY use the
//     Reno TCP slow start algorithm"), or with Config.HyStart HyStart++
//     (RFC 9406, see below).
//   - Fast convergence (§4.7) is always on, as in Linux; the RFC says it
//     SHOULD be off for a single flow alone on a path.
//   - The congestion avoidance epoch (t_epoch, cwnd_epoch, K, W_est) starts
//     at the first ACK in congestion avoidance after an event, as Linux's
//     bictcp_update, not at the event.
//   - On each ACK W_est is updated first (with α chosen from the W_est
//     before the update), then compared with W_cubic(t). In the
//     Reno-friendly region cwnd = max(cwnd, W_est): an ACK never lowers
//     cwnd.
//   - RTT is Ack.SRTT, or Ack.RTT when SRTT is 0; with neither there is no
//     target and the window follows W_est.
//   - An application-limited ACK does not grow the window, and the time
//     since the previous ACK is taken out of t (the epoch moves later),
//     which is how §4.2's "t MUST NOT include periods during which cwnd has
//     not been updated due to application-limited behavior" is met. After
//     OnIdle the epoch moves by the time since the last ACK (as Linux on
//     CA_EVENT_TX_START) and cwnd = min(IW, cwnd).
//   - After a timeout W_max is undefined, so the next epoch has K = 0 and
//     W_max = cwnd_epoch (§4.8). A second timeout with no ACK in between
//     holds ssthresh.
//   - The end of recovery deflates cwnd as NewReno (RFC 6582 option (1)),
//     which §4.2 leaves unchanged.
//   - Undo (§4.9) restores cwnd, cwnd_prior, ssthresh, W_max, K, the epoch
//     and W_est if cwnd < cwnd_prior, and otherwise keeps the current ones.
//   - There is no ECN-Echo response and no PRR (RFC 6937); tcp owns the
//     sending rate during recovery.
//
// # HyStart++
//
// With Config.HyStart both controllers run RFC 9406 in the initial slow
// start (ssthresh still NoThreshold): rounds end when SND.UNA reaches
// windowEnd (Ack.SndUna, Ack.SndNxt); the minimum RTT of each round is
// taken from Ack.RTT; once a round has N_RTT_SAMPLE (8) samples and its
// minimum exceeds the last round's by max(4 ms, min(last/8, 16 ms)), the
// window grows by a quarter (Conservative Slow Start) for at most
// CSS_ROUNDS (5) rounds, then ssthresh = cwnd and congestion avoidance
// begins; a round in CSS whose minimum falls below the RTT that started it
// goes back to slow start. In both, an ACK adds min(N, L*SMSS) (SMSS the
// super-segment with segmentation offload, Ack.Unit), L = 8, or
// unlimited when Config.Paced. A loss or timeout ends HyStart++ for the
// connection (RFC 9406: "SHOULD use HyStart++ only for the initial slow
// start"). Without Config.HyStart slow start is RFC 5681's with RFC 3465's
// limit, min(N, L*SMSS).
package cc

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gosynack/synack/clock"
)

// NoThreshold is the slow-start threshold before the first congestion event
// (RFC 5681 §3.1: "The initial value of ssthresh SHOULD be set arbitrarily
// high").
const NoThreshold = math.MaxInt32

// Controller is one connection's congestion controller. Sizes are in bytes.
type Controller interface {
	// Name is the controller's name ("newreno", "cubic").
	Name() string
	// Window is the congestion window, cwnd.
	Window() int
	// Threshold is the slow-start threshold, ssthresh (NoThreshold until
	// the first congestion event).
	Threshold() int
	// SetMSS tells the controller the sender's maximum segment size (the
	// SMSS of RFC 5681). tcp calls it once the handshake has set the MSS,
	// before the first OnAck; it resets the window to the initial window.
	SetMSS(mss int)
	// OnAck reports an ACK that acknowledged new data outside loss
	// recovery. The controller grows the window (slow start or congestion
	// avoidance). ACKs after OnRTO are reported too: they slow-start the
	// window from 1 SMSS, and tell the controller that a later OnRTO is a
	// new event.
	OnAck(a Ack)
	// OnCongestion reports loss detected by duplicate ACKs, SACK or RACK:
	// the start of a recovery episode (called once per episode). The
	// controller sets ssthresh and cwnd (RFC 5681 equation (4), RFC 9438
	// §4.6); flight is the data in flight when the loss was detected.
	OnCongestion(now clock.Time, flight int)
	// OnRecoveryEnd reports that recovery ended: SND.UNA passed the
	// recovery point. flight is the data in flight after the ACK that ended
	// it.
	OnRecoveryEnd(now clock.Time, flight int)
	// OnRTO reports a retransmission timeout: ssthresh = max(flight/2,
	// 2*SMSS) and cwnd = 1 SMSS (RFC 5681 equations (4) and (5); RFC 9438
	// §4.8).
	OnRTO(now clock.Time, flight int)
	// Undo reports that the last congestion event (OnCongestion or OnRTO)
	// was spurious (detected by D-SACK or timestamps, RFC 3708, RFC 4015):
	// the controller restores the window and threshold it had before it
	// (RFC 9438 §4.9).
	Undo(now clock.Time)
	// OnIdle reports that the sender was idle for longer than an RTO:
	// cwnd is reduced to the restart window (RFC 5681 §4.1). now is when
	// sending resumes; CUBIC takes the idle period to have started at the
	// last OnAck.
	OnIdle(now clock.Time)
}

// Ack describes one acknowledgment for OnAck.
type Ack struct {
	Now clock.Time
	// Acked is the number of bytes newly acknowledged, cumulatively or by
	// SACK.
	Acked int
	// Flight is the data in flight before this ACK.
	Flight int
	// RTT is the RTT sample this ACK gave, 0 if none; SRTT and MinRTT are
	// the connection's smoothed and minimum RTT (0 before the first
	// sample).
	RTT, SRTT, MinRTT time.Duration
	// AppLimited is set when the sender did not use the whole window
	// during the last RTT: the window must not grow (RFC 7661; RFC 9438
	// §4.2's note on application-limited flows).
	AppLimited bool
	// SndUna and SndNxt are SND.UNA and SND.NXT after this ACK (modulo
	// 2^32): HyStart++ counts its rounds with them (RFC 9406 windowEnd).
	SndUna, SndNxt uint32
	// Unit is the most data the sender hands the link in one segment:
	// SMSS (0 means SMSS), or with segmentation offload a super-segment
	// of whole SMSS-sized pieces, which the peer takes whole (GRO) and
	// acknowledges as one segment. Slow start's limit L (RFC 3465 §2.2,
	// RFC 9406's L) counts these units: see slowStart.
	Unit int
}

// Config configures a controller.
type Config struct {
	// MSS is the sender's maximum segment size; SetMSS may change it.
	// Default 1460.
	MSS int
	// InitialWindow is the initial congestion window in bytes; 0 means
	// RFC 6928's min(10*MSS, max(2*MSS, 14600)).
	InitialWindow int
	// HyStart turns on HyStart++ (RFC 9406) in the initial slow start.
	HyStart bool
	// Paced says the sender paces its segments: HyStart++'s L is then
	// infinity, not 8 (RFC 9406 §4.3).
	Paced bool
	// SlowStartLimit is L of RFC 3465 (Appropriate Byte Counting) in
	// segments: in slow start an ACK grows cwnd by min(acked, L*SMSS).
	// 0 means 2, RFC 3465 §2.2's limit ("MUST NOT use L > 2*SMSS
	// bytes"), so that an ACK covering two segments (a delayed or stretch
	// ACK, RFC 5681 §4.2) buys both; in the slow start that follows a
	// timeout L is 1 SMSS (RFC 3465 §2.3: an ACK there may cover segments
	// that left the network long ago). Negative: no limit, as Linux's
	// tcp_slow_start, which counts every segment acknowledged, stops at
	// ssthresh and hands the rest of the ACK to congestion avoidance. At
	// most 127.
	SlowStartLimit int
	// ReduceFromWindow makes CUBIC compute ssthresh from cwnd instead of
	// the flight size on a congestion event (RFC 9438 §4.6: "Some
	// implementations of CUBIC currently use _cwnd_ instead of
	// _flight_size_ when calculating a new _ssthresh_. Implementations
	// that use _cwnd_ MUST use other measures to prevent _cwnd_ from
	// growing when the volume of bytes in flight is smaller than
	// _cwnd_."), as Linux's bictcp_recalc_ssthresh. synack's measure is
	// Ack.AppLimited (RFC 7661): an application-limited ACK never grows
	// cwnd. NewReno ignores it (RFC 5681 equation (4) is FlightSize/2).
	ReduceFromWindow bool
}

// Names of the controllers.
const (
	NameNewReno = "newreno"
	NameCubic   = "cubic"
	// Default is the controller New builds for an empty name.
	Default = NameCubic
)

// Limits on the inputs, so that no sum of two windows overflows an int,
// even a 32-bit one.
const (
	// MaxWindow bounds cwnd and every byte count a controller is given:
	// 2^30, above the largest window TCP can advertise (65535 << 14).
	MaxWindow = 1 << 30
	// MaxMSS bounds SMSS.
	MaxMSS = 65535
	// DefaultMSS is the SMSS used when Config.MSS or SetMSS's argument is 0
	// or less.
	DefaultMSS = 1460
)

// Names returns the names New accepts, sorted.
func Names() []string { return []string{NameCubic, NameNewReno} }

// New returns the controller called name ("" means Default).
func New(name string, cfg Config) (Controller, error) {
	switch name {
	case NameCubic, "":
		return NewCubic(cfg), nil
	case NameNewReno:
		return NewNewReno(cfg), nil
	}
	return nil, fmt.Errorf("cc: unknown congestion controller %q (valid: %s)", name, strings.Join(Names(), ", "))
}

func clampMSS(mss int) int {
	if mss <= 0 {
		return DefaultMSS
	}
	return min(mss, MaxMSS)
}

// slowStartLimit is Config.SlowStartLimit as stored: segments, -1 for no
// limit.
func slowStartLimit(l int) int8 {
	switch {
	case l == 0:
		return 2
	case l < 0:
		return -1
	}
	return int8(min(l, 127))
}

// slowStart is one ACK's slow start (RFC 5681 §3.1 equation (2) with RFC
// 3465's L): it returns the new cwnd and the bytes of the ACK left for
// congestion avoidance. With a limit (limit > 0; 1 after a timeout),
// cwnd += min(acked, L*unit) and nothing is left; without one (limit < 0,
// Linux's tcp_slow_start), cwnd = min(cwnd+acked, ssthresh) and the rest
// of acked is left.
//
// unit is SMSS, or with segmentation offload the super-segment (Ack.Unit):
// RFC 3465 §2.2 says "MUST NOT use L > 2*SMSS bytes" so that a stretch
// ACK does not buy a burst larger than two segments at line rate; a sender
// with segmentation offload already hands the link one super-segment at a
// time, which the peer takes whole (GRO) and acknowledges as one segment,
// so L counts super-segments there. Counted in SMSS, an ACK of the many
// MSS-sized pieces of a burst of super-segments grew cwnd by two pieces:
// slow start at MTU 1500 took hundreds of round trips to reach a 4 MiB
// window that it reaches in a few with 64 KiB segments. This deviates from
// RFC 3465 as far as the link's own bursts go; Linux's tcp_slow_start
// goes further (no limit at all).
func slowStart(cwnd, ssthresh, acked, unit int, limit int8, afterRTO bool) (int, int) {
	if limit > 0 {
		l := int(limit)
		if afterRTO {
			l = 1
		}
		return min(cwnd+min(acked, l*unit), MaxWindow), 0
	}
	n := min(cwnd+acked, ssthresh, MaxWindow)
	return n, acked - (n - cwnd)
}

// unit is the ACK's Unit, at least SMSS and at most MaxWindow.
func (a *Ack) unit(mss int) int { return min(max(a.Unit, mss), MaxWindow) }

func clampBytes(n int) int { return min(max(n, 0), MaxWindow) }

// initialWindow is the configured initial window (at least 1 SMSS) or RFC
// 6928's min(10*MSS, max(2*MSS, 14600)).
func initialWindow(configured, mss int) int {
	if configured > 0 {
		return max(min(configured, MaxWindow), mss)
	}
	return min(10*mss, max(2*mss, 14600))
}
