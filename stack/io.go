package stack

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Input hands the stack one IPv4 or IPv6 packet from its link. The packet
// is only read during the call.
func (s *Stack) Input(now clock.Time, pkt []byte) {
	ip, payload, err := wire.ParseIP(pkt)
	if err != nil && errors.Is(err, wire.ErrFragment) {
		// A fragment goes to reassembly (frag.go); the datagram it
		// completes goes on as a packet that came whole. A fragment in a
		// reassembled datagram (an IPv6 Fragment header inside the
		// fragmentable part) is an error below, so this never nests.
		if pkt = s.reassemble(now, pkt); pkt == nil {
			return
		}
		if s.cfg.Reassembled != nil && !s.cfg.Reassembled(pkt) {
			return // the driver took it (Config.Reassembled)
		}
		ip, payload, err = wire.ParseIP(pkt)
	}
	if err != nil {
		// A packet that is not well-formed IP is counted in InErrs, as a
		// malformed TCP segment is (Linux counts it in the IP MIB, which
		// the stack does not keep).
		s.badPacket(now, err)
		return
	}
	src, dst := ip.Src(), ip.Dst()
	if ip.Version == 6 && (src.Is4In6() || dst.Is4In6()) {
		// An IPv4-mapped address is an API's way of naming an IPv4 peer,
		// never a packet's: Linux drops such packets too.
		s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropMalformed,
			Reason: "IPv4-mapped address in an IPv6 header: " + src.String() + " > " + dst.String()})
		s.ctr.InSegs++
		s.ctr.InErrs++
		return
	}
	switch ip.Protocol() {
	case wire.ProtocolTCP:
		seg, err := s.parseTCP(payload, src, dst)
		if err != nil {
			s.badPacket(now, err)
			return
		}
		s.inputTCP(now, src, dst, &seg)
	case wire.ProtocolUDP:
		s.inputUDP(now, &ip, pkt, payload)
	case wire.ProtocolICMP:
		if ip.Version == 4 {
			s.inputICMPv4(now, &ip, payload)
			return
		}
		s.unknownProto(now, &ip)
	case wire.ProtocolICMPv6:
		if ip.Version == 6 {
			s.inputICMPv6(now, &ip, payload)
			return
		}
		s.unknownProto(now, &ip)
	default:
		s.unknownProto(now, &ip)
	}
}

// badPacket counts and records a packet a parser rejected: in InErrs when
// it got as far as TCP (as Linux's TCP_MIB_INERRS counts checksum and
// header errors), and IP errors there too.
func (s *Stack) badPacket(now clock.Time, err error) {
	s.ctr.InSegs++
	s.ctr.InErrs++
	s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: parseCause(err), Reason: err.Error()})
}

// unknownProto drops a packet of a protocol the host does not speak. RFC
// 1122 §3.2.2.1 has a host send a Protocol Unreachable then (a SHOULD); synack
// sends no ICMP errors of its own.
func (s *Stack) unknownProto(now clock.Time, ip *wire.IP) {
	if !s.ours(ip.Dst()) && !s.cfg.AnyDestination {
		s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropNotAddressed, Reason: ip.String()})
		return
	}
	s.ctr.InUnknownProtos++
	if s.cfg.Recorder != nil {
		s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropMalformed,
			Reason: "protocol " + strconv.Itoa(int(ip.Protocol())) + " not supported: " + ip.String()})
	}
}

func (s *Stack) inputTCP(now clock.Time, src, dst netip.Addr, seg *wire.Segment) {
	t := tcp.Tuple{
		Local:  netip.AddrPortFrom(dst, seg.DstPort),
		Remote: netip.AddrPortFrom(src, seg.SrcPort),
	}
	if !s.ours(dst) && !s.cfg.AnyDestination {
		s.recordSeg(now, trace.Drop, t, seg, trace.DropNotAddressed)
		return
	}
	s.ctr.InSegs++
	if s.martian(now, t, seg) {
		return
	}
	e := s.lookup(t)
	if e != nil && s.reopen(now, e, t, seg) {
		return
	}
	s.recordSeg(now, trace.SegmentIn, t, seg, 0)
	if e != nil {
		c := s.whole(e)
		s.step(now, e, func() { c.Input(now, seg) })
		return
	}
	l := s.listeners[famIndex(dst)][t.Local.Port()]
	if l == nil && s.fwd != nil && s.fwd.offer(now, t, seg) {
		return
	}
	if l == nil {
		l = s.anyL
	}
	if l != nil && s.toListener(now, l, t, seg) {
		return
	}
	// No connection: RFC 9293 §3.10.7.1 (CLOSED) for a closed port, and for
	// a listening port the LISTEN rules of §3.10.7.2, which answer an ACK
	// the same way and ignore an RST. Both families alike.
	if rst, ok := tcp.ResetFor(seg); ok {
		if l != nil && seg.Flags&wire.ACK == 0 {
			s.recordSeg(now, trace.Drop, t, seg, trace.DropListenNoSYN)
			return
		}
		s.note(now, t, "no connection: answered with RST")
		s.sendRaw(now, t, &rst)
		return
	}
	s.recordSeg(now, trace.Drop, t, seg, trace.DropResetNoConn)
}

// recordSeg records an event about seg; why is the cause of a Drop.
func (s *Stack) recordSeg(now clock.Time, k trace.Kind, t tcp.Tuple, seg *wire.Segment, why trace.DropCause) {
	if s.cfg.Recorder == nil {
		return
	}
	e := trace.Event{At: now, Kind: k, Local: t.Local, Remote: t.Remote, Cause: why}
	e.SetSegment(seg)
	s.record(&e)
}

// parseCause is the drop cause of a packet wire.ParsePacket rejected.
func parseCause(err error) trace.DropCause {
	switch {
	case errors.Is(err, wire.ErrChecksum):
		return trace.DropChecksum
	case errors.Is(err, wire.ErrTruncated):
		return trace.DropTruncated
	case errors.Is(err, wire.ErrFragment):
		return trace.DropFragment
	}
	return trace.DropMalformed
}

func (s *Stack) note(now clock.Time, t tcp.Tuple, what string) {
	if s.cfg.Recorder != nil {
		s.record(&trace.Event{At: now, Kind: trace.Note, Local: t.Local, Remote: t.Remote, Reason: what})
	}
}

// step runs f, a call into e's connection, then brings the stack's view up
// to date: counters for the state changes f caused, the listener's accept
// queue, and removal of a finished TCB (after its last output).
func (s *Stack) step(now clock.Time, e *entry, f func()) {
	f()
	s.observe(e)
	if n, mss := e.conn.PathNews(); n != tcp.NoPathNews {
		s.learnPath(now, e, n, mss) // pmtu.go
	}
	s.touch(e)
	s.enforce(now)
}

func (s *Stack) observe(e *entry) {
	c := e.conn
	before, after := e.state, c.State()
	defer s.track(e)
	if before != after {
		e.state = after
		switch {
		case before == tcp.Listen && after == tcp.SynReceived:
			s.ctr.PassiveOpens++
		case (before == tcp.SynSent || before == tcp.SynReceived) && (after == tcp.Closed || after == tcp.Listen):
			s.ctr.AttemptFails++
		case (before == tcp.Established || before == tcp.CloseWait) && after == tcp.Closed:
			s.ctr.EstabResets++
		}
	}
	if l := e.listener; l != nil && !e.queued && after != tcp.SynReceived && after != tcp.Listen && after != tcp.Closed {
		// Established (or further, if the peer already sent its FIN): ready
		// for Accept.
		e.queued = true
		e.pinned = true // the application will hold it
		l.leaveSynQueue(e)
		l.queue = append(l.queue, c)
	}
}

// Write, Read, Close and Abort are the user calls of RFC 9293 §3.10 on a
// connection of this stack; going through the stack keeps its counters and
// queues right.

// Write queues data on c.
func (s *Stack) Write(now clock.Time, c *tcp.Conn, p []byte) (int, error) {
	var n int
	var err error
	s.call(now, c, func() { n, err = c.Write(now, p) })
	return n, err
}

// Read reads received data from c.
func (s *Stack) Read(now clock.Time, c *tcp.Conn, p []byte) int {
	var n int
	s.call(now, c, func() { n = c.Read(now, p) })
	return n
}

// Close is CLOSE on c: a FIN follows the queued data.
func (s *Stack) Close(now clock.Time, c *tcp.Conn) error {
	var err error
	s.call(now, c, func() { err = c.Close(now) })
	return err
}

// Abort is ABORT on c: RST if synchronized, and the TCB is deleted.
func (s *Stack) Abort(now clock.Time, c *tcp.Conn) {
	s.call(now, c, func() { c.Abort(now) })
}

func (s *Stack) call(now clock.Time, c *tcp.Conn, f func()) {
	if e := s.entryOf(c); e != nil && e.conn == c {
		s.step(now, e, f)
		return
	}
	f()
}

// Output builds and hands to emit every packet that is due, connection by
// connection in creation order, and deletes TCBs that are done. pkt is only
// valid during the call.
func (s *Stack) Output(now clock.Time, emit func(pkt []byte)) {
	s.OutputTo(now, nil, emit)
}

// OutputTo is Output building each TCP packet directly in a buffer that
// alloc returns (a link's own, link.ZeroCopy: the packet is then built
// once and never copied): alloc(n) returns an empty slice with a capacity
// of at least n bytes, or nil to have the packet built in the stack's own
// buffer. emit is called with the packet, in alloc's array when alloc
// gave one; other packets (ICMP, and those alloc declined) are in the
// stack's buffers, valid only during the call. A nil alloc is Output.
func (s *Stack) OutputTo(now clock.Time, alloc func(n int) []byte, emit func(pkt []byte)) {
	s.emitFn, s.allocFn, s.curNow = emit, alloc, now
	if s.poolTrimAt == clock.Never && s.pool.over() {
		s.poolTrimAt = now.Add(poolTrimDelay) // pool.go
	}
	for _, e := range s.pendingRaw {
		s.ship(e.t.Local.Addr(), e.t.Remote.Addr(), &e.seg)
	}
	clear(s.pendingRaw)
	s.pendingRaw = s.pendingRaw[:0]
	for _, p := range s.pendingPkts {
		emit(p)
	}
	clear(s.pendingPkts)
	s.pendingPkts = s.pendingPkts[:0]
	// Only connections called into since the last Output can have
	// something to send; they go in creation order.
	slices.SortFunc(s.dirty, byID)
	clear(s.changed)
	s.changed = s.changed[:0]
	for i, e := range s.dirty {
		s.dirty[i] = nil
		e.dirty = false
		if e.removed {
			continue
		}
		s.changed = append(s.changed, e.conn)
		s.cur = e
		if e.pathEpoch != s.pmtu.epoch {
			s.syncPath(now, e) // pmtu.go
		}
		e.conn.Output(now, s.segEmit)
		s.observe(e)
		if n, mss := e.conn.PathNews(); n != tcp.NoPathNews {
			s.learnPath(now, e, n, mss) // pmtu.go
		}
		if e.conn.Done() {
			s.remove(e)
			s.track(e)
			if e.half != nil && !e.pinned {
				// A half-open connection given up: nobody outside the
				// stack ever held it (halfopen.go).
				s.spare = e.conn
				s.changed = s.changed[:len(s.changed)-1]
			}
			continue
		}
		s.rearm(e)
		if s.freeze(e) {
			// Nobody outside the stack holds a half-open connection.
			s.changed = s.changed[:len(s.changed)-1]
		}
	}
	s.dirty = s.dirty[:0]
	if s.nremoved > 32 && 2*s.nremoved > len(s.order) {
		live := s.order[:0]
		for _, e := range s.order {
			if !e.removed {
				live = append(live, e)
			}
		}
		clear(s.order[len(live):])
		s.order = live
		s.nremoved = 0
	}
	s.cur, s.emitFn, s.allocFn = nil, nil, nil
}

// Changed returns the connections that were called into (by Input, a user
// call, HandleTimeout or Update) between the previous Output and the last
// one, in creation order, including those it deleted: a driver that waits
// for a condition of a connection need only look at these. A listener's
// half-open connection that was never handed out (Conns, Lookup, Accept)
// is not listed: nothing outside the stack holds it, and its Conn is
// reused (halfopen.go). The slice is valid until the next Output.
func (s *Stack) Changed() []*tcp.Conn { return s.changed }

func (s *Stack) remove(e *entry) {
	e.removed = true
	s.nremoved++
	s.rearm(e)
	if k := e.conn.Key(); k != (tcp.Key{}) {
		if s.conns[k] == e {
			delete(s.conns, k)
		}
	} else if t := e.conn.Tuple(); s.conns6[t] == e {
		delete(s.conns6, t)
	}
	if l := e.listener; l != nil {
		if !e.queued {
			l.leaveSynQueue(e)
		}
		if e.queued {
			for i, c := range l.queue {
				if c == e.conn {
					l.queue = append(l.queue[:i], l.queue[i+1:]...)
					break
				}
			}
		}
		e.listener = nil
	}
}

type rawSeg struct {
	t   tcp.Tuple
	seg wire.Segment
}

// sendRaw queues a segment the stack itself answers with (a RST for no
// connection, a SYN cookie); it leaves on the next Output.
func (s *Stack) sendRaw(now clock.Time, t tcp.Tuple, seg *wire.Segment) {
	s.recordSeg(now, trace.SegmentOut, t, seg, 0)
	s.ctr.OutSegs++
	if seg.Flags&wire.RST != 0 {
		s.ctr.OutRsts++
	}
	s.pendingRaw = append(s.pendingRaw, rawSeg{t: t, seg: *seg})
}

func (s *Stack) emitSegment(seg *wire.Segment, retransmit bool) {
	if retransmit {
		s.ctr.RetransSegs++
	} else if g := int(seg.GSOSize); g > 0 {
		// A super-segment counts as the segments the link cuts it into.
		s.ctr.OutSegs += uint64((len(seg.Payload) + g - 1) / g)
	} else {
		s.ctr.OutSegs++
	}
	if seg.Flags&wire.RST != 0 {
		s.ctr.OutRsts++
	}
	c := s.cur.conn
	if k := c.Key(); k != (tcp.Key{}) {
		s.ship(netip.AddrFrom4(k.LocalAddr), netip.AddrFrom4(k.RemoteAddr), seg)
		return
	}
	t := c.Tuple()
	s.ship(t.Local.Addr(), t.Remote.Addr(), seg)
}

// ship builds the IP packet of seg and emits it. IPv4 packets have DF set
// (RFC 1191 §3: path MTU discovery "uses the Don't Fragment (DF) bit");
// IPv6 has no fragmentation on the path at all (RFC 8200 §5).
//
// The packet is built in the buffer OutputTo's alloc lends, if it lends
// one, else in s.buf: either way the payload is copied once, from the
// send buffer into the packet.
func (s *Stack) ship(src, dst netip.Addr, seg *wire.Segment) {
	n := seg.Len() + 20
	if !src.Is4() {
		n += 20
	}
	var b []byte
	if s.allocFn != nil {
		b = s.allocFn(n)
	}
	own := b == nil
	if own {
		b = s.buf[:0]
	}
	if src.Is4() {
		s.ipID++
		p := wire.Packet{
			IP:  wire.IPv4{ID: s.ipID, DontFragment: true, TTL: 64, Protocol: wire.ProtocolTCP, Src: src, Dst: dst},
			TCP: *seg,
		}
		if s.cfg.LinkOffloadsChecksums {
			b = p.AppendNoChecksum(b)
		} else {
			b = p.Append(b)
		}
	} else {
		ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: src, Dst: dst}
		b = ip.Append(b, seg.Len())
		if s.cfg.LinkOffloadsChecksums {
			b = seg.AppendNoChecksum(b)
		} else {
			b = seg.Append(b, src, dst)
		}
	}
	if own {
		s.buf = b
	}
	s.emitFn(b)
}
