package tcp

import (
	"fmt"

	"github.com/gosynack/synack/seq"
)

// checkOOO checks the out-of-order queue's invariants: blocks (none empty,
// none under half full but a lone one) of disjoint ranges that do not
// touch, in sequence order, all beyond RCV.NXT (or at it, for a SYN's text in
// SYN-RECEIVED) and within 2^31 of it, whose
// sizes add up to oooBytes, each block's start recorded; SACK blocks to
// report that are ranges held, each once.
func (c *Conn) checkOOO() error {
	q := c.ooo
	if q == nil {
		if c.oooBytes != 0 {
			return fmt.Errorf("no queue, yet %d bytes held", c.oooBytes)
		}
		return nil
	}
	var bytes int64
	count := 0
	var prevEnd seq.Value
	hasPrev := false
	if len(q.firsts) != len(q.blocks) {
		return fmt.Errorf("%d blocks, %d block starts", len(q.blocks), len(q.firsts))
	}
	for i, blk := range q.blocks {
		if len(blk) == 0 || cap(blk) > oooBlock || len(blk) < oooBlock/2 && len(q.blocks) > 1 {
			return fmt.Errorf("block %d of %d: %d ranges (capacity %d)", i, len(q.blocks), len(blk), cap(blk))
		}
		if q.firsts[i] != blk[0].start {
			return fmt.Errorf("block %d starts at %d, its first range at %d", i, q.firsts[i], blk[0].start)
		}
		for _, n := range blk {
			// In SYN-RECEIVED the SYN's text is held at RCV.NXT itself,
			// unacknowledged (RFC 9293 §3.10.7.2: "any other control or
			// text should be queued for processing later"; input.go's
			// inputListen), until the ACK of our SYN takes it.
			beyond := n.start.GreaterThan(c.rcvNxt) || c.state == SynReceived && n.start == c.rcvNxt
			if !n.start.LessThan(n.end) || !beyond || n.end.Size(c.rcvNxt) >= 1<<31 {
				return fmt.Errorf("range [%d, %d) with RCV.NXT %d", n.start, n.end, c.rcvNxt)
			}
			if hasPrev && !prevEnd.LessThan(n.start) {
				return fmt.Errorf("range [%d, %d) touches or overlaps the one ending at %d", n.start, n.end, prevEnd)
			}
			prevEnd, hasPrev = n.end, true
			bytes += int64(n.end.Size(n.start))
			count++
		}
	}
	if count != int(q.n) || bytes != int64(c.oooBytes) {
		return fmt.Errorf("%d ranges of %d bytes, counted %d of %d", count, bytes, q.n, c.oooBytes)
	}
	if count > 0 && q.hi != prevEnd {
		return fmt.Errorf("the last range ends at %d, the queue says %d", prevEnd, q.hi)
	}
	if count > c.maxOOORanges() {
		return fmt.Errorf("%d ranges, above the bound %d", count, c.maxOOORanges())
	}
	if q.nsacks < 0 || int(q.nsacks) > len(q.sacks) {
		return fmt.Errorf("%d blocks to report", q.nsacks)
	}
	for i := int32(0); i < q.nsacks; i++ {
		b := q.sacks[i]
		r := q.containing(b.Left, b.Right)
		if r == 0 || q.node(r).start != b.Left || q.node(r).end != b.Right {
			return fmt.Errorf("block %d [%d, %d) to report is not a range held", i, b.Left, b.Right)
		}
		for k := int32(0); k < i; k++ {
			if q.sacks[k] == b {
				return fmt.Errorf("block [%d, %d) to report twice", b.Left, b.Right)
			}
		}
	}
	return nil
}

// checkSkips checks the retransmission queue's skip links: from a SACKed
// record, every record before the one its skip names is SACKed, and the
// link stays inside the queue.
func (c *Conn) checkSkips() error {
	q := c.txq()
	// The first record from each index that is not SACKed, from the end.
	nextUnsacked := make([]int, len(q)+1)
	nextUnsacked[len(q)] = len(q)
	for i := len(q) - 1; i >= 0; i-- {
		nextUnsacked[i] = i
		if q[i].sacked {
			nextUnsacked[i] = nextUnsacked[i+1]
		}
	}
	for i := range q {
		if !q[i].sacked {
			continue
		}
		to := i + int(max(q[i].skip, 1))
		if to > len(q) || to > nextUnsacked[i] {
			return fmt.Errorf("record %d of %d skips to %d past an unSACKed record (%d)", i, len(q), to, nextUnsacked[i])
		}
	}
	return nil
}
