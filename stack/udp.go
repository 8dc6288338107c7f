package stack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// UDP (RFC 768) endpoints of the host.
//
// An endpoint is bound to a local port, for IPv4, IPv6 or both (Family),
// on one of the host's addresses or on all of them; it may be connected to
// one remote address and port, and then takes only that peer's datagrams.
// A datagram goes to the endpoint that matches it most exactly, as Linux's
// compute_score chooses: a connected endpoint before an unconnected one,
// one bound to the datagram's destination address before a wildcard one.
// UDP ports are a space of their own, apart from TCP's; ephemeral ports
// come from the same range (Config.EphemeralLow to EphemeralHigh), chosen
// as RFC 6056 §3.3.1 (Algorithm 1) does.
//
// Each endpoint has a receive queue bounded in datagrams and in bytes of
// data (SetRecvBuffer); a datagram that does not fit is dropped and counted
// (UdpRcvbufErrors and UdpInErrors, as Linux counts both). A datagram for
// no endpoint is counted in UdpNoPorts and answered with an ICMP or ICMPv6
// Port Unreachable (RFC 1122 §4.1.3.1: "If a datagram arrives addressed to
// a UDP port for which there is no pending LISTEN call, UDP SHOULD send an
// ICMP Port Unreachable message"), at most Config.EchoRate a second with
// bursts of Config.EchoBurst, in a token bucket of its own (Linux limits
// its ICMP errors with icmp_msgs_per_sec and icmp_msgs_burst). Over IPv6 a
// datagram with a zero checksum is dropped (RFC 8200 §8.1), in UdpInErrors
// and UdpInCsumErrors like any checksum failure.
//
// An ICMP or ICMPv6 error that quotes a datagram of an endpoint goes to it
// as Linux without IP_RECVERR does: a hard error (Port Unreachable,
// Protocol Unreachable, the prohibited codes) is reported by the next
// Recv or Send of a connected endpoint, and is ignored by an unconnected
// one; a Fragmentation Needed or Packet Too Big lowers the path MTU.
//
// With Config.AnyDestination, ListenUDPAny's endpoint takes the datagrams
// for any address and port that no bound endpoint takes, each with its
// original destination (Datagram.Dst), and answers with SendFrom.
//
// A datagram whose IP packet would exceed the path MTU is sent in
// fragments, as Linux does for a UDP socket by default (IP_PMTUDISC_WANT,
// IPV6_PMTUDISC_WANT): IPv4 fragments (RFC 791 §3.2) without DF, cut on
// 8-byte boundaries to fit the path MTU, and IPv6 fragments with a
// Fragment header (RFC 8200 §4.5: "the source node may divide the
// packet into fragments"), whose Identification is drawn from
// Config.Rand for each datagram (RFC 7739 §5 asks for one an attacker
// cannot predict). A datagram that fits goes in one packet, with DF set
// over IPv4 as before (Linux sets it then too, to learn the path MTU).
// SetDontFragment(true) is IP_PMTUDISC_DO or IPV6_DONTFRAG: such a
// datagram is refused with ErrMessageTooLong instead. The largest
// datagram is 65507 bytes of data over IPv4 (a 65535-byte Total Length)
// and 65527 over IPv6 (a 65535-byte Payload Length), as on Linux.
// Incoming fragments are reassembled (frag.go). Multicast and broadcast
// are not supported.

// UDPCounters are named after Linux's Udp MIB (/proc/net/snmp, the
// "Udp:" and "Udp6:" lines added up).
type UDPCounters struct {
	// InDatagrams counts datagrams queued to an endpoint (Linux counts
	// them when read).
	InDatagrams  uint64
	NoPorts      uint64 // datagrams for a port no endpoint has
	InErrors     uint64 // malformed, bad checksum, or dropped for a full receive queue
	RcvbufErrors uint64 // dropped for a full receive queue
	InCsumErrors uint64 // bad checksum (and IPv6's zero checksum)
	OutDatagrams uint64 // datagrams sent
	// OutDestUnreachs counts the Destination Unreachable messages sent:
	// Port Unreachable for UDP, and a TCPForwarder's refusals (Linux's
	// IcmpOutDestUnreachs), and OutRateLimited those not sent for the rate
	// limit (Linux's IcmpOutRateLimitGlobal).
	OutDestUnreachs uint64
	OutRateLimited  uint64
	// IcmpErrors counts ICMP errors handed to a connected endpoint as its
	// error.
	IcmpErrors uint64
}

// Datagram is a received UDP datagram: its source, its destination (the
// original one, for the any-destination endpoint) and its data.
type Datagram struct {
	Src, Dst netip.AddrPort
	Payload  []byte
}

// Errors of UDP calls.
var (
	ErrEndpointClosed = errors.New("endpoint closed")
	ErrNotConnected   = errors.New("destination address required: endpoint not connected")
	ErrIsConnected    = errors.New("endpoint is connected: no other destination")
	// ErrMessageTooLong: the datagram does not fit in one IP packet of
	// the path MTU and the endpoint has SetDontFragment, or it does not
	// fit in a 65535-byte IPv4 datagram or IPv6 payload.
	ErrMessageTooLong = errors.New("message too long")
)

// Default receive queue bounds of an endpoint: 256 datagrams, and Linux's
// rmem_default (212992) bytes of data.
const (
	DefaultUDPRecvDatagrams = 256
	DefaultUDPRecvBytes     = 212992
)

// UDPEndpoint is a UDP socket of the host.
type UDPEndpoint struct {
	s      *Stack
	fam    Family
	local  netip.AddrPort // address invalid: all of the host's addresses
	remote netip.AddrPort // valid when connected
	any    bool

	queue      []Datagram
	head       int
	bytes      int
	maxD, maxB int
	err        error
	closed     bool
	notify     func()
	dontFrag   bool // SetDontFragment
}

// SetDontFragment(true) refuses a datagram over the path MTU with
// ErrMessageTooLong instead of sending it in fragments (Linux's
// IP_MTU_DISCOVER set to IP_PMTUDISC_DO, or IPV6_DONTFRAG); false, the
// default, fragments it.
func (e *UDPEndpoint) SetDontFragment(on bool) { e.dontFrag = on }

// udpState is the stack's UDP table and counters.
type udpState struct {
	ports  map[uint16][]*UDPEndpoint
	any    *UDPEndpoint
	ctr    UDPCounters
	errors bucket // the ICMP errors' (Port Unreachable)
	inited bool
}

// UDPCounters returns a snapshot of the UDP counters.
func (s *Stack) UDPCounters() UDPCounters { return s.udp.ctr }

func (u *udpState) init() {
	if !u.inited {
		u.inited = true
		u.ports = make(map[uint16][]*UDPEndpoint)
	}
}

// BindUDP opens an endpoint on local for the families fam. local's address
// may be unspecified (all of the host's addresses) or one of the host's;
// port 0 picks an ephemeral port.
func (s *Stack) BindUDP(fam Family, local netip.AddrPort) (*UDPEndpoint, error) {
	s.udp.init()
	a := local.Addr().Unmap().WithZone("")
	switch {
	case !a.IsValid() || a.IsUnspecified():
		a = netip.Addr{}
	case !s.ours(a):
		return nil, fmt.Errorf("udp bind %v: %w", local, ErrInvalidTarget)
	case a.Is4() && fam == IPv6 || a.Is6() && fam == IPv4:
		return nil, fmt.Errorf("udp bind %v (%v): %w", local, fam, ErrInvalidTarget)
	case a.Is4():
		fam = IPv4
	default:
		fam = IPv6
	}
	port := local.Port()
	if port == 0 {
		p, ok := s.udpEphemeral(fam, a)
		if !ok {
			return nil, fmt.Errorf("udp bind %v: %w", local, ErrNoPorts)
		}
		port = p
	} else if !s.udpFree(fam, a, port) {
		return nil, fmt.Errorf("udp bind %v (%v): %w", netip.AddrPortFrom(a, port), fam, ErrAddrInUse)
	}
	e := &UDPEndpoint{s: s, fam: fam, local: netip.AddrPortFrom(a, port), maxD: DefaultUDPRecvDatagrams, maxB: DefaultUDPRecvBytes}
	s.udp.ports[port] = append(s.udp.ports[port], e)
	return e, nil
}

// ListenUDPAny opens the endpoint that takes the datagrams for any address
// and port which no bound endpoint takes; it needs Config.AnyDestination.
func (s *Stack) ListenUDPAny() (*UDPEndpoint, error) {
	s.udp.init()
	if !s.cfg.AnyDestination {
		return nil, fmt.Errorf("udp on any destination: stack %q does not have Config.AnyDestination", s.cfg.Name)
	}
	if s.udp.any != nil {
		return nil, fmt.Errorf("udp on any destination: %w", ErrAddrInUse)
	}
	s.udp.any = &UDPEndpoint{s: s, any: true, maxD: DefaultUDPRecvDatagrams, maxB: DefaultUDPRecvBytes}
	return s.udp.any, nil
}

// udpFree reports whether port is free for a binding of fam on a (invalid
// a: every address).
func (s *Stack) udpFree(fam Family, a netip.Addr, port uint16) bool {
	for _, e := range s.udp.ports[port] {
		famOverlap := e.fam == AnyFamily || fam == AnyFamily || e.fam == fam
		addrOverlap := !e.local.Addr().IsValid() || !a.IsValid() || e.local.Addr() == a
		if famOverlap && addrOverlap {
			return false
		}
	}
	return true
}

// udpEphemeral picks a free port: RFC 6056 §3.3.1 (Algorithm 1), a random
// starting point, then the next free port.
func (s *Stack) udpEphemeral(fam Family, a netip.Addr) (uint16, bool) {
	lo, hi := int(s.cfg.EphemeralLow), int(s.cfg.EphemeralHigh)
	span := hi - lo + 1
	start := int(s.cfg.Rand.Uint64() % uint64(span))
	for i := 0; i < span; i++ {
		port := uint16(lo + (start+i)%span)
		if s.udpFree(fam, a, port) {
			return port, true
		}
	}
	return 0, false
}

// LocalAddr returns the bound address and port (the address is invalid
// for an endpoint bound to all of the host's addresses, and the whole
// value for the any-destination endpoint).
func (e *UDPEndpoint) LocalAddr() netip.AddrPort { return e.local }

// RemoteAddr returns the connected peer, or the zero AddrPort.
func (e *UDPEndpoint) RemoteAddr() netip.AddrPort { return e.remote }

// Family returns the families the endpoint takes datagrams of.
func (e *UDPEndpoint) Family() Family { return e.fam }

// SetNotify sets a function called (during Input) whenever a datagram or
// an error is queued to e: a driver wakes its readers there.
func (e *UDPEndpoint) SetNotify(f func()) { e.notify = f }

// SetRecvBuffer bounds the receive queue in datagrams and bytes of data
// (each at least 1).
func (e *UDPEndpoint) SetRecvBuffer(datagrams, bytes int) {
	e.maxD, e.maxB = max(datagrams, 1), max(bytes, 1)
}

// Queued returns how many datagrams wait to be read.
func (e *UDPEndpoint) Queued() int { return len(e.queue) - e.head }

// Connect connects e to remote: from now on it takes only remote's
// datagrams and Send with no destination goes there. An endpoint bound to
// all addresses takes the host's address of remote's family as its own,
// as Linux's connect does.
func (e *UDPEndpoint) Connect(remote netip.AddrPort) error {
	if e.closed {
		return ErrEndpointClosed
	}
	if e.any {
		return fmt.Errorf("udp connect %v: the any-destination endpoint cannot connect: %w", remote, ErrInvalidTarget)
	}
	remote, la, err := e.s.udpTarget(e, remote)
	if err != nil {
		return fmt.Errorf("udp connect %v: %w", remote, err)
	}
	if !e.local.Addr().IsValid() {
		e.local = netip.AddrPortFrom(la, e.local.Port())
		if la.Is4() {
			e.fam = IPv4
		} else {
			e.fam = IPv6
		}
	}
	e.remote = remote
	return nil
}

// udpTarget checks a destination of e and returns it canonical, with the
// source address to send from.
func (s *Stack) udpTarget(e *UDPEndpoint, to netip.AddrPort) (netip.AddrPort, netip.Addr, error) {
	ra := to.Addr().Unmap().WithZone("")
	to = netip.AddrPortFrom(ra, to.Port())
	if !ra.IsValid() || ra.IsUnspecified() || ra.IsMulticast() || to.Port() == 0 {
		return to, netip.Addr{}, ErrInvalidTarget
	}
	if !e.fam.has(famIndex(ra)) {
		return to, netip.Addr{}, ErrNoAddress
	}
	if la := e.local.Addr(); la.IsValid() {
		if la.Is4() != ra.Is4() {
			return to, netip.Addr{}, ErrNoAddress
		}
		return to, la, nil
	}
	la, ok := s.localAddr(ra)
	if !ok {
		return to, netip.Addr{}, ErrNoAddress
	}
	return to, la, nil
}

// Recv takes the next datagram, ok false if there is none. A pending error
// (an ICMP error on a connected endpoint) comes first, once.
func (e *UDPEndpoint) Recv() (d Datagram, ok bool, err error) {
	if e.closed {
		return Datagram{}, false, ErrEndpointClosed
	}
	if err := e.err; err != nil {
		e.err = nil
		return Datagram{}, false, err
	}
	if e.head == len(e.queue) {
		return Datagram{}, false, nil
	}
	d = e.queue[e.head]
	e.queue[e.head] = Datagram{}
	e.head++
	e.bytes -= len(d.Payload)
	if e.head == len(e.queue) {
		e.queue, e.head = e.queue[:0], 0
	}
	return d, true, nil
}

// Pending reports whether Recv has a datagram or an error to return.
func (e *UDPEndpoint) Pending() bool { return e.err != nil || e.head < len(e.queue) || e.closed }

// Send sends p to to, or to the connected peer if to is the zero
// AddrPort. The packet leaves on the next Output.
func (e *UDPEndpoint) Send(now clock.Time, to netip.AddrPort, p []byte) error {
	if e.closed {
		return ErrEndpointClosed
	}
	if e.any {
		return fmt.Errorf("udp send to %v: the any-destination endpoint sends with SendFrom: %w", to, ErrInvalidTarget)
	}
	if err := e.err; err != nil {
		e.err = nil
		return err
	}
	switch {
	case !to.IsValid() && !e.remote.IsValid():
		return ErrNotConnected
	case !to.IsValid():
		to = e.remote
	case e.remote.IsValid() && canonicalAP(to) != e.remote:
		return fmt.Errorf("udp send to %v: %w", to, ErrIsConnected)
	}
	to, la, err := e.s.udpTarget(e, to)
	if err != nil {
		return fmt.Errorf("udp send to %v: %w", to, err)
	}
	return e.s.sendUDP(now, netip.AddrPortFrom(la, e.local.Port()), to, p, e.dontFrag)
}

// SendFrom sends p from from to to: the any-destination endpoint answers
// a datagram from the address it was sent to.
func (e *UDPEndpoint) SendFrom(now clock.Time, from, to netip.AddrPort, p []byte) error {
	if e.closed {
		return ErrEndpointClosed
	}
	if !e.any {
		return fmt.Errorf("udp send from %v: only the any-destination endpoint chooses its source: %w", from, ErrInvalidTarget)
	}
	from, to = canonicalAP(from), canonicalAP(to)
	if !from.Addr().IsValid() || from.Addr().IsUnspecified() || from.Addr().IsMulticast() || from.Port() == 0 ||
		!to.Addr().IsValid() || to.Addr().IsUnspecified() || to.Addr().IsMulticast() || to.Port() == 0 ||
		from.Addr().Is4() != to.Addr().Is4() {
		return fmt.Errorf("udp send from %v to %v: %w", from, to, ErrInvalidTarget)
	}
	return e.s.sendUDP(now, from, to, p, e.dontFrag)
}

func canonicalAP(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap().WithZone(""), a.Port())
}

// sendUDP queues the IP packet of a datagram for the next Output, or its
// fragments if it is over the path MTU and df is false.
func (s *Stack) sendUDP(now clock.Time, from, to netip.AddrPort, p []byte, df bool) error {
	hl := ipHeaderLen(to.Addr())
	mtu := s.pathMTU(now, to.Addr())
	n := hl + 8 + len(p)
	switch {
	case 8+len(p) > 0xffff || n > 0xffff && to.Addr().Is4():
		return fmt.Errorf("udp send to %v: %d bytes of data, over the largest datagram of %d: %w",
			to, len(p), 0xffff-8-hl+40*btoi(!to.Addr().Is4()), ErrMessageTooLong)
	case n > mtu && df:
		return fmt.Errorf("udp send to %v: %d bytes of data in a %d-byte packet, over the path MTU of %d, and the endpoint does not fragment: %w",
			to, len(p), n, mtu, ErrMessageTooLong)
	case n > mtu:
		s.sendUDPFragments(from, to, p, mtu)
		s.udp.ctr.OutDatagrams++
		return nil
	}
	u := wire.UDP{SrcPort: from.Port(), DstPort: to.Port(), Payload: p}
	b := make([]byte, 0, hl+u.Len())
	if to.Addr().Is4() {
		s.ipID++
		h := wire.IPv4{ID: s.ipID, DontFragment: true, TTL: 64, Protocol: wire.ProtocolUDP, Src: from.Addr(), Dst: to.Addr()}
		b = h.Append(b, u.Len())
	} else {
		h := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolUDP, Src: from.Addr(), Dst: to.Addr()}
		b = h.Append(b, u.Len())
	}
	b = u.Append(b, from.Addr(), to.Addr())
	s.udp.ctr.OutDatagrams++
	s.pendingPkts = append(s.pendingPkts, b)
	return nil
}

// sendUDPFragments queues a datagram in fragments of at most mtu bytes:
// each carries the largest multiple of 8 bytes of the UDP datagram that
// fits after its headers (RFC 791 §3.2: "the fragmentation must occur on
// 8-octet boundaries"; RFC 8200 §4.5 the same of the fragmentable part),
// the last what is left.
func (s *Stack) sendUDPFragments(from, to netip.AddrPort, p []byte, mtu int) {
	u := wire.UDP{SrcPort: from.Port(), DstPort: to.Port(), Payload: p}
	d := u.Append(make([]byte, 0, u.Len()), from.Addr(), to.Addr())
	v4 := to.Addr().Is4()
	var h4 wire.IPv4
	var h6 wire.IPv6
	var id uint32
	hl := 20
	if v4 {
		s.ipID++
		h4 = wire.IPv4{ID: s.ipID, TTL: 64, Protocol: wire.ProtocolUDP, Src: from.Addr(), Dst: to.Addr()}
	} else {
		hl = 40 + wire.FragmentHeaderLen
		h6 = wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolUDP, Src: from.Addr(), Dst: to.Addr()}
		id = uint32(s.cfg.Rand.Uint64())
	}
	step := (mtu - hl) &^ 7
	for off := 0; off < len(d); off += step {
		part := d[off:min(off+step, len(d))]
		more := off+len(part) < len(d)
		b := make([]byte, 0, hl+len(part))
		if v4 {
			b = h4.AppendFragment(b, len(part), off, more)
		} else {
			b = h6.AppendFragment(b, len(part), off, more, id)
		}
		b = append(b, part...)
		s.pendingPkts = append(s.pendingPkts, b)
		s.ctr.FragCreates++
	}
	s.ctr.FragOKs++
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Close closes e: its port is free again and its queue is dropped.
func (e *UDPEndpoint) Close() {
	if e.closed {
		return
	}
	e.closed = true
	e.queue, e.head, e.bytes = nil, 0, 0
	u := &e.s.udp
	if e.any {
		if u.any == e {
			u.any = nil
		}
		return
	}
	l := u.ports[e.local.Port()]
	for i, x := range l {
		if x == e {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(u.ports, e.local.Port())
	} else {
		u.ports[e.local.Port()] = l
	}
}

// udpLookup returns the endpoint that takes a datagram from src to dst.
func (s *Stack) udpLookup(src, dst netip.AddrPort) *UDPEndpoint {
	fi := famIndex(dst.Addr())
	var best *UDPEndpoint
	bestScore := -1
	for _, e := range s.udp.ports[dst.Port()] {
		if !e.fam.has(fi) {
			continue
		}
		score := 0
		if a := e.local.Addr(); a.IsValid() {
			if a != dst.Addr() {
				continue
			}
			score += 1
		}
		if e.remote.IsValid() {
			if e.remote != src {
				continue
			}
			score += 2
		}
		if score > bestScore {
			best, bestScore = e, score
		}
	}
	if best != nil && (s.ours(dst.Addr())) {
		return best
	}
	if best != nil && best.local.Addr().IsValid() {
		return best // bound to the destination itself
	}
	return s.udp.any
}

// inputUDP takes a UDP datagram; pkt is the whole IP packet (for the
// quote of a Port Unreachable).
func (s *Stack) inputUDP(now clock.Time, ip *wire.IP, pkt, payload []byte) {
	src, dst := ip.Src(), ip.Dst()
	if !s.ours(dst) && !s.cfg.AnyDestination {
		s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropNotAddressed, Reason: ip.String()})
		return
	}
	s.udp.init()
	u, err := wire.ParseUDP(payload, src, dst)
	if err != nil {
		s.udp.ctr.InErrors++
		if errors.Is(err, wire.ErrChecksum) {
			s.udp.ctr.InCsumErrors++
		}
		s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: parseCause(err), Reason: err.Error()})
		return
	}
	from, to := netip.AddrPortFrom(src, u.SrcPort), netip.AddrPortFrom(dst, u.DstPort)
	var e *UDPEndpoint
	if !dst.IsMulticast() && !src.IsMulticast() {
		e = s.udpLookup(from, to)
	}
	if e == nil {
		s.udp.ctr.NoPorts++
		s.note(now, tupleOf(to, from), "udp: no endpoint on port "+strconv.Itoa(int(u.DstPort)))
		s.portUnreachable(now, ip, pkt)
		return
	}
	if e.Queued() >= e.maxD || e.bytes+len(u.Payload) > e.maxB {
		s.udp.ctr.RcvbufErrors++
		s.udp.ctr.InErrors++
		s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropMalformed, Local: to, Remote: from,
			Reason: "udp: receive queue full (" + strconv.Itoa(e.Queued()) + " datagrams, " + strconv.Itoa(e.bytes) + " bytes)"})
		return
	}
	d := Datagram{Src: from, Dst: to}
	if len(u.Payload) > 0 {
		d.Payload = append([]byte(nil), u.Payload...)
	}
	e.queue = append(e.queue, d)
	e.bytes += len(d.Payload)
	s.udp.ctr.InDatagrams++
	if e.notify != nil {
		e.notify()
	}
}

// Unreachable answers d, a datagram of the any-destination endpoint, with
// a Port Unreachable from its destination (a forwarder that refuses a
// flow), under the same rate limit as a closed port's.
func (e *UDPEndpoint) Unreachable(now clock.Time, d Datagram) {
	s := e.s
	src, dst := canonicalAP(d.Src), canonicalAP(d.Dst)
	if !src.IsValid() || !dst.IsValid() || src.Addr().Is4() != dst.Addr().Is4() {
		return
	}
	u := wire.UDP{SrcPort: src.Port(), DstPort: dst.Port(), Payload: d.Payload}
	var ip wire.IP
	var b []byte
	if src.Addr().Is4() {
		ip = wire.IP{Version: 4, V4: wire.IPv4{TTL: 64, Protocol: wire.ProtocolUDP, Src: src.Addr(), Dst: dst.Addr()}}
	} else {
		ip = wire.IP{Version: 6, V6: wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolUDP, Src: src.Addr(), Dst: dst.Addr()}}
	}
	b = ip.Append(b, u.Len())
	b = u.Append(b, src.Addr(), dst.Addr())
	s.portUnreachable(now, &ip, b)
}

// portUnreachable answers a datagram for no endpoint, unless RFC 1122
// §3.2.2 forbids it: "An ICMP error message MUST NOT be sent as the result
// of receiving: ... a datagram destined to an IP broadcast or IP multicast
// address, ... a datagram whose source address does not define a single
// host -- e.g., a zero address, a loopback address, a broadcast address, a
// multicast address".
func (s *Stack) portUnreachable(now clock.Time, ip *wire.IP, pkt []byte) {
	s.destUnreachable(now, ip, pkt, wire.ICMPv4PortUnreachable, wire.ICMPv6PortUnreachable)
}

// destUnreachable sends a Destination Unreachable with code4 (IPv4) or
// code6 (IPv6) quoting pkt, under the rules and the rate limit of
// portUnreachable. It returns false only if the rate limit held it back.
func (s *Stack) destUnreachable(now clock.Time, ip *wire.IP, pkt []byte, code4, code6 uint8) bool {
	src, dst := ip.Src(), ip.Dst()
	if dst.IsMulticast() || src.IsMulticast() || src.IsUnspecified() || src.IsLoopback() ||
		dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || src == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	if !s.errorToken(now) {
		s.udp.ctr.OutRateLimited++
		if s.cfg.Recorder != nil {
			s.record(&trace.Event{At: now, Kind: trace.Note, Reason: "destination unreachable to " + src.String() + " not sent: rate limit"})
		}
		return false
	}
	// The invoking packet, without link padding after the IP datagram.
	if len(pkt) >= 6 {
		var n int
		if ip.Version == 4 {
			n = int(binary.BigEndian.Uint16(pkt[2:]))
		} else {
			n = 40 + int(binary.BigEndian.Uint16(pkt[4:]))
		}
		pkt = pkt[:min(n, len(pkt))]
	}
	var b []byte
	if ip.Version == 4 {
		// RFC 1812 §4.3.2.3: as much of the invoking packet "as possible
		// without the length of the ICMP datagram exceeding 576 bytes".
		q := pkt[:min(len(pkt), 576-20-8)]
		m := wire.ICMPv4{Type: wire.ICMPv4DestUnreachable, Code: code4, Body: q}
		s.ipID++
		h := wire.IPv4{ID: s.ipID, TTL: 64, Protocol: wire.ProtocolICMP, Src: dst, Dst: src}
		b = m.Append(h.Append(make([]byte, 0, 20+m.Len()), m.Len()))
	} else {
		// RFC 4443 §3.1: "As much of invoking packet as possible without
		// the ICMPv6 packet exceeding the minimum IPv6 MTU".
		q := pkt[:min(len(pkt), minMTU6-40-8)]
		m := wire.ICMPv6{Type: wire.ICMPv6DestUnreachable, Code: code6, Body: q}
		h := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolICMPv6, Src: dst, Dst: src}
		b = m.Append(h.Append(make([]byte, 0, 40+m.Len()), m.Len()), dst, src)
	}
	s.udp.ctr.OutDestUnreachs++
	s.pendingPkts = append(s.pendingPkts, b)
	return true
}

// errorToken takes a token from the ICMP errors' bucket: EchoBurst tokens
// refilled at EchoRate a second, as the echo replies' bucket.
func (s *Stack) errorToken(now clock.Time) bool {
	return s.udp.errors.take(now, s.cfg.EchoRate, s.cfg.EchoBurst)
}

// udpICMPError hands an ICMP error quoting a UDP datagram to its endpoint.
func (s *Stack) udpICMPError(now clock.Time, q *wire.Quote, mn icmpMeaning, mtu int, what string) {
	local := netip.AddrPortFrom(q.IP.Src(), q.SrcPort)
	remote := netip.AddrPortFrom(q.IP.Dst(), q.DstPort)
	var e *UDPEndpoint
	if q.HasPorts && s.ours(local.Addr()) {
		e = s.udpLookup(remote, local)
		if e != nil && e.any {
			e = nil
		}
	}
	if e == nil {
		s.ctr.IcmpInErrors++
		s.note(now, tupleOf(local, remote), what+": no udp endpoint")
		return
	}
	if mtu > 0 {
		dst := remote.Addr()
		floor := minMTU4
		if !dst.Is4() {
			floor = minMTU6
		}
		mtu = max(mtu, floor)
		if mtu < s.pathMTU(now, dst) {
			s.pmtu.put(now, dst, mtu)
			s.ctr.PathMTUChanges++
			s.note(now, tupleOf(local, remote), "path MTU to "+dst.String()+" is "+strconv.Itoa(mtu))
		}
		return
	}
	if !mn.hard || !e.remote.IsValid() {
		return // Linux without IP_RECVERR: only a connected socket hears, and only hard errors
	}
	e.err = mn.err
	s.udp.ctr.IcmpErrors++
	s.note(now, tupleOf(local, remote), what+": error on the udp endpoint")
	if e.notify != nil {
		e.notify()
	}
}

func tupleOf(local, remote netip.AddrPort) tcp.Tuple { return tcp.Tuple{Local: local, Remote: remote} }
