package synack

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/gosynack/synack/stack"
)

// Listener is a listening port of a Stack (or, from ListenAny, every
// destination no port takes); it implements net.Listener. On a Stack of
// several shards it is a listener in every shard (each shard's
// connections are made from its own SYNs), and Accept takes from any.
type Listener struct {
	s        *Stack
	ls       []*stack.Listener // by shard
	addr     *net.TCPAddr
	closedCh chan struct{}
	deadline *deadline
	ready    chan struct{} // a wake-up for blocked Accepts, sent by a shard's step
	waiting  atomic.Int32  // Accepts in progress
	next     atomic.Uint32 // where the next Accept starts looking, with several shards
	closed   atomic.Bool
}

var _ net.Listener = (*Listener)(nil)

// newListener wraps the stack listeners, one per shard, and registers it
// with every shard. Every shard's lock is held.
func newListener(s *Stack, ls []*stack.Listener, addr *net.TCPAddr) *Listener {
	l := &Listener{s: s, ls: ls, addr: addr, closedCh: make(chan struct{}), deadline: makeDeadline(),
		ready: make(chan struct{}, 1)}
	for _, sh := range s.shards {
		sh.lns = append(sh.lns, l)
	}
	return l
}

// check wakes an Accept waiting on l if shard sh holds an established
// connection for it. sh.mu is held.
func (l *Listener) check(sh *shard) {
	if l.waiting.Load() > 0 && l.ls[sh.idx].Pending() > 0 {
		l.wake()
	}
}

// wake lets one blocked Accept look again. A wake-up sent while no Accept
// blocks stays, so that an Accept that looked at a shard before the
// shard's step queued a connection still sees it; a stale one costs a
// look.
func (l *Listener) wake() {
	select {
	case l.ready <- struct{}{}:
	default:
	}
}

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
	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	n := len(s.shards)
	for {
		switch {
		case l.closed.Load() || s.isClosed.Load():
			return nil, l.opErr(net.ErrClosed)
		case l.deadline.expired():
			return nil, l.opErr(errDeadline)
		}
		first := 0
		if n > 1 {
			first = int(l.next.Add(1)) % n
		}
		for i := range n {
			sh := s.shards[(first+i)%n]
			sh.mu.Lock()
			if sh.closed {
				sh.mu.Unlock()
				return nil, l.opErr(net.ErrClosed)
			}
			if tc := l.ls[sh.idx].Accept(); tc != nil {
				c := sh.newConnLocked(tc)
				sh.stepLocked(sh.clk.Now())
				sh.mu.Unlock()
				if l.waiting.Load() > 1 {
					l.wake() // another Accept may take what is left
				}
				return c, nil
			}
			sh.mu.Unlock()
		}
		select {
		case <-l.ready:
		case <-l.closedCh:
		case <-l.deadline.wait():
		case <-s.done():
		}
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
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if l.closed.Swap(true) {
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	close(l.closedCh)
	l.deadline.set(time.Time{})
	for _, sh := range s.shards {
		sh.mu.Lock()
		for i, x := range sh.lns {
			if x == l {
				sh.lns = append(sh.lns[:i], sh.lns[i+1:]...)
				break
			}
		}
		if !sh.closed {
			now := sh.clk.Now()
			l.ls[sh.idx].Close(now)
			sh.stepLocked(now)
		}
		sh.mu.Unlock()
	}
	return nil
}

// Addr returns the listening address (a *net.TCPAddr).
func (l *Listener) Addr() net.Addr { return l.addr }
