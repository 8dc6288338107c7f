package sim

import (
	"testing"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// The watch counts a segment whose bytes all arrived before as a duplicate,
// unless the earlier copy was dropped by the TCP (a Drop with a
// connection's cause); a drop by the stack, or a note, is not the TCP's.
func TestReceiverWatchDrops(t *testing.T) {
	in := func(sq seq.Value, flags wire.Flags, n int) *trace.Event {
		e := &trace.Event{Kind: trace.SegmentIn, Host: "server", PayloadLen: n}
		e.Seg.Seq, e.Seg.Flags = sq, flags
		return e
	}
	for _, c := range []struct {
		name  string
		after *trace.Event // recorded after the first copy
		dups  uint64
	}{
		{"no drop", nil, 1},
		{"dropped by the TCP", &trace.Event{Kind: trace.Drop, Host: "server", Cause: trace.DropUnacceptableSeq}, 0},
		{"the client's drop", &trace.Event{Kind: trace.Drop, Host: "client", Cause: trace.DropUnacceptableSeq}, 1},
		{"a note", &trace.Event{Kind: trace.Note, Host: "server", Reason: "dropped: unacceptable sequence number"}, 1},
		{"dropped by the stack", &trace.Event{Kind: trace.Drop, Host: "server", Cause: trace.DropBacklogFull}, 1},
	} {
		w := &receiverWatch{host: "server"}
		w.Record(in(100, wire.SYN, 0))
		w.Record(in(101, wire.ACK, 10))
		if c.after != nil {
			w.Record(c.after)
		}
		w.Record(in(101, wire.ACK, 10))
		w.Record(&trace.Event{Kind: trace.State, Host: "server", From: tcp.Established, To: tcp.CloseWait, At: 7})
		w.commit()
		if w.dupSegs != c.dups || w.dataDone != 7 {
			t.Errorf("%s: %d duplicate segments, data done at %v; want %d, 7", c.name, w.dupSegs, w.dataDone, c.dups)
		}
	}
}
