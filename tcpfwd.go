package synack

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
)

// Refusal is how a TCPRequest is refused: a RST, as from a closed port,
// or an ICMP Destination Unreachable from the destination.
type Refusal = stack.Refusal

// The refusals.
const (
	RefuseReset           = stack.RefuseReset           // RST: "connection refused"
	RefuseNetUnreachable  = stack.RefuseNetUnreachable  // ICMP net unreachable (ICMPv6 no route)
	RefuseHostUnreachable = stack.RefuseHostUnreachable // ICMP host unreachable (ICMPv6 address unreachable)
	RefusePortUnreachable = stack.RefusePortUnreachable // ICMP port unreachable
	RefuseProhibited      = stack.RefuseProhibited      // ICMP administratively prohibited
)

// TCPForwarder hands every SYN of an any-destination Stack that no
// listener takes to the application before synack answers it, as gVisor's
// tcp.Forwarder does: the application sees the flow's addresses, dials
// the real destination, and then completes the handshake or refuses it.
type TCPForwarder struct {
	s       *Stack
	fs      []*stack.TCPForwarder // by shard
	handler func(*TCPRequest)
	closed  atomic.Bool
}

// TCPRequest is one SYN waiting for the application's decision.
type TCPRequest struct {
	fw      *TCPForwarder
	s       *shard // the shard of the SYN's connection
	r       *stack.TCPRequest
	decided bool // under s.mu
}

// ForwardTCP starts the TCP forwarder (the Stack needs
// Config.AnyDestination; the forwarder takes precedence over ListenAny).
// For each SYN to an address and port that no Listen takes, handler is
// called in a goroutine of its own with the request, before anything is
// answered; it decides with Complete or Refuse, and may take its time (dial
// the destination) until the request's Deadline. A handler that returns
// without deciding refuses with a RST. Retransmissions of a SYN being
// decided are dropped. At most maxPending requests (default 1024) wait at
// once, each at most timeout (default 30 s): a SYN beyond them is dropped
// (the client retries), and an expired request is forgotten unanswered.
// With several shards, maxPending is split over them as the limits of
// Config are.
func (s *Stack) ForwardTCP(maxPending int, timeout time.Duration, handler func(*TCPRequest)) (*TCPForwarder, error) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	s.lockAll()
	defer s.unlockAll()
	if s.shards[0].closed {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: net.ErrClosed}
	}
	fw := &TCPForwarder{s: s, handler: handler}
	for _, sh := range s.shards {
		per := maxPending
		if n := len(s.shards); n > 1 {
			per = share(maxPending, 1024, n, sh.idx)
		}
		f, err := sh.st.ForwardTCP(per, timeout)
		if err != nil {
			for _, f := range fw.fs {
				f.Close()
			}
			return nil, &net.OpError{Op: "listen", Net: "tcp", Err: mapErr("listen", err)}
		}
		fw.fs = append(fw.fs, f)
		f.SetNotify(func() { fw.dispatch(sh) })
	}
	return fw, nil
}

// dispatch starts a handler for each new request of shard sh. sh.mu is
// held.
func (fw *TCPForwarder) dispatch(sh *shard) {
	f := fw.fs[sh.idx]
	for r := f.Next(); r != nil; r = f.Next() {
		go fw.run(&TCPRequest{fw: fw, s: sh, r: r})
	}
}

func (fw *TCPForwarder) run(r *TCPRequest) {
	fw.handler(r)
	_ = r.Refuse(RefuseReset) // a no-op if the handler decided
}

// Pending returns how many requests wait for a decision.
func (fw *TCPForwarder) Pending() int {
	n := 0
	for _, sh := range fw.s.shards {
		sh.mu.Lock()
		n += fw.fs[sh.idx].Pending()
		sh.mu.Unlock()
	}
	return n
}

// Stats returns the forwarder's counters (summed over the shards).
func (fw *TCPForwarder) Stats() stack.ForwarderStats {
	var sum stack.ForwarderStats
	for _, sh := range fw.s.shards {
		sh.mu.Lock()
		st := fw.fs[sh.idx].Stats()
		sh.mu.Unlock()
		addCounters(&sum, &st)
	}
	return sum
}

// Close stops forwarding; the requests still waiting fail to decide, and
// later SYNs get the answers of a stack without a forwarder. Connections
// already completed are not touched.
func (fw *TCPForwarder) Close() error {
	if fw.closed.Swap(true) {
		return nil
	}
	for _, sh := range fw.s.shards {
		sh.mu.Lock()
		fw.fs[sh.idx].Close()
		sh.mu.Unlock()
	}
	return nil
}

// Source returns the client's address.
func (r *TCPRequest) Source() netip.AddrPort { return r.r.Tuple().Remote }

// Destination returns the address the client dialled (the original
// destination).
func (r *TCPRequest) Destination() netip.AddrPort { return r.r.Tuple().Local }

// Deadline returns when the request expires.
func (r *TCPRequest) Deadline() time.Time {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(r.r.Deadline().Sub(s.clk.Now()))
}

func (r *TCPRequest) opErr(err error) error {
	return &net.OpError{Op: "accept", Net: "tcp", Source: tcpAddr(r.Destination()), Addr: tcpAddr(r.Source()), Err: err}
}

// Complete accepts the request: synack answers the held SYN with its
// SYN-ACK and Complete waits for the client's ACK. It returns the
// connection once established (its LocalAddr is the original
// destination), or an error: the client reset or never answered, the
// context ended (the half-open connection is aborted), the request expired
// or was decided already, or the forwarder or Stack closed.
func (r *TCPRequest) Complete(ctx context.Context) (*Conn, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed || r.fw.closed.Load():
		return nil, r.opErr(net.ErrClosed)
	case r.decided:
		return nil, r.opErr(stack.ErrRequestDecided)
	}
	r.decided = true
	now := s.clk.Now()
	tc, err := r.r.Complete(now)
	if err != nil {
		return nil, r.opErr(err)
	}
	c := s.newConnLocked(tc)
	c.dialing = true
	defer func() { c.dialing = false }()
	s.stepLocked(now)
	for {
		switch st := tc.State(); {
		case s.closed:
			return nil, r.opErr(net.ErrClosed)
		case st == tcp.Closed || st == tcp.Listen || tc.Done():
			err := tc.Err()
			if err == nil {
				err = tcp.ErrConnReset
			}
			return nil, r.opErr(mapErr("accept", err))
		case st >= tcp.Established:
			return c, nil
		}
		if err := ctx.Err(); err != nil {
			now := s.clk.Now()
			s.st.Abort(now, tc)
			s.stepLocked(now)
			return nil, r.opErr(err)
		}
		s.blockConn(c, &c.rw, ctx.Done())
	}
}

// Refuse refuses the request: how is a RST (the client sees "connection
// refused") or an ICMP Destination Unreachable (rate-limited with the
// Stack's other ICMP errors).
func (r *TCPRequest) Refuse(how Refusal) error {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed || r.fw.closed.Load():
		return r.opErr(net.ErrClosed)
	case r.decided:
		return r.opErr(stack.ErrRequestDecided)
	}
	r.decided = true
	now := s.clk.Now()
	if err := r.r.Refuse(now, how); err != nil {
		return r.opErr(err)
	}
	s.stepLocked(now)
	return nil
}
