package tcp

import (
	"testing"

	"github.com/gosynack/synack/wire"
)

// The receive buffer is a ring: reading from its front and appending at
// its end never moves the unread bytes (the array stays the same once it
// has grown to the window), and data held out of order past the end of
// the array wraps to its start, to be read back in order once the hole is
// filled (RFC 9293 §3.10.7.4: "segments with higher beginning sequence
// numbers may be held for later processing").
func TestRecvRingWraps(t *testing.T) {
	f := newEstablished(t)
	stream := data('r', 80000)
	at := 0
	in := func(off, n int) {
		t.Helper()
		f.send(t, f.now, seg{Flags: wire.ACK, Seq: uint32(1 + off), Ack: 1, Data: stream[off : off+n]})
		f.output(t)
	}
	for ; at < 60000; at += 1000 {
		in(at, 1000)
	}
	f.wantRead(t, f.now, stream[:50000])
	arr, head := &f.c.rcv.mem[0], f.c.rcv.head
	size := len(f.c.rcv.mem)
	if size != 64<<10 {
		t.Fatalf("ring of %d bytes for a 64 KiB window", size)
	}
	in(at, 5000) // up to 65,000 bytes from the ring's first use: 536 before its end
	at += 5000
	in(at+2000, 5000) // held out of order, from 67,000: past the end, wrapped
	if h := f.c.Info().OutOfOrder; h != 5000 {
		t.Fatalf("held %d bytes out of order, want 5000", h)
	}
	in(at, 2000) // fills the hole, across the end of the array
	at += 7000
	if got := f.c.Readable(); got != at-50000 {
		t.Fatalf("readable %d, want %d", got, at-50000)
	}
	if &f.c.rcv.mem[0] != arr || len(f.c.rcv.mem) != size || f.c.rcv.head != head {
		t.Fatalf("the ring's array or head changed (%d bytes, head %d, was %d): its bytes were moved", len(f.c.rcv.mem), f.c.rcv.head, head)
	}
	if int(head)+at-50000 <= size {
		t.Fatalf("head %d: the data never reached the end of the %d-byte array", head, size)
	}
	f.wantRead(t, f.now, stream[50000:at])
	if f.c.rcv.mem != nil {
		t.Errorf("everything read and nothing held, but the ring (%d bytes) was kept", len(f.c.rcv.mem))
	}
}
