package tcp

import (
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// RACK's loss detection (RFC 8985 §6.2 step 5) walks the segments in
// order of transmission, those sent before the most recently delivered
// one. A walk that goes through every segment sent at the same instant
// (a burst, or a GSO super-segment's pieces) or every hole not yet old
// enough to be lost, on every ACK, makes an ACK's cost grow with the
// queue: CVE-2018-5390's lesson (SegmentSmack) on the sender's side,
// and what the hostile soak's SACK abuse found (sim: 7.3 s of CPU with a
// 100k-segment queue, 0.5 s with the walk bounded). These check that the
// walk's length does not grow with the queue, and that what RACK decides
// is the RFC's.

// burstACK is an in-order ACK of the second of n segments sent at one
// instant: the segments after it were sent at the same time, none
// before it. It returns the connection and how many segments RACK looks
// at.
func burstACK(n int) (*Conn, int) {
	const mss = 48
	c := sackConn(n)
	var s wire.Segment
	peerSeg(&s, 0, 2*mss, nil)
	c.Input(ms(3), &s)
	c.Output(ms(3), discard)
	_, _, looked := c.rackScan(ms(3))
	return c, looked
}

func TestRACKScanBurstInOrderACK(t *testing.T) {
	// RFC 8985 §6.2 step 5: "If RACK_sent_after(RACK.xmit_ts,
	// RACK.end_seq, Segment.xmit_ts, Segment.end_seq) ... Else: ...",
	// nothing sent at the same instant above RACK.end_seq is lost.
	cs, small := burstACK(1_000)
	cl, large := burstACK(10_000)
	if small != large {
		t.Errorf("an ACK of a burst's second segment makes RACK look at %d segments of 1,000 and %d of 10,000: the cost grows with the queue", small, large)
	}
	for _, c := range []*Conn{cs, cl} {
		if i := c.Info(); i.LostBytes != 0 || c.reoAt != clock.Never {
			t.Errorf("after an in-order ACK: %d bytes lost, reordering timer at %v; want none and none", i.LostBytes, c.reoAt)
		}
	}
}

// manyHoles has every other segment of a burst of n SACKed, four
// blocks an ACK, after the last: the lower ones delivered after a higher
// one are reordering (RFC 8985 §6.2 step 3), so the reordering window
// is open and the holes wait in it rather than being lost at once. It
// returns the connection and how many segments RACK looks at.
func manyHoles(n int) (*Conn, int) {
	const mss = 48
	c := sackConn(n)
	var s wire.Segment
	now := ms(3)
	// Segment k (k >= 1) is [k*mss, (k+1)*mss) from our first byte; the
	// first is acknowledged.
	last := seq.Value(benchISS + 1 + uint32(n*mss))
	peerSeg(&s, 0, mss, nil)
	s.Options.SACK[0] = wire.SACKBlock{Left: last, Right: last + mss}
	s.Options.NumSACK = 1
	c.Input(now, &s)
	c.Output(now, discard)
	for k := 1; k+6 < n; k += 8 {
		peerSeg(&s, 0, mss, nil)
		for j := 0; j < 4; j++ {
			left := seq.Value(benchISS + 1 + uint32((k+2*j)*mss))
			s.Options.SACK[j] = wire.SACKBlock{Left: left, Right: left + mss}
		}
		s.Options.NumSACK = 4
		c.Input(now, &s)
		c.Output(now, discard)
	}
	_, _, looked := c.rackScan(now)
	return c, looked
}

func TestRACKScanManyHoles(t *testing.T) {
	const mss = 48
	_, small := manyHoles(1_000)
	c, large := manyHoles(10_000)
	if small != large {
		t.Errorf("RACK looks at %d segments with 499 holes and %d with 4,999: the cost grows with the queue", small, large)
	}
	// RFC 8985 §6.2 step 5: "Else: timeout = max(remaining, timeout)" and
	// "If timeout != 0 ... Arm the RACK timer to call RACK_detect_loss()
	// after timeout". The burst left at 2 ms, RACK.rtt is 1 ms, reo_wnd
	// min_RTT/4 = 250 µs: every hole's remaining time at 3 ms is 250 µs.
	if i := c.Info(); i.LostBytes != 0 {
		t.Errorf("%d bytes lost before the holes are RACK.rtt + reo_wnd old, want 0", i.LostBytes)
	}
	if want := ms(3).Add(250 * time.Microsecond); c.reoAt != want {
		t.Fatalf("reordering timer at %v, want %v", c.reoAt, want)
	}
	// "Remaining = Segment.xmit_ts + RACK.rtt + RACK.reo_wnd - Now(); If
	// remaining <= 0: Mark Segment lost": all 4,999 holes (the even
	// segments 2 to 9,998).
	c.HandleTimeout(c.reoAt)
	if got, want := c.Info().LostBytes, 4_999*mss; got != want {
		t.Errorf("after the reordering timer %d bytes are marked lost, want the %d of the holes", got, want)
	}
}
