package tcp

import (
	"strconv"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp/cc"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Loss detection and recovery.
//
//   - With SACK: RACK-TLP (RFC 8985) decides what is lost, from the time
//     segments were sent rather than from counting duplicate ACKs, so that
//     reordering within the reordering window is not taken for loss; the
//     window adapts with D-SACK. A tail loss probe (TLP) recovers losses at
//     the end of a flight without waiting for the RTO.
//   - Without SACK: NewReno (RFC 5681 §3.2, RFC 6582): the third duplicate
//     ACK starts fast retransmit, and each partial ACK retransmits the next
//     hole.
//   - Either way, what is sent during recovery is decided by RFC 6675's pipe
//     against the congestion window the controller (package tcp/cc) sets.
//   - D-SACK reports of retransmissions that arrived twice undo the window
//     reduction of an episode whose retransmissions were all spurious (as
//     Linux does, after RFC 3708).

// dupThresh is RFC 5681's duplicate ACK threshold.
const dupThresh = 3

// wcDelAckT is RFC 8985 §7.2's worst-case delayed-ACK time added to the PTO
// of a single-segment flight.
const wcDelAckT = 200 * time.Millisecond

// minPTO floors the PTO, as Linux's tcp_schedule_loss_probe does (10 ms):
// on a path of a few hundred microseconds, 2*SRTT would have a probe
// follow every ACK that is merely late (RFC 8985 §7.2 leaves the PTO's
// additions "implementation specific").
const minPTO = 10 * time.Millisecond

// rackDelivered is RACK_update() and the reordering detection of RFC 8985
// §6.2 for one newly delivered segment (acknowledged or SACKed).
func (c *Conn) rackDelivered(now clock.Time, t *txSeg) {
	rtt := now.Sub(t.sentAt)
	// "If the segment was retransmitted ... and RACK.rtt < RACK.min_RTT,
	// the ACK is probably for the original transmission: ignore it" (step
	// 2, rephrased).
	if t.xmits > 1 && c.minRTT > 0 && rtt < c.minRTT {
		return
	}
	c.rackRTT = rtt
	if t.sentAt > c.rackXmit || t.sentAt == c.rackXmit && t.end.GreaterThan(c.rackEnd) {
		c.rackXmit, c.rackEnd = t.sentAt, t.end
	}
	// RACK_detect_reordering(): "If Segment.end_seq > RACK.fack: RACK.fack
	// = Segment.end_seq. Else if Segment.end_seq < RACK.fack AND Segment
	// was never retransmitted: RACK.reordering_seen = TRUE".
	if t.end.GreaterThan(c.rackFack) {
		c.rackFack = t.end
	} else if t.end.LessThan(c.rackFack) && t.xmits == 1 {
		if !c.reorderingSeen {
			c.note(now, "reordering seen: RACK widens its reordering window")
		}
		c.reorderingSeen = true
	}
}

// reoWnd is RACK_update_reo_wnd()'s result (RFC 8985 §6.2 step 4).
func (c *Conn) reoWnd() time.Duration {
	if !c.reorderingSeen {
		// "If RACK.reordering_seen is FALSE: If in Fast or RTO recovery:
		// Return 0. Else if RACK.segs_sacked >= DupThresh: Return 0".
		if c.inRecovery || c.sackedSegs >= dupThresh {
			return 0
		}
	}
	return min(time.Duration(c.reoWndMult)*c.minRTT/4, c.srtt)
}

// rackUpdateReoWnd adapts the reordering window multiplier with D-SACK
// (RFC 8985 §6.2 step 4).
func (c *Conn) rackUpdateReoWnd(r *ackResult) {
	if c.dsackRoundSet && c.sndUna.GreaterThanEq(c.dsackRound) {
		c.dsackRoundSet = false
	}
	if !c.dsackRoundSet && r.dsack {
		c.dsackRoundSet, c.dsackRound = true, c.sndNxt
		c.reoWndMult++
		c.reoWndPersist = 16
	}
}

// rackDetectLoss is RACK_detect_loss() (RFC 8985 §6.2 step 5): a segment
// sent before the most recently delivered one, and longer ago than the RTT
// plus the reordering window, is lost. It returns how long until the next
// segment would be (0 for none) for the reordering timer.
func (c *Conn) rackDetectLoss(now clock.Time) (lost bool, wait time.Duration) {
	lost, wait, _ = c.rackScan(now)
	return lost, wait
}

// rackScanMax bounds what rackScan looks at beyond the segments it marks
// lost.
const rackScanMax = 32

// rackScan is rackDetectLoss, reporting as well how many segments it
// looked at.
//
// The segments neither SACKed nor already lost are walked oldest
// transmission first: those sent before RACK.xmit_ts come first, and the
// walk stops at the first sent after it. Among those sent at RACK.xmit_ts
// itself, RACK_sent_after() compares the end sequence numbers. Those old
// enough are marked lost and leave the list, so looking at them is paid
// for once. The others, sent at RACK.xmit_ts but after it in sequence, or
// sent before it but not yet RACK.rtt + reo_wnd ago, stay: a walk through
// all of them on every ACK made an ACK's cost grow with the queue (a burst
// or a GSO super-segment sends many segments at one instant; an attacker's
// SACK blocks leave many holes: the hostile soak's SACK abuse, a
// 100k-segment queue, took 7.3 s of CPU for 0.5 s without it; the lesson
// of CVE-2018-5390 and CVE-2019-11477). So the walk looks at no more than rackScanMax
// of them: the list is in order of transmission, so none after them has
// expired either, and if one of them waits, the reordering timer is set
// for the latest any of them can, RACK.xmit_ts + RACK.rtt + reo_wnd, when
// a walk marks them lost; RFC 8985's timer is for the latest of them,
// which is at most that. Short of the bound the walk is the RFC's exactly
// (and past it too but for a segment sent at RACK.xmit_ts, below
// RACK.end_seq, behind more than rackScanMax sent at that instant above
// it: left to the next ACK or the RTO).
func (c *Conn) rackScan(now clock.Time) (lost bool, wait time.Duration, looked int) {
	if c.rackXmit < 0 {
		return false, 0, 0
	}
	reo := c.reoWnd()
	kept, waiting := 0, false
	for p := c.tsHead; p != 0; {
		i := int(p - 1)
		t := &c.tx[i]
		p = t.next
		if t.sentAt > c.rackXmit {
			break
		}
		if kept == rackScanMax {
			if waiting {
				wait = max(wait, c.rackXmit.Add(c.rackRTT+reo).Sub(now))
			}
			break
		}
		looked++
		// RACK_sent_after(RACK.xmit_ts, RACK.end_seq, Segment.xmit_ts,
		// Segment.end_seq)
		if !(c.rackXmit > t.sentAt || c.rackEnd.GreaterThan(t.end)) {
			kept++
			continue
		}
		remaining := t.sentAt.Add(c.rackRTT + reo).Sub(now)
		if remaining <= 0 {
			c.markLost(i) // which takes it out of the list
			lost = true
		} else {
			wait = max(wait, remaining)
			kept, waiting = kept+1, true
		}
	}
	return lost, wait, looked
}

// onAckRecovery runs loss detection and recovery for an ACK that passed
// the acceptability checks. una is SND.UNA before the ACK.
func (c *Conn) onAckRecovery(now clock.Time, s *wire.Segment, r *ackResult, flightBefore int, dup bool) {
	if c.sackOK {
		c.rackUpdateReoWnd(r)
		if r.delivered || r.dsack {
			lost, wait := c.rackDetectLoss(now)
			if wait > 0 {
				c.startTimer(now, &c.reoAt, wait, "reorder")
			} else {
				c.stopTimer(now, &c.reoAt, "reorder")
			}
			if lost && !c.probeLost(now) { // plpmtud.go
				c.enterRecovery(now, flightBefore, "RACK")
			}
		}
	} else if dup {
		// RFC 5681 §3.2 / RFC 6582 §3.2: "(2) When the third duplicate ACK
		// is received, the TCP sender first checks the value of recover to
		// see if the Cumulative Acknowledgment field covers more than
		// recover. If so, the value of recover is incremented to the value
		// of the highest sequence number transmitted by the TCP so far."
		c.dupAcks++
		if c.dupAcks == dupThresh && !c.inRecovery && s.Ack.GreaterThan(c.recover) {
			if len(c.txq()) > 0 {
				c.markLost(int(c.txHead))
			}
			if !c.probeLost(now) { // plpmtud.go
				c.enterRecovery(now, flightBefore, "3 duplicate ACKs")
			}
		}
	}
	if c.inRecovery && r.acked > 0 {
		if c.sndUna.GreaterThanEq(c.recoveryPoint) {
			c.exitRecovery(now)
		} else if !c.sackOK && !c.rtoRecovery {
			// RFC 6582 §3.2 (4) "Partial acknowledgments: ... retransmit the
			// first unacknowledged segment". Duplicate ACKs already counted
			// stand for segments now acknowledged.
			c.dupAcks = max(0, c.dupAcks-int32(r.ackedSegs))
			if len(c.txq()) > 0 {
				c.markLost(int(c.txHead))
				c.fastRexmitDue = true
			}
		}
	}
	if r.dsackRexmit && c.undoPossible && c.undoRetrans <= 0 && c.episodeRexmits > 0 && !c.inRecovery {
		c.undo(now)
	}
}

// enterRecovery starts a fast-recovery episode (RFC 6675 §5 (4.2): "set
// RecoveryPoint = HighData ... cwnd = ssthresh").
func (c *Conn) enterRecovery(now clock.Time, flight int, why string) {
	if c.inRecovery {
		return
	}
	c.inRecovery, c.rtoRecovery = true, false
	c.recoveryPoint = c.sndNxt
	c.recover = c.sndNxt
	c.stats.FastRecoveries++
	c.undoPossible, c.undoRetrans, c.episodeRexmits = true, 0, 0
	c.fastRexmitDue = true
	c.stopTimer(now, &c.tlpAt, "tlp")
	c.cc.OnCongestion(now, flight)
	if c.tracing() {
		c.note(now, "loss detected ("+why+"): fast recovery until "+c.relSnd(c.recoveryPoint))
		c.metrics(now, "fast recovery: "+why)
	}
}

func (c *Conn) exitRecovery(now clock.Time) {
	c.inRecovery = false
	c.dupAcks = 0
	if c.reoWndPersist > 0 {
		c.reoWndPersist--
		if c.reoWndPersist == 0 {
			c.reoWndMult = 1
		}
	}
	c.cc.OnRecoveryEnd(now, c.pipe())
	c.metrics(now, "recovery end")
	if c.undoPossible && c.undoRetrans <= 0 && c.episodeRexmits > 0 {
		c.undo(now)
	}
}

// undo restores the window when every retransmission of the last episode
// was reported by D-SACK as having arrived twice: the loss was spurious.
func (c *Conn) undo(now clock.Time) {
	c.undoPossible = false
	c.cc.Undo(now)
	c.stats.Undos++
	c.metrics(now, "undo: the retransmissions were spurious (D-SACK)")
}

// onRTOLoss is the RTO's part in loss recovery: every unacknowledged
// segment is lost (RFC 8985 §6.3: "mark all the unacknowledged segments
// lost"), and the window collapses (RFC 5681 equations (4) and (5)).
func (c *Conn) onRTOLoss(now clock.Time) {
	flight := int(c.sndNxt.Size(c.sndUna))
	q := c.txq()
	if reneged := len(q) > 0 && q[0].sacked; c.sackedBytes > 0 && (c.retries > 1 || reneged) {
		// RFC 2018 §3: "After a retransmit timeout the data sender
		// SHOULD turn off all of the SACKed bits, since the timeout
		// might indicate that the data receiver has reneged." Like
		// Linux we keep them at the first timeout (the usual cause is a
		// lost retransmission, not a reneging receiver) and clear them
		// at the second; and at the first too when the segment at the
		// left edge is SACKed, which only a receiver that reneged (RFC
		// 2018 §8) leaves unacknowledged (Linux's is_sack_reneg): "The
		// data sender MUST retransmit the segment at the left edge of
		// the window after a retransmit timeout, whether or not the
		// SACKed bit is on for that segment."
		for i := range q {
			q[i].sacked = false
		}
		c.sackedBytes, c.sackedSegs = 0, 0
		c.note(now, "timeout: SACK scoreboard cleared (RFC 2018 §3, §8)")
	}
	for i := range q {
		c.markLost(int(c.txHead) + i)
	}
	c.inRecovery, c.rtoRecovery = true, true
	c.recoveryPoint = c.sndNxt
	c.recover = c.sndNxt
	c.dupAcks = 0
	c.undoPossible, c.undoRetrans, c.episodeRexmits = c.retries == 1, 0, 0
	c.fastRexmitDue = false
	c.stopTimer(now, &c.tlpAt, "tlp")
	c.stopTimer(now, &c.reoAt, "reorder")
	c.cc.OnRTO(now, flight)
	c.metrics(now, "RTO")
}

// armTLP schedules a tail loss probe (RFC 8985 §7.2) when one may be sent:
// SACK in use, not in recovery, no segment SACKed ("unless it is already
// in fast recovery, RTO recovery, or segments have been SACKed"), data
// outstanding, no probe outstanding.
func (c *Conn) armTLP(now clock.Time) {
	if !c.sackOK || c.inRecovery || c.sackedSegs > 0 || c.tlpEndSet || c.sndUna == c.sndNxt || !c.state.Synchronized() {
		c.stopTimer(now, &c.tlpAt, "tlp")
		return
	}
	// "If SRTT is available: PTO = 2 * SRTT; If FlightSize is one segment:
	// PTO += WCDelAckT ... Else: PTO = 1 sec. If RTO's expiry time is
	// earlier than current time + PTO: PTO = RTO's expiry time - current
	// time".
	pto := time.Second
	if c.hasRTT {
		pto = max(2*c.srtt, minPTO)
		if q := c.txq(); len(q) == 1 {
			pto += wcDelAckT
		}
	}
	if at := now.Add(pto); c.rtoAt != clock.Never && c.rtoAt < at {
		// "If Now() + PTO > TCP_RTO_expiration(): PTO =
		// TCP_RTO_expiration() - Now()": the probe goes instead of the
		// RTO (onTLP pushes the RTO back).
		pto = max(c.rtoAt.Sub(now), 0)
	}
	c.startTimer(now, &c.tlpAt, pto, "tlp")
}

// onTLP fires the probe (RFC 8985 §7.3): new data if the receive window
// allows, else the last segment sent again.
func (c *Conn) onTLP(now clock.Time) {
	if c.sndUna == c.sndNxt || c.inRecovery {
		return
	}
	if c.tlpEndSet || c.tlpNoSample {
		// "the sender MUST check whether both of the following conditions
		// are met before sending a loss probe: 1. ... there is no other
		// previous loss probe still in flight. 2. ... the sender has
		// obtained an RTT measurement since the last loss probe
		// transmission ... If either one of these two conditions is not
		// met, then the sender MUST skip sending a loss probe and MUST
		// proceed to re-arm the RTO timer".
		c.note(now, "tail loss probe skipped: a probe in flight or no RTT sample since the last")
		c.startTimer(now, &c.rtoAt, c.rtoDelay(now), "retransmit")
		return
	}
	c.tlpDue = true
	c.stats.TLPs++
	// The probe is sent instead of an RTO due now (a PTO cut to the RTO's
	// expiry, §7.2); §7.3 re-arms the RTO after it.
	c.startTimer(now, &c.rtoAt, c.rtoDelay(now), "retransmit")
}

// metrics records the congestion state after a change.
func (c *Conn) metrics(now clock.Time, why string) {
	if c.pol.cfg.Recorder == nil || c.cc == nil {
		return
	}
	c.record(&trace.Event{At: now, Kind: trace.Metrics, Cwnd: c.cc.Window(), Ssthresh: c.cc.Threshold(),
		SRTT: c.srtt, RTO: c.rto, Reason: why})
}

// relSnd shows a send sequence number relative to the ISS, for notes.
func (c *Conn) relSnd(v seq.Value) string { return strconv.FormatUint(uint64(v.Size(c.iss)), 10) }

// newController builds the configured congestion controller.
func (c *Conn) newController() cc.Controller {
	cfg := cc.Config{MSS: int(c.sndMSS), HyStart: c.pol.cfg.HyStart, Paced: c.pol.cfg.Pacing,
		SlowStartLimit: c.pol.cfg.SlowStartLimit, ReduceFromWindow: c.pol.cfg.CubicReduceFromWindow}
	ctl, err := cc.New(c.pol.cfg.Congestion, cfg)
	if err != nil {
		// Validate rejects unknown names; a Conn made without it falls
		// back to the default rather than failing later.
		ctl, _ = cc.New(cc.Default, cfg)
	}
	return ctl
}
