package tcp

import (
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// The out-of-order queue's index: the ranges of data held beyond RCV.NXT
// (the bytes themselves lie in the receive buffer, reasm.go), sorted by
// sequence number in blocks of at most oooBlock ranges, with the start of
// each block's first range in an array of its own (a B+ tree of two
// levels). A segment costs two binary searches, one in the array of block
// starts (at most 2048 of them, 8 KiB, that stay in the cache) and one in
// a block (512 bytes), and a move of at most a block's ranges: O(log n) in
// the number of ranges n whatever the pattern of holes, and few cache
// lines. (After CVE-2018-5390, SegmentSmack, Linux moved its queue to a
// red-black tree for the same reason; an AVL tree with a node per range
// took a cache miss at each of its 17 levels for 60k ranges, about 4 to 9
// times a normal segment.) The ranges are disjoint and never touch: a
// segment that touches or overlaps ranges merges with them. Every block
// holds at least oooBlock/2 ranges but the only one, so blocks are at most
// half empty; a block array is reused as it is emptied and refilled.
//
// A range is named by a handle, its block's index and its place in it
// (plus one; 0 is none), valid until the queue next changes.
//
// Beside the ranges, the queue keeps the blocks most recently reported in
// SACK options (RFC 2018 §4), most recent first, as Linux keeps
// selective_acks: updated in O(1) per segment, they order the blocks of the
// next ACK without a search.
//
// Bounds: the bytes held are bounded by the window we offered (newText
// trims what lies beyond it), and the ranges by maxOOORanges: a range costs
// 8 bytes in a block at least half full, so the index is at most 25% of
// the receive buffer, and only for a pattern of 1-byte segments each after
// a 1-byte hole.

type oooNode struct {
	start, end seq.Value
}

// oooBlock is the most ranges a block holds (a power of two: handles
// carry a range's place in its block in their low bits).
const (
	oooBlockShift = 6
	oooBlock      = 1 << oooBlockShift
)

type oooQueue struct {
	blocks [][]oooNode // sorted; none empty; cap at most oooBlock
	firsts []seq.Value // firsts[i] is blocks[i][0].start
	spare  [][]oooNode // emptied block arrays, for reuse
	n      int32       // ranges held
	hi     seq.Value   // the end of the last range, when n > 0
	// sacks are the ranges most recently reported, first first (RFC 2018
	// §4); each is a range held.
	sacks  [wire.MaxSACKBlocks]wire.SACKBlock
	nsacks int32
}

// The queue is allocated with the first segment held (a connection that
// never sees one pays 8 bytes for it) and kept after, so that a connection
// that recovers from loss over and over allocates nothing once warmed up.
// The methods that only look take a nil queue as an empty one.

// len returns the number of ranges held.
func (q *oooQueue) len() int {
	if q == nil {
		return 0
	}
	return int(q.n)
}

func handle(b, i int) int32 { return int32(b<<oooBlockShift|i) + 1 }

func (q *oooQueue) node(r int32) *oooNode {
	r--
	return &q.blocks[r>>oooBlockShift][r&(oooBlock-1)]
}

// blockOf returns the last block whose first range starts at or before v,
// or 0 when v is before them all (or there is none).
func (q *oooQueue) blockOf(v seq.Value) int {
	lo, hi := 0, len(q.firsts) // the answer is in [lo, hi)
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if q.firsts[mid].LessThanEq(v) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// firstEndAtOrAfter returns the first place in blk whose range ends at or
// after v (len(blk) if none).
func firstEndAtOrAfter(blk []oooNode, v seq.Value) int {
	lo, hi := 0, len(blk)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if blk[mid].end.LessThan(v) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// firstStartAfter returns the first place in blk whose range starts after
// v (len(blk) if none).
func firstStartAfter(blk []oooNode, v seq.Value) int {
	lo, hi := 0, len(blk)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if blk[mid].start.LessThanEq(v) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// next returns the range after r, or 0.
func (q *oooQueue) next(r int32) int32 {
	b, i := int((r-1)>>oooBlockShift), int((r-1)&(oooBlock-1))
	if i+1 < len(q.blocks[b]) {
		return r + 1
	}
	if b+1 < len(q.blocks) {
		return handle(b+1, 0)
	}
	return 0
}

// newBlock returns an empty block array with room for n ranges.
func (q *oooQueue) newBlock(n int) []oooNode {
	for k := len(q.spare) - 1; k >= 0; k-- {
		if s := q.spare[k]; cap(s) >= n {
			q.spare[k] = q.spare[len(q.spare)-1]
			q.spare = q.spare[:len(q.spare)-1]
			return s[:0]
		}
	}
	return make([]oooNode, 0, n)
}

// insert adds the range [start, end), which touches no range held.
func (q *oooQueue) insert(start, end seq.Value) {
	x := oooNode{start, end}
	if len(q.blocks) == 0 {
		q.blocks = append(q.blocks, append(q.newBlock(4), x))
		q.firsts = append(q.firsts, start)
		q.n, q.hi = 1, end
		return
	}
	var b, i int
	if start.GreaterThan(q.hi) {
		// Beyond every range: at the right edge, without a search.
		b = len(q.blocks) - 1
		i = len(q.blocks[b])
		q.hi = end
	} else {
		b = q.blockOf(start)
		i = firstStartAfter(q.blocks[b], start)
	}
	blk := q.blocks[b]
	if len(blk) == oooBlock {
		// Full: split in two halves, the second a new block after it.
		half := q.newBlock(oooBlock)
		half = append(half, blk[oooBlock/2:]...)
		q.blocks[b] = blk[:oooBlock/2]
		q.blocks = append(q.blocks, nil)
		copy(q.blocks[b+2:], q.blocks[b+1:])
		q.blocks[b+1] = half
		q.firsts = append(q.firsts, 0)
		copy(q.firsts[b+2:], q.firsts[b+1:])
		q.firsts[b+1] = half[0].start
		if i > oooBlock/2 {
			b, i = b+1, i-oooBlock/2
		}
		blk = q.blocks[b]
	}
	if len(blk) == cap(blk) {
		grown := append(q.newBlock(min(2*cap(blk), oooBlock)), blk...)
		q.spare = append(q.spare, blk[:0])
		blk = grown
	}
	blk = blk[:len(blk)+1]
	copy(blk[i+1:], blk[i:])
	blk[i] = x
	q.blocks[b] = blk
	if i == 0 {
		q.firsts[b] = start
	}
	q.n++
}

// remove deletes the range that starts at start, if there is one.
func (q *oooQueue) remove(start seq.Value) {
	if q.n == 0 {
		return
	}
	b := q.blockOf(start)
	i := firstStartAfter(q.blocks[b], start) - 1
	if i >= 0 && q.blocks[b][i].start == start {
		q.removeAt(handle(b, i))
	}
}

// removeAt deletes the range r. It reports whether the ranges before r
// may have moved (blocks were evened out), making their handles stale;
// the handles of those after r always are.
func (q *oooQueue) removeAt(r int32) (moved bool) {
	b, i := int((r-1)>>oooBlockShift), int((r-1)&(oooBlock-1))
	blk := q.blocks[b]
	end := blk[i].end
	copy(blk[i:], blk[i+1:])
	blk = blk[:len(blk)-1]
	q.blocks[b] = blk
	q.n--
	switch {
	case len(blk) == 0:
		q.spare = append(q.spare, blk)
		q.blocks = append(q.blocks[:b], q.blocks[b+1:]...)
		q.firsts = append(q.firsts[:b], q.firsts[b+1:]...)
	case i == 0:
		q.firsts[b] = blk[0].start
	}
	if len(blk) > 0 && len(blk) < oooBlock/2 && len(q.blocks) > 1 {
		moved = true
		if b+1 < len(q.blocks) {
			q.rebalance(b)
		} else {
			q.rebalance(b - 1)
		}
	}
	if q.n > 0 && end == q.hi {
		last := q.blocks[len(q.blocks)-1]
		q.hi = last[len(last)-1].end
	}
	return moved
}

// rebalance evens out blocks b and b+1, one of which has fallen below
// half: merged into b when they fit in one block, else shared equally.
func (q *oooQueue) rebalance(b int) {
	l, r := q.blocks[b], q.blocks[b+1]
	if len(l)+len(r) <= oooBlock {
		q.blocks[b] = append(q.room(l, len(l)+len(r)), r...)
		q.spare = append(q.spare, r[:0])
		q.blocks = append(q.blocks[:b+1], q.blocks[b+2:]...)
		q.firsts = append(q.firsts[:b+1], q.firsts[b+2:]...)
		return
	}
	total := len(l) + len(r)
	want := total / 2
	l, r = q.room(l, want), q.room(r, total-want)
	if len(l) < want {
		k := want - len(l)
		l = append(l, r[:k]...)
		copy(r, r[k:])
		r = r[:len(r)-k]
	} else {
		k := len(l) - want
		r = r[:len(r)+k]
		copy(r[k:], r)
		copy(r, l[want:])
		l = l[:want]
	}
	q.blocks[b], q.blocks[b+1] = l, r
	q.firsts[b+1] = r[0].start
}

// room returns blk, moved to a larger array if it has room for fewer than
// n ranges.
func (q *oooQueue) room(blk []oooNode, n int) []oooNode {
	if cap(blk) >= n {
		return blk
	}
	grown := append(q.newBlock(oooBlock), blk...)
	q.spare = append(q.spare, blk[:0])
	return grown
}

// first returns the range with the lowest sequence numbers, or 0.
func (q *oooQueue) first() int32 {
	if q == nil || q.n == 0 {
		return 0
	}
	return handle(0, 0)
}

// last returns the range with the highest sequence numbers, or 0.
func (q *oooQueue) last() int32 {
	if q == nil || q.n == 0 {
		return 0
	}
	b := len(q.blocks) - 1
	return handle(b, len(q.blocks[b])-1)
}

// ceilEnd returns the first range whose end is at or after v (it contains
// v, ends at v, or lies after v), or 0.
func (q *oooQueue) ceilEnd(v seq.Value) int32 {
	if q == nil || q.n == 0 || v.GreaterThan(q.hi) {
		return 0
	}
	b := q.blockOf(v)
	if i := firstEndAtOrAfter(q.blocks[b], v); i < len(q.blocks[b]) {
		return handle(b, i)
	}
	return handle(b+1, 0) // there is one: v is at or before hi
}

// ceilEndNext is ceilEnd, and the range after it (or 0).
func (q *oooQueue) ceilEndNext(v seq.Value) (best, next int32) {
	best = q.ceilEnd(v)
	if best != 0 {
		next = q.next(best)
	}
	return best, next
}

// after returns the first range that starts after v, or 0.
func (q *oooQueue) after(v seq.Value) int32 {
	if q == nil || q.n == 0 {
		return 0
	}
	b := q.blockOf(v)
	if i := firstStartAfter(q.blocks[b], v); i < len(q.blocks[b]) {
		return handle(b, i)
	}
	if b+1 < len(q.blocks) {
		return handle(b+1, 0)
	}
	return 0
}

// containing returns the range that holds all of [left, right), or 0.
func (q *oooQueue) containing(left, right seq.Value) int32 {
	r := q.ceilEnd(right)
	if r != 0 && !q.node(r).start.GreaterThan(left) {
		return r
	}
	return 0
}

// set gives the range r the bounds [start, end), which keep it apart from
// its neighbours.
func (q *oooQueue) set(r int32, start, end seq.Value) {
	n := q.node(r)
	n.start, n.end = start, end
	if (r-1)&(oooBlock-1) == 0 {
		q.firsts[(r-1)>>oooBlockShift] = start
	}
	if end.GreaterThan(q.hi) {
		q.hi = end
	}
}

// reset forgets every range. A queue of many blocks is let go, so that a
// connection does not keep the index a flood built; a small one is kept.
func (q *oooQueue) reset() {
	if q == nil {
		return
	}
	if len(q.blocks)+len(q.spare) > 4 {
		*q = oooQueue{}
		return
	}
	for _, b := range q.blocks {
		q.spare = append(q.spare, b[:0])
	}
	*q = oooQueue{blocks: q.blocks[:0], firsts: q.firsts[:0], spare: q.spare}
}

// reported puts [start, end), a range held, first among the blocks to
// report, in place of the blocks it absorbed (RFC 2018 §4: the first block
// is "the contiguous block of data containing the segment which triggered
// this ACK").
func (q *oooQueue) reported(start, end seq.Value) {
	k := int32(0)
	for i := int32(0); i < q.nsacks; i++ {
		b := q.sacks[i]
		if !b.Left.LessThan(start) && !b.Right.GreaterThan(end) {
			continue // absorbed by the new range
		}
		q.sacks[k] = b
		k++
	}
	k = min(k, int32(len(q.sacks))-1)
	copy(q.sacks[1:k+1], q.sacks[:k])
	q.sacks[0] = wire.SACKBlock{Left: start, Right: end}
	q.nsacks = k + 1
}

// unreport drops the blocks that lie before v, or (after true) at or after
// v: data taken in order, or data let go.
func (q *oooQueue) unreport(v seq.Value, after bool) {
	if q == nil {
		return
	}
	k := int32(0)
	for i := int32(0); i < q.nsacks; i++ {
		b := q.sacks[i]
		if after && b.Right.GreaterThan(v) || !after && !b.Left.GreaterThanEq(v) {
			continue
		}
		q.sacks[k] = b
		k++
	}
	q.nsacks = k
}

// maxOOORanges bounds the ranges a connection holds out of order: one per
// 64 bytes of receive buffer, at least 64 and at most 65536 (a 4 MiB buffer
// holds its 65536 ranges in at most 1 MiB of blocks, each at least half
// full). What would exceed it is
// dropped (trace.DropOutOfOrderRanges).
func (c *Conn) maxOOORanges() int { return min(max(int(c.rcvBuf)/64, 64), 1<<16) }
