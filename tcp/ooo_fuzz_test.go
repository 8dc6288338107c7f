package tcp

import (
	"fmt"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// streamByte is byte pos of the fuzzed peers' streams.
func streamByte(pos uint32) byte { return byte(pos*7 + pos>>8) }

// FuzzReassembly sends a receiver with SACK segments at fuzzer-chosen
// places in its window, and checks after each the out-of-order queue's
// invariants (checkOOO), the SACK blocks of its ACK, and every byte read.
// The receive buffer is 8 KiB, so that the bound of 128 ranges is reached.
//
// Input: ops of 4 bytes: offset from the first byte (uint16, modulo 9000),
// length (n·3), and a byte whose low bits say what follows: 1 read
// everything, 2 PruneOutOfOrder(n·16) with n the byte's top bits.
func FuzzReassembly(f *testing.F) {
	f.Add([]byte{0, 10, 5, 0, 0, 30, 5, 0, 0, 0, 5, 1})
	f.Add([]byte{0, 1, 1, 0, 0, 3, 1, 0, 0, 5, 1, 0, 0, 2, 1, 0, 0, 0, 2, 1})
	f.Add([]byte{0, 100, 40, 0, 0, 200, 40, 2, 0, 50, 100, 0, 0, 0, 255, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		c := benchConn(Config{DelayedACK: -1, RecvBuffer: 8 << 10, RecvBufferMax: 8 << 10}, 1460)
		read := uint32(0)
		buf := make([]byte, 16<<10)
		readAll := func() {
			n := c.Read(ms(5), buf)
			for i := range n {
				if want := streamByte(read + uint32(i)); buf[i] != want {
					t.Fatalf("byte %d read as %#x, sent as %#x", read+uint32(i), buf[i], want)
				}
			}
			read += uint32(n)
		}
		first := seq.Value(benchIRS + 1)
		var s wire.Segment
		for k := 0; k+4 <= len(in) && k < 4*500; k += 4 {
			off := (uint32(in[k])<<8 | uint32(in[k+1])) % 9000
			n := int(in[k+2]) * 3
			p := make([]byte, n)
			for i := range p {
				p[i] = streamByte(off + uint32(i))
			}
			peerSeg(&s, off, 0, p)
			c.Input(ms(4), &s)
			var err error
			c.Output(ms(4), func(o *wire.Segment, _ bool) {
				if err == nil {
					err = checkSACKOption(c, o)
				}
			})
			if err != nil {
				t.Fatalf("after [%d, %d): %v", off, off+uint32(n), err)
			}
			switch in[k+3] & 3 {
			case 1:
				readAll()
			case 2:
				keep := int(in[k+3]>>2) * 16
				c.PruneOutOfOrder(keep)
				if c.Info().OutOfOrder > keep {
					t.Fatalf("PruneOutOfOrder(%d) left %d", keep, c.Info().OutOfOrder)
				}
			}
			if err := c.checkOOO(); err != nil {
				t.Fatalf("after [%d, %d): %v", off, off+uint32(n), err)
			}
		}
		// Everything again, in order: every byte arrives once, in order.
		end := uint32(9000 + 255*3)
		for off := uint32(c.rcvNxt.Size(first)); off < end; {
			readAll()
			n := min(1000, int(c.rcvWnd()))
			if n == 0 {
				t.Fatalf("window closed at %d with %d unread", off, c.Readable())
			}
			p := make([]byte, n)
			for i := range p {
				p[i] = streamByte(off + uint32(i))
			}
			peerSeg(&s, off, 0, p)
			c.Input(ms(6), &s)
			c.Output(ms(6), discard)
			off = uint32(c.rcvNxt.Size(first))
		}
		readAll()
		if err := c.checkOOO(); err != nil {
			t.Fatal(err)
		}
	})
}

// checkSACKOption checks an ACK's SACK blocks: distinct; each a range held,
// but the first, which may be a D-SACK (below the ACK, or inside the
// second block: RFC 2883 §4; a duplicate of a whole range held is the
// same block as the second, which tells the sender it is a D-SACK).
func checkSACKOption(c *Conn, o *wire.Segment) error {
	blocks := o.Options.SACKBlocks()
	for i, b := range blocks {
		for j, p := range blocks[:i] {
			if p == b && !(i == 1 && j == 0) {
				return fmt.Errorf("block [%d, %d) twice", b.Left, b.Right)
			}
		}
		if !b.Left.LessThan(b.Right) {
			return fmt.Errorf("empty block [%d, %d)", b.Left, b.Right)
		}
		r := c.ooo.containing(b.Left, b.Right)
		held := r != 0 && c.ooo.node(r).start == b.Left && c.ooo.node(r).end == b.Right
		if held {
			continue
		}
		dsack := i == 0 && (b.Right.LessThanEq(o.Ack) ||
			len(blocks) > 1 && !b.Left.LessThan(blocks[1].Left) && !b.Right.GreaterThan(blocks[1].Right))
		if !dsack {
			return fmt.Errorf("block %d [%d, %d) is neither held nor a D-SACK (ACK %d)", i, b.Left, b.Right, o.Ack)
		}
	}
	if max := 4; len(blocks) > max || len(blocks) < min(c.ooo.len(), max) {
		return fmt.Errorf("%d blocks with %d ranges held", len(blocks), c.ooo.len())
	}
	return nil
}

// FuzzScoreboard sends a sender with SACK ACKs that carry fuzzer-chosen
// blocks (edges anywhere, D-SACKs, blocks beyond what was sent), with
// timeouts on the way (the second clears the SACKed bits), and checks the
// retransmission queue's skip links, its time-ordered list and the byte
// counts after each.
//
// Input: ops of 10 bytes: the ACK as records past SND.UNA (one byte, n/8),
// four bytes (uint16 pairs) for each of two blocks as byte offsets from
// SND.UNA, and a byte: bit 0 run the timers to the next deadline, bit 1
// write 1000 more bytes.
func FuzzScoreboard(f *testing.F) {
	f.Add([]byte{0, 0, 48, 0, 200, 0, 0, 0, 0, 0})
	f.Add([]byte{8, 0, 0, 0, 48, 1, 0, 2, 0, 1, 0, 0, 100, 3, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 49, 0, 95, 0, 144, 1, 0, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		const mss = 48
		c := benchConn(Config{}, mss)
		var s wire.Segment
		peerSeg(&s, 0, 0, nil)
		c.Input(ms(2), &s)
		now := ms(3)
		c.Write(now, make([]byte, 64*mss))
		c.Output(now, discard)
		for k := 0; k+10 <= len(in) && k < 10*500; k += 10 {
			now += clock.Time(time.Duration(in[k+9]>>2) * time.Millisecond)
			una := uint32(c.sndUna.Size(seq.Value(benchISS + 1)))
			sent := uint32(c.sndNxt.Size(c.sndUna))
			ack := una + min(uint32(in[k]/8)*mss, sent)
			peerSeg(&s, 0, ack, nil)
			for b := 0; b < 2; b++ {
				l := uint32(in[k+1+4*b])<<8 | uint32(in[k+2+4*b])
				r := uint32(in[k+3+4*b])<<8 | uint32(in[k+4+4*b])
				s.Options.SACK[b] = wire.SACKBlock{Left: seq.Value(benchISS + 1 + una + l), Right: seq.Value(benchISS + 1 + una + r)}
			}
			s.Options.NumSACK = 2
			c.Input(now, &s)
			c.Output(now, discard)
			if in[k+9]&1 != 0 {
				if d := c.NextDeadline(); d != clock.Never {
					now = max(now, d)
					c.HandleTimeout(now)
					c.Output(now, discard)
				}
			}
			if in[k+9]&2 != 0 {
				c.Write(now, make([]byte, 1000))
				c.Output(now, discard)
			}
			if err := c.checkSkips(); err != nil {
				t.Fatal(err)
			}
			if err := c.checkTimeList(); err != nil {
				t.Fatal(err)
			}
			var sacked int32
			for _, r := range c.txq() {
				if r.sacked {
					sacked += int32(r.len())
				}
			}
			if sacked != c.sackedBytes {
				t.Fatalf("SACKed records hold %d bytes, counted %d", sacked, c.sackedBytes)
			}
			if c.State() != Established {
				return // the timeouts gave up
			}
		}
	})
}
