package tcp

import (
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// The retransmission queue and SACK scoreboard: one record per segment of
// data (or FIN) sent and not yet cumulatively acknowledged, in sequence
// order. Segment boundaries are fixed when a segment is first sent; a
// retransmission resends the same range. Records carry what RFC 6675
// (SACKed, lost, retransmitted), RFC 8985 (transmission time) and RFC 6298
// (Karn's rule: sent once or more) need.
//
// The records that RACK may yet deem lost (neither SACKed nor already lost
// and waiting for their retransmission) are also linked in the order of
// their latest transmission, oldest first (RFC 8985 §6.2: "the sender can
// keep the segments in time order and stop at the first one that was sent
// after RACK.xmit_ts"), so that loss detection looks only at the segments
// sent before the most recently delivered one.

type txSeg struct {
	start, end seq.Value  // end includes the FIN's sequence number
	firstSent  clock.Time // first transmission
	sentAt     clock.Time // latest transmission
	xmits      int32      // transmissions so far
	// prev and next link the time-ordered list: an index into Conn.tx
	// plus one, 0 for none.
	prev, next int32
	fin        bool
	sacked     bool // covered by a SACK block
	lost       bool // deemed lost (RFC 6675 IsLost, or RACK)
	// skip, in a SACKed record, is how many records on the next one that
	// may not be SACKed lies (0 counts as 1): every record in between is
	// SACKed. A block over a long queue skips the SACKed runs (sackSkip).
	skip      int32
	rexmitted bool // retransmitted since it was last deemed lost
	dsacked   bool // a D-SACK reported a copy of it arrived twice
	linked    bool // in the time-ordered list
}

// tsLink puts c.tx[i] in the time-ordered list, after every record sent
// at or before it (from the tail: it is usually the newest).
func (c *Conn) tsLink(i int) {
	t := &c.tx[i]
	p := c.tsTail
	for p != 0 && c.tx[p-1].sentAt > t.sentAt {
		p = c.tx[p-1].prev
	}
	self := int32(i + 1)
	t.prev = p
	if p == 0 {
		t.next, c.tsHead = c.tsHead, self
	} else {
		t.next, c.tx[p-1].next = c.tx[p-1].next, self
	}
	if t.next == 0 {
		c.tsTail = self
	} else {
		c.tx[t.next-1].prev = self
	}
	t.linked = true
}

// tsUnlink takes c.tx[i] out of the time-ordered list, if it is in it.
func (c *Conn) tsUnlink(i int) {
	t := &c.tx[i]
	if !t.linked {
		return
	}
	if t.prev == 0 {
		c.tsHead = t.next
	} else {
		c.tx[t.prev-1].next = t.next
	}
	if t.next == 0 {
		c.tsTail = t.prev
	} else {
		c.tx[t.next-1].prev = t.prev
	}
	t.prev, t.next, t.linked = 0, 0, false
}

func (t *txSeg) len() int { return int(t.end.Size(t.start)) }

// pending reports that t is deemed lost and waits for its retransmission.
func (t *txSeg) pending() bool { return t.lost && !t.rexmitted }

// forget removes t's share from the scoreboard's byte counts, before t is
// acknowledged or SACKed (n bytes of it; all of it when n < 0).
func (c *Conn) forget(t *txSeg, n int) {
	if n < 0 {
		n = t.len()
	}
	if t.sacked {
		c.sackedBytes -= int32(n)
		if n == t.len() {
			c.sackedSegs--
		}
	}
	if t.lost {
		c.lostBytes -= int32(n)
	}
	if t.rexmitted {
		c.rexmitBytes -= int32(n)
	}
	if t.pending() && n == t.len() {
		c.pendingSegs--
	}
}

// txGrowAt is the capacity of the retransmission queue's array beyond
// which it grows straight to its bound (reserveTx).
const txGrowAt = 64

// reserveTx makes room in c.tx for n more records. Up to txGrowAt records
// the array grows as append grows it; beyond, straight to what the send
// buffer can put in flight (one record per MSS-sized segment, twice that
// for compactTx, which lets the acknowledged records at the front reach
// half the array before it slides the rest back), so that a bulk sender
// does not regrow it, copying every record, each time its window grows,
// long into the transfer.
func (c *Conn) reserveTx(n int) {
	if len(c.tx)+n <= cap(c.tx) {
		return
	}
	size := max(len(c.tx)+n, 2*cap(c.tx))
	if size > txGrowAt {
		size = max(size, 2*(c.sendBufSize()/c.effMSS()+1))
	}
	t := make([]txSeg, len(c.tx), size)
	copy(t, c.tx)
	c.tx = t
}

// txq returns the outstanding segments.
func (c *Conn) txq() []txSeg { return c.tx[c.txHead:] }

func (c *Conn) compactTx() {
	if c.txHead > 0 && len(c.tx) == int(c.txHead) {
		// Everything is acknowledged: the array goes back to the policy,
		// so that an idle connection holds none.
		clear(c.tx)
		c.pol.putTx(c.tx[:0])
		c.tx, c.txHead, c.tsHead, c.tsTail = nil, 0, 0, 0
		return
	}
	if c.txHead > 0 && int(c.txHead)*2 >= len(c.tx) {
		n := copy(c.tx, c.tx[c.txHead:])
		clear(c.tx[n:])
		c.tx = c.tx[:n]
		// The links are indices: they move with the records.
		shift := func(v int32) int32 {
			if v == 0 {
				return 0
			}
			return v - c.txHead
		}
		for i := range c.tx {
			c.tx[i].prev, c.tx[i].next = shift(c.tx[i].prev), shift(c.tx[i].next)
		}
		c.tsHead, c.tsTail = shift(c.tsHead), shift(c.tsTail)
		c.txHead = 0
	}
}

// ackResult is what a cumulative ACK and its SACK blocks did.
type ackResult struct {
	acked, sacked int           // bytes newly acknowledged cumulatively and by SACK
	ackedSegs     int           // segments removed from the queue
	rtt           time.Duration // sample from the newest segment sent once, or 0
	rttFrom       clock.Time    // when that segment was sent
	tsRTT         time.Duration // sample from the timestamp echoed (RFC 7323 §4), or 0
	sampled       bool          // a sample was taken
	dsack         bool          // the ACK carried a D-SACK
	dsackRexmit   bool          // a D-SACK covered a segment we retransmitted
	delivered     bool          // something was newly delivered (acked or sacked)
}

// takeCumulative removes what ack covers. A segment acknowledged in part
// keeps its remainder (the peer took part of it).
func (c *Conn) takeCumulative(now clock.Time, ack seq.Value, r *ackResult) {
	q := c.txq()
	k := 0
	var newest clock.Time = -1
	rexmitAcked := false
	for k < len(q) && q[k].end.LessThanEq(ack) {
		t := &q[k]
		if !t.sacked {
			r.delivered = true
			r.acked += t.len()
			c.rackDelivered(now, t)
		}
		if t.xmits > 1 {
			rexmitAcked = true
		}
		if t.xmits == 1 && !t.sacked && t.sentAt > newest {
			// A segment SACKed earlier gave its sample then; acknowledged
			// cumulatively now, after a hole was repaired, it would give
			// the repair's delay, not the path's.
			newest = t.sentAt
		}
		c.forget(t, -1)
		c.tsUnlink(int(c.txHead) + k)
		k++
	}
	if k < len(q) && q[k].start.LessThan(ack) {
		t := &q[k]
		n := int(ack.Size(t.start))
		c.forget(t, n)
		r.acked += n
		if t.xmits == 1 && t.sentAt > newest {
			newest = t.sentAt
		}
		t.start = ack
		r.delivered = true
	}
	r.ackedSegs = k
	clear(q[:k])
	c.txHead += int32(k)
	c.compactTx()
	if newest >= 0 && !rexmitAcked {
		// RFC 6298 (Karn): samples come only from segments sent once; and
		// an ACK that also covers a retransmission (a repaired hole) says
		// when the repair arrived, not when the segment did (Linux takes no
		// sample then either).
		r.rtt = now.Sub(newest)
		r.rttFrom = newest
	}
}

// takeSACK marks the segments the blocks cover (RFC 2018, RFC 6675 §4's
// Update()). A D-SACK (RFC 2883 §4: the first block lies below the
// cumulative ACK, or inside the second block) is noted, not applied.
func (c *Conn) takeSACK(now clock.Time, s *wire.Segment, r *ackResult) {
	blocks := s.Options.SACKBlocks()
	for i, b := range blocks {
		if !b.Left.LessThan(b.Right) || b.Right.GreaterThan(c.sndNxt) {
			continue // malformed or beyond what we sent: ignore
		}
		if i == 0 && (b.Right.LessThanEq(s.Ack) ||
			len(blocks) > 1 && !b.Left.LessThan(blocks[1].Left) && !b.Right.GreaterThan(blocks[1].Right)) {
			r.dsack = true
			c.stats.DSACKsIn++
			c.noteDSACK(b, r)
			continue
		}
		c.markSACKed(now, b, r)
	}
}

// maxDSACKRecords bounds the records one D-SACK block is checked against.
// A D-SACK reports the duplicate in "the most recent packet" (RFC 2883 §4
// (1)), and a retransmission resends one record, so a true one covers one
// or two; a block over the whole queue is not worth a walk over it.
const maxDSACKRecords = 16

func (c *Conn) noteDSACK(b wire.SACKBlock, r *ackResult) {
	q := c.txq()
	for i, k := c.firstEndingAfter(b.Left), 0; i < len(q) && q[i].start.LessThan(b.Right) && k < maxDSACKRecords; i, k = i+1, k+1 {
		t := &q[i]
		if t.xmits > 1 && !t.dsacked {
			t.dsacked = true
			r.dsackRexmit = true
			c.undoRetrans--
		}
	}
	if b.Right.LessThanEq(c.sndUna) {
		// Already acknowledged: the record is gone; count it against the
		// episode's retransmissions all the same (Linux does the same).
		r.dsackRexmit = true
		c.undoRetrans--
	}
}

// firstEndingAfter returns the index in txq() of the first record that
// ends after v (len when none does).
func (c *Conn) firstEndingAfter(v seq.Value) int {
	q := c.txq()
	lo, hi := 0, len(q)
	for lo < hi {
		m := (lo + hi) / 2
		if q[m].end.LessThanEq(v) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// sackSkip returns the index in q of the first record from i on that is not
// SACKed (len(q) if none), and makes the SACKed records on the way point
// at it (path compression, as in a union-find: over many ACKs a block
// costs about its new records, not the queue's length).
func sackSkip(q []txSeg, i int) int {
	j := i
	for j < len(q) && q[j].sacked {
		j += int(max(q[j].skip, 1))
	}
	j = min(j, len(q))
	for k := i; k < j && q[k].sacked; {
		next := k + int(max(q[k].skip, 1))
		q[k].skip = int32(j - k)
		k = next
	}
	return j
}

func (c *Conn) markSACKed(now clock.Time, b wire.SACKBlock, r *ackResult) {
	q := c.txq()
	// Segments wholly inside the block; the block may start mid-queue. The
	// runs already SACKed are skipped, so that a block repeated over the
	// whole queue, or blocks that move a little each ACK, cost what they
	// add. A segment only partly inside a block stays as it is: the queue
	// is never split at a block's edges (CVE-2019-11478's excessive
	// fragmentation has no analogue here).
	for i := c.firstEndingAfter(b.Left); ; i++ {
		i = sackSkip(q, i)
		if i >= len(q) || !q[i].start.LessThan(b.Right) {
			break
		}
		t := &q[i]
		if t.start.LessThan(b.Left) || t.end.GreaterThan(b.Right) {
			continue
		}
		c.forget(t, -1)
		c.tsUnlink(int(c.txHead) + i)
		t.sacked, t.lost, t.rexmitted, t.skip = true, false, false, 1
		c.sackedBytes += int32(t.len())
		c.sackedSegs++
		r.sacked += t.len()
		r.delivered = true
		if t.xmits == 1 && (r.rtt == 0 || t.sentAt > r.rttFrom) {
			// SACKed on its first transmission: a sample (as Linux takes
			// from SACKed segments).
			r.rtt, r.rttFrom = now.Sub(t.sentAt), t.sentAt
		}
		c.rackDelivered(now, t)
	}
}

// markLost marks c.tx[i] lost, to be retransmitted (again, if it was).
func (c *Conn) markLost(i int) {
	t := &c.tx[i]
	if t.sacked || t.pending() {
		return
	}
	c.tsUnlink(i)
	if !t.lost {
		t.lost = true
		c.lostBytes += int32(t.len())
	}
	if t.rexmitted {
		t.rexmitted = false
		c.rexmitBytes -= int32(t.len())
	}
	c.pendingSegs++
}

// markRetransmitted records that t was sent again.
func (c *Conn) markRetransmitted(t *txSeg) {
	if t.pending() {
		c.pendingSegs--
	}
	if !t.rexmitted {
		t.rexmitted = true
		c.rexmitBytes += int32(t.len())
	}
}

// pipe is RFC 6675's estimate of the data in the network: "the sender's
// estimate of the number of bytes outstanding in the network". For each
// byte not SACKed: one if not deemed lost, and one if retransmitted since.
// Without SACK, duplicate ACKs stand for segments that left the network
// (as Linux emulates SACK for Reno peers).
func (c *Conn) pipe() int {
	flight := int(c.sndNxt.Size(c.sndUna))
	if c.finOutstanding() {
		// The FIN's sequence number is not a byte in the network.
		flight--
	}
	p := flight - int(c.sackedBytes) - int(c.lostBytes) + int(c.rexmitBytes)
	if !c.sackOK && c.dupAcks > 0 && c.inRecovery {
		p -= min(int(c.dupAcks)*int(c.sndMSS), max(flight-int(c.sndMSS), 0))
	}
	return max(p, 0)
}

func (c *Conn) finOutstanding() bool {
	q := c.txq()
	return len(q) > 0 && q[len(q)-1].fin
}

// nextLost returns the index in c.tx of the first segment deemed lost and
// not yet retransmitted, or -1 (RFC 6675 NextSeg() rule 1).
func (c *Conn) nextLost() int {
	if c.pendingSegs <= 0 {
		return -1
	}
	for i := int(c.txHead); i < len(c.tx); i++ {
		if c.tx[i].pending() {
			return i
		}
	}
	return -1
}
