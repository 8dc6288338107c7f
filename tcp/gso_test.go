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
