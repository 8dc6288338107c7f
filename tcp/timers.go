package tcp

import (
	"math"
	"strconv"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp/cc"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// NextDeadline returns when HandleTimeout must next be called, or
// clock.Never.
func (c *Conn) NextDeadline() clock.Time { return c.timers.earliest() }

// earliest is the first deadline of the running timers, or clock.Never.
func (t *timers) earliest() clock.Time {
	d := clock.Min(t.rtoAt, clock.Min(t.timeWaitAt, t.persistAt))
	d = clock.Min(d, clock.Min(t.delackAt, t.reoAt))
	return clock.Min(clock.Min(d, t.paceAt), clock.Min(t.tlpAt, t.keepAt))
}

func (c *Conn) startTimer(now clock.Time, t *clock.Time, d time.Duration, name string) {
	*t = now.Add(d)
	if c.pol.cfg.Recorder != nil {
		c.record(&trace.Event{At: now, Kind: trace.TimerSet, Timer: name, Deadline: *t})
	}
}

func (c *Conn) stopTimer(now clock.Time, t *clock.Time, name string) {
	if *t == clock.Never {
		return
	}
	*t = clock.Never
	if c.pol.cfg.Recorder != nil {
		c.record(&trace.Event{At: now, Kind: trace.TimerStop, Timer: name})
	}
}

func (c *Conn) fired(now clock.Time, t *clock.Time, name string) bool {
	if *t > now {
		return false
	}
	*t = clock.Never
	if c.pol.cfg.Recorder != nil {
		c.record(&trace.Event{At: now, Kind: trace.TimerFired, Timer: name})
	}
	return true
}

// HandleTimeout runs every timer whose deadline is at or before now.
func (c *Conn) HandleTimeout(now clock.Time) {
	c.paceExpired(now)
	if c.state == FinWait2 && c.fired(now, &c.timeWaitAt, "fin-wait-2") {
		c.close(now, nil, "orphan in FIN-WAIT-2 for FinTimeout (orphan.go)")
		return
	}
	if c.fired(now, &c.timeWaitAt, "time-wait") {
		// RFC 9293 §3.10.8: "If the time-wait timeout expires on a
		// connection, delete the TCB, enter the CLOSED state, and return."
		c.close(now, nil, "2·MSL elapsed")
		return
	}
	if c.fired(now, &c.delackAt, "delayed-ack") {
		// The delayed ACK is due (RFC 9293 §3.8.6.3).
		c.ackNow = true
		c.stats.DelayedACKs++
	}
	if c.fired(now, &c.reoAt, "reorder") {
		// RFC 8985 §6.3: "RACK_detect_loss_and_arm_timer()" when the
		// reordering timer expires.
		lost, wait := c.rackDetectLoss(now)
		if wait > 0 {
			c.startTimer(now, &c.reoAt, wait, "reorder")
		}
		if lost && !c.probeLost(now) {
			c.enterRecovery(now, int(c.sndNxt.Size(c.sndUna)), "RACK reordering timer")
		}
	}
	if c.fired(now, &c.tlpAt, "tlp") {
		c.onTLP(now)
	}
	if c.fired(now, &c.rtoAt, "retransmit") {
		c.onRTO(now)
	}
	if c.fired(now, &c.persistAt, "persist") {
		c.onPersist(now)
	}
	if c.fired(now, &c.keepAt, "keepalive") {
		c.onKeepAlive(now)
	}
}

// onRTO handles the expiry of the retransmission timer (RFC 6298 §5).
func (c *Conn) onRTO(now clock.Time) {
	if c.state == Closed || c.sndUna == c.sndNxt {
		return
	}
	if c.retries < math.MaxInt16 { // with a user timeout, the count has no limit
		c.retries++
	}
	limit := c.pol.cfg.DataRetries
	switch c.state {
	case SynSent:
		limit = c.pol.cfg.SynRetries
	case SynReceived:
		limit = c.pol.cfg.SynAckRetries
	}
	limit = c.orphanRetryLimit(limit)
	if c.pol.cfg.UserTimeout > 0 && c.state.Synchronized() {
		// RFC 5482 / RFC 9293 §3.8.3: "if data is not successfully
		// delivered to the destination within the timeout period, the TCP
		// endpoint will abort the connection". The user timeout replaces
		// the retry count.
		if q := c.txq(); len(q) > 0 && now.Sub(q[0].firstSent) >= c.pol.cfg.UserTimeout {
			c.note(now, "user timeout: data unacknowledged for "+c.pol.cfg.UserTimeout.String())
			c.close(now, ErrTimeout, "user timeout")
			return
		}
		limit = int(^uint(0) >> 1)
	}
	if int(c.retries) > limit {
		c.note(now, "gave up after "+strconv.Itoa(limit)+" retransmissions")
		if c.state == SynReceived && c.passive {
			// A half-open connection that never completed is freed
			// silently; the user never saw it.
			c.backToListen(now, "SYN-ACK unacknowledged")
			return
		}
		c.close(now, ErrTimeout, "retransmissions exhausted")
		return
	}
	// RFC 6298 (5.5): "The host MUST set RTO <- RTO * 2 ("back off the
	// timer")." (5.4): "Retransmit the earliest segment that has not been
	// acknowledged".
	c.rto = min(c.rto*2, c.pol.cfg.MaxRTO)
	c.rttTiming = false
	if c.state == SynSent || c.state == SynReceived {
		c.synRetransmitted = true
		c.synSent = false
		return
	}
	c.stats.Timeouts++
	c.blackHole(now) // plpmtud.go
	c.onRTOLoss(now)
	// A probe among what the timeout deems lost is re-cut (plpmtud.go);
	// the timeout's response stands, and its retransmissions wait for the
	// window as after any timeout.
	c.probeLost(now)
	c.fastRexmitDue = false
	// The timer restarts when the retransmission is sent (5.1).
}

// rtoDelay is the retransmission timer's duration: the RTO, cut short so
// that the timer fires when the user timeout expires (as Linux clamps it).
func (c *Conn) rtoDelay(now clock.Time) time.Duration {
	d := c.rto
	if c.pol.cfg.UserTimeout > 0 && c.state.Synchronized() {
		if q := c.txq(); len(q) > 0 {
			left := q[0].firstSent.Add(c.pol.cfg.UserTimeout).Sub(now)
			d = min(d, max(left, time.Millisecond))
		}
	}
	return d
}

// armKeepAlive (re)starts the keepalive timer (RFC 9293 §3.8.4) in the
// states that have a connection to keep, or stops it when keepalive is
// off. It fires KeepAliveIdle after the last segment received; activity in
// between only moves the deadline when it fires.
func (c *Conn) armKeepAlive(now clock.Time) {
	if c.pol.cfg.KeepAliveIdle <= 0 || !c.state.Synchronized() || c.state >= Closing {
		c.stopTimer(now, &c.keepAt, "keepalive")
		return
	}
	at := c.lastRecvAt.Add(c.pol.cfg.KeepAliveIdle)
	if c.keepProbes > 0 {
		at = now.Add(c.pol.cfg.KeepAliveInterval)
	}
	c.startTimer(now, &c.keepAt, max(at.Sub(now), 0), "keepalive")
}

// onKeepAlive sends a keepalive probe when the connection has been idle
// (RFC 9293 §3.8.4: "Keep-alive packets MUST only be sent when no sent data
// is outstanding, and no data or acknowledgment packets have been received
// for the connection within an interval"), or gives up after
// KeepAliveCount unanswered probes.
func (c *Conn) onKeepAlive(now clock.Time) {
	if c.pol.cfg.KeepAliveIdle <= 0 || c.state == Closed {
		return
	}
	idleUntil := c.lastRecvAt.Add(c.pol.cfg.KeepAliveIdle)
	if c.keepProbes == 0 && now < idleUntil {
		c.startTimer(now, &c.keepAt, idleUntil.Sub(now), "keepalive")
		return
	}
	if c.sndUna != c.sndNxt || c.queuedUnsent() > 0 {
		// Data outstanding: the retransmission timer watches the peer.
		c.keepProbes = 0
		c.startTimer(now, &c.keepAt, c.pol.cfg.KeepAliveIdle, "keepalive")
		return
	}
	if int(c.keepProbes) >= c.pol.cfg.KeepAliveCount {
		c.note(now, "keepalive: "+strconv.Itoa(int(c.keepProbes))+" probes unanswered")
		// With KeepAliveReset the peer, which may be there after all
		// (its answers lost), is told, with the reset an abort sends
		// (RFC 9293 §3.10.5: "<SEQ=SND.NXT><CTL=RST>", with the ACK and,
		// when in use, the Timestamps option as Abort sends them), as
		// Linux (tcp_keepalive_timer) and the BSDs (tcp_drop) do; RFC
		// 1122 §4.2.3.6 leaves how the connection is dropped to the
		// stack.
		if c.pol.cfg.KeepAliveReset {
			c.queueRST(wire.Segment{Seq: c.sndNxt, Ack: c.rcvNxt, Flags: wire.RST | wire.ACK})
			c.rstTS = c.tsOK
		}
		c.close(now, ErrTimeout, "keepalive timeout")
		return
	}
	c.keepProbes++
	c.stats.KeepAlives++
	c.probeDue = true
	c.startTimer(now, &c.keepAt, c.pol.cfg.KeepAliveInterval, "keepalive")
}

// onPersist sends a zero-window probe (RFC 9293 §3.8.6.1) and backs off.
// The probe is an ACK with an old sequence number (SND.UNA-1), which the
// receiver must answer with its current window; it consumes no sequence
// space, so the probe never needs to be retransmitted itself.
func (c *Conn) onPersist(now clock.Time) {
	if c.state == Closed || c.sndWnd != 0 {
		c.persistBackoff = 0
		return
	}
	if c.orphanProbesDone(now) {
		return
	}
	c.probeDue = true
	c.persistBackoff++
	c.startTimer(now, &c.persistAt, c.persistDelay(), "persist")
}

func (c *Conn) persistDelay() time.Duration {
	d := c.rto
	for i := 0; i < int(c.persistBackoff) && d < c.pol.cfg.MaxRTO; i++ {
		d *= 2
	}
	return min(d, c.pol.cfg.MaxRTO)
}

// sampleRTT folds one measurement into SRTT and RTTVAR (RFC 6298 §2).
func (c *Conn) sampleRTT(now clock.Time, r time.Duration) {
	if !c.hasRTT {
		// (2.2) "SRTT <- R, RTTVAR <- R/2"
		c.srtt, c.rttvar, c.hasRTT = r, r/2, true
	} else {
		// (2.3) "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|,
		// SRTT <- (1 - alpha) * SRTT + alpha * R'" with alpha=1/8, beta=1/4.
		d := c.srtt - r
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + r) / 8
	}
	// "RTO <- SRTT + max (G, K*RTTVAR)" with K=4. MinRTO floors the
	// variance term, not the sum (as Linux floors its mdev at rto_min): on
	// a steady path RTTVAR decays towards zero, and an RTO of barely one
	// RTT would fire during every SACK recovery on paths slower than
	// MinRTO. For RTTs below MinRTO this is still within RFC 6298's bounds
	// (the RFC's own floor is 1 s, (2.4)); above it, it is more
	// conservative than the RFC's formula.
	c.rto = min(c.srtt+max(4*c.rttvar, c.pol.cfg.MinRTO), c.pol.cfg.MaxRTO)
	if c.minRTT == 0 || r < c.minRTT {
		c.minRTT = r
	}
	c.tlpNoSample = false
	if c.pol.cfg.Recorder != nil {
		// A Metrics event carries the new SRTT and RTO, as for every other
		// change of them. The handshake's sample comes before the
		// congestion controller exists: its values appear in the
		// "established" event that follows at the same instant.
		what := "rtt " + r.String() + " srtt " + c.srtt.String() + " rto " + c.rto.String()
		if c.cc != nil {
			c.metrics(now, what)
		} else {
			c.note(now, what)
		}
	}
}

// ackedUpTo processes the cumulative acknowledgment of everything before
// ack: the SYN, then segments of the retransmission queue; frees buffered
// data, takes an RTT sample and manages the retransmission timer.
func (c *Conn) ackedUpTo(now clock.Time, ack seq.Value, r *ackResult) {
	if c.sndUna == c.iss {
		// Our SYN is acknowledged.
		c.sndUna = c.iss.Add(1)
		if c.rttTiming && ack.GreaterThanEq(c.rttSeq) {
			c.rttTiming = false
			c.sampleRTT(now, now.Sub(c.rttStart))
		}
	}
	if ack.GreaterThan(c.sndUna) {
		c.takeCumulative(now, ack, r)
		if r.rtt == 0 && r.tsRTT > 0 {
			r.rtt = r.tsRTT
		}
		if r.rtt > 0 {
			c.sampleRTT(now, r.rtt)
			r.sampled = true
		}
		c.sndUna = ack
		c.probeAcked(now) // plpmtud.go
		if ack.GreaterThan(c.sndBufSeq) {
			n := min(int(ack.Size(c.sndBufSeq)), c.sndLen())
			c.consumeSnd(n)
			c.sndBufSeq = c.sndBufSeq.Add(seq.Size(n))
		}
	}
	c.retries = 0
	// RFC 6298 (5.2) "When all outstanding data has been acknowledged, turn
	// off the retransmission timer." (5.3) "When an ACK is received that
	// acknowledges new data, restart the retransmission timer".
	if c.sndUna == c.sndNxt {
		c.stopTimer(now, &c.rtoAt, "retransmit")
	} else {
		c.startTimer(now, &c.rtoAt, c.rtoDelay(now), "retransmit")
	}
}

// isDupAck is RFC 5681 §2's DUPLICATE ACKNOWLEDGMENT: "(a) the receiver of
// the ACK has outstanding data, (b) the incoming acknowledgment carries no
// data, (c) the SYN and FIN bits are both off, (d) the acknowledgment
// number is equal to the greatest acknowledgment received on the given
// connection (TCP.UNA from [RFC793]) and (e) the advertised window in the
// incoming acknowledgment equals the advertised window in the last
// incoming acknowledgment."
func (c *Conn) isDupAck(s *wire.Segment) bool {
	return c.sndUna != c.sndNxt && len(s.Payload) == 0 && s.Flags&(wire.SYN|wire.FIN) == 0 &&
		s.Ack == c.sndUna && c.scaledWindow(s) == c.sndWnd
}

// afterAck runs loss detection, recovery and the congestion controller for
// an acceptable ACK.
func (c *Conn) afterAck(now clock.Time, s *wire.Segment, r *ackResult, flightBefore int, dup bool) {
	if c.tlpEndSet && s.Ack.GreaterThanEq(c.tlpEnd) {
		// RFC 8985 §7.4.2: a probe that retransmitted the last segment and
		// was acknowledged without a D-SACK repaired a real loss: the
		// congestion controller must hear of it. This deviates from the
		// RFC's TLP_process_ack(), which waits for an ACK beyond
		// TLP.end_seq ("Else If ACK's ack. number > TLP.end_seq"), by
		// which time the D-SACK of a spurious probe would have come: here
		// an ACK of TLP.end_seq itself ends the episode, with the response
		// unless it carries a D-SACK.
		if c.tlpRetrans && !r.dsack && !c.inRecovery {
			c.cc.OnCongestion(now, flightBefore)
			c.cc.OnRecoveryEnd(now, c.pipe())
			c.metrics(now, "loss repaired by the tail loss probe")
		}
		c.tlpEndSet = false
	}
	// The window grows on ACKs outside fast recovery; after an RTO it grows
	// by slow start (RFC 5681 §3.1), which recovery does not suspend.
	wasFast := c.inRecovery && !c.rtoRecovery
	c.onAckRecovery(now, s, r, flightBefore, dup)
	if !dup && !c.inRecovery {
		c.dupAcks = 0
	}
	// Only an ACK that moves SND.UNA grows the window (as Linux's
	// tcp_may_raise_cwnd): a duplicate ACK carrying SACK blocks says data
	// left the network, but also that something before it may be lost.
	if acked := r.acked + r.sacked; r.acked > 0 && !wasFast && !(c.inRecovery && !c.rtoRecovery) {
		before := c.cc.Window()
		c.cc.OnAck(cc.Ack{Now: now, Acked: acked, Flight: flightBefore, RTT: r.rtt, SRTT: c.srtt,
			MinRTT: c.minRTT, AppLimited: c.appLimited(flightBefore), SndUna: uint32(c.sndUna), SndNxt: uint32(c.sndNxt),
			Unit: c.sendUnit()})
		if c.cc.Window() != before {
			c.metrics(now, "ack")
		}
	}
	if r.acked > 0 || c.sackedSegs > 0 {
		// Restarted on an ACK of new data (RFC 8985 §7.2); stopped once
		// segments are SACKed.
		c.armTLP(now)
	}
}

// appLimited reports that the sender did not fill the congestion window:
// less than a segment short of it and nothing more queued.
func (c *Conn) appLimited(flight int) bool {
	return flight+c.effMSS() < c.cc.Window() && c.queuedUnsent() == 0
}

// backToListen ends a passive connection in SYN-RECEIVED that RFC 9293
// returns "to the LISTEN state" (a RST, a SYN in the window, or the SYN-ACK
// retries spent): the listener goes on, this connection is done. The SYN's
// text queued in SYN-RECEIVED (inputListen) goes with it: it was never
// acknowledged.
func (c *Conn) backToListen(now clock.Time, why string) {
	c.setState(now, Listen, why)
	c.done = true
	c.stopTimer(now, &c.rtoAt, "retransmit")
	if c.oooBytes > 0 {
		c.PruneOutOfOrder(0)
	}
}
