package synack

import (
	"fmt"
	"testing"

	"github.com/gosynack/synack/tcp"
)

// BenchmarkBulkPacing is BenchmarkBulk with tcp.Config.Pacing off and on:
// what pacing costs on an in-memory link that is not a bottleneck (the
// figure behind leaving it off by default, BENCHMARKS.md).
func BenchmarkBulkPacing(b *testing.B) {
	for _, mtu := range []int{1500, 65535} {
		for _, p := range []bool{false, true} {
			b.Run(fmt.Sprintf("mtu=%d/pacing=%v", mtu, p), func(b *testing.B) {
				tn := newBenchNet(b, mtu, tcp.Config{SendBuffer: 4 << 20, RecvBuffer: 1 << 20, Pacing: p})
				c, s := tn.connPair(b)
				bulk(b, c, s)
			})
		}
	}
}
