package synack

import (
	"io"
	"testing"

	linksim "github.com/gosynack/synack/link/sim"
)

// BenchmarkTransfer measures bulk throughput between two stacks over a
// perfect in-memory link in real time (the cost of the Go API, the stack
// and the link together).
func BenchmarkTransfer(b *testing.B) {
	tn := newTestNet(b, linksim.Impairment{})
	c, s := tn.connPair(b)
	done := make(chan int64)
	go func() {
		n, _ := io.Copy(io.Discard, s)
		done <- n
	}()
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
	if n := <-done; n != int64(b.N)*int64(len(buf)) {
		b.Fatalf("received %d bytes, sent %d", n, int64(b.N)*int64(len(buf)))
	}
}
