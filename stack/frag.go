package stack

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// IP reassembly (RFC 791 §3.2 for IPv4, RFC 8200 §4.5 for IPv6).
//
// A fragment is one that ParseIP rejects with wire.ErrFragment (an IPv4
// packet with MF set or a nonzero offset, an IPv6 packet whose Fragment
// header has M set or a nonzero offset): Input hands it here, and the
// datagram it completes, rebuilt as one unfragmented packet, goes on
// through Input as if it had come whole, to UDP, TCP or ICMP. An atomic
// fragment (RFC 6946: an IPv6 Fragment header with offset 0 and M 0) is
// not a fragment: wire.ParseIPv6 skips its header and the packet is
// processed as a whole one. Unfragmented packets never come here and cost
// nothing more.
//
// Fragments are kept by the keys the RFCs give: for IPv4 "the
// identification field, source, destination, and protocol fields" (RFC
// 791 §3.2), for IPv6 "the same Source Address, Destination Address, and
// Fragment Identification" (RFC 8200 §4.5). Each fragment's data is
// copied as it comes, in any order, and kept with the others sorted by
// offset (the equivalent of RFC 815's hole list: a hole is a gap between
// two pieces, and the datagram is complete when the pieces cover 0 to the
// end the last fragment gives); the datagram is put together then.
//
// Overlaps: "If any of the fragments being reassembled overlap with any
// other fragments being reassembled for the same packet, reassembly of
// that packet must be abandoned and all the fragments that have been
// received for that packet must be discarded, and no ICMP error messages
// should be sent" (RFC 8200 §4.5, from RFC 5722). synack does so for
// IPv4 too, as Linux has since 4.19 (a fragment that overlaps another is
// how the attacks of RFC 1858 and RFC 3128 rewrite a header that a filter
// checked; RFC 5722 gives the same reasoning for IPv6). An exact
// duplicate (the same offset and length as a fragment already received) is
// dropped alone, keeping the others: "Instead of treating these exact
// duplicate fragments as overlapping fragments, an implementation may
// choose to detect this case and drop exact duplicate fragments while
// keeping the other fragments belonging to the same packet" (RFC 8200
// §4.5). Linux keeps the datagram for a fragment within one already
// received; synack only for an exact duplicate.
//
// Other faults drop the fragment, and where they make the datagram
// impossible (a fragment past the end a last fragment gave, a second last
// fragment with another end) the whole datagram:
//   - A fragment with more to follow whose length is not a multiple of 8
//     (RFC 8200 §4.5: "that fragment must be discarded"; RFC 791's
//     fragments are cut on 8-octet boundaries too, and Linux trims such an
//     IPv4 fragment instead), and an empty fragment.
//   - A fragment that would make the datagram larger than 65535 bytes (an
//     IPv4 Total Length, or RFC 8200 §4.5's "Payload Length of the packet
//     reassembled from that fragment would exceed 65,535 octets"; IPv6
//     jumbograms are not supported).
//   - A first fragment without the whole upper-layer header (TCP 20
//     bytes, UDP 8, ICMP 8): "If the first fragment does not include all
//     headers through an Upper-Layer header, then that fragment should be
//     discarded" (RFC 8200 §4.5, RFC 7112 §5); for IPv4 the same test
//     keeps a filter's view of the ports from being split (RFC 1858 §3).
//
// synack sends ICMPv6 Parameter Problems for these faults as RFC 8200 §4.5
// says it should (code 0 for the first two, pointing at the Payload Length
// and at the Fragment Offset; code 3, pointer 0, for the incomplete header
// chain), under the rate limit of the other ICMP errors; for IPv4 it
// sends none. No error is sent about a fragment of an ICMP error message
// (RFC 1122 §3.2.2, RFC 4443 §2.4 (e.1)). Errors are sent from the
// fragment's destination, which with Config.AnyDestination need not be
// one of the host's addresses, as a closed port's Port Unreachable is.
//
// Timeouts: a datagram not complete FragTimeout (IPv4, default 30 s,
// Linux's ipfrag_time; RFC 791 suggests at least 15) or FragTimeout6
// (IPv6, 60 s: "If insufficient fragments are received to complete
// reassembly of a packet within 60 seconds of the reception of the first-
// arriving fragment of that packet, reassembly of that packet must be
// abandoned", RFC 8200 §4.5) after its first fragment arrived is dropped,
// and if its first fragment (offset 0) had arrived, the source gets a Time
// Exceeded with code 1 quoting it (RFC 8200 §4.5: "If the first fragment
// (i.e., the one with a Fragment Offset of zero) has been received, an
// ICMP Time Exceeded -- Fragment Reassembly Time Exceeded message should
// be sent to the source of that fragment"; RFC 792: "If fragment zero is
// not available then no time exceeded need be sent at all"), under the
// rules and the rate limit of the Port Unreachable (udp.go). The stack's
// NextDeadline and HandleTimeout drive it.
//
// Memory: a datagram is at most 65535 bytes; the datagrams being
// reassembled hold at most FragMemory bytes together (default 4 MiB,
// Linux's ipfrag_high_thresh), each counted as the data of its fragments
// (each copied apart, and put together when the datagram is complete),
// the quote of its first fragment and 64 bytes for each fragment received
// (so that many tiny fragments cost their bookkeeping), and there are at most
// FragQueues of them (default 1024). Beyond either bound the oldest
// datagram is dropped (ReasmFails, ReasmEvicted). Linux refuses new
// fragments instead, which lets a flood of incomplete datagrams shut out
// every new one until it times out.

// Defaults of the reassembly bounds and timeouts.
const (
	DefaultFragTimeout  = 30 * time.Second // Linux's net.ipv4.ipfrag_time
	DefaultFragTimeout6 = 60 * time.Second // RFC 8200 §4.5
	DefaultFragMemory   = 4 << 20          // Linux's ipfrag_high_thresh
	DefaultFragQueues   = 1024

	// fragOverhead is the memory counted for each fragment besides its
	// data.
	fragOverhead = 64
	// fragHeaderRoom is the largest header of a rebuilt packet.
	fragHeaderRoom = 40
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8 // IPv4's; 0 for IPv6, whose key has none
}

// fragPiece is a fragment received: its place in the datagram and a copy
// of its data.
type fragPiece struct {
	start, end int
	data       []byte
}

// fragQueue is one datagram being reassembled.
type fragQueue struct {
	key      fragKey
	seq      uint64 // creation order
	deadline clock.Time
	v6       bool
	hdr      wire.IP     // the first fragment's header once it came, else the first to come
	pieces   []fragPiece // received, sorted, disjoint
	have     int         // bytes received
	total    int         // the datagram's length, -1 until its last fragment came
	first    []byte      // the first fragment's packet (its quote), nil until it came
	noICMP   bool        // the first fragment carries an ICMP error: no Time Exceeded about it
	mem      int
}

// fragState is the stack's reassembly queues.
type fragState struct {
	queues map[fragKey]*fragQueue
	// order4 and order6 hold each family's queues in creation order, which
	// is deadline order since a family has one timeout.
	order4, order6 []*fragQueue
	mem            int
	seq            uint64
}

func (q *fragQueue) account() int {
	return q.have + len(q.first) + fragOverhead*len(q.pieces)
}

// reassemble takes a fragment. It returns the packet of the datagram it
// completes (valid during the Input call), or nil.
func (s *Stack) reassemble(now clock.Time, pkt []byte) []byte {
	f, err := wire.ParseFragment(pkt)
	if err != nil {
		s.badPacket(now, err)
		return nil
	}
	if f.Offset == 0 && !f.More {
		return pkt // not a fragment after all
	}
	src, dst := f.IP.Src(), f.IP.Dst()
	if !s.ours(dst) && !s.cfg.AnyDestination {
		if s.cfg.Recorder != nil {
			s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropNotAddressed, Reason: f.IP.String()})
		}
		return nil
	}
	s.ctr.ReasmReqds++
	v6 := f.IP.Version == 6
	errPkt := pkt // what a Parameter Problem quotes, nil for none
	if f.Offset == 0 && carriesICMPError(&f) {
		errPkt = nil
	}
	end := f.Offset + len(f.Data)
	where := func() string {
		return "fragment of " + f.IP.String() + " id " + strconv.FormatUint(uint64(f.ID), 10) +
			" at offset " + strconv.Itoa(f.Offset) + " (" + strconv.Itoa(len(f.Data)) + " bytes, more " + strconv.FormatBool(f.More) + ")"
	}
	// The faults of a fragment alone (frag.go's doc).
	switch {
	case len(f.Data) == 0:
		s.fragBad(now, func() string { return where() + ": no data" }, nil, 0, 0)
		return nil
	case f.More && len(f.Data)%8 != 0:
		// RFC 8200 §4.5: "If the length of a fragment, as derived from the
		// fragment packet's Payload Length field, is not a multiple of 8
		// octets and the M flag of that fragment is 1, then that fragment
		// must be discarded and an ICMP Parameter Problem, Code 0, message
		// should be sent to the source of the fragment, pointing to the
		// Payload Length field of the fragment packet."
		s.fragBad(now, func() string { return where() + ": more fragments follow and the length is not a multiple of 8" }, errPkt, wire.ICMPv6ErroneousHeaderField, 4)
		return nil
	case !v6 && end > wire.MaxIPv4Datagram-20:
		s.fragBad(now, func() string { return where() + ": the datagram would exceed 65535 bytes" }, nil, 0, 0)
		return nil
	case v6 && f.DataOff-48+end > wire.MaxIPv6Payload:
		// RFC 8200 §4.5: "If the length and offset of a fragment are such
		// that the Payload Length of the packet reassembled from that
		// fragment would exceed 65,535 octets, then that fragment must be
		// discarded and an ICMP Parameter Problem, Code 0, message should
		// be sent to the source of the fragment, pointing to the Fragment
		// Offset field of the fragment packet."
		s.fragBad(now, func() string { return where() + ": the reassembled payload would exceed 65535 bytes" }, errPkt, wire.ICMPv6ErroneousHeaderField, uint32(f.DataOff-6))
		return nil
	case f.Offset == 0 && v6:
		if err := wire.HeaderChainIn(f.IP.V6.NextHeader, f.Data); err != nil {
			// RFC 8200 §4.5: "If the first fragment does not include all
			// headers through an Upper-Layer header, then that fragment
			// should be discarded and an ICMP Parameter Problem, Code 3,
			// message should be sent to the source of the fragment, with
			// the Pointer field set to zero."
			s.fragBad(now, func() string { return where() + ": " + err.Error() }, errPkt, wire.ICMPv6IncompleteHeaderChain, 0)
			return nil
		}
	case f.Offset == 0 && len(f.Data) < wire.UpperHeaderLen(f.IP.V4.Protocol):
		s.fragBad(now, func() string {
			return where() + ": first fragment holds " + strconv.Itoa(len(f.Data)) + " bytes of the upper-layer header, need " +
				strconv.Itoa(wire.UpperHeaderLen(f.IP.V4.Protocol))
		}, nil, 0, 0)
		return nil
	}

	fs := &s.frag
	k := fragKey{src: src, dst: dst, id: f.ID}
	if !v6 {
		k.proto = f.IP.V4.Protocol
	}
	q := fs.queues[k]
	if q == nil {
		if fs.queues == nil {
			fs.queues = make(map[fragKey]*fragQueue)
		}
		for len(fs.queues) >= s.fragQueues() {
			s.fragEvict(now, func() string { return "more than " + strconv.Itoa(s.fragQueues()) + " datagrams in reassembly" })
		}
		fs.seq++
		q = &fragQueue{key: k, seq: fs.seq, v6: v6, hdr: f.IP, total: -1, pieces: make([]fragPiece, 0, 4)}
		if v6 {
			q.deadline = now.Add(s.fragTimeout6())
			fs.order6 = append(fs.order6, q)
		} else {
			q.deadline = now.Add(s.fragTimeout())
			fs.order4 = append(fs.order4, q)
		}
		fs.queues[k] = q
	}

	// Where the fragment goes among the pieces received.
	i, _ := slices.BinarySearchFunc(q.pieces, f.Offset, func(p fragPiece, off int) int { return p.start - off })
	if i < len(q.pieces) && q.pieces[i].start == f.Offset && q.pieces[i].end == end {
		if s.cfg.Recorder != nil {
			s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropFragment, Reason: where() + ": an exact duplicate (RFC 8200 §4.5)"})
		}
		return nil
	}
	switch {
	case i > 0 && q.pieces[i-1].end > f.Offset, i < len(q.pieces) && q.pieces[i].start < end:
		s.ctr.ReasmOverlaps++
		s.fragAbandon(now, q, func() string { return where() + ": overlaps a fragment received (RFC 5722)" })
		return nil
	case q.total >= 0 && end > q.total:
		s.fragAbandon(now, q, func() string {
			return where() + ": ends past the datagram's end at " + strconv.Itoa(q.total) + " that its last fragment gave"
		})
		return nil
	case !f.More && q.total >= 0:
		s.fragAbandon(now, q, func() string {
			return where() + ": a second last fragment, the first ended at " + strconv.Itoa(q.total)
		})
		return nil
	case !f.More && len(q.pieces) > 0 && q.pieces[len(q.pieces)-1].end > end:
		s.fragAbandon(now, q, func() string {
			return where() + ": a last fragment before data already received, which ends at " + strconv.Itoa(q.pieces[len(q.pieces)-1].end)
		})
		return nil
	}
	if !f.More {
		q.total = end
	}
	fs.mem -= q.mem
	// Each fragment's data is copied apart, and the datagram put together
	// when complete: a buffer of the datagram's size from the start would
	// let an 8-byte fragment at offset 65000 hold 64 KiB.
	q.pieces = slices.Insert(q.pieces, i, fragPiece{f.Offset, end, append([]byte(nil), f.Data...)})
	q.have += len(f.Data)
	if f.Offset == 0 {
		q.hdr = f.IP
		// The quote of a Time Exceeded: RFC 1812 §4.3.2.3's 576 bytes for
		// IPv4, RFC 4443's minimum MTU for IPv6.
		n := 576 - 28
		if v6 {
			n = minMTU6 - 48
		}
		q.first = append([]byte(nil), pkt[:min(len(pkt), n)]...)
		q.noICMP = errPkt == nil
	}
	q.mem = q.account()
	fs.mem += q.mem
	if q.total >= 0 && q.have == q.total {
		s.fragRemove(q)
		s.ctr.ReasmOKs++
		return q.packet()
	}
	for fs.mem > s.fragMemory() {
		s.fragEvict(now, func() string { return "over " + strconv.Itoa(s.fragMemory()) + " bytes in reassembly" })
	}
	return nil
}

// packet puts the datagram together and returns it as a packet: for IPv4 the first fragment's header with MF and
// offset zero and no options, for IPv6 the fixed header with the first
// fragment's Next Header (RFC 8200 §4.5: "Only the value from the Offset
// zero fragment packet is used for reassembly") and no extension header
// before the fragmentable part (the unfragmentable ones were processed on
// each fragment).
func (q *fragQueue) packet() []byte {
	var h [fragHeaderRoom]byte
	var hb []byte
	if q.v6 {
		hb = q.hdr.V6.Append(h[:0], q.total)
	} else {
		ip := q.hdr.V4
		ip.DontFragment = false
		hb = ip.Append(h[:0], q.total)
	}
	b := make([]byte, len(hb)+q.total)
	copy(b, hb)
	for _, p := range q.pieces {
		copy(b[len(hb)+p.start:], p.data)
	}
	return b
}

// fragBad drops a fragment with a fault of its own; for IPv6 and code or
// ptr given (pkt not nil) it answers with a Parameter Problem.
func (s *Stack) fragBad(now clock.Time, why func() string, pkt []byte, code uint8, ptr uint32) {
	s.ctr.ReasmFails++
	if s.cfg.Recorder != nil {
		s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropFragment, Reason: why()})
	}
	if pkt != nil && pkt[0]>>4 == 6 {
		s.icmpAboutFragment(now, pkt, wire.ICMPv6ParamProblem, code, ptr)
	}
}

// carriesICMPError reports whether the first fragment f carries an ICMP
// or ICMPv6 error message, about which no error is sent: "An ICMP error
// message MUST NOT be sent as the result of receiving: an ICMP error
// message" (RFC 1122 §3.2.2; RFC 4443 §2.4 (e.1) for ICMPv6).
func carriesICMPError(f *wire.Fragment) bool {
	if len(f.Data) == 0 {
		return false
	}
	if f.IP.Version == 4 {
		return f.IP.V4.Protocol == wire.ProtocolICMP && wire.ICMPv4Type(f.Data[0]).IsError()
	}
	return f.IP.V6.NextHeader == wire.ProtocolICMPv6 && wire.ICMPv6Type(f.Data[0]).IsError()
}

// fragAbandon drops q and all its fragments.
func (s *Stack) fragAbandon(now clock.Time, q *fragQueue, why func() string) {
	if s.cfg.Recorder != nil {
		s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropFragment, Reason: why() + ": the datagram's fragments are dropped"})
	}
	s.fragRemove(q)
	s.ctr.ReasmFails++
}

// fragEvict drops the oldest datagram in reassembly.
func (s *Stack) fragEvict(now clock.Time, why func() string) {
	fs := &s.frag
	var q *fragQueue
	switch {
	case len(fs.order4) == 0:
		q = fs.order6[0]
	case len(fs.order6) == 0 || fs.order4[0].seq < fs.order6[0].seq:
		q = fs.order4[0]
	default:
		q = fs.order6[0]
	}
	s.ctr.ReasmEvicted++
	s.fragAbandon(now, q, func() string { return why() + ": evicted the oldest, " + q.String() })
}

func (q *fragQueue) String() string {
	return "datagram " + q.key.src.String() + " > " + q.key.dst.String() + " id " + strconv.FormatUint(uint64(q.key.id), 10) +
		" (" + strconv.Itoa(q.have) + " bytes in " + strconv.Itoa(len(q.pieces)) + " fragments)"
}

// fragRemove takes q out of the reassembly queues.
func (s *Stack) fragRemove(q *fragQueue) {
	fs := &s.frag
	delete(fs.queues, q.key)
	fs.mem -= q.mem
	q.mem = 0
	l := &fs.order4
	if q.v6 {
		l = &fs.order6
	}
	if i := slices.Index(*l, q); i >= 0 {
		*l = slices.Delete(*l, i, i+1)
	}
}

// fragDeadline is the earliest reassembly timeout.
func (s *Stack) fragDeadline() clock.Time {
	d := clock.Never
	if l := s.frag.order4; len(l) > 0 {
		d = l[0].deadline
	}
	if l := s.frag.order6; len(l) > 0 {
		d = min(d, l[0].deadline)
	}
	return d
}

// fragExpire drops the datagrams whose reassembly timed out by now, oldest
// first, with a Time Exceeded for those whose first fragment came.
func (s *Stack) fragExpire(now clock.Time) {
	for {
		fs := &s.frag
		var q *fragQueue
		if l := fs.order4; len(l) > 0 && l[0].deadline <= now {
			q = l[0]
		}
		if l := fs.order6; len(l) > 0 && l[0].deadline <= now && (q == nil || l[0].seq < q.seq) {
			q = l[0]
		}
		if q == nil {
			return
		}
		s.fragRemove(q)
		s.ctr.ReasmTimeout++
		s.ctr.ReasmFails++
		if s.cfg.Recorder != nil {
			s.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropFragment, Reason: "reassembly timed out: " + q.String()})
		}
		if q.first != nil && !q.noICMP {
			s.icmpAboutFragment(now, q.first, wire.ICMPv6TimeExceeded, wire.ICMPv6ReassemblyTimeExceeded, 0)
		}
	}
}

// icmpAboutFragment sends an ICMP or ICMPv6 error quoting the fragment
// pkt: typ and code are ICMPv6's (a Time Exceeded is sent as ICMP's for
// IPv4, whose codes are the same), under the rules and the rate limit of
// destUnreachable (RFC 1122 §3.2.2, RFC 4443 §2.4 (e)).
func (s *Stack) icmpAboutFragment(now clock.Time, pkt []byte, typ wire.ICMPv6Type, code uint8, ptr uint32) {
	v6 := pkt[0]>>4 == 6
	var src, dst netip.Addr
	if v6 {
		src, dst = netip.AddrFrom16([16]byte(pkt[8:24])), netip.AddrFrom16([16]byte(pkt[24:40]))
	} else {
		src, dst = netip.AddrFrom4([4]byte(pkt[12:16])), netip.AddrFrom4([4]byte(pkt[16:20]))
	}
	if dst.IsMulticast() || src.IsMulticast() || src.IsUnspecified() || src.IsLoopback() ||
		dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || src == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return
	}
	if !s.errorToken(now) {
		s.udp.ctr.OutRateLimited++
		return
	}
	var b []byte
	if v6 {
		m := wire.ICMPv6{Type: typ, Code: code, Pointer: ptr, Body: pkt[:min(len(pkt), minMTU6-48)]}
		h := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolICMPv6, Src: dst, Dst: src}
		b = m.Append(h.Append(make([]byte, 0, 40+m.Len()), m.Len()), dst, src)
	} else {
		m := wire.ICMPv4{Type: wire.ICMPv4TimeExceeded, Code: code, Body: pkt[:min(len(pkt), 576-28)]}
		s.ipID++
		h := wire.IPv4{ID: s.ipID, TTL: 64, Protocol: wire.ProtocolICMP, Src: dst, Dst: src}
		b = m.Append(h.Append(make([]byte, 0, 20+m.Len()), m.Len()))
	}
	if typ == wire.ICMPv6TimeExceeded {
		s.ctr.IcmpOutTimeExcds++
	} else {
		s.ctr.IcmpOutParmProbs++
	}
	if s.cfg.Recorder != nil {
		s.record(&trace.Event{At: now, Kind: trace.Note, Reason: "icmp " + strconv.Itoa(int(typ)) + " code " + strconv.Itoa(int(code)) + " to " + src.String() + " about a fragment"})
	}
	s.pendingPkts = append(s.pendingPkts, b)
}

func (s *Stack) fragTimeout() time.Duration {
	if s.cfg.FragTimeout > 0 {
		return s.cfg.FragTimeout
	}
	return DefaultFragTimeout
}

func (s *Stack) fragTimeout6() time.Duration {
	if s.cfg.FragTimeout6 > 0 {
		return s.cfg.FragTimeout6
	}
	return DefaultFragTimeout6
}

func (s *Stack) fragMemory() int {
	if s.cfg.FragMemory > 0 {
		return s.cfg.FragMemory
	}
	return DefaultFragMemory
}

func (s *Stack) fragQueues() int {
	if s.cfg.FragQueues > 0 {
		return s.cfg.FragQueues
	}
	return DefaultFragQueues
}
