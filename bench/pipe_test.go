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
