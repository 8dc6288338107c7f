package synack

import (
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/gosynack/synack/stack"
)

// UDPForwarder takes every UDP datagram of an any-destination Stack that
// no socket takes (see Config.AnyDestination), groups them in flows by
// source and original destination, and hands each new flow to the
// application, as gVisor's udp.Forwarder does.
type UDPForwarder struct {
	s      *shard // shard 0, where UDP lives
	ep     *stack.UDPEndpoint
	idle   time.Duration
	accept func(src, dst netip.AddrPort) func(*UDPFlow)
	flows  map[flowKey]*UDPFlow // under s.mu
	closed bool
	// pending counts the flows whose accept has not returned, at most
	// maxPending; dropped counts the datagrams that would have started
	// a flow beyond it.
	pending, maxPending int
	dropped             uint64
}

type flowKey struct{ src, dst netip.AddrPort }

// maxFlowQueue bounds the datagrams a flow holds for its handler; more are
// dropped, as a full socket buffer drops them.
const maxFlowQueue = 256

// maxPendingFlows bounds the flows waiting for accept at once (each has a
// goroutine): a datagram that would start another is dropped, so that a
// flood of new sources cannot start goroutines without bound.
const maxPendingFlows = 1024

// ForwardUDP starts the UDP forwarder. For the first datagram of each new
// flow (a source and an original destination), accept is called in a
// goroutine of its own, where it may take its time (dial the destination):
// it returns the flow's handler, run in that goroutine, or nil to refuse
// the flow, which answers its datagrams with an ICMP Port Unreachable from
// the destination. Datagrams that arrive meanwhile wait in the flow. A
// flow with no datagram either way for idle (default 30 s) expires: its
// reads return io.EOF and it leaves the table, as a refused flow does.
// At most 1024 flows wait for accept at once; a datagram that would start
// another is dropped (Dropped counts them).
func (st *Stack) ForwardUDP(idle time.Duration, accept func(src, dst netip.AddrPort) func(*UDPFlow)) (*UDPForwarder, error) {
	if idle <= 0 {
		idle = 30 * time.Second
	}
	s := st.shards[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, &net.OpError{Op: "listen", Net: "udp", Err: net.ErrClosed}
	}
	ep, err := s.st.ListenUDPAny()
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "udp", Err: udpErr("bind", err)}
	}
	f := &UDPForwarder{s: s, ep: ep, idle: idle, accept: accept, flows: make(map[flowKey]*UDPFlow), maxPending: maxPendingFlows}
	ep.SetNotify(f.dispatch)
	return f, nil
}

// Flows returns how many flows the forwarder holds (pending, open or
// refused and not yet expired).
func (f *UDPForwarder) Flows() int {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return len(f.flows)
}

// Dropped returns how many datagrams were dropped because maxPendingFlows
// flows were waiting for accept already.
func (f *UDPForwarder) Dropped() uint64 {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return f.dropped
}

// Close stops forwarding and closes every flow.
func (f *UDPForwarder) Close() error {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	f.ep.Close()
	for _, fl := range f.flows {
		fl.end(false)
	}
	return nil
}

// dispatch moves the any-destination endpoint's datagrams to their
// flows. s.mu is held (it runs during the stack's Input).
func (f *UDPForwarder) dispatch() {
	s := f.s
	for {
		d, ok, _ := f.ep.Recv()
		if !ok {
			return
		}
		k := flowKey{d.Src, d.Dst}
		fl := f.flows[k]
		if fl == nil && f.pending >= f.maxPending {
			f.dropped++
			continue
		}
		if fl == nil {
			f.pending++
			fl = &UDPFlow{f: f, src: d.Src, dst: d.Dst, ready: make(chan struct{}, 1), closedCh: make(chan struct{}),
				rd: makeDeadline(), wd: makeDeadline(), last: time.Now()}
			f.flows[k] = fl
			fl.timer = time.AfterFunc(f.idle, fl.idleCheck)
			first := d
			go fl.start(first)
		}
		fl.last = time.Now()
		switch {
		case fl.refused:
			f.ep.Unreachable(s.clk.Now(), d)
		case len(fl.queue) < maxFlowQueue:
			fl.queue = append(fl.queue, d.Payload)
			select {
			case fl.ready <- struct{}{}:
			default:
			}
		}
	}
}

// UDPFlow is one flow of a UDPForwarder, a net.Conn whose LocalAddr is
// the original destination and RemoteAddr the source: Read returns the
// source's datagrams, Write answers from the destination.
type UDPFlow struct {
	f        *UDPForwarder
	src, dst netip.AddrPort
	queue    [][]byte
	ready    chan struct{}
	closedCh chan struct{}
	closed   bool // under s.mu
	expired  bool
	refused  bool
	last     time.Time
	timer    *time.Timer
	rd, wd   *deadline
}

// start asks the application about the flow and runs its handler.
func (fl *UDPFlow) start(first stack.Datagram) {
	h := fl.f.accept(fl.src, fl.dst)
	s := fl.f.s
	s.mu.Lock()
	fl.f.pending--
	s.mu.Unlock()
	if h == nil {
		s.mu.Lock()
		if !fl.closed && !s.closed {
			fl.refused = true
			fl.queue = nil
			now := s.clk.Now()
			fl.f.ep.Unreachable(now, first)
			s.stepLocked(now)
		}
		s.mu.Unlock()
		return
	}
	h(fl)
}

// idleCheck expires the flow if it has been idle long enough, or waits
// for the rest of the time.
func (fl *UDPFlow) idleCheck() {
	s := fl.f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if fl.closed {
		return
	}
	if left := fl.f.idle - time.Since(fl.last); left > 0 && !s.closed {
		fl.timer.Reset(left)
		return
	}
	fl.end(true)
}

// end closes the flow and removes it. s.mu is held.
func (fl *UDPFlow) end(expired bool) {
	if fl.closed {
		return
	}
	fl.closed, fl.expired = true, expired
	fl.queue = nil
	fl.timer.Stop()
	close(fl.closedCh)
	if k := (flowKey{fl.src, fl.dst}); fl.f.flows[k] == fl {
		delete(fl.f.flows, k)
	}
}

func (fl *UDPFlow) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "udp", Source: fl.LocalAddr(), Addr: fl.RemoteAddr(), Err: err}
}

// LocalAddr returns the flow's original destination.
func (fl *UDPFlow) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(fl.dst) }

// RemoteAddr returns the flow's source.
func (fl *UDPFlow) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(fl.src) }

// Read reads the next datagram of the source (cut to b). After the flow
// expired it returns io.EOF; after Close, net.ErrClosed.
func (fl *UDPFlow) Read(b []byte) (int, error) {
	s := fl.f.s
	s.mu.Lock()
	for {
		switch {
		case fl.closed && fl.expired:
			s.mu.Unlock()
			return 0, io.EOF
		case fl.closed || s.closed:
			s.mu.Unlock()
			return 0, fl.opErr("read", net.ErrClosed)
		case fl.rd.expired():
			s.mu.Unlock()
			return 0, fl.opErr("read", errDeadline)
		case len(fl.queue) > 0:
			p := fl.queue[0]
			fl.queue[0] = nil
			fl.queue = fl.queue[1:]
			if len(fl.queue) > 0 {
				select {
				case fl.ready <- struct{}{}:
				default:
				}
			}
			s.mu.Unlock()
			return copy(b, p), nil
		}
		s.mu.Unlock()
		select {
		case <-fl.ready:
		case <-fl.rd.wait():
		case <-fl.closedCh:
		case <-s.loop.Done():
		}
		s.mu.Lock()
	}
}

// Write sends b to the source as one datagram from the original
// destination.
func (fl *UDPFlow) Write(b []byte) (int, error) {
	s := fl.f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case fl.closed || s.closed:
		return 0, fl.opErr("write", net.ErrClosed)
	case fl.wd.expired():
		return 0, fl.opErr("write", errDeadline)
	}
	now := s.clk.Now()
	if err := fl.f.ep.SendFrom(now, fl.dst, fl.src, b); err != nil {
		return 0, fl.opErr("write", udpErr("write", err))
	}
	fl.last = time.Now()
	s.stepLocked(now)
	return len(b), nil
}

// Close ends the flow: it leaves the forwarder's table at once (a later
// datagram of the same source and destination is a new flow).
func (fl *UDPFlow) Close() error {
	s := fl.f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if fl.closed && !fl.expired {
		return fl.opErr("close", net.ErrClosed)
	}
	fl.end(false)
	return nil
}

// SetDeadline sets the read and write deadlines.
func (fl *UDPFlow) SetDeadline(t time.Time) error {
	fl.rd.set(t)
	fl.wd.set(t)
	return nil
}

// SetReadDeadline sets when pending and future reads time out.
func (fl *UDPFlow) SetReadDeadline(t time.Time) error { fl.rd.set(t); return nil }

// SetWriteDeadline sets when future writes time out.
func (fl *UDPFlow) SetWriteDeadline(t time.Time) error { fl.wd.set(t); return nil }
