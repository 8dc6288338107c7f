package netsim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// PathStats counts what happened on one directed path. Every packet sent is
// either delivered, dropped (Lost, QueueDrops or RuleDrops), held until
// Release, or still in flight; each duplicate adds one more to deliver.
type PathStats struct {
	Sent       int // packets offered to the path (past admission)
	Delivered  int // packets handed to the receiver, copies included
	Lost       int // dropped by random loss
	QueueDrops int // tail-dropped at the bottleneck
	RuleDrops  int // dropped by a Drop rule
	Duplicated int // copies made
	Corrupted  int // packets (or copies) with a flipped bit
	Reordered  int // packets held back by ReorderDelay
	Held       int // packets held by a Hold rule (for a time or until Release)
	TooBig     int // dropped for being larger than the path's MTU
	ICMPSent   int // ICMP errors the path's router sent back for those
}

func (s PathStats) String() string {
	str := fmt.Sprintf("sent=%d delivered=%d lost=%d queue-drops=%d rule-drops=%d duplicated=%d corrupted=%d reordered=%d held=%d",
		s.Sent, s.Delivered, s.Lost, s.QueueDrops, s.RuleDrops, s.Duplicated, s.Corrupted, s.Reordered, s.Held)
	if s.TooBig != 0 || s.ICMPSent != 0 {
		str += fmt.Sprintf(" too-big=%d icmp-sent=%d", s.TooBig, s.ICMPSent)
	}
	return str
}

// path is one direction between two hosts.
type path struct {
	name     string // "from->to"
	from, to string
	imp      Impairment
	rng      *rand.Rand
	rules    []*ruleState

	// The bottleneck: when it finishes the last accepted packet, and the
	// serialization start times (ascending) of the packets still waiting.
	busyUntil clock.Time
	waiting   []clock.Time
	// floor is the latest arrival of a packet in the path's FIFO order;
	// jitter never schedules an arrival before it.
	floor clock.Time

	stats PathStats
}

type ruleState struct {
	Rule
	matched int // packets on this path the rule's Match selected
}

// send runs an admitted packet through the path, in the order documented in
// doc.go, and returns its PacketID.
func (n *Network) send(now clock.Time, pa *path, data []byte, seg *wire.Segment, info *packetInfo) uint64 {
	// 1. Send.
	n.lastID++
	pk := &packet{id: n.lastID, path: pa, data: data, info: info}
	pa.stats.Sent++
	if n.rec != nil {
		n.event(now, trace.LinkSend, pk, 0, "")
	}
	if n.tooBig(now, pk) {
		return pk.id
	}
	fired, dropped := n.applyRules(now, pk, seg)
	if dropped || n.lose(now, pk) {
		return pk.id
	}
	depart, dropped := n.bottleneck(now, pk)
	if dropped {
		return pk.id
	}
	// 5. Propagation.
	pk.due = pa.arrival(depart)
	n.delay(now, pk, fired.hold)
	cp := n.duplicate(now, pk, depart, fired.dup)

	// 8. Corruption, of the packet and of its copy.
	n.corrupt(now, pk, fired.corrupt)
	if cp != nil {
		n.corrupt(now, cp, nil)
	}

	if pk.heldBy != "" {
		n.held = append(n.held, pk)
	} else {
		n.schedule(pk)
	}
	if cp != nil {
		n.schedule(cp)
	}
	return pk.id
}

// firedRules are the rules that fired on a packet and act on it after the
// rules step: the first Hold, Duplicate and Corrupt that fired, nil for
// none.
type firedRules struct {
	hold, dup, corrupt *ruleState
}

// applyRules is step 2: it runs the path's rules over seg in the order
// they were added and reports the ones that fired, or that a Drop rule
// dropped pk.
func (n *Network) applyRules(now clock.Time, pk *packet, seg *wire.Segment) (fired firedRules, dropped bool) {
	pa := pk.path
	if seg == nil {
		return fired, false // rules match TCP segments only
	}
	for _, r := range pa.rules {
		if !r.Match.Matches(seg) {
			continue
		}
		r.matched++
		if r.Nth != 0 && r.matched != r.Nth {
			continue
		}
		switch r.Action {
		case Drop:
			pa.stats.RuleDrops++
			if n.rec != nil {
				n.drop(now, pk, trace.LinkRule, r.String())
			}
			return fired, true
		case Hold:
			if fired.hold == nil {
				fired.hold = r
			}
		case Duplicate:
			if fired.dup == nil {
				fired.dup = r
			}
		case Corrupt:
			if fired.corrupt == nil {
				fired.corrupt = r
			}
		}
	}
	return fired, false
}

// lose is step 3: it drops pk with probability Loss and reports whether
// it did.
func (n *Network) lose(now clock.Time, pk *packet) bool {
	pa := pk.path
	if pa.imp.Loss > 0 && pa.rng.Float64() < pa.imp.Loss {
		pa.stats.Lost++
		if n.rec != nil {
			n.drop(now, pk, trace.LinkLoss, "")
		}
		return true
	}
	return false
}

// bottleneck is step 4: it returns when pk leaves, after waiting for the
// link and its own serialization, or reports that the queue was full and
// pk is tail-dropped. Without a bandwidth pk leaves now.
func (n *Network) bottleneck(now clock.Time, pk *packet) (depart clock.Time, dropped bool) {
	pa := pk.path
	imp := &pa.imp
	if imp.Bandwidth <= 0 {
		return now, false
	}
	started := 0
	for started < len(pa.waiting) && pa.waiting[started] <= now {
		started++
	}
	pa.waiting = pa.waiting[started:]
	if imp.QueueLimit > 0 && len(pa.waiting) >= imp.QueueLimit {
		pa.stats.QueueDrops++
		if n.rec != nil {
			n.drop(now, pk, trace.LinkQueueFull, "")
		}
		return 0, true
	}
	start := max(now, pa.busyUntil)
	if start > now {
		pa.waiting = append(pa.waiting, start)
	}
	depart = start.Add(serialization(len(pk.data), imp.Bandwidth))
	pa.busyUntil = depart
	return depart, false
}

// delay is step 6: reordering holds pk back by ReorderDelay with
// probability Reorder; then hold, the Hold rule that fired if any, adds
// its HoldFor or parks pk until Release.
func (n *Network) delay(now clock.Time, pk *packet, hold *ruleState) {
	pa := pk.path
	imp := &pa.imp
	if imp.Reorder > 0 && pa.rng.Float64() < imp.Reorder {
		pa.stats.Reordered++
		pk.due = pk.due.Add(imp.reorderDelay())
		if n.rec != nil {
			n.event(now, trace.LinkHold, pk, 0, "reorder: until "+pk.due.String())
		}
	}
	if hold == nil {
		return
	}
	pa.stats.Held++
	if hold.HoldFor > 0 {
		pk.due = pk.due.Add(hold.HoldFor)
		if n.rec != nil {
			n.event(now, trace.LinkHold, pk, 0, "rule: "+hold.String()+": until "+pk.due.String())
		}
	} else {
		pk.heldBy = hold.Name
		if n.rec != nil {
			n.event(now, trace.LinkHold, pk, 0, "rule: "+hold.String())
		}
	}
}

// duplicate is step 7: with probability Duplicate, or when rule (the
// Duplicate rule that fired, if any) is not nil, it returns a copy of pk
// that leaves at depart too; otherwise nil.
func (n *Network) duplicate(now clock.Time, pk *packet, depart clock.Time, rule *ruleState) *packet {
	pa := pk.path
	hit := pa.imp.Duplicate > 0 && pa.rng.Float64() < pa.imp.Duplicate
	if !hit && rule == nil {
		return nil
	}
	pa.stats.Duplicated++
	n.lastID++
	cp := &packet{id: n.lastID, path: pa, data: append([]byte(nil), pk.data...), info: pk.info}
	cp.due = pa.arrival(depart)
	cp.deliverReason = fmt.Sprintf("dup of #%d", pk.id)
	if n.rec != nil {
		reason := ""
		if !hit {
			reason = "rule: " + rule.String()
		}
		n.event(now, trace.LinkDuplicate, pk, cp.id, reason)
	}
	return cp
}

// arrival draws the jitter of a packet leaving at depart and keeps the
// path's FIFO order.
func (pa *path) arrival(depart clock.Time) clock.Time {
	t := depart.Add(pa.imp.Latency)
	if pa.imp.Jitter > 0 {
		t = t.Add(time.Duration(pa.rng.Int64N(int64(pa.imp.Jitter))))
	}
	t = max(t, pa.floor)
	pa.floor = t
	return t
}

// corrupt flips one bit of pk with probability Corrupt, or always when rule
// is not nil. Admission made sure the packet is exactly its IP length long,
// so whichever bit flips, the IPv4 header checksum or the upper layer's
// checksum catches it. An IPv6 header has no checksum, and the upper
// layer's covers only its addresses (the pseudo-header), so in an IPv6
// packet the bit is drawn from the addresses onwards (byte 8 on).
func (n *Network) corrupt(now clock.Time, pk *packet, rule *ruleState) {
	pa := pk.path
	hit := pa.imp.Corrupt > 0 && pa.rng.Float64() < pa.imp.Corrupt
	if !hit && rule == nil {
		return
	}
	from := 0
	if len(pk.data) > 8 && pk.data[0]>>4 == 6 {
		from = 8 * 8
	}
	bit := from + pa.rng.IntN(len(pk.data)*8-from)
	mask := byte(0x80) >> (bit % 8)
	pk.data[bit/8] ^= mask
	pa.stats.Corrupted++
	if pk.deliverReason == "" {
		pk.deliverReason = "corrupted"
	} else {
		pk.deliverReason += ", corrupted"
	}
	if n.rec != nil {
		reason := fmt.Sprintf("flipped bit 0x%02x of byte %d", mask, bit/8)
		if !hit {
			reason = "rule: " + rule.String() + ": " + reason
		}
		n.event(now, trace.LinkCorrupt, pk, 0, reason)
	}
}

// tooBig is step 0b: a packet longer than the path's MTU does not cross it.
// The path's router drops it and, unless the path is a black hole
// (Impairment.ICMPBlackhole), tells the sender so on the reverse path: an
// ICMP Destination Unreachable "fragmentation needed and DF set" with the
// next-hop MTU for IPv4 (RFC 1191 §4, RFC 792), an ICMPv6 Packet Too Big
// for IPv6 (RFC 4443 §3.2, RFC 8201 §4). The network does not fragment: an
// IPv4 packet without DF is dropped as well, with no message.
func (n *Network) tooBig(now clock.Time, pk *packet) bool {
	pa := pk.path
	mtu := pa.imp.MTU
	if mtu == 0 || len(pk.data) <= mtu {
		return false
	}
	pa.stats.TooBig++
	f, err := wire.ParseFragment(pk.data) // a fragment's header too
	ip := f.IP
	df := err == nil && (ip.Version == 6 || ip.V4.DontFragment)
	detail := fmt.Sprintf("%d bytes, MTU %d", len(pk.data), mtu)
	switch {
	case !df:
		detail += ", DF not set (the network does not fragment)"
	case pa.imp.ICMPBlackhole:
		detail += ", no ICMP (a black hole)"
	}
	if n.rec != nil {
		n.drop(now, pk, trace.LinkTooBig, detail)
	}
	if !df || pa.imp.ICMPBlackhole || ip.Src().IsUnspecified() {
		return true
	}
	var msg []byte
	if ip.Version == 4 {
		// RFC 1812 §4.3.2.3: "the ICMP datagram SHOULD contain as much of
		// the original datagram as possible without the length of the ICMP
		// datagram exceeding 576 bytes".
		quote := pk.data[:min(len(pk.data), 576-20-8)]
		m := wire.ICMPv4{Type: wire.ICMPv4DestUnreachable, Code: 4, MTU: uint16(mtu), Body: quote}
		h := wire.IPv4{TTL: 64, Protocol: wire.ProtocolICMP, Src: n.router4, Dst: ip.V4.Src}
		msg = m.Append(h.Append(nil, m.Len()))
	} else {
		// RFC 4443 §3.2: "As much of invoking packet as possible without
		// the ICMPv6 packet exceeding the minimum IPv6 MTU".
		quote := pk.data[:min(len(pk.data), 1280-40-8)]
		m := wire.ICMPv6{Type: wire.ICMPv6PacketTooBig, MTU: uint32(mtu), Body: quote}
		h := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolICMPv6, Src: n.router6, Dst: ip.V6.Src}
		msg = m.Append(h.Append(nil, m.Len()), n.router6, ip.V6.Src)
	}
	pa.stats.ICMPSent++
	n.send(now, n.path(pa.to, pa.from), msg, nil, nil)
	return true
}
