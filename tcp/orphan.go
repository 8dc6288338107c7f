package tcp

import (
	"strconv"

	"github.com/gosynack/synack/clock"
)

// Orphans: a connection the application has closed both ways (Close and
// CloseRead, as close(2) does) can no longer be read or written, and only
// the peer keeps it alive. Linux bounds such "orphans": tcp_fin_timeout
// for FIN-WAIT-2, tcp_orphan_retries for their retransmissions and probes.
// So does synack (Config.FinTimeout, Config.OrphanRetries):
//
//   - in FIN-WAIT-2, an orphan whose peer never sends its FIN is freed
//     silently FinTimeout after it entered FIN-WAIT-2 or became an orphan
//     there (RFC 9293 §3.10.7.4 gives FIN-WAIT-2 no timeout; RFC 1122
//     §4.2.2.13 lets a host "abort" a connection after CLOSE);
//   - an orphan with data or its FIN in flight gives up after
//     OrphanRetries RTO retransmissions instead of DataRetries: with the
//     default 8, and an RTO of 1 s doubling to MaxRTO (120 s), after
//     1+2+4+...+128 capped, that is 1+2+4+8+16+32+64+120+120 = 367 s;
//   - an orphan whose peer keeps a zero window and answers every probe is
//     freed at the OrphanRetries-th unanswered-by-an-open-window probe, as
//     Linux's tcp_probe_timer does (its icsk_probes_out is not reset by
//     an ACK that acknowledges nothing).
//
// Data arriving for an orphan in FIN-WAIT-1 or FIN-WAIT-2 already resets it
// (processText, RFC 1122 §4.2.2.13), so a peer that trickles bytes ends it
// at its first byte.

// Orphan reports whether the application has closed the connection both
// ways (Close and CloseRead).
func (c *Conn) Orphan() bool { return c.rcvShut && c.finQueued && c.state != Closed }

// orphanFinWait2 starts the FIN-WAIT-2 timeout of an orphan. The time-wait
// timer, unused in FIN-WAIT-2, holds it.
func (c *Conn) orphanFinWait2(now clock.Time) {
	if c.state == FinWait2 && c.Orphan() && c.timeWaitAt == clock.Never {
		c.startTimer(now, &c.timeWaitAt, c.pol.cfg.FinTimeout, "fin-wait-2")
	}
}

// orphanRetryLimit lowers limit, the RTO retries allowed, for an orphan.
func (c *Conn) orphanRetryLimit(limit int) int {
	if c.Orphan() && c.state.Synchronized() {
		return min(limit, c.pol.cfg.OrphanRetries)
	}
	return limit
}

// orphanProbesDone frees an orphan whose zero-window probes reached the
// limit; it reports whether it did.
func (c *Conn) orphanProbesDone(now clock.Time) bool {
	if !c.Orphan() || int(c.persistBackoff) < c.pol.cfg.OrphanRetries {
		return false
	}
	if c.tracing() {
		c.note(now, "orphan: "+strconv.Itoa(int(c.persistBackoff))+" zero-window probes answered without a window")
	}
	c.close(now, ErrTimeout, "orphan probes exhausted")
	return true
}
