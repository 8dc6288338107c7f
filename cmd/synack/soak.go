package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
)

type soakFlags struct {
	runs       int
	cases      string
	seed       uint64
	pcap       string
	pcapAt     string
	plot       string
	size       int
	parallel   int
	ladder     bool
	events     bool
	ascii      bool
	efficiency bool
	quick      bool
	out        string
	wall       bool
	hostile    bool
	lang       i18n.Lang // the global --lang
}

func newSoak() *cobra.Command {
	var f soakFlags
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Run many seeded transfers over an impairment matrix and check every byte",
		Long: `Run many seeded simulated transfers over a matrix of impairments (loss 0-30%,
reordering, duplication, corruption, jitter, a bottleneck, tiny and huge
windows, SACK/timestamps/window scaling off, CUBIC and NewReno) and print a
table per case. Every run must deliver every byte exactly once and in order
(SHA-256 compared), bring both ends to CLOSED and finish within its budget of
virtual time; the exit status is 1 if any run does not. The udp-* cases also
send UDP datagrams beside the transfer: loss, duplicates and reordering are
counted (RFC 768 promises none of that), a datagram delivered not exactly as
sent fails the run.

--seed N --case NAME runs one alone and prints its stats (--ladder for its
ladder diagram, --events for its raw trace). --efficiency computes the
goodput-versus-Mathis and spurious-retransmission tables instead.

--hostile runs the hostile world instead: one server, legitimate clients and
an attacker per case (` + strings.Join(sim.HostileCaseNames(), ", ") + `), and prints per attack the
legitimate connections completed, the bytes intact, the server's memory high-water
marks and its CPU per attack packet against a legitimate data segment's
(--quick for CI's small version; --case, --seed; --wall=false leaves out the
timings and the heap, which vary from run to run).

Cases: ` + strings.Join(sim.SoakCaseNames(), ", ") + ".",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSoak(cmd, &f)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&f.runs, "runs", 20, "seeded runs per case (seeds 1..N)")
	fs.StringVar(&f.cases, "case", "all", "case name, comma-separated names, or all")
	fs.Uint64Var(&f.seed, "seed", 0, "run this seed alone (with --case NAME) and print its stats")
	fs.IntVar(&f.size, "size", 0, "bytes per transfer (default: each case's own size)")
	fs.IntVar(&f.parallel, "parallel", runtime.GOMAXPROCS(0), "runs at once")
	fs.BoolVar(&f.ladder, "ladder", false, "with --seed: print the run's ladder diagram (long for big transfers; try --size)")
	fs.BoolVar(&f.events, "events", false, "with --seed: print every trace event, one per line")
	fs.StringVar(&f.pcap, "pcap", "", "with --seed: also write the run's packets to this pcapng file (see demo --pcap)")
	fs.StringVar(&f.pcapAt, "pcap-at", "client", "where --pcap captures: client, server, or both (one interface per host)")
	fs.StringVar(&f.plot, "plot", "", "with --seed: also plot the run as SVG into this file (see synack plot)")
	fs.BoolVar(&f.ascii, "ascii", false, "draw the ladder with ASCII characters only")
	fs.BoolVar(&f.efficiency, "efficiency", false, "compute the efficiency tables (goodput vs Mathis, spurious retransmissions) as Markdown")
	fs.BoolVar(&f.quick, "quick", false, "with --efficiency: the small tables of the snapshot test; with --hostile: the small attacks CI runs")
	fs.BoolVar(&f.hostile, "hostile", false, "run the hostile world: legitimate clients beside one attacker per case (see above)")
	fs.StringVar(&f.out, "out", "", "with --efficiency: write the Markdown to this file instead of stdout")
	fs.BoolVar(&f.wall, "wall", true, "show real (wall-clock) time; off for byte-identical output")
	return cmd
}

func runSoak(cmd *cobra.Command, f *soakFlags) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	fs := cmd.Flags()
	f.lang = langOf(cmd)
	if f.runs < 1 {
		return usageError{fmt.Errorf("--runs %d: want at least 1", f.runs)}
	}
	if f.parallel < 1 {
		return usageError{fmt.Errorf("--parallel %d: want at least 1", f.parallel)}
	}
	if f.size < 0 {
		return usageError{fmt.Errorf("--size %d: want a positive number of bytes", f.size)}
	}
	if !fs.Changed("seed") && (f.ladder || f.events || f.pcap != "" || f.plot != "") {
		return usageError{fmt.Errorf("--ladder, --events, --pcap and --plot need --seed N --case NAME (one run)")}
	}
	if f.hostile {
		for _, name := range []string{"runs", "size", "parallel", "ladder", "events", "pcap", "pcap-at", "plot", "ascii", "efficiency", "out"} {
			if fs.Changed(name) {
				return usageError{fmt.Errorf("--hostile takes --case, --seed, --quick and --wall, not --%s", name)}
			}
		}
		return runHostile(stdout, f, fs.Changed("seed"))
	}
	if f.efficiency {
		if fs.Changed("seed") || fs.Changed("case") || fs.Changed("runs") || fs.Changed("size") {
			return usageError{fmt.Errorf("--efficiency takes none of --seed, --case, --runs, --size: its tables are fixed (--quick for the small ones)")}
		}
		return runEfficiency(stdout, stderr, f)
	}
	if f.quick || f.out != "" {
		return usageError{fmt.Errorf("--quick goes with --efficiency or --hostile, --out with --efficiency")}
	}
	cases, err := selectCases(f.cases)
	if err != nil {
		return usageError{err}
	}
	if f.size > 0 {
		for i := range cases {
			cases[i].Size = f.size
		}
	}
	if fs.Changed("seed") {
		if len(cases) != 1 {
			return usageError{fmt.Errorf("--seed runs one case alone: name it with --case (one of %s)", strings.Join(sim.SoakCaseNames(), ", "))}
		}
		return runOneSoak(stdout, cases[0], f)
	}
	return runSoakMatrix(stdout, stderr, cases, f)
}

func selectCases(spec string) ([]sim.SoakCase, error) {
	if spec == "all" || spec == "" {
		return sim.SoakCases(), nil
	}
	var out []sim.SoakCase
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		c, ok := sim.LookupSoakCase(name)
		if !ok {
			return nil, fmt.Errorf("--case: unknown case %q; the cases are: %s", name, strings.Join(sim.SoakCaseNames(), ", "))
		}
		out = append(out, c)
	}
	return out, nil
}

// runOneSoak runs one case and seed with a trace and prints its stats and,
// if asked, its ladder and events.
func runOneSoak(w io.Writer, c sim.SoakCase, f *soakFlags) error {
	var log trace.Log
	var rec trace.Recorder
	if f.ladder || f.events || f.plot != "" {
		rec = &log
	}
	var tap sim.Tap
	if f.pcap != "" {
		pw, err := createPcap(f.pcap, f.pcapAt)
		if err != nil {
			return usageError{err}
		}
		defer pw.abandon()
		rec, tap = trace.Tee(rec, pw.w), pw.w.Tap
		defer func() {
			if cerr := pw.close(); cerr != nil {
				fmt.Fprintln(w, cerr)
			}
		}()
	}
	r, err := sim.RunSoakCaptured(c, f.seed, rec, tap)
	if err != nil {
		return usageError{err}
	}
	if f.plot != "" {
		d, err := ladder.Build(log.Events, ladder.Options{Left: "client", Right: "server", Lang: f.lang})
		if err != nil {
			return fmt.Errorf("--plot: drawing the ladder: %w", err)
		}
		title := f.lang.Trf("soak case %s, seed %d: %s over %s, %d bytes", c.Name, f.seed, f.lang.Tr(c.About), c.LinkString(), c.Size)
		if err := writePlot(f.plot, d, log.Events, title, false); err != nil {
			return err
		}
	}
	fmt.Fprint(w, f.lang.Trf("%s: %s over %s, %d bytes", c.Name, f.lang.Tr(c.About), c.LinkString(), c.Size)+"\n\n")
	if f.ladder {
		text, err := ladder.Text(log.Events, ladder.Options{Left: "client", Right: "server", ASCII: f.ascii, Lang: f.lang})
		if err != nil {
			return fmt.Errorf("drawing the ladder: %w", err)
		}
		io.WriteString(w, text)
		fmt.Fprintln(w)
	}
	io.WriteString(w, r.String())
	if f.events {
		fmt.Fprintln(w, "\nEvents:")
		for i := range log.Events {
			fmt.Fprintln(w, log.Events[i].String())
		}
	}
	if !r.OK() {
		return failure{fmt.Errorf("case %s seed %d failed: %s", c.Name, f.seed, strings.Join(r.Problems(), "; "))}
	}
	return nil
}

type soakJob struct {
	ci   int
	seed uint64
}

// runSoakMatrix runs seeds 1..runs of every case on parallel workers and
// prints the table.
func runSoakMatrix(stdout, stderr io.Writer, cases []sim.SoakCase, f *soakFlags) error {
	results := make([][]sim.SoakResult, len(cases))
	walls := make([]time.Duration, len(cases))
	for i := range results {
		results[i] = make([]sim.SoakResult, f.runs)
	}
	total := len(cases) * f.runs
	bar := newProgress(stderr, total)
	jobs := make(chan soakJob)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for range min(f.parallel, total) {
		wg.Go(func() {
			for j := range jobs {
				t0 := time.Now()
				r, err := sim.RunSoak(cases[j.ci], j.seed)
				d := time.Since(t0)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				results[j.ci][j.seed-1] = r
				walls[j.ci] += d
				bar.add(1)
				mu.Unlock()
			}
		})
	}
	for ci := range cases {
		for s := 1; s <= f.runs; s++ {
			jobs <- soakJob{ci, uint64(s)}
		}
	}
	close(jobs)
	wg.Wait()
	bar.done()
	if firstErr != nil {
		return usageError{firstErr}
	}
	var sums []sim.SoakSummary
	for i, c := range cases {
		sums = append(sums, sim.Summarize(c, results[i], walls[i]))
	}
	writeSoakTable(stdout, sums, f.wall, f.lang)
	failed := 0
	for _, s := range sums {
		failed += len(s.Failures)
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "\n%s\n", f.lang.Tr("Failed runs (repeat one alone with its command; add --ladder for its diagram):"))
		for _, s := range sums {
			for _, r := range s.Failures {
				fmt.Fprintf(stdout, "  %s\n      %s\n", r.Command(), strings.Join(r.Problems(), "; "))
			}
		}
		return failure{fmt.Errorf("%d of %d runs failed", failed, total)}
	}
	return nil
}

func writeSoakTable(w io.Writer, sums []sim.SoakSummary, wall bool, l i18n.Lang) {
	head := "case\truns\tfailed\tgoodput median\tmin\tretransmits\tspurious\ttimeouts\tdata time median\tlongest run\t"
	if wall {
		head += "wall\t"
	}
	rows := [][]string{tabCells(head)}
	for _, s := range sums {
		line := fmt.Sprintf("%s\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%v\t%v\t", s.Case.Name, s.Runs, len(s.Failures),
			sim.FormatRate(s.MedianGoodput), sim.FormatRate(s.MinGoodput), s.Retransmits, s.DupSegs, s.Timeouts,
			s.MedianDataTime.Round(time.Millisecond), s.MaxDuration.Round(time.Millisecond))
		if wall {
			line += s.Wall.Round(time.Millisecond).String() + "\t"
		}
		rows = append(rows, tabCells(line))
	}
	writeTableIn(w, rows, false) // by display width, whatever the language
	fmt.Fprint(w, l.Tr("\nretransmits: segments the senders sent again, all runs; spurious: segments whose every byte had already\n"+
		"reached the receiver (spurious retransmissions and link duplicates), all runs; data time: first SYN until\n"+
		"the receiver had every byte and the FIN; longest run: until both ends were CLOSED (TIME-WAIT included).\n"))
	writeSoakUDPTable(w, sums, l)
}

// writeSoakUDPTable prints the UDP halves of the cases that have one
// (sim.SoakCase.Datagrams), if any.
func writeSoakUDPTable(w io.Writer, sums []sim.SoakSummary, l i18n.Lang) {
	any := false
	for _, s := range sums {
		any = any || s.UDP.Sent > 0
	}
	if !any {
		return
	}
	fmt.Fprintln(w)
	rows := [][]string{tabCells("udp case\tsent\tdelivered\tduplicated\treordered\tlost\tbad checksum\tnot as sent\t")}
	for _, s := range sums {
		if u := s.UDP; u.Sent > 0 {
			rows = append(rows, tabCells(fmt.Sprintf("%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t", s.Case.Name, u.Sent, u.Delivered, u.Duplicated, u.Reordered, u.Lost, u.CsumDrops, len(u.Bad))))
		}
	}
	writeTableIn(w, rows, false)
	fmt.Fprint(w, l.Tr("\nudp: datagrams the client sent beside the transfer, all runs; delivered: read by the server at least once,\n"+
		"each exactly as sent (SHA-256 checked); duplicated: further copies read; reordered: read first after a\n"+
		"higher-numbered one; lost: never read, those dropped for a bad checksum by the server's UDP among them.\n"+
		"RFC 768 promises neither delivery, nor once, nor order: only a datagram delivered not as sent fails a run.\n"))
}

func runEfficiency(stdout, stderr io.Writer, f *soakFlags) error {
	cfg, command := sim.DefaultEfficiency(), "synack soak --efficiency --out docs/EFFICIENCY.md"
	if f.quick {
		cfg, command = sim.SmallEfficiency(), "synack soak --efficiency --quick"
	}
	bar := newProgress(stderr, 0)
	rep, err := sim.RunEfficiency(cfg, func(done, total int) {
		bar.total = total
		bar.add(1)
	})
	bar.done()
	if err != nil {
		return err
	}
	w := stdout
	if f.out != "" {
		file, err := os.Create(f.out)
		if err != nil {
			return usageError{fmt.Errorf("--out: %w", err)}
		}
		defer file.Close()
		w = file
	}
	if err := rep.WriteMarkdown(w, command); err != nil {
		return err
	}
	if !rep.OK() {
		return failure{fmt.Errorf("a run of the efficiency tables failed integrity (listed at the end of the tables)")}
	}
	return nil
}

// progress is a one-line progress bar on a terminal; elsewhere it prints
// nothing.
type progress struct {
	w      io.Writer
	on     bool
	n      int
	total  int
	start  time.Time
	drawn  time.Time
	isDone bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.on = true
	}
	return p
}

func (p *progress) add(n int) {
	p.n += n
	if !p.on || p.total == 0 {
		return
	}
	if now := time.Now(); now.Sub(p.drawn) >= 100*time.Millisecond || p.n == p.total {
		p.drawn = now
		const width = 40
		fill := width * p.n / p.total
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d runs, %v", strings.Repeat("#", fill), strings.Repeat(".", width-fill), p.n, p.total,
			time.Since(p.start).Round(time.Second/10))
	}
}

func (p *progress) done() {
	if p.on && !p.isDone && p.n > 0 {
		fmt.Fprintln(p.w)
	}
	p.isDone = true
}
