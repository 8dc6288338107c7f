package stack

import (
	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
)

// A listener's half-open connections (its SYN queue, Config.SynBacklog)
// are kept between calls as tcp.HalfOpen, not as whole TCBs, as Linux
// keeps a tcp_request_sock for each (issue 15: "a SYN-queue entry need
// not be a whole TCB"): an entry and its HalfOpen are one allocation of
// 144 bytes (halfEntry), where a Conn is 768. A segment, timer or call
// for the connection makes its Conn again (whole) and the Conn does what
// it does; after its Output the stack keeps it small again (freeze) if it
// is still only half-open. What is sent, and when, is the Conn's; only
// the memory between calls differs.
//
// A half-open connection that something outside the stack may hold
// (Conns, Lookup) is pinned and stays whole, and so does one Freeze
// refuses (tcp.HalfOpen lists what it keeps); the SYN queue's bound
// bounds those too.

// halfEntry is the entry of a listener's half-open connection, with room
// to keep it small.
type halfEntry struct {
	entry
	h tcp.HalfOpen
}

// newHalfEntry returns the entry of c, a passive connection of l.
func newHalfEntry(c *tcp.Conn, l *Listener) *entry {
	he := &halfEntry{entry: entry{conn: c, listener: l, state: tcp.Listen, young: true}}
	he.half = &he.h
	return &he.entry
}

// whole returns e's connection, made again if it was kept small.
func (s *Stack) whole(e *entry) *tcp.Conn {
	if e.frozen {
		e.conn = s.pol.Thaw(e.half, s.spare)
		s.spare = nil
		e.frozen = false
	}
	return e.conn
}

// pin returns e's connection, whole, and keeps it whole from now on.
func (s *Stack) pin(e *entry) *tcp.Conn {
	e.pinned = true
	return s.whole(e)
}

// freeze keeps e's connection small if it is a listener's half-open one
// and tcp.Conn.Freeze allows it; it reports whether it did.
func (s *Stack) freeze(e *entry) bool {
	if e.half == nil || e.frozen || e.pinned || e.removed || e.queued || e.listener == nil || e.state != tcp.SynReceived {
		return false
	}
	h, ok := e.conn.Freeze()
	if !ok {
		return false
	}
	*e.half = h
	// Nothing else holds the Conn (the caller drops it from Changed): the
	// next whole takes it again rather than a new one.
	s.spare = e.conn
	e.conn = nil
	e.frozen = true
	return true
}

// expire runs e's timers due at now. For a listener's half-open
// connection that is its SYN-ACK's retransmission timer, and while the
// SYN queue is more than half full the old ones are given up sooner, as
// Linux's reqsk_timer_handler does ("we reserve half of room for young
// embrions; and abort old ones without pity, if old ones are about to
// clog our table"): the SYN-ACK is retransmitted at most thresh times
// (synAckThresh), instead of tcp.Config.SynAckRetries (5, 63 s).
func (s *Stack) expire(now clock.Time, e *entry) {
	l := e.listener
	if l == nil || e.queued || e.state != tcp.SynReceived {
		c := s.whole(e)
		s.step(now, e, func() { c.HandleTimeout(now) })
		return
	}
	var retries int
	if e.frozen {
		retries = e.half.Retransmits()
	} else {
		retries = e.conn.Info().Retries
	}
	thresh := l.synAckThresh()
	if e.young {
		// Its first expiry: no longer young (Linux's num_timeout++ == 0).
		e.young = false
		l.young--
	}
	c := s.whole(e)
	if thresh < s.pol.SynAckRetries() && retries >= thresh {
		s.step(now, e, func() {
			if c.PruneHalfOpen(now, thresh) {
				// It leaves the SYN queue now, not at the next Output
				// (as Linux's inet_csk_reqsk_queue_drop), so that the
				// next expiry sees the queue as it is.
				l.leaveSynQueue(e)
				e.listener = nil
			}
		})
		return
	}
	s.step(now, e, func() { c.HandleTimeout(now) })
}

// synAckThresh is how many SYN-ACK retransmissions l's half-open
// connections get now: tcp.Config.SynAckRetries, or, while more than half
// of the SYN queue (Config.SynBacklog, and at least 8) is taken, one fewer
// for each halving of the share of young connections (not yet
// retransmitted) below a half, down to 2, as Linux computes it.
func (l *Listener) synAckThresh() int {
	thresh := l.s.pol.SynAckRetries()
	qlen := l.halfOpen
	if 2*qlen > max(8, l.s.cfg.SynBacklog) {
		young := 2 * l.young
		for thresh > 2 && qlen >= young {
			thresh--
			young *= 2
		}
	}
	return thresh
}

// leaveSynQueue is e leaving l's SYN queue (established, or freed).
func (l *Listener) leaveSynQueue(e *entry) {
	l.halfOpen--
	if e.young {
		e.young = false
		l.young--
	}
}
