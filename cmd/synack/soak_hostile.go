package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
)

// runHostile runs the hostile soak's attacks one after the other (never
// in parallel: their CPU figures are wall-clock times per packet) and
// prints their table and each attack's own figures.
func runHostile(w io.Writer, f *soakFlags, seedSet bool) error {
	l := f.lang
	var cases []sim.HostileCase
	if f.cases == "all" || f.cases == "" {
		cases = sim.HostileCases()
	} else {
		for _, name := range strings.Split(f.cases, ",") {
			name = strings.TrimSpace(name)
			c, ok := sim.LookupHostileCase(name)
			if !ok {
				return usageError{fmt.Errorf("--case: unknown attack %q; with --hostile the cases are: %s", name, strings.Join(sim.HostileCaseNames(), ", "))}
			}
			cases = append(cases, c)
		}
	}
	seed := f.seed
	if !seedSet {
		seed = 1
	}
	var results []sim.HostileResult
	for _, c := range cases {
		r, err := sim.RunHostile(c, seed, f.quick)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	scale := l.Tr("full")
	if f.quick {
		scale = l.Tr("quick")
	}
	fmt.Fprint(w, l.Trf("Hostile soak, seed %d (%s): one server, legitimate clients, one attacker per case.", seed, scale)+"\n\n")
	writeHostileTable(w, results, f.wall, l)
	fmt.Fprintln(w)
	failed := 0
	for i, r := range results {
		fmt.Fprintf(w, "%s: %s\n", r.Case, l.Tr(cases[i].About))
		for _, n := range r.Notes(l) {
			fmt.Fprintf(w, "  %s\n", n)
		}
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  %s %s\n", l.Tr("FAILED:"), p)
		}
		if !r.OK() {
			failed++
		}
	}
	fmt.Fprint(w, "\n"+l.Tr(hostileLegend))
	if f.wall {
		fmt.Fprint(w, l.Tr(hostileTimingLegend))
	}
	if failed > 0 {
		return failure{fmt.Errorf("%d of %d attacks kept a legitimate connection from completing intact", failed, len(results))}
	}
	return nil
}

const hostileLegend = `legit: the legitimate clients' connections that completed, each a request and a response
checked byte for byte; bytes intact: of those they and the server sent each other; attack
packets: reaching the server's stack; buffers: the high-water mark of the server stack's
buffer accounting (stack.Memory).
`

const hostileTimingLegend = `heap: the Go heap's high-water mark above its start (the whole simulated world), sampled;
per attack packet and per normal segment: wall time of the server stack's Input and its
share of the Output that answered, per packet, the normal segment a legitimate client's
data segment in the same run (packets above 50× their median, preempted or stopped by the
garbage collector, left out); worst eighth: the costliest eighth of the attack in order of
arrival (as its queues grow) after its first 1%; costliest: the single costliest packet.
These vary from run to run; --wall=false leaves them out.
`

func writeHostileTable(w io.Writer, rs []sim.HostileResult, timings bool, l i18n.Lang) {
	head := l.Tr("attack\tlegit\tbytes intact\tattack packets\tbuffers\t")
	if timings {
		head += l.Tr("heap\tper attack packet\tper normal segment\t× normal\tworst eighth ×\tcostliest\t")
	}
	rows := [][]string{tabCells(head)}
	for _, r := range rs {
		line := fmt.Sprintf("%s\t%d/%d\t%d/%d\t%d\t%s\t", r.Case, r.Completed, r.Legit, r.BytesIntact, r.BytesSent, r.AttackPackets, kib(uint64(r.BufferHigh)))
		if timings {
			c := r.CPU
			line += fmt.Sprintf("%s\t%.0f ns\t%.0f ns\t%.1f\t%.1f\t%.0f µs\t", kib(c.HeapHigh), c.AttackNs, c.NormalNs, c.Ratio, c.WorstRatio, c.MaxNs/1000)
		}
		rows = append(rows, tabCells(line))
	}
	// Aligned by display width: a Chinese heading is two columns a
	// character, which tabwriter counts as one.
	writeTableIn(w, rows, false)
}

// tabCells splits a tab-terminated line of cells, as tabwriter takes it.
func tabCells(line string) []string {
	return strings.Split(strings.TrimSuffix(line, "\t"), "\t")
}

func kib(n uint64) string {
	if n >= 10<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
