package tcp

import (
	"testing"

	"github.com/gosynack/synack/wire"
)

// The SACK option a receiver sends (RFC 2018 §4) and its D-SACK blocks
// (RFC 2883 §4), as exact segments. Sequence numbers in the RFC's examples
// start at 0; here the peer's first data byte is 1, so RFC byte x is x+1.

// sackRecv is an ESTABLISHED receiver with SACK and timestamps (three
// blocks fit) that acknowledges every segment at once.
func sackRecv(t *testing.T) *fixture {
	cfg := modernCfg()
	cfg.DelayedACK = -1
	return newModern(t, cfg, true)
}

// rfcWin is the window the receiver offers when it holds n bytes unread:
// the right edge stays where it was (65536 bytes past the first byte),
// scaled by the receiver's shift of 1.
func rfcWin(n int) int { return (65536 - n) / 2 }

// rfcIn is the peer's segment of RFC bytes [from, to).
func rfcIn(from, to uint32) seg {
	return seg{Flags: wire.ACK, Seq: 1 + from, Ack: 1, Data: data(byte(from/500), int(to-from))}
}

// rfcAck is the receiver's ACK of RFC byte ack with SACK blocks given in
// RFC bytes, holding unread bytes unread.
func rfcAck(ack uint32, unread int, blocks ...uint32) seg {
	s := seg{Flags: wire.ACK, Seq: 1, Ack: 1 + ack, Win: rfcWin(unread)}
	for _, b := range blocks {
		s.SACK = append(s.SACK, 1+b)
	}
	return s
}

// RFC 2883 §4.1.1, Example 1: "the data receiver subsequently receives a
// duplicate segment with sequence numbers 3000-3499. The receiver sends an
// acknowledgement with the cumulative acknowledgement field set to 4000,
// and the first, D-SACK block specifying sequence numbers 3000-3500."
func TestRFC2883Example1(t *testing.T) {
	f := sackRecv(t)
	f.send(t, sec(1), rfcIn(0, 3500))
	f.want(t, "3500", rfcAck(3500, 3500))
	f.send(t, ms(1001), rfcIn(3500, 4000))
	f.want(t, "4000", rfcAck(4000, 4000))
	f.send(t, ms(1002), rfcIn(3000, 3500))
	f.want(t, "4000, SACK=3000-3500", rfcAck(4000, 4000, 3000, 3500))
}

// RFC 2883 §4.1.2, Example 2: a duplicate below the cumulative ACK while
// data is held beyond it: "4000, SACK=3000-3500, 4500-5000".
func TestRFC2883Example2(t *testing.T) {
	f := sackRecv(t)
	f.send(t, sec(1), rfcIn(0, 4000))
	f.want(t, "4000", rfcAck(4000, 4000))
	f.send(t, ms(1001), rfcIn(4500, 5000))
	f.want(t, "4000, SACK=4500-5000", rfcAck(4000, 4000, 4500, 5000))
	f.send(t, ms(1002), rfcIn(3000, 3500))
	f.want(t, "4000, SACK=3000-3500, 4500-5000", rfcAck(4000, 4000, 3000, 3500, 4500, 5000))
}

// RFC 2883 §4.1.3, Example 3: a duplicate of data held out of order: "If
// the D-SACK block reports a duplicate contiguous sequence from a
// (possibly larger) block of data in the receiver's data queue above the
// cumulative acknowledgement, then the second SACK block in that SACK
// option should specify that (possibly larger) block of data": "4000,
// SACK=5000-5500, 4500-5500".
func TestRFC2883Example3(t *testing.T) {
	f := sackRecv(t)
	f.send(t, sec(1), rfcIn(0, 4000))
	f.want(t, "4000", rfcAck(4000, 4000))
	f.send(t, ms(1001), rfcIn(4500, 5000))
	f.want(t, "4000, SACK=4500-5000", rfcAck(4000, 4000, 4500, 5000))
	f.send(t, ms(1002), rfcIn(5000, 5500))
	f.want(t, "4000, SACK=4500-5500", rfcAck(4000, 4000, 4500, 5500))
	f.send(t, ms(1003), rfcIn(5000, 5500))
	f.want(t, "4000, SACK=5000-5500, 4500-5500", rfcAck(4000, 4000, 5000, 5500, 4500, 5500))
	if s := f.c.Stats(); s.DupBytesIn != 500 {
		t.Fatalf("DupBytesIn = %d, want 500", s.DupBytesIn)
	}
}

// RFC 2883 §4.2.1, Example 4: "The receiver subsequently receives a
// 1000-byte packet containing one 500-byte subsegment that has already
// been received and one which has not. The receiver reports only the
// already received subsegment using a single D-SACK block": the segment
// 1000-2000 fills the hole before 2000-2500, RCV.NXT moves to 2500, and
// the ACK is "2500, SACK=1000-1500".
func TestRFC2883Example4(t *testing.T) {
	f := sackRecv(t)
	f.send(t, sec(1), rfcIn(0, 1000))
	f.want(t, "1000", rfcAck(1000, 1000))
	f.send(t, ms(1001), rfcIn(2000, 2500))
	f.want(t, "1000, SACK=2000-2500", rfcAck(1000, 1000, 2000, 2500))
	f.send(t, ms(1002), rfcIn(1000, 1500))
	f.want(t, "1500, SACK=2000-2500", rfcAck(1500, 1500, 2000, 2500))
	f.send(t, ms(1003), rfcIn(1000, 2000))
	f.want(t, "2500, SACK=1000-1500", rfcAck(2500, 2500, 1000, 1500))
}

// Example 4's duplicate the other way round: the segment that fills the
// hole at RCV.NXT runs on into data held out of order, which arrives a
// second time. RFC 2883 §4 (1): "A D-SACK block is only used to report a
// duplicate contiguous sequence of data received by the receiver in the
// most recent packet", and the segment advanced the cumulative ACK over
// it, so the D-SACK block is the only block: "2500, SACK=2000-2500".
func TestDSACKForHeldDataTakenInOrder(t *testing.T) {
	f := sackRecv(t)
	f.send(t, sec(1), rfcIn(0, 1500))
	f.want(t, "1500", rfcAck(1500, 1500))
	f.send(t, ms(1001), rfcIn(2000, 2500))
	f.want(t, "1500, SACK=2000-2500", rfcAck(1500, 1500, 2000, 2500))
	f.send(t, ms(1002), rfcIn(1500, 2500))
	f.want(t, "2500, SACK=2000-2500 (D-SACK)", rfcAck(2500, 2500, 2000, 2500))
	if s := f.c.Stats(); s.DupBytesIn != 500 {
		t.Fatalf("DupBytesIn = %d, want 500", s.DupBytesIn)
	}
	f.wantRead(t, ms(1003), data(0, 1500))
}

// RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block
// of data containing the segment which triggered this ACK"; "The SACK
// option SHOULD be filled out by repeating the most recently reported SACK
// blocks (based on first SACK blocks in previous SACK options) that are not
// subsets of a SACK block already included"; "the data receiver SHOULD
// include as many distinct SACK blocks as possible in the SACK option".
func TestSACKBlockOrder(t *testing.T) {
	f := sackRecv(t)
	f.send(t, sec(1), rfcIn(0, 500))
	f.want(t, "500", rfcAck(500, 500))
	// Five ranges, arriving from the highest down.
	f.send(t, ms(1001), rfcIn(4500, 5000))
	f.want(t, "the first range", rfcAck(500, 500, 4500, 5000))
	f.send(t, ms(1002), rfcIn(3500, 4000))
	f.want(t, "the newest first", rfcAck(500, 500, 3500, 4000, 4500, 5000))
	f.send(t, ms(1003), rfcIn(2500, 3000))
	f.want(t, "three blocks beside timestamps", rfcAck(500, 500, 2500, 3000, 3500, 4000, 4500, 5000))
	f.send(t, ms(1004), rfcIn(1500, 2000))
	f.want(t, "the oldest left out", rfcAck(500, 500, 1500, 2000, 2500, 3000, 3500, 4000))
	// A segment that joins two ranges: the joined block first, the
	// blocks it absorbed not repeated.
	f.send(t, ms(1005), rfcIn(2000, 2500))
	f.want(t, "the joined range first", rfcAck(500, 500, 1500, 3000, 3500, 4000, 4500, 5000))
	// A segment that extends a range reported long ago.
	f.send(t, ms(1006), rfcIn(5000, 5500))
	f.want(t, "the extended range first", rfcAck(500, 500, 4500, 5500, 1500, 3000, 3500, 4000))
	// The hole at RCV.NXT filled up to 1000: the ACK moves, nothing is
	// taken from the queue, the most recently reported blocks follow.
	f.send(t, ms(1007), rfcIn(500, 1000))
	f.want(t, "ACK moved", rfcAck(1000, 1000, 4500, 5500, 1500, 3000, 3500, 4000))
	// Up to 1500: the range 1500-3000 is taken in order; the blocks left
	// are the two still held.
	f.send(t, ms(1008), rfcIn(1000, 1500))
	f.want(t, "ACK over the first range", rfcAck(3000, 3000, 4500, 5500, 3500, 4000))
	if i := f.c.Info(); i.OutOfOrder != 1500 {
		t.Fatalf("held %d bytes out of order, want 1500", i.OutOfOrder)
	}
}

// With more ranges held than the blocks most recently reported, a SACK
// option still carries as many blocks as fit (RFC 2018 §4: "as many
// distinct SACK blocks as possible"): after the reported ranges are taken
// in order, the lowest of the others fill it.
func TestSACKFillsFromHeldRanges(t *testing.T) {
	f := sackRecv(t)
	// Five ranges, from the highest down: the four most recently reported
	// (wire.MaxSACKBlocks are remembered) are 1000-1500 ... 4000-4500.
	for at := uint32(5000); at >= 1000; at -= 1000 {
		f.send(t, ms(1000), rfcIn(at, at+500))
		f.output(t)
	}
	if n := f.c.ooo.len(); n != 5 {
		t.Fatalf("%d ranges held, want 5", n)
	}
	f.send(t, ms(1001), rfcIn(0, 1000))
	f.want(t, "1500, three blocks", rfcAck(1500, 1500, 2000, 2500, 3000, 3500, 4000, 4500))
	// Two blocks remembered are left; 5000-5500 fills the third place.
	f.send(t, ms(1002), rfcIn(1500, 2000))
	f.want(t, "2500, the third block from the queue", rfcAck(2500, 2500, 3000, 3500, 4000, 4500, 5000, 5500))
}

// A flood of ranges beyond maxOOORanges: what lies above the highest range
// held is dropped (and counted); a segment below it makes room by letting
// the highest range go, as Linux prunes its queue from the top.
func TestOutOfOrderRangeLimit(t *testing.T) {
	f := sackRecv(t)
	limit := f.c.maxOOORanges()
	for k := 0; k < limit; k++ {
		f.send(t, ms(1000), seg{Flags: wire.ACK, Seq: uint32(1 + 2*k + 20), Ack: 1, Data: []byte{'x'}})
		f.output(t)
	}
	if n := f.c.ooo.len(); n != limit {
		t.Fatalf("%d ranges held, want %d", n, limit)
	}
	dropped := f.c.Stats().Dropped
	f.send(t, ms(1001), seg{Flags: wire.ACK, Seq: uint32(1 + 2*limit + 20), Ack: 1, Data: []byte{'y'}})
	f.output(t)
	if s := f.c.Stats(); s.Dropped != dropped+1 || f.c.ooo.len() != limit || f.c.Info().OutOfOrder != limit {
		t.Fatalf("above the limit: dropped %d (want %d), %d ranges, %d bytes held", s.Dropped, dropped+1, f.c.ooo.len(), f.c.Info().OutOfOrder)
	}
	f.send(t, ms(1002), seg{Flags: wire.ACK, Seq: 1 + 10, Ack: 1, Data: []byte{'z'}})
	f.output(t)
	if s := f.c.Stats(); s.OutOfOrderPruned != 1 || f.c.ooo.len() != limit {
		t.Fatalf("below the highest: pruned %d, %d ranges", s.OutOfOrderPruned, f.c.ooo.len())
	}
	if err := f.c.checkOOO(); err != nil {
		t.Fatal(err)
	}
	// Prune down to nothing: the buffer goes back.
	if n := f.c.PruneOutOfOrder(0); n != limit {
		t.Fatalf("pruned %d bytes, want %d", n, limit)
	}
	if f.c.rcv.mem != nil || f.c.Info().OutOfOrder != 0 {
		t.Fatalf("after pruning: buffer %d, held %d", len(f.c.rcv.mem), f.c.Info().OutOfOrder)
	}
	// The peer sends it all again; every byte arrives in order.
	for k := 0; k < 2*limit+21; k++ {
		f.send(t, ms(1003), seg{Flags: wire.ACK, Seq: uint32(1 + k), Ack: 1, Data: []byte{'a'}})
	}
	f.output(t)
	if got := f.c.Readable(); got != 2*limit+21 {
		t.Fatalf("readable %d, want %d", got, 2*limit+21)
	}
}
