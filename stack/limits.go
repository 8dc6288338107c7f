package stack

import (
	"errors"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
)

// Limits on what peers can make a stack hold (issue 15), as Linux's
// tcp_max_orphans, tcp_max_tw_buckets and a cap on connections:
//
//   - Config.MaxOrphans bounds orphans, the connections the application has
//     closed both ways and that are not yet in TIME-WAIT (tcp.Conn.Orphan);
//     beyond it the oldest orphan is aborted (a RST, as Linux's "too many
//     orphaned sockets"), counted in OrphanOverflows;
//   - Config.MaxTimeWait bounds connections in TIME-WAIT; beyond it the
//     oldest is freed early, counted in TimeWaitOverflows (Linux's
//     TCPTimeWaitOverflow; Linux refuses the new one instead);
//   - Config.MaxConns bounds every connection of the stack: Connect fails
//     with ErrTooManyConns, and a SYN or cookie ACK for a listener is
//     dropped and counted in ListenDrops and ConnLimitDrops.

//
// And a budget for the buffers of all the stack's connections, as Linux's
// tcp_mem (tcp/memory.go): TCP.MemPressure (default 768 MiB), from which
// buffers stop growing and out-of-order data is pruned and refused, and
// TCP.MemLimit (default 1 GiB), from which data that needs a larger buffer
// is dropped and Write takes no more than a connection's buffer holds
// (each connection may always have 4 KiB of each). Negative values turn
// the budget off. Stack.Memory reports it.

// The buffer budget's defaults.
const (
	DefaultMemPressure = 768 << 20
	DefaultMemLimit    = 1 << 30
)

// setMemoryDefaults fills in the buffer budget's defaults: both levels
// when neither is set, off when either is negative.
func setMemoryDefaults(c *tcp.Config) {
	switch {
	case c.MemPressure < 0 || c.MemLimit < 0:
		c.MemPressure, c.MemLimit = 0, 0
	case c.MemPressure == 0 && c.MemLimit == 0:
		c.MemPressure, c.MemLimit = DefaultMemPressure, DefaultMemLimit
	case c.MemLimit == 0:
		c.MemLimit = max(c.MemPressure, DefaultMemLimit)
	case c.MemPressure == 0:
		c.MemPressure = c.MemLimit * 3 / 4
	}
}

// Memory is the state of the stack's buffer budget.
type Memory struct {
	BufferBytes     int    // bytes of buffer arrays the connections hold
	Pressure, Limit bool   // at or above TCP.MemPressure, TCP.MemLimit
	Drops           uint64 // segments dropped for the budget (trace.DropMemory)
}

// Memory returns the state of the stack's buffer budget.
func (s *Stack) Memory() Memory {
	p, l := s.pol.MemoryState()
	return Memory{BufferBytes: s.pol.BufferBytes(), Pressure: p, Limit: l, Drops: s.pol.MemoryDrops()}
}

// ErrTooManyConns: the stack holds Config.MaxConns connections.
var ErrTooManyConns = errors.New("too many connections (stack.Config.MaxConns)")

// nconns is the number of live connections.
func (s *Stack) nconns() int { return len(s.conns) + len(s.conns6) }

// atConnLimit reports whether the stack may make no more connections.
func (s *Stack) atConnLimit() bool { return s.nconns() >= s.cfg.MaxConns }

// track brings the orphan and TIME-WAIT counts up to date for e.
func (s *Stack) track(e *entry) {
	orphan := !e.removed && !e.frozen && e.state != tcp.TimeWait && e.conn.Orphan()
	tw := !e.removed && e.state == tcp.TimeWait
	if orphan != e.orphan {
		e.orphan = orphan
		if orphan {
			s.nOrphans++
			s.orphanQ = append(s.orphanQ, e)
		} else {
			s.nOrphans--
		}
	}
	if tw != e.timeWait {
		e.timeWait = tw
		if tw {
			s.nTimeWait++
			s.twQ = append(s.twQ, e)
		} else {
			s.nTimeWait--
		}
	}
}

// enforce recycles the oldest orphans and TIME-WAIT connections beyond
// the limits.
func (s *Stack) enforce(now clock.Time) {
	for s.nOrphans > s.cfg.MaxOrphans {
		e := popOldest(&s.orphanQ, func(e *entry) bool { return e.orphan })
		s.ctr.OrphanOverflows++
		s.note(now, e.conn.Tuple(), "too many orphans (MaxOrphans): the oldest reset")
		s.step(now, e, func() { e.conn.Abort(now) })
		s.track(e)
	}
	for s.nTimeWait > s.cfg.MaxTimeWait {
		e := popOldest(&s.twQ, func(e *entry) bool { return e.timeWait })
		s.ctr.TimeWaitOverflows++
		s.note(now, e.conn.Tuple(), "too many TIME-WAIT connections (MaxTimeWait): the oldest freed")
		s.step(now, e, func() { e.conn.Abort(now) })
		s.track(e)
	}
	s.orphanQ = compactQ(s.orphanQ, s.nOrphans, func(e *entry) bool { return e.orphan })
	s.twQ = compactQ(s.twQ, s.nTimeWait, func(e *entry) bool { return e.timeWait })
}

// popOldest removes and returns the first entry of q that is still in.
// The caller knows one is.
func popOldest(q *[]*entry, in func(*entry) bool) *entry {
	for {
		e := (*q)[0]
		(*q)[0] = nil
		*q = (*q)[1:]
		if in(e) {
			return e
		}
	}
}

// compactQ drops the entries no longer in q once they outnumber those in.
func compactQ(q []*entry, n int, in func(*entry) bool) []*entry {
	if len(q) < 2*n+64 {
		return q
	}
	out := make([]*entry, 0, 2*n+1)
	for _, e := range q {
		if in(e) {
			out = append(out, e)
		}
	}
	return out
}
