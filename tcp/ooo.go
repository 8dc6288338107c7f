package tcp

import (
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// The out-of-order queue's index: the ranges of data held beyond RCV.NXT
// (the bytes themselves lie in the receive buffer, reasm.go), in an AVL
// tree keyed by sequence number, so that a segment costs O(log n) in the
// number of ranges n whatever the pattern of holes (after CVE-2018-5390,
// SegmentSmack, Linux moved its queue to a red-black tree for the same
// reason). The ranges are disjoint and never touch: a segment that touches
// or overlaps ranges merges with them. Nodes live in one slice and are
// named by index plus one (0 is none), with a free list, so that a queue
// that has reached its size allocates no more.
//
// Beside the tree, the queue keeps the blocks most recently reported in
// SACK options (RFC 2018 §4), most recent first, as Linux keeps
// selective_acks: updated in O(1) per segment, they order the blocks of the
// next ACK without a search.
//
// Bounds: the bytes held are bounded by the window we offered (newText
// trims what lies beyond it), and the ranges by maxOOORanges: a node costs
// 20 bytes, so the index is at most 31% of the receive buffer, and only for
// a pattern of 1-byte segments each after a 1-byte hole.

type oooNode struct {
	start, end  seq.Value
	left, right int32 // children: index into oooQueue.nodes plus one, 0 for none
	height      int32 // of the subtree; in a free node, unused
}

type oooQueue struct {
	nodes []oooNode
	free  int32 // free nodes, linked through left
	root  int32
	n     int32     // ranges held
	hi    seq.Value // the end of the last range, when n > 0
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

func (q *oooQueue) node(r int32) *oooNode { return &q.nodes[r-1] }

func (q *oooQueue) height(r int32) int32 {
	if r == 0 {
		return 0
	}
	return q.nodes[r-1].height
}

func (q *oooQueue) fix(r int32) {
	n := q.node(r)
	n.height = 1 + max(q.height(n.left), q.height(n.right))
}

func (q *oooQueue) rotateRight(r int32) int32 {
	n := q.node(r)
	l := n.left
	n.left = q.node(l).right
	q.node(l).right = r
	q.fix(r)
	q.fix(l)
	return l
}

func (q *oooQueue) rotateLeft(r int32) int32 {
	n := q.node(r)
	rt := n.right
	n.right = q.node(rt).left
	q.node(rt).left = r
	q.fix(r)
	q.fix(rt)
	return rt
}

// balance restores the AVL property at r, whose subtrees are balanced and
// differ in height by at most 2.
func (q *oooQueue) balance(r int32) int32 {
	q.fix(r)
	n := q.node(r)
	switch d := q.height(n.left) - q.height(n.right); {
	case d > 1:
		l := q.node(n.left)
		if q.height(l.left) < q.height(l.right) {
			n.left = q.rotateLeft(n.left)
		}
		return q.rotateRight(r)
	case d < -1:
		rt := q.node(n.right)
		if q.height(rt.right) < q.height(rt.left) {
			n.right = q.rotateRight(n.right)
		}
		return q.rotateLeft(r)
	}
	return r
}

// alloc returns a fresh node for [start, end).
func (q *oooQueue) alloc(start, end seq.Value) int32 {
	var r int32
	if q.free != 0 {
		r = q.free
		q.free = q.node(r).left
	} else {
		q.nodes = append(q.nodes, oooNode{})
		r = int32(len(q.nodes))
	}
	*q.node(r) = oooNode{start: start, end: end, height: 1}
	return r
}

func (q *oooQueue) release(r int32) {
	*q.node(r) = oooNode{left: q.free}
	q.free = r
}

// insert adds the range [start, end), which touches no range held.
func (q *oooQueue) insert(start, end seq.Value) {
	q.root = q.insertAt(q.root, q.alloc(start, end))
	if q.n == 0 || end.GreaterThan(q.hi) {
		q.hi = end
	}
	q.n++
}

func (q *oooQueue) insertAt(r, x int32) int32 {
	if r == 0 {
		return x
	}
	n := q.node(r)
	if q.node(x).start.LessThan(n.start) {
		n.left = q.insertAt(n.left, x)
	} else {
		n.right = q.insertAt(n.right, x)
	}
	return q.balance(r)
}

// remove deletes the range that starts at start.
func (q *oooQueue) remove(start seq.Value) {
	var gone int32
	q.root = q.removeAt(q.root, start, &gone)
	if gone != 0 {
		end := q.node(gone).end
		q.release(gone)
		q.n--
		if end == q.hi && q.n > 0 {
			q.hi = q.node(q.last()).end
		}
	}
}

func (q *oooQueue) removeAt(r int32, start seq.Value, gone *int32) int32 {
	if r == 0 {
		return 0
	}
	n := q.node(r)
	switch {
	case start.LessThan(n.start):
		n.left = q.removeAt(n.left, start, gone)
	case start.GreaterThan(n.start):
		n.right = q.removeAt(n.right, start, gone)
	default:
		*gone = r
		if n.left == 0 || n.right == 0 {
			return n.left + n.right // one of them is 0
		}
		// Replace r by its successor, the leftmost of its right subtree.
		var succ int32
		right := q.removeMin(n.right, &succ)
		s := q.node(succ)
		s.left, s.right = n.left, right
		return q.balance(succ)
	}
	return q.balance(r)
}

// removeMin detaches the leftmost node of r's subtree into *min.
func (q *oooQueue) removeMin(r int32, min *int32) int32 {
	n := q.node(r)
	if n.left == 0 {
		*min = r
		return n.right
	}
	n.left = q.removeMin(n.left, min)
	return q.balance(r)
}

// first returns the range with the lowest sequence numbers, or 0.
func (q *oooQueue) first() int32 {
	if q == nil {
		return 0
	}
	r := q.root
	for r != 0 && q.node(r).left != 0 {
		r = q.node(r).left
	}
	return r
}

// last returns the range with the highest sequence numbers, or 0.
func (q *oooQueue) last() int32 {
	if q == nil {
		return 0
	}
	r := q.root
	for r != 0 && q.node(r).right != 0 {
		r = q.node(r).right
	}
	return r
}

// ceilEnd returns the first range whose end is at or after v (it contains
// v, ends at v, or lies after v), or 0.
func (q *oooQueue) ceilEnd(v seq.Value) int32 {
	r, _ := q.ceilEndNext(v)
	return r
}

// ceilEndNext is ceilEnd, and the range after it (or 0), found on the same
// descent.
func (q *oooQueue) ceilEndNext(v seq.Value) (best, next int32) {
	if q == nil {
		return 0, 0
	}
	for r := q.root; r != 0; {
		n := q.node(r)
		if n.end.GreaterThanEq(v) {
			// best's successor is the leftmost of its right subtree, or
			// else the node we last went left at before it.
			best, next, r = r, best, n.left
		} else {
			r = n.right
		}
	}
	if best != 0 {
		if r := q.node(best).right; r != 0 {
			for q.node(r).left != 0 {
				r = q.node(r).left
			}
			next = r
		}
	}
	return best, next
}

// after returns the first range that starts after v, or 0.
func (q *oooQueue) after(v seq.Value) int32 {
	var best int32
	for r := q.root; r != 0; {
		n := q.node(r)
		if n.start.GreaterThan(v) {
			best, r = r, n.left
		} else {
			r = n.right
		}
	}
	return best
}

// containing returns the range that holds all of [left, right), or 0.
func (q *oooQueue) containing(left, right seq.Value) int32 {
	r := q.ceilEnd(right)
	if r != 0 && !q.node(r).start.GreaterThan(left) {
		return r
	}
	return 0
}

// reset forgets every range. A large node array is let go, so that a
// connection does not keep the index a flood built.
func (q *oooQueue) reset() {
	if q == nil {
		return
	}
	nodes := q.nodes[:0]
	if cap(nodes) > 256 {
		nodes = nil
	}
	*q = oooQueue{nodes: nodes}
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
// holds its 65536 ranges in 1.25 MiB of nodes). What would exceed it is
// dropped (trace.DropOutOfOrderRanges).
func (c *Conn) maxOOORanges() int { return min(max(int(c.rcvBuf)/64, 64), 1<<16) }
