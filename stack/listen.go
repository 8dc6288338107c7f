package stack

import (
	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// SynCookieMode chooses when a listener sends SYN cookies (Config.SynCookies),
// as Linux's net.ipv4.tcp_syncookies does.
type SynCookieMode uint8

const (
	// CookiesWhenFull sends a cookie when the SYN queue is full (Linux's
	// tcp_syncookies=1, the default).
	CookiesWhenFull SynCookieMode = iota
	// CookiesAlways answers every SYN with a cookie and keeps no half-open
	// connection (tcp_syncookies=2; for tests).
	CookiesAlways
	// CookiesOff drops a SYN when the SYN queue is full (tcp_syncookies=0).
	CookiesOff
)

// pending is how many connections the listener holds that were not
// accepted: half-open or queued.
func (l *Listener) pending() int { return l.halfOpen + len(l.queue) }

// cookiesRecent reports whether an ACK for l may carry a cookie it sent: one
// sent within the two counter periods a cookie is valid for.
func (l *Listener) cookiesRecent(now clock.Time) bool {
	return l.s.cfg.SynCookies == CookiesAlways || l.cookies && now.Sub(l.cookieAt) < 2*tcp.CookiePeriod
}

// toListener hands a segment with no connection to listener l: a SYN
// makes a half-open connection or is answered with a cookie, and a bare ACK
// may complete a cookie's handshake. false leaves the segment to the
// no-connection rules.
func (s *Stack) toListener(now clock.Time, l *Listener, t tcp.Tuple, seg *wire.Segment) bool {
	return s.toListenerFloor(now, l, t, seg, nil)
}

// toListenerFloor is toListener for a SYN that replaces old, a connection
// in TIME-WAIT, if old is not nil: the new ISS is above old's SND.NXT
// (timewait.go). A cookie's ISS is a MAC and cannot be: the new
// incarnation's timestamps protect it then.
func (s *Stack) toListenerFloor(now clock.Time, l *Listener, t tcp.Tuple, seg *wire.Segment, old *tcp.Conn) bool {
	switch seg.Flags & (wire.SYN | wire.ACK | wire.RST) {
	case wire.SYN:
	case wire.ACK:
		return s.cookieACK(now, l, t, seg)
	default:
		return false
	}
	if len(l.queue) >= l.backlog {
		// The accept queue is full: Linux drops the SYN, cookies or not
		// (tcp_conn_request: "sk_acceptq_is_full"), and the peer retries.
		s.ctr.ListenOverflows++
		s.ctr.ListenDrops++
		s.recordSeg(now, trace.Drop, t, seg, trace.DropBacklogFull)
		return true
	}
	if s.atConnLimit() {
		s.ctr.ListenDrops++
		s.ctr.ConnLimitDrops++
		s.recordSeg(now, trace.Drop, t, seg, trace.DropConnLimit)
		return true
	}
	if mode := s.cfg.SynCookies; mode == CookiesAlways || l.halfOpen >= s.cfg.SynBacklog {
		if mode == CookiesOff {
			s.ctr.ListenDrops++
			s.recordSeg(now, trace.Drop, t, seg, trace.DropSynQueueFull)
			return true
		}
		// RFC 4987 §3.6: "the server can send a SYN-ACK with a cookie and
		// then forget the SYN, keeping no state".
		out := s.pol.CookieSYNACK(s.cfg.ISNKey, t, seg, s.linkMSS(t.Remote.Addr()), now)
		l.cookies, l.cookieAt = true, now
		s.ctr.SyncookiesSent++
		s.sendRaw(now, t, &out)
		return true
	}
	iss := tcp.ISN(s.cfg.ISNKey, t, now)
	if old != nil {
		iss = old.ReopenISS(iss)
	}
	c := s.pol.NewPassiveIn(s.spare, t, iss) // halfopen.go
	s.spare = nil
	c.SetTSOffset(tcp.TSOffset(s.cfg.ISNKey, t.Local.Addr(), t.Remote.Addr()))
	s.capConn(now, c, t.Remote.Addr())
	if l.init != nil {
		l.init(c)
	}
	e := newHalfEntry(c, l)
	l.halfOpen++
	l.young++
	s.add(e)
	s.step(now, e, func() { c.Input(now, seg) })
	return true
}

// cookieACK tries a bare ACK for l as the end of a cookie's handshake.
func (s *Stack) cookieACK(now clock.Time, l *Listener, t tcp.Tuple, seg *wire.Segment) bool {
	if !l.cookiesRecent(now) {
		return false
	}
	c, err := s.pol.CookieConn(s.cfg.ISNKey, t, seg, s.linkMSS(t.Remote.Addr()), now)
	if err != nil {
		// RFC 9293 §3.10.7.2: an ACK for a listener is answered with a
		// RST, as without cookies.
		s.ctr.SyncookiesFailed++
		if s.cfg.Recorder != nil {
			s.note(now, t, err.Error())
		}
		return false
	}
	s.ctr.SyncookiesRecv++
	s.capPath(now, c, t.Remote.Addr())
	if s.atConnLimit() {
		s.ctr.ListenDrops++
		s.ctr.ConnLimitDrops++
		s.recordSeg(now, trace.Drop, t, seg, trace.DropConnLimit)
		return true
	}
	if len(l.queue) >= l.backlog {
		// Linux drops the ACK (tcp_v4_syn_recv_sock); the peer's
		// retransmission, or its first data, carries the cookie again.
		s.ctr.ListenOverflows++
		s.ctr.ListenDrops++
		s.recordSeg(now, trace.Drop, t, seg, trace.DropBacklogFull)
		return true
	}
	s.ctr.PassiveOpens++
	if l.init != nil {
		l.init(c)
	}
	e := &entry{conn: c, listener: l, state: c.State(), queued: true}
	l.queue = append(l.queue, c)
	s.add(e)
	return true
}
