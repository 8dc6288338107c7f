package tcp

import (
	"slices"

	"github.com/gosynack/synack/seq"
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
// disjoint and coalesced, in a slice the connection keeps; each remembers
// when data last landed in it, which orders the SACK blocks (RFC 2018 §4).

type oooRange struct {
	start, end seq.Value
	recent     uint64 // arrival counter of the latest segment in the range
}

// oooExtent is how far past RCV.NXT held data reaches, in bytes.
func (c *Conn) oooExtent() int {
	if len(c.ooo) == 0 {
		return 0
	}
	return int(c.ooo[len(c.ooo)-1].end.Size(c.rcvNxt))
}

// holdOutOfOrder keeps payload, which starts at start > RCV.NXT and has been
// trimmed to the window. It reports whether any of it was new; the part
// already held is remembered for a D-SACK. Where it overlaps data already
// held, the data held first is kept.
func (c *Conn) holdOutOfOrder(start seq.Value, payload []byte) bool {
	c.oooCount++
	end := start.Add(seq.Size(len(payload)))
	extent := c.oooExtent()
	off := int(start.Size(c.rcvNxt))
	c.rcv = c.reserve(&c.rcvMem, c.rcv, len(c.rcv)+extent, len(c.rcv)+max(extent, off+len(payload)))
	room := c.rcv[len(c.rcv):cap(c.rcv)]
	added := false
	hasDup := false
	var dupStart, dupEnd seq.Value
	cur := start
	for i := range c.ooo {
		r := &c.ooo[i]
		if !cur.LessThan(end) || !r.start.LessThan(end) {
			break // the rest lies after the new data
		}
		if !r.end.GreaterThan(cur) {
			continue // r lies before what is left of the new data
		}
		// r overlaps what is left of the new data: the part before r is
		// new, the part inside r is a duplicate.
		if cur.LessThan(r.start) {
			c.placeOOO(room, start, payload, cur, r.start)
			added = true
		}
		ds, de := seq.Max(cur, r.start), seq.Min(end, r.end)
		if !hasDup {
			dupStart, dupEnd, hasDup = ds, de, true
		}
		r.recent = c.oooCount
		cur = de
	}
	if cur.LessThan(end) {
		c.placeOOO(room, start, payload, cur, end)
		added = true
	}
	// The new range absorbs every range it overlaps or touches.
	i := 0
	for i < len(c.ooo) && c.ooo[i].end.LessThan(start) {
		i++
	}
	j := i
	for j < len(c.ooo) && !c.ooo[j].start.GreaterThan(end) {
		j++
	}
	if i == j {
		c.ooo = slices.Insert(c.ooo, i, oooRange{start: start, end: end, recent: c.oooCount})
	} else {
		m := &c.ooo[i]
		m.start, m.end = seq.Min(m.start, start), seq.Max(c.ooo[j-1].end, end)
		m.recent = c.oooCount
		c.ooo = slices.Delete(c.ooo, i+1, j)
	}
	if hasDup {
		c.setDSACK(dupStart, dupEnd)
	}
	c.oooBytes = 0
	for k := range c.ooo {
		c.oooBytes += int32(c.ooo[k].end.Size(c.ooo[k].start))
	}
	return added
}

// placeOOO copies the bytes [from, to) of payload, which starts at start,
// to their place in room, the buffer from RCV.NXT on.
func (c *Conn) placeOOO(room []byte, start seq.Value, payload []byte, from, to seq.Value) {
	at := int(from.Size(c.rcvNxt))
	off := int(from.Size(start))
	n := int(to.Size(from))
	copy(room[at:at+n], payload[off:off+n])
}

// pullInOrder moves RCV.NXT over held data it has reached, which is
// already in place after the in-order data, and returns the number of
// bytes it moved over.
func (c *Conn) pullInOrder() int {
	moved := 0
	k := 0
	for ; k < len(c.ooo); k++ {
		r := &c.ooo[k]
		if r.start.GreaterThan(c.rcvNxt) {
			break
		}
		if r.end.GreaterThan(c.rcvNxt) {
			n := int(r.end.Size(c.rcvNxt))
			c.rcv = c.rcv[:len(c.rcv)+n]
			c.rcvNxt = r.end
			moved += n
		}
		c.oooBytes -= int32(r.end.Size(r.start))
	}
	c.ooo = slices.Delete(c.ooo, 0, k)
	return moved
}

// dropOOO forgets the data held out of order, and gives the receive
// buffer back if nothing else is in it.
func (c *Conn) dropOOO() {
	c.ooo, c.oooBytes = nil, 0
	if len(c.rcv) == 0 {
		c.rcv = nil
		c.release(&c.rcvMem)
	}
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
// then the held ranges, most recently changed first (RFC 2018 §4: "The
// first SACK block ... MUST specify the contiguous block of data containing
// the segment which triggered this ACK"; the others "repeating the most
// recently reported SACK blocks"). Three blocks fit beside timestamps,
// four without.
func (c *Conn) fillSACK(o *wire.Options) {
	limit := wire.MaxSACKBlocks
	if o.HasTimestamps {
		limit = 3
	}
	n := 0
	if c.dsackPending {
		o.SACK[n] = c.dsack
		n++
		c.dsackPending = false
		// RFC 2883 §4: if the duplicate lies inside a held range, "the
		// second SACK block ... should specify the contiguous block
		// containing the duplicate".
		for i := range c.ooo {
			r := &c.ooo[i]
			if !c.dsack.Left.LessThan(r.start) && !c.dsack.Right.GreaterThan(r.end) {
				o.SACK[n] = wire.SACKBlock{Left: r.start, Right: r.end}
				n++
				break
			}
		}
	}
	for n < limit {
		best := -1
	ranges:
		for i := range c.ooo {
			r := &c.ooo[i]
			for k := 0; k < n; k++ {
				if o.SACK[k].Left == r.start && o.SACK[k].Right == r.end {
					continue ranges
				}
			}
			if best < 0 || r.recent > c.ooo[best].recent {
				best = i
			}
		}
		if best < 0 {
			break
		}
		o.SACK[n] = wire.SACKBlock{Left: c.ooo[best].start, Right: c.ooo[best].end}
		n++
	}
	o.NumSACK = uint8(n)
}
