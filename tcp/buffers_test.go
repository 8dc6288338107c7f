package tcp

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// The send ring against a plain slice: appends, consumes and reads of any
// range, across the wrap and through growth, give the same bytes; an empty
// ring holds no array; the array filled at once is the data's size rounded
// up to a power of two.
func TestSendRing(t *testing.T) {
	for _, pool := range []BufferPool{nil, &benchPool{}} {
		c := NewActive(Config{Buffers: pool}, benchTuple, benchISS, 0)
		r := rand.New(rand.NewPCG(1, 2))
		var ref []byte
		next := byte(0)
		for step := range 20000 {
			switch r.IntN(3) {
			case 0:
				p := make([]byte, r.IntN(3000))
				for i := range p {
					p[i] = next
					next++
				}
				c.appendSnd(p)
				ref = append(ref, p...)
			case 1:
				n := r.IntN(len(ref) + 1)
				c.consumeSnd(n)
				ref = ref[n:]
			default:
				if len(ref) == 0 {
					continue
				}
				off := r.IntN(len(ref))
				n := r.IntN(min(len(ref)-off, 1500) + 1)
				if got := c.sndBytes(off, n); !bytes.Equal(got, ref[off:off+n]) {
					t.Fatalf("step %d: bytes [%d, %d) of %d differ", step, off, off+n, len(ref))
				}
			}
			if c.sndLen() != len(ref) {
				t.Fatalf("step %d: %d bytes, want %d", step, c.sndLen(), len(ref))
			}
			if len(ref) == 0 && (c.snd.mem != nil || c.snd.scratch != nil) {
				t.Fatalf("step %d: an empty ring holds %d+%d bytes", step, len(c.snd.mem), cap(c.snd.scratch))
			}
		}
	}
	// Filled at once to 4 MiB, the ring is 4 MiB.
	c := NewActive(Config{}, benchTuple, benchISS, 0)
	c.appendSnd(make([]byte, 4<<20))
	if len(c.snd.mem) != 4<<20 {
		t.Fatalf("4 MiB in a ring of %d", len(c.snd.mem))
	}
}

// countPool is a BufferPool that lends new arrays of the size asked for
// and keeps the sizes asked.
type countPool struct{ gets []int }

func (p *countPool) Get(n int) []byte {
	p.gets = append(p.gets, n)
	return make([]byte, 0, n)
}

func (p *countPool) Put([]byte) {}

// A ring given back empty is taken again, for the next burst, at the size
// it had: one borrow and no copy, where growing it again from 4 KiB by
// doubling would copy the burst's bytes once more. A small message still
// takes a small ring, and so does a burst under memory pressure.
func TestRingRefillAtLastSize(t *testing.T) {
	burst := make([]byte, 64<<10)
	for i := range burst {
		burst[i] = byte(i)
	}
	for _, tc := range []struct {
		name     string
		pressure bool
		p        []byte
		want     int // the size of the ring taken for p
	}{
		{"burst", false, burst, 1 << 20},
		{"small message", false, burst[:100], minBuffer},
		{"burst under pressure", true, burst, 64 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := &countPool{}
			cfg := Config{Buffers: pool}
			if tc.pressure {
				cfg.MemPressure, cfg.MemLimit = 1, 1<<30
			}
			c := NewActive(cfg, benchTuple, benchISS, 0)
			// Both rings filled to 1 MiB, then emptied.
			for range 16 {
				c.appendSnd(burst)
				c.appendRcv(burst)
			}
			c.consumeSnd(c.sndLen())
			c.consumeRcv(c.rcvLen())
			if c.snd.mem != nil || c.rcv.mem != nil {
				t.Fatalf("emptied rings hold %d and %d bytes", len(c.snd.mem), len(c.rcv.mem))
			}
			if tc.pressure {
				c.account(1) // another connection's buffer: the budget is at its pressure level
			}
			pool.gets = nil
			c.appendSnd(tc.p)
			c.appendRcv(tc.p)
			if want := []int{tc.want, tc.want}; !slices.Equal(pool.gets, want) {
				t.Fatalf("refilled with %d bytes: borrowed %v, want %v", len(tc.p), pool.gets, want)
			}
			if got := c.sndBytes(0, len(tc.p)); !bytes.Equal(got, tc.p) {
				t.Fatal("the send ring's bytes differ from those written")
			}
			got := make([]byte, len(tc.p))
			if n := c.readRcv(got); n != len(tc.p) || !bytes.Equal(got, tc.p) {
				t.Fatalf("read %d bytes from the receive ring, not the %d written", n, len(tc.p))
			}
		})
	}
}
