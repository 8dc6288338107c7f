package tcp

import (
	"testing"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// policyConn is benchConn for a connection of the shared Policy p.
func policyConn(p *Policy) *Conn {
	c := p.NewActive(benchTuple, benchISS, 0)
	c.Output(0, discard)
	sa := wire.Segment{SrcPort: 80, DstPort: 40000, Seq: benchIRS, Ack: benchISS + 1,
		Flags: wire.SYN | wire.ACK, Window: 65535,
		Options: wire.Options{HasMSS: true, MSS: 1460, HasWScale: true, WScale: 7, SACKPermitted: true}}
	c.Input(ms(1), &sa)
	c.Output(ms(1), discard)
	if c.State() != Established {
		panic("connection not established: " + c.State().String())
	}
	return c
}

// TestMemoryBudget: three connections of one Policy with a 20 KiB pressure
// level and a 40 KiB limit on their buffers' arrays (receive rings are the
// data's size rounded up to a power of two, at least 4 KiB).
func TestMemoryBudget(t *testing.T) {
	p := NewPolicy(Config{DelayedACK: -1, RecvBuffer: 64 << 10, RecvBufferMax: 64 << 10, NoTimestamps: true,
		MemPressure: 20 << 10, MemLimit: 40 << 10})
	a, b, c := policyConn(p), policyConn(p), policyConn(p)
	var s wire.Segment
	data := make([]byte, 10000)
	in := func(c *Conn, rel uint32, n int) {
		peerSeg(&s, rel, 0, data[:n])
		c.Input(ms(2), &s)
		c.Output(ms(2), discard)
	}
	// Below pressure, b holds out-of-order data: a 4 KiB array.
	in(b, 100, 100)
	if got := b.Info().OutOfOrder; got != 100 || p.BufferBytes() != 4<<10 {
		t.Fatalf("b holds %d bytes out of order, %d bytes of arrays", got, p.BufferBytes())
	}
	// a's 10000 unread bytes take a 16 KiB ring: pressure.
	in(a, 0, 10000)
	if pr, lim := p.MemoryState(); !pr || lim || p.BufferBytes() != 20<<10 {
		t.Fatalf("pressure %v, limit %v with %d bytes", pr, lim, p.BufferBytes())
	}
	// RFC 2018 §8: "the data receiver is permitted to discard data in its
	// queue that has not been acknowledged to the data sender, even if the
	// data has already been reported in a SACK option. Such discarding of
	// SACKed packets is discouraged, but may be used if the receiver runs
	// out of buffer space." Under pressure b lets its out-of-order data go
	// (and its array: nothing else is in it) and holds no more.
	dropped := b.Stats().Dropped
	in(b, 300, 100)
	if got := b.Info().OutOfOrder; got != 0 || b.Stats().Dropped != dropped+1 || p.BufferBytes() != 16<<10 || p.MemoryDrops() != 1 {
		t.Fatalf("under pressure b holds %d bytes out of order, dropped %d, %d bytes of arrays", got, b.Stats().Dropped-dropped, p.BufferBytes())
	}
	// In-order data is still taken: a's 40000 bytes outgrow the ring,
	// which becomes 64 KiB, past the limit.
	in(a, 10000, 10000)
	in(a, 20000, 10000)
	in(a, 30000, 10000)
	if _, lim := p.MemoryState(); !lim || a.Info().Unread != 40000 || p.BufferBytes() != 64<<10 {
		t.Fatalf("limit %v, a has %d unread", lim, a.Info().Unread)
	}
	// At the limit c, which has no buffer, still takes 1000 bytes into the
	// 4 KiB every connection may have, but not 3500 more, which need a
	// larger array: dropped unacknowledged (RFC 9293 §3.8.6: the window
	// "is related to the data buffer space currently available").
	in(c, 0, 1000)
	in(c, 1000, 3500)
	if got := c.Info(); got.Unread != 1000 || got.RcvNxt != seq.Value(benchIRS+1+1000) || p.MemoryDrops() != 2 {
		t.Fatalf("c took %d bytes (RCV.NXT %d), %d drops", got.Unread, got.RcvNxt, p.MemoryDrops())
	}
	// Write takes what the 4 KiB ring holds.
	if n, err := c.Write(ms(2), make([]byte, 10000)); n != minBuffer || err != nil {
		t.Fatalf("Write at the limit took %d (%v), want %d", n, err, minBuffer)
	}
	// a reads: its array goes back, the budget is below pressure, and c
	// takes the retransmission.
	buf := make([]byte, 64<<10)
	a.Read(ms(3), buf)
	if pr, _ := p.MemoryState(); pr {
		t.Fatalf("still under pressure with %d bytes", p.BufferBytes())
	}
	in(c, 1000, 3500)
	if got := c.Info().Unread; got != 4500 {
		t.Fatalf("c has %d unread after the retransmission, want 4500", got)
	}
	// Everything read and acknowledged: nothing held.
	c.Read(ms(3), buf)
	peerSeg(&s, 4500, uint32(minBuffer), nil)
	c.Input(ms(4), &s)
	if p.BufferBytes() != 0 {
		t.Fatalf("%d bytes of arrays held after everything was read and acknowledged", p.BufferBytes())
	}
}
