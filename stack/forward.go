package stack

import (
	"errors"
	"fmt"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// TCPForwarder holds the SYNs for destinations that no listener takes and
// lets the driver decide, before any SYN-ACK is sent, whether each becomes
// a connection, as gVisor's tcp.Forwarder does: a transparent proxy dials
// the real destination first and completes the handshake only if that
// worked, or refuses the client as the destination refused it.
//
// A held SYN is a TCPRequest, in a queue of its own (not a listener's SYN
// queue: no TCB exists until Complete). At most max requests are held; a
// SYN beyond that is dropped, as a full SYN queue with cookies off drops
// it, and the client retransmits. A request not decided within its timeout
// expires: it is forgotten without an answer (the client's retransmitted
// SYN makes a new request), and deciding it later is an error. While a
// request is held, the client's retransmissions of its SYN are dropped.
type TCPForwarder struct {
	s       *Stack
	max     int
	timeout time.Duration
	held    map[tcp.Tuple]*TCPRequest
	byAge   []*TCPRequest // arrival order, which is deadline order; decided ones until compacted
	fresh   []*TCPRequest // not yet handed out by Next
	notify  func()
	stats   ForwarderStats
	closed  bool
}

// ForwarderStats counts what a TCPForwarder did.
type ForwarderStats struct {
	Requests  uint64 // SYNs held as requests
	Completed uint64 // requests that became connections
	Refused   uint64 // requests refused (RST or ICMP)
	Expired   uint64 // requests that timed out undecided
	Dropped   uint64 // SYNs dropped: max requests held, or the connection limit
	Dups      uint64 // retransmitted SYNs of a held request, dropped
}

// TCPRequest is one held SYN.
type TCPRequest struct {
	f        *TCPForwarder
	t        tcp.Tuple
	syn      wire.Segment // without its payload
	deadline clock.Time
	// prev is, if reopened, the connection that was in TIME-WAIT
	// (timewait.go), aborted: the new incarnation's ISS is above its
	// SND.NXT (ReopenISS).
	prev    *tcp.Conn
	decided bool // completed, refused, expired, or the forwarder closed
	expired bool
}

// Refusal is how a TCPRequest is refused.
type Refusal uint8

const (
	// RefuseReset answers the SYN with a RST, as a closed port does
	// (RFC 9293 §3.10.7.1): the client sees "connection refused".
	RefuseReset Refusal = iota
	// RefuseNetUnreachable answers with an ICMP Destination Unreachable,
	// net unreachable (ICMPv6: no route to destination).
	RefuseNetUnreachable
	// RefuseHostUnreachable answers with host unreachable (ICMPv6: address
	// unreachable).
	RefuseHostUnreachable
	// RefusePortUnreachable answers with port unreachable.
	RefusePortUnreachable
	// RefuseProhibited answers with communication administratively
	// prohibited.
	RefuseProhibited
)

func (r Refusal) String() string {
	switch r {
	case RefuseReset:
		return "RST"
	case RefuseNetUnreachable:
		return "net unreachable"
	case RefuseHostUnreachable:
		return "host unreachable"
	case RefusePortUnreachable:
		return "port unreachable"
	case RefuseProhibited:
		return "administratively prohibited"
	}
	return fmt.Sprintf("Refusal(%d)", uint8(r))
}

// codes returns the ICMP and ICMPv6 Destination Unreachable codes of r.
func (r Refusal) codes() (uint8, uint8) {
	switch r {
	case RefuseNetUnreachable:
		return wire.ICMPv4NetUnreachable, wire.ICMPv6NoRoute
	case RefuseHostUnreachable:
		return wire.ICMPv4HostUnreachable, wire.ICMPv6AddressUnreachable
	case RefusePortUnreachable:
		return wire.ICMPv4PortUnreachable, wire.ICMPv6PortUnreachable
	default:
		return wire.ICMPv4AdminProhibited, wire.ICMPv6AdminProhibited
	}
}

// Errors of deciding a TCPRequest.
var (
	ErrRequestExpired = errors.New("forwarded SYN expired before it was decided")
	ErrRequestDecided = errors.New("forwarded SYN already decided")
)

// ForwardTCP starts the TCP forwarder: from now on a SYN for a port with
// no listener, on any address (the stack needs Config.AnyDestination), is
// held as a TCPRequest instead of being answered. It takes precedence over
// ListenAny's listener. max bounds the requests held at once (default
// 1024) and timeout how long each is held (default 30 s).
func (s *Stack) ForwardTCP(max int, timeout time.Duration) (*TCPForwarder, error) {
	switch {
	case !s.cfg.AnyDestination:
		return nil, fmt.Errorf("forward tcp: stack %q does not have Config.AnyDestination", s.cfg.Name)
	case s.fwd != nil:
		return nil, fmt.Errorf("forward tcp: %w", ErrAddrInUse)
	}
	if max <= 0 {
		max = 1024
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	s.fwd = &TCPForwarder{s: s, max: max, timeout: timeout, held: make(map[tcp.Tuple]*TCPRequest)}
	return s.fwd, nil
}

// SetNotify sets a function called (during Input) when a new request is
// held; Next hands it out.
func (f *TCPForwarder) SetNotify(fn func()) { f.notify = fn }

// Next returns the next request not yet handed out, or nil.
func (f *TCPForwarder) Next() *TCPRequest {
	for len(f.fresh) > 0 {
		r := f.fresh[0]
		f.fresh[0] = nil
		f.fresh = f.fresh[1:]
		if !r.decided {
			return r
		}
	}
	return nil
}

// Pending returns how many requests are held.
func (f *TCPForwarder) Pending() int { return len(f.held) }

// Stats returns the forwarder's counters.
func (f *TCPForwarder) Stats() ForwarderStats { return f.stats }

// Close stops forwarding: the held requests are forgotten (deciding them
// is an error) and SYNs get the no-listener answers again.
func (f *TCPForwarder) Close() {
	if f.closed {
		return
	}
	f.closed = true
	for _, r := range f.held {
		r.decided = true
	}
	clear(f.held)
	f.byAge, f.fresh = nil, nil
	if f.s.fwd == f {
		f.s.fwd = nil
	}
}

// reopen holds a SYN that shows a new incarnation of e, in TIME-WAIT
// (RFC 6191, as a listener's reopen does): e is freed, and the new
// connection's ISS will be above its SND.NXT (RFC 1122 §4.2.2.13).
func (f *TCPForwarder) reopen(now clock.Time, e *entry, t tcp.Tuple, seg *wire.Segment) bool {
	s := f.s
	if f.held[t] != nil || len(f.held) >= f.max {
		return f.offer(now, t, seg) // dropped as a duplicate or beyond the bound
	}
	old := e.conn
	s.note(now, t, "SYN in TIME-WAIT from a new incarnation: reopened for the forwarder (RFC 6191)")
	s.step(now, e, func() { old.Abort(now) })
	s.recordSeg(now, trace.SegmentIn, t, seg, 0)
	if !f.offer(now, t, seg) {
		return false
	}
	r := f.held[t]
	r.prev = old
	return true
}

// offer holds seg, a segment for t with no connection and no port's
// listener, if it is a SYN. false leaves it to the other rules.
func (f *TCPForwarder) offer(now clock.Time, t tcp.Tuple, seg *wire.Segment) bool {
	if seg.Flags&(wire.SYN|wire.ACK|wire.RST|wire.FIN) != wire.SYN {
		return false
	}
	s := f.s
	switch {
	case f.held[t] != nil:
		f.stats.Dups++
		if s.cfg.Recorder != nil {
			s.note(now, t, "SYN dropped: a SYN of this connection is held for the forwarder")
		}
		return true
	case len(f.held) >= f.max:
		f.stats.Dropped++
		s.ctr.ListenDrops++
		s.recordSeg(now, trace.Drop, t, seg, trace.DropSynQueueFull)
		return true
	case s.atConnLimit():
		f.stats.Dropped++
		s.ctr.ListenDrops++
		s.ctr.ConnLimitDrops++
		s.recordSeg(now, trace.Drop, t, seg, trace.DropConnLimit)
		return true
	}
	r := &TCPRequest{f: f, t: t, syn: *seg, deadline: now.Add(f.timeout)}
	// Data in the SYN is not kept, so that a held SYN costs the same
	// whatever it carried: the SYN-ACK acknowledges the SYN alone and the
	// client sends the data again, as Linux without TCP Fast Open does
	// (RFC 9293 §3.10.7.2 has such data "queued for processing later", a
	// should).
	r.syn.Payload = nil
	f.held[t] = r
	f.byAge = append(f.byAge, r)
	f.fresh = append(f.fresh, r)
	f.stats.Requests++
	if s.cfg.Recorder != nil {
		s.note(now, t, "SYN held for the forwarder")
	}
	if f.notify != nil {
		f.notify()
	}
	return true
}

// nextDeadline returns when the oldest held request expires.
func (f *TCPForwarder) nextDeadline() clock.Time {
	f.compact()
	if len(f.byAge) == 0 {
		return clock.Never
	}
	return f.byAge[0].deadline
}

// expire forgets the requests whose deadline is at or before now.
func (f *TCPForwarder) expire(now clock.Time) {
	f.compact()
	for len(f.byAge) > 0 && f.byAge[0].deadline <= now {
		r := f.byAge[0]
		f.byAge[0] = nil
		f.byAge = f.byAge[1:]
		r.forget()
		r.expired = true
		f.stats.Expired++
		if f.s.cfg.Recorder != nil {
			f.s.note(now, r.t, "forwarded SYN expired undecided")
		}
		f.compact()
	}
}

// compact drops decided requests from the front of byAge.
func (f *TCPForwarder) compact() {
	for len(f.byAge) > 0 && f.byAge[0].decided {
		f.byAge[0] = nil
		f.byAge = f.byAge[1:]
	}
}

func (r *TCPRequest) forget() {
	r.decided = true
	if r.f.held[r.t] == r {
		delete(r.f.held, r.t)
	}
}

// Tuple returns the request's 4-tuple: Local is the destination the client
// dialled, Remote the client.
func (r *TCPRequest) Tuple() tcp.Tuple { return r.t }

// SYN returns the held SYN.
func (r *TCPRequest) SYN() wire.Segment { return r.syn }

// Deadline returns when the request expires.
func (r *TCPRequest) Deadline() clock.Time { return r.deadline }

func (r *TCPRequest) check(now clock.Time) error {
	switch {
	case r.expired:
		return ErrRequestExpired
	case r.decided:
		return ErrRequestDecided
	case r.deadline <= now:
		r.f.expire(now)
		return ErrRequestExpired
	}
	return nil
}

// Complete accepts the request: the held SYN goes to a new passive
// connection, which answers it with its SYN-ACK (RFC 9293 §3.10.7.2) and
// is returned in SYN-RECEIVED. It belongs to no listener: the caller holds
// it, as it holds a connection it opened.
func (r *TCPRequest) Complete(now clock.Time) (*tcp.Conn, error) {
	if err := r.check(now); err != nil {
		return nil, err
	}
	r.forget()
	s := r.f.s
	if s.atConnLimit() {
		r.f.stats.Dropped++
		s.ctr.ConnLimitDrops++
		s.recordSeg(now, trace.Drop, r.t, &r.syn, trace.DropConnLimit)
		return nil, fmt.Errorf("complete forwarded SYN: %w", ErrTooManyConns)
	}
	r.f.stats.Completed++
	iss := tcp.ISN(s.cfg.ISNKey, r.t, now)
	if r.prev != nil {
		iss = r.prev.ReopenISS(iss)
	}
	c := s.pol.NewPassive(r.t, iss)
	s.capConn(now, c, r.t.Remote.Addr())
	e := &entry{conn: c, state: tcp.Listen}
	s.add(e)
	s.step(now, e, func() { c.Input(now, &r.syn) })
	return c, nil
}

// Refuse answers the request with how: a RST as from a closed port, or an
// ICMP Destination Unreachable from the destination quoting the SYN (rate
// limited with the stack's other ICMP errors; a refusal over the limit
// sends nothing).
func (r *TCPRequest) Refuse(now clock.Time, how Refusal) error {
	if err := r.check(now); err != nil {
		return err
	}
	r.forget()
	r.f.stats.Refused++
	s := r.f.s
	if how == RefuseReset {
		// RFC 9293 §3.10.7.1: "If the ACK bit is off, sequence number zero
		// is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>".
		rst, _ := tcp.ResetFor(&r.syn)
		s.note(now, r.t, "forwarded SYN refused with RST")
		s.sendRaw(now, r.t, &rst)
		return nil
	}
	src, dst := r.t.Remote.Addr(), r.t.Local.Addr()
	var ip wire.IP
	var pkt []byte
	if src.Is4() {
		ip = wire.IP{Version: 4, V4: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: src, Dst: dst}}
	} else {
		ip = wire.IP{Version: 6, V6: wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: src, Dst: dst}}
	}
	pkt = ip.Append(pkt, r.syn.Len())
	pkt = r.syn.Append(pkt, src, dst)
	c4, c6 := how.codes()
	if !s.destUnreachable(now, &ip, pkt, c4, c6) {
		s.note(now, r.t, "forwarded SYN refused: "+how.String()+" not sent: rate limit")
		return nil
	}
	s.note(now, r.t, "forwarded SYN refused with "+how.String())
	return nil
}
