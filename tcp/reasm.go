package tcp

import (
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Out-of-order reassembly and the SACK blocks that report it (RFC 9293
// §3.10.7.4, seventh: segments beyond RCV.NXT "may be held"; RFC 2018;
// RFC 2883 for D-SACK).
//
// Held data lies inside the window we advertised, so it is bounded by the
// receive buffer: the window is what the buffer has room for. It is kept in
// the receive buffer's backing array itself, after the in-order data, each
// byte at its distance from RCV.NXT: when the hole before it is filled,
// RCV.NXT moves over it without a copy. Only the ranges are tracked, sorted,
// disjoint and coalesced, in a two-level sorted index (ooo.go) that also keeps the
// order in which ranges were last reported, for the SACK blocks (RFC 2018
// §4).

// oooExtent is how far past RCV.NXT held data reaches, in bytes.
func (c *Conn) oooExtent() int {
	if c.ooo.len() == 0 {
		return 0
	}
	return int(c.ooo.hi.Size(c.rcvNxt))
}

// holdOutOfOrder keeps payload, which starts at start > RCV.NXT and has been
// trimmed to the window. It reports whether any of it was new, or it was
// dropped; the part already held is remembered for a D-SACK (the first
// such part: RFC 2883 §4.2, "only the first such duplicate sub-segment is
// reported"). Where it overlaps data already held, the data held first is
// kept. A segment that would make more than maxOOORanges ranges is
// dropped, unless ranges above it can make room (as Linux prunes its queue
// from the highest sequence numbers: data nearer RCV.NXT is worth more).
func (c *Conn) holdOutOfOrder(start seq.Value, payload []byte) bool {
	if c.ooo == nil {
		c.ooo = new(oooQueue)
	}
	q := c.ooo
	end := start.Add(seq.Size(len(payload)))
	first, next := q.ceilEndNext(start)
	if first == 0 || q.node(first).start.GreaterThan(end) {
		// Apart from every range held: a range of its own.
		for q.len() >= c.maxOOORanges() {
			last := q.last()
			if !q.node(last).start.GreaterThan(start) {
				c.drop(c.lastRecvAt, trace.DropOutOfOrderRanges)
				return true
			}
			c.dropRange(last)
		}
		c.reserveOOO(end)
		c.placeOOO(start, payload, start, end)
		q.insert(start, end)
		c.oooBytes += int32(len(payload))
		q.reported(start, end)
		return true
	}
	c.reserveOOO(end)
	// The ranges from first on that the new data overlaps or touches
	// merge into first; the gaps between them are new data.
	added := false
	hasDup := false
	var dupStart, dupEnd seq.Value
	cur := start
	f := q.node(first)
	firstStart := f.start
	newStart := seq.Min(f.start, start)
	moved := false // first's handle is stale
	for r := first; r != 0; {
		n := q.node(r)
		rs, re := n.start, n.end
		if cur.LessThan(rs) {
			c.placeOOO(start, payload, cur, seq.Min(rs, end))
			added = true
		}
		if rs.LessThan(end) && re.GreaterThan(cur) && !hasDup {
			dupStart, dupEnd, hasDup = seq.Max(cur, rs), seq.Min(end, re), true
		}
		cur = seq.Max(cur, re)
		if r != first {
			c.oooBytes -= int32(re.Size(rs))
			// The handles after r change: look the next one up again.
			if q.removeAt(r) {
				moved = true
			}
			next = 0
			if end.GreaterThan(re) {
				next = q.after(rs) // the new data reaches past r
			}
		}
		if next == 0 || q.node(next).start.GreaterThan(end) {
			break
		}
		r = next
	}
	if cur.LessThan(end) {
		c.placeOOO(start, payload, cur, end)
		added = true
	}
	if moved {
		first = q.ceilEnd(firstStart)
	}
	f = q.node(first)
	c.oooBytes -= int32(f.end.Size(f.start))
	q.set(first, newStart, seq.Max(cur, end))
	c.oooBytes += int32(f.end.Size(f.start))
	q.reported(f.start, f.end)
	if hasDup {
		c.setDSACK(dupStart, dupEnd)
	}
	return added
}

// reserveOOO makes room in the receive buffer for data held up to end.
func (c *Conn) reserveOOO(end seq.Value) {
	extent := c.oooExtent()
	off := int(end.Size(c.rcvNxt))
	n := c.rcvLen()
	c.rcvReserve(n+extent, n+max(extent, off))
}

// placeOOO copies the bytes [from, to) of payload, which starts at start,
// to their place in the buffer after RCV.NXT.
func (c *Conn) placeOOO(start seq.Value, payload []byte, from, to seq.Value) {
	at := int(from.Size(c.rcvNxt))
	off := int(from.Size(start))
	n := int(to.Size(from))
	c.rcv.write(c.rcvLen()+at, payload[off:off+n])
}

// dropRange lets the held range r, the last, go (counted in
// Stats.OutOfOrderPruned).
func (c *Conn) dropRange(r int32) {
	q := c.ooo
	n := q.node(r)
	start := n.start
	c.oooBytes -= int32(n.end.Size(start))
	q.unreport(start, true)
	q.remove(start)
	c.stats.OutOfOrderPruned++
}

// pullInOrder moves RCV.NXT over held data it has reached, which is
// already in place after the in-order data, and returns the number of
// bytes it moved over. Held data that the segment just taken overlapped
// arrived twice: the first such part is reported in a D-SACK (RFC 2883
// §4.2.1, Example 4: a segment that fills a hole and repeats data held
// beyond it).
func (c *Conn) pullInOrder() int {
	q := c.ooo
	moved := 0
	for r := q.first(); r != 0; r = q.first() {
		n := q.node(r)
		rs, re := n.start, n.end
		if rs.GreaterThan(c.rcvNxt) {
			break
		}
		if rs.LessThan(c.rcvNxt) {
			dupEnd := seq.Min(re, c.rcvNxt)
			c.stats.DupBytesIn += uint64(dupEnd.Size(rs))
			if !c.dsackPending {
				c.setDSACK(rs, dupEnd)
			}
		}
		if re.GreaterThan(c.rcvNxt) {
			k := int(re.Size(c.rcvNxt))
			c.rcv.n += int32(k)
			c.rcvNxt = re
			moved += k
		}
		c.oooBytes -= int32(re.Size(rs))
		q.remove(rs)
	}
	q.unreport(c.rcvNxt, false)
	if q.len() == 0 {
		q.reset()
	}
	return moved
}

// dropOOO forgets the data held out of order, and gives the receive
// buffer back if nothing else is in it.
func (c *Conn) dropOOO() {
	c.ooo.reset()
	c.oooBytes = 0
	if c.rcvLen() == 0 {
		c.dropRcv()
	}
}

// PruneOutOfOrder lets go of data held out of order, from the highest
// sequence numbers down, until at most keep bytes are held; it returns the
// bytes let go. A stack under memory pressure calls it first, as Linux
// prunes its out-of-order queue before anything else: the data is only
// SACKed, never acknowledged, so the peer still has it (RFC 2018 §8: "the
// data receiver ... is permitted to discard data in its queue that has not
// been acknowledged"). When nothing is left held and nothing is unread, the
// receive buffer goes back to the pool.
func (c *Conn) PruneOutOfOrder(keep int) int {
	before := int(c.oooBytes)
	for int(c.oooBytes) > max(keep, 0) {
		c.dropRange(c.ooo.last())
	}
	if c.ooo.len() == 0 {
		// A FIN held beyond stays: its sequence number is the peer's.
		c.dropOOO()
	}
	return before - int(c.oooBytes)
}

// setDSACK remembers a duplicate range to report in the first SACK block
// of the next ACK (RFC 2883 §4: "If the data sender receives a duplicate
// segment, the first block of the next SACK option should specify the
// duplicate").
func (c *Conn) setDSACK(start, end seq.Value) {
	if c.sackOK {
		c.dsack = wire.SACKBlock{Left: start, Right: end}
		c.dsackPending = true
	}
}

// fillSACK puts SACK blocks on an outgoing ACK: a pending D-SACK first,
// then the range that holds the duplicate, then the ranges most recently
// reported, then others, as many distinct blocks as fit (RFC 2018 §4: "The
// first SACK block ... MUST specify the contiguous block of data containing
// the segment which triggered this ACK"; the others repeat "the most
// recently reported SACK blocks ... that are not subsets of a SACK block
// already included"; "the data receiver SHOULD include as many distinct
// SACK blocks as possible"). Three blocks fit beside timestamps, four
// without.
func (c *Conn) fillSACK(o *wire.Options) {
	q := c.ooo
	limit := wire.MaxSACKBlocks
	if o.HasTimestamps {
		limit = 3
	}
	n := 0
	add := func(b wire.SACKBlock) {
		for k := 0; k < n; k++ {
			if o.SACK[k] == b {
				return
			}
		}
		o.SACK[n] = b
		n++
	}
	if c.dsackPending {
		o.SACK[n] = c.dsack
		n++
		c.dsackPending = false
		// RFC 2883 §4: "If the D-SACK block reports a duplicate contiguous
		// sequence from a (possibly larger) block of data in the
		// receiver's data queue above the cumulative acknowledgement, then
		// the second SACK block in that SACK option should specify that
		// (possibly larger) block of data."
		if r := q.containing(c.dsack.Left, c.dsack.Right); r != 0 {
			o.SACK[n] = wire.SACKBlock{Left: q.node(r).start, Right: q.node(r).end}
			n++
		}
	}
	if q == nil {
		o.NumSACK = uint8(n)
		return
	}
	for i := int32(0); i < q.nsacks && n < limit; i++ {
		add(q.sacks[i])
	}
	// More ranges than blocks reported so far: the lowest ones, which the
	// sender needs first.
	for r := q.first(); r != 0 && n < limit; r = q.after(q.node(r).start) {
		add(wire.SACKBlock{Left: q.node(r).start, Right: q.node(r).end})
	}
	o.NumSACK = uint8(n)
}
