package synack

import (
	"net"
	"time"

	"github.com/gosynack/synack/stack"
)

// Listener is a listening port of a Stack (or, from ListenAny, every
// destination no port takes); it implements net.Listener.
type Listener struct {
	s        *Stack
	l        *stack.Listener
	addr     *net.TCPAddr
	closedCh chan struct{}
	deadline *deadline
	aw       waiter // a blocked Accept; guarded by s.mu
	closed   bool   // guarded by s.mu
}

var _ net.Listener = (*Listener)(nil)

func (l *Listener) opErr(err error) error {
	return &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: err}
}

// Accept waits for the next established connection.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AcceptTCP is Accept returning the concrete type.
func (l *Listener) AcceptTCP() (*Conn, error) {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case l.closed || s.closed:
			return nil, l.opErr(net.ErrClosed)
		case l.deadline.expired():
			return nil, l.opErr(errDeadline)
		}
		if tc := l.l.Accept(); tc != nil {
			c := s.newConnLocked(tc)
			s.stepLocked(s.clk.Now())
			return c, nil
		}
		s.blockListener(&l.aw, l.closedCh, l.deadline.wait())
	}
}

// SetDeadline sets when pending and future Accepts time out; the zero time
// means never.
func (l *Listener) SetDeadline(t time.Time) error {
	l.deadline.set(t)
	return nil
}

// Close stops listening; connections not yet accepted are reset, and a
// blocked Accept returns net.ErrClosed, as does a second Close.
func (l *Listener) Close() error {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.closed {
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	l.closed = true
	close(l.closedCh)
	l.deadline.set(time.Time{})
	if !s.closed {
		now := s.clk.Now()
		l.l.Close(now)
		s.stepLocked(now)
	}
	return nil
}

// Addr returns the listening address (a *net.TCPAddr).
func (l *Listener) Addr() net.Addr { return l.addr }
