package bench

import (
	"fmt"
	"testing"

	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/linktest"
)

// The pipe keeps package link's contract, the zero-copy one included.
func TestPipeConformance(t *testing.T) {
	for _, mtu := range []int{1500, 65535} {
		t.Run(fmt.Sprintf("mtu=%d", mtu), func(t *testing.T) {
			linktest.Run(t, func(t *testing.T) (a, b link.Link) {
				return Pipe(ClientAddr, ServerAddr, mtu)
			})
		})
	}
}

// The pool lends the buffer given back last: a packet's buffer, handled
// and released by the receiver, is the next one the sender builds in,
// while its bytes are still in the cache.
func TestPipePoolLastInFirstOut(t *testing.T) {
	a, b := Pipe(ClientAddr, ServerAddr, 1500)
	defer a.Close()
	defer b.Close()
	for range 3 {
		buf := a.NewBuffer()
		if buf == nil {
			t.Fatal("NewBuffer: nil from a full pool")
		}
		buf.B = append(buf.B, "packet"...)
		if err := a.SendBuffer(buf); err != nil {
			t.Fatal(err)
		}
		got, err := b.ReceiveBuffer()
		if err != nil {
			t.Fatal(err)
		}
		if got != buf {
			t.Fatalf("received buffer %p, sent %p", got, buf)
		}
		b.Release(got)
		if next := a.NewBuffer(); next != buf {
			t.Fatalf("NewBuffer after a Release lent %p, not the buffer just released (%p)", next, buf)
		} else {
			a.Release(next)
		}
	}
}
