package sim

import (
	"flag"
	"testing"
)

var bottleneckFlag = flag.Bool("bottleneck", false, "TestBottleneckFigures: print the HyStart++/pacing table (BENCHMARKS.md)")

// The Must-show: on a bottleneck path with a 20-packet queue
// (bdp-20: 50 Mbit/s, 20 ms, the queue a quarter of the BDP), pacing cuts
// the queue drops per MB at least fivefold without lowering goodput (median
// and mean over the seeds). The runs are deterministic, so the figures are
// exact; a change that loses the gain fails here.
func TestBottleneckPacing(t *testing.T) {
	runs := 20
	if testing.Short() {
		runs = 5
	}
	base, _ := LookupSoakCase("bdp-20")
	paced, _ := LookupSoakCase("bdp-20-paced")
	var rows [2]BottleneckRow
	for i, c := range []SoakCase{base, paced} {
		rows[i] = BottleneckRow{Case: c.Name, Runs: runs}
		bytes := 0
		var goodputs []float64
		for seed := uint64(1); seed <= uint64(runs); seed++ {
			r, err := RunSoak(c, seed)
			if err != nil {
				t.Fatal(err)
			}
			if !r.OK() {
				t.Fatalf("%s seed %d: %v", c.Name, seed, r.Problems())
			}
			rows[i].QueueDrops += r.Link.QueueDrops
			bytes += r.Size
			rows[i].MeanGoodput += r.Goodput / float64(runs)
			goodputs = append(goodputs, r.Goodput)
		}
		rows[i].LossesPerMB = float64(rows[i].QueueDrops) / (float64(bytes) / 1e6)
		rows[i].MedianGoodput = median(goodputs)
	}
	off, on := rows[0], rows[1]
	t.Logf("bdp-20: %.2f queue drops per MB, goodput median %s mean %s; paced: %.2f, median %s mean %s",
		off.LossesPerMB, FormatRate(off.MedianGoodput), FormatRate(off.MeanGoodput),
		on.LossesPerMB, FormatRate(on.MedianGoodput), FormatRate(on.MeanGoodput))
	if off.QueueDrops == 0 {
		t.Fatal("bdp-20 dropped nothing unpaced: the case no longer tests a bottleneck")
	}
	if on.LossesPerMB*5 > off.LossesPerMB {
		t.Errorf("pacing cut queue drops per MB from %.2f to %.2f, less than fivefold", off.LossesPerMB, on.LossesPerMB)
	}
	if on.MedianGoodput < off.MedianGoodput || on.MeanGoodput < off.MeanGoodput {
		t.Errorf("pacing lowered goodput: median %s -> %s, mean %s -> %s", FormatRate(off.MedianGoodput),
			FormatRate(on.MedianGoodput), FormatRate(off.MeanGoodput), FormatRate(on.MeanGoodput))
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

// TestBottleneckFigures prints BENCHMARKS.md's table (with -bottleneck).
func TestBottleneckFigures(t *testing.T) {
	if !*bottleneckFlag {
		t.Skip("run with -bottleneck -v to print the table")
	}
	rows, err := BottleneckFigures(20)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + FormatBottleneck(rows))
}
