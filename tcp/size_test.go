package tcp

import (
	"bytes"
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/gosynack/synack/clock"

	"github.com/gosynack/synack/wire"
)

// TestConnSize bounds the TCB, most of what an idle connection costs (issue
// 8: at most 4 KB of heap per idle pair, both ends and everything
// included). A field added to Conn that crosses a bound moves it into the
// next allocation size class: put rarely used state where it costs nothing
// until used, or raise the bound knowingly.
func TestConnSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the bounds are for 64-bit platforms")
	}
	for _, tc := range []struct {
		name      string
		size, max uintptr
	}{
		{"Conn", unsafe.Sizeof(Conn{}), 768}, // a size class of the Go allocator
		{"txSeg", unsafe.Sizeof(txSeg{}), 48},
		{"oooNode", unsafe.Sizeof(oooNode{}), 8},
		{"Key", unsafe.Sizeof(Key{}), 12},
	} {
		if tc.size > tc.max {
			t.Errorf("unsafe.Sizeof(%s{}) = %d, above %d", tc.name, tc.size, tc.max)
		}
	}
}

// TestIdleConnHoldsNoBuffers: an established connection with nothing
// unread, nothing unacknowledged and nothing held out of order has given
// its send and receive buffers back.
func TestIdleConnHoldsNoBuffers(t *testing.T) {
	f := newEstablished(t)
	f.write(t, sec(1), []byte("hello"))
	f.output(t)
	f.send(t, ms(1010), seg{Flags: wire.PSH | wire.ACK, Seq: 1001, Ack: 6, Data: data('x', 100)}) // out of order
	f.output(t)
	if f.c.rcv.mem == nil {
		t.Fatal("no receive buffer holds the out-of-order segment")
	}
	f.send(t, ms(1020), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 6, Data: data('y', 1000)})
	f.output(t)
	if got, want := f.read(t, ms(1030), 1100), append(data('y', 1000), data('x', 100)...); !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the %d sent", len(got), len(want))
	}
	if f.c.snd.mem != nil || f.c.snd.scratch != nil || f.c.rcv.mem != nil || f.c.rcv.n != 0 {
		t.Errorf("idle connection holds buffers: snd %d/%d, rcv %d/%d", f.c.sndLen(), len(f.c.snd.mem), f.c.rcv.n, len(f.c.rcv.mem))
	}
}

// checkTimeList verifies the retransmission queue's time-ordered list
// (sndq.go): it links exactly the records neither SACKed nor waiting for
// their retransmission, in order of transmission time, both ways.
func (c *Conn) checkTimeList() error {
	want := 0
	for i := int(c.txHead); i < len(c.tx); i++ {
		t := &c.tx[i]
		if in := !t.sacked && !t.pending(); in != t.linked {
			return fmt.Errorf("record %d [%v, %v) sacked %v pending %v: linked %v", i, t.start, t.end, t.sacked, t.pending(), t.linked)
		}
		if t.linked {
			want++
		}
	}
	n := 0
	prev := int32(0)
	for p := c.tsHead; p != 0; p = c.tx[p-1].next {
		i := int(p - 1)
		if i < int(c.txHead) || i >= len(c.tx) || !c.tx[i].linked {
			return fmt.Errorf("time list reaches record %d, outside the queue [%d, %d) or unlinked", i, c.txHead, len(c.tx))
		}
		if c.tx[i].prev != prev {
			return fmt.Errorf("record %d: prev %d, want %d", i, c.tx[i].prev, prev)
		}
		if prev != 0 && c.tx[prev-1].sentAt > c.tx[i].sentAt {
			return fmt.Errorf("time list out of order at record %d", i)
		}
		if n++; n > want {
			return fmt.Errorf("time list longer than the %d records it should hold", want)
		}
		prev = p
	}
	if n != want || c.tsTail != prev {
		return fmt.Errorf("time list holds %d records (tail %d), want %d (tail %d)", n, prev, want, c.tsTail)
	}
	return nil
}

// TestTimeListUnderLoss runs two connections with SACK over a path that
// drops every 13th data segment and delays every 5th, and checks the
// retransmission queue's time-ordered list after every event, and that
// the data arrives whole; with segmentation offload too, where a
// super-segment's pieces enter the list one record each and a dropped
// one loses every piece.
func TestTimeListUnderLoss(t *testing.T) {
	t.Run("mss", func(t *testing.T) { timeListUnderLoss(t, Config{}) })
	t.Run("offload", func(t *testing.T) { timeListUnderLoss(t, Config{SegmentOffload: 16 << 10}) })
}

func timeListUnderLoss(t *testing.T, cfg Config) {
	tuple := Tuple{Local: clientAddr, Remote: serverAddr}
	a := NewActive(cfg, tuple, 1<<31-5000, 0)
	b := NewPassive(cfg, reversed(tuple), 77)
	type pkt struct {
		at  clock.Time
		toB bool
		seg wire.Segment
	}
	var inflight []pkt
	now := clock.Time(0)
	n, supers := 0, 0
	emit := func(toB bool) func(*wire.Segment, bool) {
		return func(s *wire.Segment, _ bool) {
			c := *s
			c.Payload = append([]byte(nil), s.Payload...)
			if s.GSOSize > 0 {
				supers++
			}
			delay := 10 * time.Millisecond
			if toB && len(c.Payload) > 0 {
				n++
				if n%13 == 0 {
					return
				}
				if n%5 == 0 {
					delay += 3 * time.Millisecond
				}
			}
			inflight = append(inflight, pkt{at: now.Add(delay), toB: toB, seg: c})
		}
	}
	toA, toB := emit(false), emit(true)
	out := data('d', 300<<10)
	var got []byte
	buf := make([]byte, 64<<10)
	written := 0
	for step := 0; step < 200000 && len(got) < len(out); step++ {
		if a.State() == Established && written < len(out) {
			k, _ := a.Write(now, out[written:])
			written += k
		}
		a.Output(now, toB)
		b.Output(now, toA)
		for k := b.Read(now, buf); k > 0; k = b.Read(now, buf) {
			got = append(got, buf[:k]...)
		}
		for _, c := range []*Conn{a, b} {
			if err := c.checkTimeList(); err != nil {
				t.Fatalf("at %v: %v", now, err)
			}
			if err := c.checkSkips(); err != nil {
				t.Fatalf("at %v: %v", now, err)
			}
			if err := c.checkOOO(); err != nil {
				t.Fatalf("at %v: %v", now, err)
			}
		}
		// The next event: the earliest packet or timer.
		next := clock.Min(a.NextDeadline(), b.NextDeadline())
		for _, p := range inflight {
			next = clock.Min(next, p.at)
		}
		if next == clock.Never {
			break
		}
		now = next
		a.HandleTimeout(now)
		b.HandleTimeout(now)
		rest := inflight[:0]
		for _, p := range inflight {
			switch {
			case p.at > now:
				rest = append(rest, p)
			case p.toB:
				b.Input(now, &p.seg)
			default:
				a.Input(now, &p.seg)
			}
		}
		inflight = rest
	}
	if !bytes.Equal(got, out) {
		t.Fatalf("received %d bytes, not the %d sent", len(got), len(out))
	}
	if s := a.Stats(); s.FastRecoveries == 0 || b.Stats().OutOfOrderIn == 0 {
		t.Fatalf("no recovery exercised: %+v", s)
	}
	if cfg.SegmentOffload > 0 && supers == 0 {
		t.Fatal("no super-segment sent")
	}
}
