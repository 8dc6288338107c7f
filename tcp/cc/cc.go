// Package cc holds synack's TCP congestion controllers behind one small
// interface: NewReno (RFC 5681, RFC 6582) and CUBIC (RFC 9438, the default).
//
// A Controller only decides the congestion window. Package tcp detects loss,
// runs loss recovery (RFC 6675 with SACK, or NewReno's partial-ACK rule
// without it) and tells the controller what happened; it never reads a
// clock: time is an argument. Each controller is constructible and testable
// alone with a fake clock.
package cc

import (
	"math"
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
	// avoidance).
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
	// cwnd is reduced to the restart window (RFC 5681 §4.1).
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
}

// Config configures a controller.
type Config struct {
	// MSS is the sender's maximum segment size; SetMSS may change it.
	// Default 1460.
	MSS int
	// InitialWindow is the initial congestion window in bytes; 0 means
	// RFC 6928's min(10*MSS, max(2*MSS, 14600)).
	InitialWindow int
}
