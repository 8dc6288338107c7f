package sim

import (
	"fmt"
	"sort"
	"strings"
)

// BottleneckRow is one case and one sender configuration of
// BottleneckFigures, over seeds 1..Runs.
type BottleneckRow struct {
	Case, Variant string
	Runs          int
	// Failed counts runs that broke a promise (SoakResult.OK).
	Failed int
	// QueueDrops sums the links' queue drops; LossesPerMB is it per 10^6
	// bytes transferred.
	QueueDrops  int
	LossesPerMB float64
	// MedianGoodput and MeanGoodput are in bit/s.
	MedianGoodput, MeanGoodput float64
}

// BottleneckVariants are the sender configurations BottleneckFigures
// compares, in order: neither HyStart++ nor pacing, each alone, both.
var BottleneckVariants = []struct {
	Name            string
	HyStart, Pacing bool
}{
	{"off", false, false},
	{"hystart", true, false},
	{"pacing", false, true},
	{"both", true, true},
}

// BottleneckCases are the soak cases BottleneckFigures measures.
var BottleneckCases = []string{"bottleneck", "cubic", "newreno", "bdp-20", "bdp-20-jitter"}

// BottleneckFigures runs each of BottleneckCases with each of
// BottleneckVariants set at both ends, seeds 1..runs, and reports queue
// drops per MB and goodput.
func BottleneckFigures(runs int) ([]BottleneckRow, error) {
	var rows []BottleneckRow
	for _, name := range BottleneckCases {
		base, ok := LookupSoakCase(name)
		if !ok {
			return nil, fmt.Errorf("sim: no soak case %q", name)
		}
		for _, v := range BottleneckVariants {
			c := base
			c.Client.HyStart, c.Client.Pacing = v.HyStart, v.Pacing
			c.Server.HyStart, c.Server.Pacing = v.HyStart, v.Pacing
			row := BottleneckRow{Case: name, Variant: v.Name, Runs: runs}
			var goodputs []float64
			bytes := 0
			for seed := uint64(1); seed <= uint64(runs); seed++ {
				r, err := RunSoak(c, seed)
				if err != nil {
					return nil, err
				}
				if !r.OK() {
					row.Failed++
				}
				row.QueueDrops += r.Link.QueueDrops
				bytes += r.Size
				goodputs = append(goodputs, r.Goodput)
				row.MeanGoodput += r.Goodput
			}
			sort.Float64s(goodputs)
			row.MedianGoodput = goodputs[len(goodputs)/2]
			row.MeanGoodput /= float64(runs)
			row.LossesPerMB = float64(row.QueueDrops) / (float64(bytes) / 1e6)
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// FormatBottleneck renders rows as a Markdown table, with each variant's
// losses and goodput against the same case's "off" row.
func FormatBottleneck(rows []BottleneckRow) string {
	var b strings.Builder
	b.WriteString("| case | sender | queue drops per MB | × fewer | median goodput | mean goodput | failed runs |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|\n")
	var off BottleneckRow
	for _, r := range rows {
		if r.Variant == "off" {
			off = r
		}
		factor := "—"
		if r.Variant != "off" {
			switch {
			case r.LossesPerMB > 0:
				factor = fmt.Sprintf("%.2f", off.LossesPerMB/r.LossesPerMB)
			case off.LossesPerMB > 0:
				factor = "∞"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %.2f | %s | %s | %s | %d of %d |\n", r.Case, r.Variant, r.LossesPerMB, factor,
			FormatRate(r.MedianGoodput), FormatRate(r.MeanGoodput), r.Failed, r.Runs)
	}
	return b.String()
}
