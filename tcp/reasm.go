package tcp

import (
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// Out-of-order reassembly and the SACK blocks that report it (RFC 9293
// §3.10.7.4, seventh: segments beyond RCV.NXT "may be held"; RFC 2018;
// RFC 2883 for D-SACK).
//
// Held data lies inside the window we advertised, so it is bounded by the
// receive buffer: the window is what the buffer has room for. Ranges are
// kept sorted, disjoint and coalesced; each remembers when data last landed
// in it, which orders the SACK blocks (RFC 2018 §4).

type oooRange struct {
	start  seq.Value
	data   []byte
	recent uint64 // arrival counter of the latest segment in the range
}

func (r *oooRange) end() seq.Value { return r.start.Add(seq.Size(len(r.data))) }

// holdOutOfOrder keeps payload, which starts at start > RCV.NXT and has been
// trimmed to the window. It reports whether any of it was new; the part
// already held is remembered for a D-SACK.
func (c *Conn) holdOutOfOrder(start seq.Value, payload []byte) bool {
	c.oooCount++
	end := start.Add(seq.Size(len(payload)))
	var out []oooRange
	added := false
	cur := start
	dupStart, dupEnd := seq.Value(0), seq.Value(0)
	hasDup := false
	insertGap := func(from, to seq.Value) {
		if !from.LessThan(to) {
			return
		}
		off := int(from.Size(start))
		n := int(to.Size(from))
		out = append(out, oooRange{start: from, data: append([]byte(nil), payload[off:off+n]...), recent: c.oooCount})
		added = true
	}
	for i := range c.ooo {
		r := c.ooo[i]
		if cur.LessThan(end) && r.start.LessThan(end) && r.end().GreaterThan(cur) {
			// r overlaps what is left of the new data: the part before r is
			// new, the part inside r is a duplicate.
			insertGap(cur, r.start)
			ds, de := seq.Max(cur, r.start), seq.Min(end, r.end())
			if !hasDup {
				dupStart, dupEnd, hasDup = ds, de, true
			}
			r.recent = c.oooCount
			cur = de
		} else if cur.LessThan(end) && !r.start.LessThan(end) {
			// r lies wholly after the rest of the new data.
			insertGap(cur, end)
			cur = end
		}
		out = append(out, r)
	}
	insertGap(cur, end)
	// Coalesce neighbours.
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && merged[n-1].end() == r.start {
			m := &merged[n-1]
			m.data = append(m.data, r.data...)
			m.recent = max(m.recent, r.recent)
			continue
		}
		merged = append(merged, r)
	}
	c.ooo = merged
	if hasDup {
		c.setDSACK(dupStart, dupEnd)
	}
	c.oooBytes = 0
	for i := range c.ooo {
		c.oooBytes += len(c.ooo[i].data)
	}
	return added
}

// pullInOrder moves held data that RCV.NXT has reached into the receive
// queue, advancing RCV.NXT, and returns the number of bytes moved.
func (c *Conn) pullInOrder() int {
	moved := 0
	for len(c.ooo) > 0 {
		r := &c.ooo[0]
		if r.start.GreaterThan(c.rcvNxt) {
			break
		}
		if r.end().GreaterThan(c.rcvNxt) {
			skip := int(c.rcvNxt.Size(r.start))
			n := len(r.data) - skip
			c.appendRcv(r.data[skip:])
			c.rcvNxt = c.rcvNxt.Add(seq.Size(n))
			moved += n
		}
		c.oooBytes -= len(r.data)
		c.ooo = c.ooo[1:]
	}
	if len(c.ooo) == 0 {
		c.ooo = nil
	}
	return moved
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
			if !c.dsack.Left.LessThan(r.start) && !c.dsack.Right.GreaterThan(r.end()) {
				o.SACK[n] = wire.SACKBlock{Left: r.start, Right: r.end()}
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
				if o.SACK[k].Left == r.start && o.SACK[k].Right == r.end() {
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
		o.SACK[n] = wire.SACKBlock{Left: c.ooo[best].start, Right: c.ooo[best].end()}
		n++
	}
	o.NumSACK = uint8(n)
}
