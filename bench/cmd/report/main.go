// Command report turns the raw output of the bench module's benchmarks
// (go test -bench, any -count) into the Markdown tables of BENCHMARKS.md:
// the median of every metric for each stack, the median and range of
// synack's per-round ratios to gVisor (at its best and as tun2socks
// configures it) and to the kernel, and whether each target of the
// performance issue is met.
//
// A round is one run of every stack, one after another (run.sh writes a
// "round: N" configuration line before each); a ratio is taken within a
// round, so that the machine's drift between rounds does not land in it.
// Results without round lines are paired by position (the i-th value of
// each stack).
//
//	go run ./cmd/report results/2026-11-21.txt            # print the tables
//	go run ./cmd/report -w ../BENCHMARKS.md results/x.txt  # replace them in place
//
// With -w the tables replace whatever stands between the lines
// "<!-- report:begin -->" and "<!-- report:end -->" of the file.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"golang.org/x/perf/benchfmt"
)

const (
	beginMark = "<!-- report:begin -->"
	endMark   = "<!-- report:end -->"
)

func main() {
	write := flag.String("w", "", "rewrite the tables between the report markers of this Markdown `file` instead of printing them")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: report [-w file.md] results.txt...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*write, flag.Args(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(write string, files []string, stdout io.Writer) error {
	var tab Table
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = tab.Read(name, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if len(tab.rows) == 0 {
		return fmt.Errorf("%s: no benchmark results", strings.Join(files, ", "))
	}
	var out bytes.Buffer
	tab.Markdown(&out)
	if write == "" {
		_, err := stdout.Write(out.Bytes())
		return err
	}
	doc, err := os.ReadFile(write)
	if err != nil {
		return err
	}
	doc, err = splice(write, doc, out.Bytes())
	if err != nil {
		return err
	}
	return os.WriteFile(write, doc, 0o644)
}

// splice puts body between the report markers of doc.
func splice(name string, doc, body []byte) ([]byte, error) {
	b := bytes.Index(doc, []byte(beginMark))
	e := bytes.Index(doc, []byte(endMark))
	if b < 0 || e < 0 || e < b {
		return nil, fmt.Errorf("%s: no %q line followed by a %q line", name, beginMark, endMark)
	}
	var out bytes.Buffer
	out.Write(doc[:b+len(beginMark)])
	out.WriteString("\n")
	out.Write(body)
	out.Write(doc[e:])
	return out.Bytes(), nil
}

// Stacks in column order; the first is the one compared to the others.
var Stacks = []string{"synack", "gvisor-best", "gvisor", "kernel"}

// sample is one value and the round it was measured in.
type sample struct {
	round string
	v     float64
}

// key is one benchmark configuration less its stack, and one unit.
type key struct {
	config string // e.g. "Bulk/mtu=1500"
	unit   string
}

// Table holds every value read, by configuration, unit and stack.
type Table struct {
	rows    map[key]map[string][]sample
	configs []string            // in order of first appearance
	units   map[string][]string // config -> units in order of first appearance
}

var procSuffix = regexp.MustCompile(`-[0-9]+$`)

// Read adds the results of one file of go test -bench output.
func (t *Table) Read(name string, r io.Reader) error {
	if t.rows == nil {
		t.rows = make(map[key]map[string][]sample)
		t.units = make(map[string][]string)
	}
	br := benchfmt.NewReader(r, name)
	for br.Scan() {
		switch rec := br.Result(); rec := rec.(type) {
		case *benchfmt.SyntaxError:
			return rec
		case *benchfmt.Result:
			full := procSuffix.ReplaceAllString(string(rec.Name), "")
			var parts []string
			stack := ""
			for _, p := range strings.Split(full, "/") {
				if s, ok := strings.CutPrefix(p, "stack="); ok {
					stack = s
					continue
				}
				parts = append(parts, p)
			}
			if stack == "" {
				continue // not one of ours
			}
			config := strings.Join(parts, "/")
			round := ""
			for _, c := range rec.Config {
				if c.Key == "round" {
					round = string(c.Value)
				}
			}
			if _, ok := t.units[config]; !ok {
				t.configs = append(t.configs, config)
				t.units[config] = nil
			}
			for _, v := range rec.Values {
				unit, val := v.Unit, v.Value
				if v.OrigUnit != "" { // as written, not tidied (MB/s, not B/s)
					unit, val = v.OrigUnit, v.OrigValue
				}
				if unit == "ns/op" || unit == "B/op" {
					continue
				}
				k := key{config, unit}
				if t.rows[k] == nil {
					t.rows[k] = make(map[string][]sample)
					t.units[config] = append(t.units[config], unit)
				}
				r := round
				if r == "" {
					r = fmt.Sprintf("#%d", len(t.rows[k][stack]))
				}
				t.rows[k][stack] = append(t.rows[k][stack], sample{r, val})
			}
		}
	}
	return br.Err()
}

// Median returns the median of the values of config, unit and stack, and
// how many there were.
func (t *Table) Median(config, unit, stack string) (float64, int) {
	var vs []float64
	for _, s := range t.rows[key{config, unit}][stack] {
		vs = append(vs, s.v)
	}
	return median(vs), len(vs)
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	vs = slices.Clone(vs)
	sort.Float64s(vs)
	m := len(vs) / 2
	if len(vs)%2 == 1 {
		return vs[m]
	}
	return (vs[m-1] + vs[m]) / 2
}

// Ratio is the median, lowest and highest of the per-round ratios a ÷ b of
// config's unit, over the n rounds that measured both stacks.
type Ratio struct {
	Med, Lo, Hi float64
	N           int
}

// Ratio returns the per-round ratios of stack a to stack b.
func (t *Table) Ratio(config, unit, a, b string) Ratio {
	row := t.rows[key{config, unit}]
	return ratioOf(row[a], row[b])
}

// ConfigRatio returns the per-round ratios of stack's values in config a
// to those in config b (procs=2 over procs=1, say).
func (t *Table) ConfigRatio(a, b, unit, stack string) Ratio {
	return ratioOf(t.rows[key{a, unit}][stack], t.rows[key{b, unit}][stack])
}

func ratioOf(as, bs []sample) Ratio {
	bv := map[string]float64{}
	for _, s := range bs {
		bv[s.round] = s.v
	}
	var rs []float64
	for _, s := range as {
		if d, ok := bv[s.round]; ok && math.Abs(d) >= 0.01 {
			rs = append(rs, s.v/d)
		}
	}
	if len(rs) == 0 {
		return Ratio{Med: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	return Ratio{Med: median(rs), Lo: slices.Min(rs), Hi: slices.Max(rs), N: len(rs)}
}

func (r Ratio) String() string {
	if math.IsNaN(r.Med) {
		return "–"
	}
	if r.N == 1 || r.Lo == r.Hi {
		return fmt.Sprintf("%.2f×", r.Med)
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", r.Med, r.Lo, r.Hi)
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return commas(fmt.Sprintf("%.0f", v))
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 0.01:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}

func commas(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Markdown writes one table per benchmark configuration, then the targets.
func (t *Table) Markdown(w io.Writer) {
	fmt.Fprintln(w, "Medians; n is the number of rounds (in each, every stack ran once, one after another). `gvisor-best` is gVisor with checksum offload and GSO on its in-memory link, `gvisor` as tun2socks configures it (neither). The ratios are the median of synack's per-round ratios, with their range: above 1 is better for MB/s, conn/s and rt/s, below 1 is better for bytes and allocations.")
	for _, config := range t.configs {
		fmt.Fprintf(w, "\n**%s**\n\n", config)
		var heads []string
		for _, st := range Stacks[1:] {
			heads = append(heads, "synack ÷ "+st)
		}
		fmt.Fprintf(w, "| metric | %s | n | %s |\n", strings.Join(Stacks, " | "), strings.Join(heads, " | "))
		fmt.Fprintf(w, "|---|%s---|%s\n", strings.Repeat("---:|", len(Stacks)), strings.Repeat("---|", len(Stacks)-1))
		for _, unit := range t.units[config] {
			var cells []string
			n := 0
			med := map[string]float64{}
			for _, st := range Stacks {
				m, c := t.Median(config, unit, st)
				med[st] = m
				cells = append(cells, num(m))
				n = max(n, c)
			}
			var ratios []string
			for _, st := range Stacks[1:] {
				ratios = append(ratios, t.Ratio(config, unit, Stacks[0], st).String())
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s |\n", unit, strings.Join(cells, " | "), n, strings.Join(ratios, " | "))
		}
	}
	fmt.Fprintln(w)
	t.targets(w)
}

// A target of the performance issue.
type target struct {
	what  string
	check func(t *Table) (verdict, detail string)
}

// ratioAtLeast checks the median per-round ratio of synack to the stack
// other.
func ratioAtLeast(config, unit, other string, min float64) func(t *Table) (string, string) {
	return func(t *Table) (string, string) {
		r := t.Ratio(config, unit, "synack", other)
		if math.IsNaN(r.Med) {
			return "not measured", ""
		}
		s, _ := t.Median(config, unit, "synack")
		g, _ := t.Median(config, unit, other)
		return verdict(r.Med >= min), fmt.Sprintf("%s (medians %s vs %s %s)", r, num(s), num(g), unit)
	}
}

// procsAtLeast checks the median per-round ratio of synack's unit at
// procs=2 to that at procs=1, in the configurations prefix+"procs=P".
func procsAtLeast(prefix, unit string, min float64) func(t *Table) (string, string) {
	return func(t *Table) (string, string) {
		one, two := prefix+"procs=1", prefix+"procs=2"
		r := t.ConfigRatio(two, one, unit, "synack")
		if math.IsNaN(r.Med) {
			return "not measured", ""
		}
		a, _ := t.Median(one, unit, "synack")
		b, _ := t.Median(two, unit, "synack")
		return verdict(r.Med >= min), fmt.Sprintf("%s (medians %s vs %s %s)", r, num(b), num(a), unit)
	}
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "not met"
}

// configWith returns the first configuration with the given prefix.
func (t *Table) configWith(prefix string) string {
	for _, c := range t.configs {
		if strings.HasPrefix(c, prefix) {
			return c
		}
	}
	return ""
}

var targets = []target{
	{"bulk throughput ≥ 1.5× gVisor at its best, MTU 1500", ratioAtLeast("Bulk/mtu=1500", "MB/s", "gvisor-best", 1.5)},
	{"bulk throughput ≥ 1.5× gVisor at its best, MTU 65535", ratioAtLeast("Bulk/mtu=65535", "MB/s", "gvisor-best", 1.5)},
	{"bulk throughput ≥ 3× gVisor as tun2socks configures it, MTU 1500", ratioAtLeast("Bulk/mtu=1500", "MB/s", "gvisor", 3)},
	{"connection rate ≥ 2× gVisor at its best, sequential", ratioAtLeast("ConnRate/workers=1", "conn/s", "gvisor-best", 2)},
	{"connection rate ≥ 2× gVisor at its best, 16 concurrent", ratioAtLeast("ConnRate/workers=16", "conn/s", "gvisor-best", 2)},
	{"round trips per second ≥ 2× gVisor at its best", ratioAtLeast("PingPong", "rt/s", "gvisor-best", 2)},
	{"64 concurrent bulk connections: GOMAXPROCS=2 ≥ 1.7× GOMAXPROCS=1", procsAtLeast("BulkConcurrent/conns=64/", "MB/s", 1.7)},
	{"connection rate with 16 dialers: GOMAXPROCS=2 ≥ 1.7× GOMAXPROCS=1", procsAtLeast("ConnRateConcurrent/workers=16/", "conn/s", 1.7)},
	{"heap per idle connection pair ≤ 4 KB (4,096 B)", func(t *Table) (string, string) {
		c := t.configWith("IdleHeap")
		s, _ := t.Median(c, "B/pair", "synack")
		if math.IsNaN(s) {
			return "not measured", ""
		}
		g, _ := t.Median(c, "B/pair", "gvisor")
		return verdict(s <= 4096), fmt.Sprintf("%s B/pair (gVisor %s) in %s", num(s), num(g), c)
	}},
	{"100,000 idle connection pairs in under 1 GiB of heap", func(t *Table) (string, string) {
		c := t.configWith("IdleMany")
		s, _ := t.Median(c, "B/pair", "synack")
		pairs, _ := t.Median(c, "pairs", "synack")
		if math.IsNaN(s) {
			return "not measured", ""
		}
		total := s * 100000
		detail := fmt.Sprintf("%s MiB for 100,000 pairs", num(total/(1<<20)))
		v := verdict(total < 1<<30)
		if pairs < 100000 {
			detail += fmt.Sprintf(" (extrapolated from the %s pairs opened in %s)", num(pairs), c)
			v = "not measured in full; " + strings.Trim(v, "*") + " if linear"
		}
		return v, detail
	}},
	{"zero allocations per segment in steady state (bulk and ping-pong)", func(t *Table) (string, string) {
		var parts []string
		ok, seen := true, false
		for _, c := range t.configs {
			if !strings.HasPrefix(c, "Bulk") && !strings.HasPrefix(c, "PingPong") {
				continue
			}
			s, _ := t.Median(c, "allocs/segment", "synack")
			if math.IsNaN(s) {
				continue
			}
			seen = true
			ok = ok && s == 0
			parts = append(parts, fmt.Sprintf("%s: %s", c, num(s)))
		}
		if !seen {
			return "not measured", ""
		}
		return verdict(ok), strings.Join(parts, "; ") + " allocs/segment"
	}},
}

func (t *Table) targets(w io.Writer) {
	fmt.Fprintln(w, "| target | verdict | measured |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, tg := range targets {
		v, d := tg.check(t)
		fmt.Fprintf(w, "| %s | %s | %s |\n", tg.what, v, d)
	}
}
