package tcp

import (
	"testing"

	"github.com/gosynack/synack/wire"
)

// With segmentation offload, new data leaves in one super-segment of whole
// MSS-sized pieces as far as the congestion window allows (RFC 5681 §3.1:
// "The initial value of cwnd ... IW = min (10*SMSS, max (2*SMSS, 14600))"),
// with GSOSize the MSS, and the retransmission queue holds one record per
// piece, so that a lost piece is resent alone, at the MSS.
func TestSuperSegmentInitialWindow(t *testing.T) {
	f := newEstablished(t, withConfig(plain(Config{SegmentOffload: 65495, NoDelay: true, SendBuffer: 1 << 20})))
	f.write(t, ms(200), data('a', 64<<10))
	got := f.output(t)
	if len(got) != 1 {
		t.Fatalf("got %d segments, want one super-segment", len(got))
	}
	s := got[0].seg
	if len(s.Payload) != 10*1460 || s.GSOSize != 1460 {
		t.Fatalf("super-segment: %d bytes, GSOSize %d; want 14600 (the initial window) and 1460", len(s.Payload), s.GSOSize)
	}
	if s.Flags != wire.ACK {
		t.Errorf("flags %v, want ACK only (more data is queued)", s.Flags)
	}
	q := f.c.txq()
	if len(q) != 10 {
		t.Fatalf("retransmission queue has %d records, want 10 (one per MSS)", len(q))
	}
	for i, r := range q {
		if r.len() != 1460 {
			t.Errorf("record %d is %d bytes, want 1460", i, r.len())
		}
	}
}

// Without SegmentOffload (the default) the same write leaves as MSS-sized
// segments.
func TestNoSuperSegmentByDefault(t *testing.T) {
	f := newEstablished(t, withConfig(plain(Config{NoDelay: true, SendBuffer: 1 << 20})))
	f.write(t, ms(200), data('a', 64<<10))
	got := f.output(t)
	if len(got) != 10 {
		t.Fatalf("got %d segments, want 10", len(got))
	}
	for _, e := range got {
		if len(e.seg.Payload) != 1460 || e.seg.GSOSize != 0 {
			t.Fatalf("segment of %d bytes, GSOSize %d; want 1460, 0", len(e.seg.Payload), e.seg.GSOSize)
		}
	}
}

// With segmentation offload, slow start's limit L counts the sender's
// super-segments, not SMSS: RFC 3465 §2.2 ("MUST NOT use L > 2*SMSS
// bytes") bounds the burst a stretch ACK buys at two segments, and a
// sender with offload hands the link one super-segment at a time, which a
// peer taking it whole (GRO) acknowledges as one. One ACK of the ten
// pieces of the initial window grows cwnd by two pieces without offload
// (RFC 5681 §3.1, "cwnd += min (N, SMSS)" with RFC 3465's L = 2), by two
// super-segments of two pieces with an offload of two pieces, and by all
// ten pieces with an offload of 44 pieces (two super-segments are more
// than the ACK covers).
func TestSlowStartCountsSuperSegments(t *testing.T) {
	for _, tc := range []struct {
		offload, pieces, grow int
	}{
		{0, 1, 2 * 1460},
		{60 + 2*1460, 2, 4 * 1460},
		{65495, 44, 10 * 1460},
	} {
		f := newEstablished(t, withConfig(plain(Config{SegmentOffload: tc.offload, NoDelay: true, SendBuffer: 1 << 20})))
		d := data('u', 64<<10)
		f.write(t, sec(1), d)
		flight := func(from, n int) []seg {
			var out []seg
			for off := from; off < from+n; off += tc.pieces * 1460 {
				end := min(off+tc.pieces*1460, from+n)
				out = append(out, seg{Flags: wire.ACK, Seq: uint32(1 + off), Ack: 1, Data: d[off:end]})
			}
			return out
		}
		f.want(t, "the initial window, in super-segments of the offload's pieces", flight(0, 10*1460)...)
		f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 10*1460})
		if got := f.c.Info().Cwnd; got != 10*1460+tc.grow {
			t.Fatalf("offload %d: cwnd %d after one ACK of the initial window, want %d", tc.offload, got, 10*1460+tc.grow)
		}
		f.want(t, "the grown window", flight(10*1460, 10*1460+tc.grow)...)
	}
}
