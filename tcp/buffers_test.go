package tcp

import (
	"bytes"
	"math/rand/v2"
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
