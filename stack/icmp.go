package stack

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// icmpMeaning is what an ICMP or ICMPv6 error means to TCP.
type icmpMeaning struct {
	err  error
	hard bool
}

// unreach4 maps the codes of an ICMP Destination Unreachable. RFC 1122
// §4.2.3.9: codes 0, 1 and 5 are soft, 2 and 3 hard (4 is path MTU
// discovery's, below); the administratively prohibited codes 9, 10 and 13
// are hard (RFC 5461 §2), and so are the other codes Linux takes as fatal
// (6 to 8, 14, 15); 11 and 12 (for a type of service) are soft.
var unreach4 = map[uint8]icmpMeaning{
	wire.ICMPv4NetUnreachable:      {tcp.ErrNetUnreachable, false},
	wire.ICMPv4HostUnreachable:     {tcp.ErrHostUnreachable, false},
	wire.ICMPv4ProtocolUnreachable: {tcp.ErrConnRefused, true},
	wire.ICMPv4PortUnreachable:     {tcp.ErrConnRefused, true},
	wire.ICMPv4SourceRouteFailed:   {tcp.ErrHostUnreachable, false},
	6:                              {tcp.ErrNetUnreachable, true},
	7:                              {tcp.ErrHostUnreachable, true},
	8:                              {tcp.ErrHostUnreachable, true},
	wire.ICMPv4NetProhibited:       {tcp.ErrNetUnreachable, true},
	wire.ICMPv4HostProhibited:      {tcp.ErrHostUnreachable, true},
	11:                             {tcp.ErrNetUnreachable, false},
	12:                             {tcp.ErrHostUnreachable, false},
	wire.ICMPv4AdminProhibited:     {tcp.ErrHostUnreachable, true},
	14:                             {tcp.ErrHostUnreachable, true},
	15:                             {tcp.ErrHostUnreachable, true},
}

// unreach6 maps the codes of an ICMPv6 Destination Unreachable (RFC 4443
// §3.1) as Linux's icmpv6_err_convert does, except that the prohibited and
// policy codes give EHOSTUNREACH (Linux: EACCES), as their ICMP twins do.
var unreach6 = map[uint8]icmpMeaning{
	wire.ICMPv6NoRoute:            {tcp.ErrNetUnreachable, false},
	wire.ICMPv6AdminProhibited:    {tcp.ErrHostUnreachable, true},
	wire.ICMPv6BeyondScope:        {tcp.ErrHostUnreachable, false},
	wire.ICMPv6AddressUnreachable: {tcp.ErrHostUnreachable, false},
	wire.ICMPv6PortUnreachable:    {tcp.ErrConnRefused, true},
	wire.ICMPv6SourcePolicyFailed: {tcp.ErrHostUnreachable, true},
	wire.ICMPv6RejectRoute:        {tcp.ErrHostUnreachable, true},
}

func (s *Stack) badICMP(now clock.Time, err error) {
	s.ctr.IcmpInErrors++
	s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: parseCause(err), Reason: err.Error()})
}

func (s *Stack) inputICMPv4(now clock.Time, ip *wire.IP, payload []byte) {
	if !s.ours(ip.Dst()) && !s.cfg.AnyDestination {
		s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropNotAddressed, Reason: ip.String()})
		return
	}
	s.ctr.IcmpInMsgs++
	m, err := wire.ParseICMPv4(payload)
	if err != nil {
		s.badICMP(now, err)
		return
	}
	switch m.Type {
	case wire.ICMPv4EchoRequest:
		if !s.ours(ip.Dst()) {
			return
		}
		s.ctr.IcmpInEchos++
		if !s.echoToken(now, ip) {
			return
		}
		r := wire.ICMPv4{Type: wire.ICMPv4EchoReply, ID: m.ID, Seq: m.Seq, Body: m.Body}
		s.ipID++
		h := wire.IPv4{ID: s.ipID, TTL: 64, Protocol: wire.ProtocolICMP, Src: ip.Dst(), Dst: ip.Src()}
		b := h.Append(make([]byte, 0, 20+r.Len()), r.Len())
		s.queueEcho(r.Append(b))
	case wire.ICMPv4DestUnreachable:
		if m.Code == wire.ICMPv4FragmentationNeeded {
			mtu := int(m.MTU)
			if mtu == 0 {
				mtu = s.plateauMTU(now, &m)
			}
			s.icmpError(now, ip.Src(), 4, &m.Quote, icmpMeaning{}, mtu, m.String())
			return
		}
		if mn, ok := unreach4[m.Code]; ok {
			s.icmpError(now, ip.Src(), 4, &m.Quote, mn, 0, m.String())
		}
	case wire.ICMPv4TimeExceeded:
		// RFC 1122 §4.2.3.9: "Time Exceeded -- codes 0, 1: This should be
		// handled the same way as Destination Unreachable codes 0, 1, 5".
		s.icmpError(now, ip.Src(), 4, &m.Quote, icmpMeaning{tcp.ErrHostUnreachable, false}, 0, m.String())
	}
	// Anything else is ignored: RFC 1122 §3.2.2, "If an ICMP message of
	// unknown type is received, it MUST be silently discarded"; Source
	// Quench is deprecated ("hosts MUST NOT send ICMP Source Quench
	// messages ... and MUST silently ignore" them, RFC 6633 §3); Parameter
	// Problem "tell ALP, don't abort" (RFC 1122 §4.2.3.9) has no error to
	// tell here, so it is counted and ignored.
}

func (s *Stack) inputICMPv6(now clock.Time, ip *wire.IP, payload []byte) {
	if !s.ours(ip.Dst()) && !s.cfg.AnyDestination {
		s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropNotAddressed, Reason: ip.String()})
		return
	}
	s.ctr.IcmpInMsgs++
	m, err := wire.ParseICMPv6(payload, ip.Src(), ip.Dst())
	if err != nil {
		s.badICMP(now, err)
		return
	}
	switch m.Type {
	case wire.ICMPv6EchoRequest:
		if !s.ours(ip.Dst()) {
			return
		}
		s.ctr.IcmpInEchos++
		if !s.echoToken(now, ip) {
			return
		}
		// RFC 4443 §4.2: "The data received in the ICMPv6 Echo Request
		// message MUST be returned entirely and unmodified in the ICMPv6
		// Echo Reply message."
		r := wire.ICMPv6{Type: wire.ICMPv6EchoReply, ID: m.ID, Seq: m.Seq, Body: m.Body}
		src, dst := ip.Dst(), ip.Src()
		h := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolICMPv6, Src: src, Dst: dst}
		b := h.Append(make([]byte, 0, 40+r.Len()), r.Len())
		s.queueEcho(r.Append(b, src, dst))
	case wire.ICMPv6PacketTooBig:
		s.icmpError(now, ip.Src(), 6, &m.Quote, icmpMeaning{}, int(min(m.MTU, 65535)), m.String())
	case wire.ICMPv6DestUnreachable:
		if mn, ok := unreach6[m.Code]; ok {
			s.icmpError(now, ip.Src(), 6, &m.Quote, mn, 0, m.String())
		}
	case wire.ICMPv6TimeExceeded:
		s.icmpError(now, ip.Src(), 6, &m.Quote, icmpMeaning{tcp.ErrHostUnreachable, false}, 0, m.String())
	case wire.ICMPv6ParamProblem:
		if m.Code == wire.ICMPv6UnrecognizedNextHeader {
			// IPv6's protocol unreachable: the peer does not speak TCP.
			s.icmpError(now, ip.Src(), 6, &m.Quote, icmpMeaning{tcp.ErrConnRefused, true}, 0, m.String())
		}
	}
	// Anything else, Neighbour Discovery's types 133 to 137 included, is
	// ignored: RFC 4443 §2.4 (b), "If an ICMPv6 informational message of
	// unknown type is received, it MUST be silently discarded".
}

// echoToken takes a token from the echo replies' bucket, and reports
// whether there was one.
func (s *Stack) echoToken(now clock.Time, ip *wire.IP) bool {
	if s.echo.take(now, s.cfg.EchoRate, s.cfg.EchoBurst) {
		return true
	}
	s.ctr.IcmpEchoLimited++
	if s.cfg.Recorder != nil {
		s.record(&trace.Event{At: now, Kind: trace.Note, Reason: "echo request from " + ip.Src().String() + " not answered: rate limit"})
	}
	return false
}

func (s *Stack) queueEcho(pkt []byte) {
	s.ctr.IcmpOutEchoReps++
	s.pendingPkts = append(s.pendingPkts, pkt)
}

// icmpError hands an error message to the connection its quote names. mtu
// is the MTU of a Fragmentation Needed or Packet Too Big (0 otherwise);
// what names the message.
func (s *Stack) icmpError(now clock.Time, src netip.Addr, version uint8, q *wire.Quote, mn icmpMeaning, mtu int, what string) {
	if q.IP.Version == version && q.IP.Protocol() == wire.ProtocolUDP {
		s.udpICMPError(now, q, mn, mtu, what)
		return
	}
	if q.IP.Version != version || q.IP.Protocol() != wire.ProtocolTCP {
		if q.IP.Version == 0 {
			s.ctr.IcmpInErrors++
		}
		return // a quote cut short, or about another protocol: not ours
	}
	t := canonical(tcp.Tuple{
		Local:  netip.AddrPortFrom(q.IP.Src(), q.SrcPort),
		Remote: netip.AddrPortFrom(q.IP.Dst(), q.DstPort),
	})
	var e *entry
	if q.HasPorts && q.HasSeq {
		e = s.lookup(t)
	}
	if e == nil {
		// Linux counts these in ICMP_MIB_INERRORS too.
		s.ctr.IcmpInErrors++
		s.note(now, t, what+": no connection")
		return
	}
	if s.cfg.Recorder != nil {
		title, _, _ := strings.Cut(what, " quoting ")
		ev := trace.Event{At: now, Kind: trace.ICMPIn, Host: s.cfg.Name, Local: t.Local, Remote: t.Remote, Reason: title, ICMPFrom: src}
		ev.Seg.Seq = q.Seq
		s.record(&ev)
	}
	m := tcp.ICMPError{Err: mn.err, Hard: mn.hard, Seq: q.Seq, What: what}
	dst := t.Remote.Addr()
	if mtu > 0 {
		floor := minMTU4
		if !dst.Is4() {
			floor = minMTU6
		}
		mtu = max(mtu, floor)
		m.MSS = mtu - ipHeaderLen(dst) - 20
	}
	var r tcp.ICMPResult
	c := s.whole(e)
	s.step(now, e, func() { r = c.HandleICMP(now, &m) })
	switch r {
	case tcp.ICMPInvalid:
		s.ctr.OutOfWindowIcmps++
	case tcp.ICMPMSSLowered, tcp.ICMPNoChange:
		if mtu > 0 && mtu < s.pathMTU(now, dst) {
			s.pmtu.put(now, dst, mtu)
			s.ctr.PathMTUChanges++
			s.note(now, t, "path MTU to "+dst.String()+" is "+strconv.Itoa(mtu))
		}
	}
}

// plateaus are RFC 1191 §7's Table 7-1 of MTU plateaus, largest first.
var plateaus = [...]int{65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68}

// plateauMTU is the next path MTU estimate for a Fragmentation Needed
// whose Next-Hop MTU is 0 (a router older than RFC 1191), by RFC 1191 §5:
// "use as the next PMTU estimate the greatest plateau value that is less
// than the returned Total Length field (corrected, if necessary, according
// to the Note above)"; the Note: "If the Total Length field returned is not
// less than the current PMTU estimate, it must be reduced by 4 times the
// value of the returned Header Length field". A quote too short to hold a
// Total Length gives 1: the floor.
func (s *Stack) plateauMTU(now clock.Time, m *wire.ICMPv4) int {
	b := m.Body
	if len(b) < 20 || b[0]>>4 != 4 {
		return 1
	}
	tl := int(b[2])<<8 | int(b[3])
	if tl >= s.pathMTU(now, m.Quote.IP.Dst()) {
		tl -= 4 * int(b[0]&0x0f)
	}
	for _, p := range plateaus {
		if p < tl {
			return p
		}
	}
	return 1
}
