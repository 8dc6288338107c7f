package sim

import (
	"testing"
	"time"

	"github.com/gosynack/synack/link/netsim"
)

// BenchmarkDemo runs the whole demo scenario (handshake, exchange, close,
// 60 s of TIME-WAIT) and reports how much virtual time passes per second of
// real time.
func BenchmarkDemo(b *testing.B) {
	s, _ := Lookup("demo")
	b.ReportAllocs()
	var virtual time.Duration
	for b.Loop() {
		r, err := s.Execute(Overrides{Seed: 1})
		if err != nil || len(r.Problems) > 0 {
			b.Fatal(err, r.Problems)
		}
		virtual += r.Result.End.Duration()
	}
	b.ReportMetric(virtual.Seconds()/b.Elapsed().Seconds(), "virtual-s/s")
}

// BenchmarkLossyTransfer moves 1 MB over a 20 ms link with 5% loss.
func BenchmarkLossyTransfer(b *testing.B) {
	t := &testing.T{}
	var virtual time.Duration
	for b.Loop() {
		_, res := transfer(t, 1, 1_000_000, netsim.Impairment{Latency: 20 * time.Millisecond, Loss: 0.05})
		virtual += res.End.Duration()
	}
	b.ReportMetric(virtual.Seconds()/b.Elapsed().Seconds(), "virtual-s/s")
	b.ReportMetric(float64(1_000_000*b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}
