package sim

import (
	"sort"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// receiverWatch is a trace.Recorder that watches the server's side of a
// soak run, independently of package tcp's own counters:
//
//   - when the server's connection leaves ESTABLISHED for CLOSE-WAIT (the
//     client's FIN taken, so every byte before it too): the end of the
//     transfer;
//   - which stream bytes have reached the server's TCP (SegmentIn events),
//     so that a segment whose bytes had all arrived before is counted as a
//     duplicate: a spurious retransmission, or a link duplicate.
//
// A segment the server's TCP drops (a Drop event with a connection's cause)
// without having had its bytes before is not counted as received (it
// brought nothing).
// Every event is passed on to next, if set.
type receiverWatch struct {
	host string
	next trace.Recorder

	irsSet bool
	irs    seq.Value
	// have holds the received byte ranges [start, end) as stream offsets,
	// sorted and merged.
	have [][2]int64
	// pending is the last data segment's range, committed to have when
	// the next segment arrives (or at the end) unless the TCP dropped it.
	pendingSet, pendingDropped bool
	pending                    [2]int64

	dataDone clock.Time // when the server entered CLOSE-WAIT; 0 if never
	dupBytes uint64     // payload bytes that had all arrived before
	dupSegs  uint64     // segments whose every byte had arrived before
	partial  uint64     // segments partly new, partly old
}

func (w *receiverWatch) Record(e *trace.Event) {
	if w.next != nil {
		w.next.Record(e)
	}
	if e.Host != w.host {
		return
	}
	switch e.Kind {
	case trace.State:
		if e.To == tcp.CloseWait && w.dataDone == 0 {
			w.dataDone = e.At
		}
	case trace.Drop:
		if w.pendingSet && e.Cause.Connection() {
			w.pendingDropped = true
		}
	case trace.SegmentIn:
		w.commit()
		if e.Seg.Flags&wire.SYN != 0 && e.Seg.Flags&wire.ACK == 0 {
			w.irsSet, w.irs = true, e.Seg.Seq
			return
		}
		if !w.irsSet || e.PayloadLen == 0 {
			return
		}
		start := int64(uint32(e.Seg.Seq.Size(w.irs.Add(1))))
		if e.Seg.Flags&wire.SYN != 0 {
			start++
		}
		w.pendingSet, w.pendingDropped = true, false
		w.pending = [2]int64{start, start + int64(e.PayloadLen)}
	}
}

// commit settles the pending segment: duplicate bytes counted, new bytes
// added unless the TCP dropped the segment.
func (w *receiverWatch) commit() {
	if !w.pendingSet {
		return
	}
	w.pendingSet = false
	a, b := w.pending[0], w.pending[1]
	old := w.overlap(a, b)
	switch {
	case old == b-a:
		w.dupBytes += uint64(old)
		w.dupSegs++
	case w.pendingDropped:
		// New bytes the TCP refused (beyond its window, PAWS): nothing
		// arrived.
		return
	case old > 0:
		w.dupBytes += uint64(old)
		w.partial++
	}
	w.add(a, b)
}

// overlap is how many bytes of [a, b) are in have.
func (w *receiverWatch) overlap(a, b int64) int64 {
	var n int64
	for _, r := range w.have {
		lo, hi := max(a, r[0]), min(b, r[1])
		if hi > lo {
			n += hi - lo
		}
	}
	return n
}

// add merges [a, b) into have.
func (w *receiverWatch) add(a, b int64) {
	w.have = append(w.have, [2]int64{a, b})
	sort.Slice(w.have, func(i, j int) bool { return w.have[i][0] < w.have[j][0] })
	out := w.have[:1]
	for _, r := range w.have[1:] {
		last := &out[len(out)-1]
		if r[0] <= last[1] {
			last[1] = max(last[1], r[1])
			continue
		}
		out = append(out, r)
	}
	w.have = out
}
