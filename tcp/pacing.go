package tcp

import (
	"time"

	"github.com/gosynack/synack/clock"
)

// Pacing (Config.Pacing) spreads a window's data segments over the round
// trip instead of sending them back to back, as Linux does for CUBIC under
// the fq qdisc (tcp_update_pacing_rate): the rate is 2*cwnd/SRTT while
// cwnd < ssthresh/2 (slow start, which doubles the window each round) and
// 1.2*cwnd/SRTT otherwise. Each data segment of n bytes moves the pacing
// deadline timers.paceAt by n/rate, from the previous deadline or from now
// if that is past; sendData sends no data while the deadline is ahead
// (a tail loss probe excepted, RFC 8985 §7.3), and the deadline is one of
// the connection's timers, so NextDeadline wakes the sender when the next
// segment may go. Before the first RTT sample there is no rate and nothing
// is paced (the initial window leaves at once, as in Linux).

// Pacing ratios in percent (Linux's tcp_pacing_ss_ratio and
// tcp_pacing_ca_ratio).
const (
	paceSSRatio = 200
	paceCARatio = 120
)

// paceHeld reports that pacing holds data segments back at now.
func (c *Conn) paceHeld(now clock.Time) bool {
	return c.pol.cfg.Pacing && c.paceAt != clock.Never && c.paceAt > now
}

// paceSent moves the pacing deadline past a data segment of n bytes sent at
// now.
func (c *Conn) paceSent(now clock.Time, n int) {
	if !c.pol.cfg.Pacing || n <= 0 || c.srtt <= 0 || c.cc == nil {
		return
	}
	c.paceAt = c.paceFrom(now).Add(c.paceInterval(n))
}

// paceFrom is where the next interval starts: the deadline if it is still
// ahead, else now (unused time is not saved up for a burst).
func (c *Conn) paceFrom(now clock.Time) clock.Time {
	if c.paceAt == clock.Never || c.paceAt < now {
		return now
	}
	return c.paceAt
}

// paceInterval is n bytes' time at the pacing rate: n*SRTT/(ratio*cwnd).
func (c *Conn) paceInterval(n int) time.Duration {
	cwnd := max(c.cc.Window(), 1)
	ratio := int64(paceCARatio)
	if cwnd < c.cc.Threshold()/2 {
		ratio = paceSSRatio
	}
	// n <= 2^16 and SRTT is bounded by MaxRTO's order (minutes), so
	// n*SRTT*100 stays far below 2^63.
	return time.Duration(int64(n) * int64(c.srtt) * 100 / (ratio * int64(cwnd)))
}

// paceExpired clears a pacing deadline that has passed (HandleTimeout): it
// no longer holds anything back and must not stay the earliest deadline.
func (c *Conn) paceExpired(now clock.Time) {
	if c.paceAt <= now {
		c.paceAt = clock.Never
	}
}
