package stack

import (
	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// reopen hands a SYN for a connection in TIME-WAIT to the listener of its
// port when it shows a new incarnation (tcp.Conn.ReopenOK: RFC 6191, RFC
// 1122 §4.2.2.13): the TIME-WAIT connection is freed, and the new one's ISS
// is above the old SND.NXT. It reports whether it took the SYN. Without it,
// in a loop where the server closes first, every reused client port would
// find its SYN answered by the old connection's ACK and wait a second to
// retry (issue 15: 5% of dials).
func (s *Stack) reopen(now clock.Time, e *entry, t tcp.Tuple, seg *wire.Segment) bool {
	if e.state != tcp.TimeWait {
		return false
	}
	l := s.listeners[famIndex(t.Local.Addr())][t.Local.Port()]
	if l == nil && s.fwd != nil && e.conn.ReopenOK(seg) {
		return s.fwd.reopen(now, e, t, seg) // forward.go
	}
	if l == nil {
		l = s.anyL
	}
	if l == nil || !e.conn.ReopenOK(seg) {
		return false
	}
	old := e.conn
	s.note(now, t, "SYN in TIME-WAIT from a new incarnation: reopened (RFC 6191)")
	s.step(now, e, func() { e.conn.Abort(now) })
	s.recordSeg(now, trace.SegmentIn, t, seg, 0)
	return s.toListenerFloor(now, l, t, seg, old)
}
