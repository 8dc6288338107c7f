package stack

import (
	"net/netip"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Martians (RFC 1812 §5.3.7) and impossible flags. RFC 1122 §4.2.3.10: "A
// TCP implementation MUST silently discard an incoming SYN segment that is
// addressed to a broadcast or multicast address." RFC 1812 §5.3.7: a router
// "SHOULD NOT forward any packet that has an invalid IP source address or
// a source address on network 0", one whose source is "an IP broadcast
// address" or "a Class D (multicast) address", or "0.0.0.0" and 127/8
// ("Internal host loopback address") off the loopback interface; a host
// taking such a packet would answer a forged or impossible address. synack
// drops every TCP segment (not only SYNs) with
//
//   - a source that is unspecified (0.0.0.0/8, ::), multicast, the limited
//     broadcast 255.255.255.255 or class E (240/4), or loopback (127/8,
//     ::1) when the host's own address of that family is not loopback;
//   - a destination that is multicast or broadcast;
//   - a source that is one of the host's own addresses, or equal to the
//     destination (a LAND attack: a SYN from ourselves to ourselves that,
//     on a link that routes replies back, would have us answer ourselves
//     for ever);
//   - SYN with FIN or with RST, flags no sender sets together (Linux
//     discards SYN+FIN in LISTEN; RFC 9293 gives neither a meaning).
//
// Each is counted by its reason (Counters.InMartianSrcs, InMartianDsts,
// InLands, InBadFlags) and traced with its own DropCause.

// martianCause returns why a segment from src to dst is dropped, or 0.
func (s *Stack) martianCause(src, dst netip.Addr, seg *wire.Segment) trace.DropCause {
	switch {
	case src == dst || s.ours(src):
		return trace.DropLAND
	case martianSource(src, s.loopbackLink(src)):
		return trace.DropMartianSource
	case dst.IsMulticast() || dst.Is4() && dst.As4() == [4]byte{255, 255, 255, 255}:
		return trace.DropMartianDestination
	case seg.Flags&wire.SYN != 0 && seg.Flags&(wire.FIN|wire.RST) != 0:
		return trace.DropBadFlags
	}
	return 0
}

// loopbackLink reports whether the host's own address of a's family is a
// loopback address: then loopback sources are ordinary.
func (s *Stack) loopbackLink(a netip.Addr) bool {
	la, ok := s.localAddr(a)
	return ok && la.IsLoopback()
}

func martianSource(a netip.Addr, loopbackOK bool) bool {
	if a.IsMulticast() || a.IsUnspecified() || a.IsLoopback() && !loopbackOK {
		return true
	}
	if a.Is4() {
		b := a.As4()
		return b[0] == 0 || b[0] >= 240 // "this network" (0/8), class E and 255.255.255.255
	}
	return false
}

// martian drops and counts a martian segment; true means it was dropped.
func (s *Stack) martian(now clock.Time, t tcp.Tuple, seg *wire.Segment) bool {
	why := s.martianCause(t.Remote.Addr(), t.Local.Addr(), seg)
	switch why {
	case 0:
		return false
	case trace.DropLAND:
		s.ctr.InLands++
	case trace.DropMartianSource:
		s.ctr.InMartianSrcs++
	case trace.DropMartianDestination:
		s.ctr.InMartianDsts++
	case trace.DropBadFlags:
		s.ctr.InBadFlags++
	}
	s.recordSeg(now, trace.Drop, t, seg, why)
	return true
}
