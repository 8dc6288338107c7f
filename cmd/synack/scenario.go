package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
)

func newDemo() *cobra.Command {
	var lf linkFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole connection (handshake, HTTP exchange, four-way close) and show its ladder",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lf.resolve(cmd.Flags())
			s, _ := sim.Lookup("demo")
			return runScenario(cmd.OutOrStdout(), s, &lf)
		},
	}
	lf.register(cmd.Flags())
	return cmd
}

func newScenario() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenario",
		Short: "List and run the situations the TCP literature explains",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{fmt.Errorf("scenario needs a subcommand: 'synack scenario list' or 'synack scenario run NAME'")}
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the scenarios",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			l := langOf(cmd)
			for _, s := range sim.Scenarios() {
				fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.TitleIn(l))
			}
			fmt.Fprintf(tw, "%s\t%s\n", httpScenario, l.Tr(httpTitle))
			return tw.Flush()
		},
	}
	var lf linkFlags
	var hf httpFlags
	runCmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a scenario and show its ladder diagram",
		Long:  "Run a scenario and show its ladder diagram. Scenarios: " + strings.Join(append(sim.Names(), httpScenario), ", ") + ".",
		Args:  exactArgs(1, "a scenario name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == httpScenario {
				lf.resolve(cmd.Flags())
				return runHTTP(cmd.OutOrStdout(), &lf, &hf, cmd.Flags())
			}
			if err := hf.checkUnused(cmd.Flags(), args[0]); err != nil {
				return err
			}
			s, ok := sim.Lookup(args[0])
			if !ok {
				return usageError{fmt.Errorf("unknown scenario %q; the scenarios are: %s", args[0], strings.Join(sim.Names(), ", "))}
			}
			lf.resolve(cmd.Flags())
			return runScenario(cmd.OutOrStdout(), s, &lf)
		},
	}
	lf.register(runCmd.Flags())
	hf.register(runCmd.Flags())
	cmd.AddCommand(list, runCmd)
	return cmd
}

// runScenario runs s and prints its title, ladder, caption and summary.
func runScenario(w io.Writer, s *sim.Scenario, lf *linkFlags) error {
	o := lf.o
	var pw *pcapFile
	if lf.pcap != "" {
		var err error
		if pw, err = createPcap(lf.pcap, lf.pcapAt); err != nil {
			return usageError{err}
		}
		defer pw.abandon()
		o.Recorder, o.Tap = pw.w, pw.w.Tap
	}
	r, err := s.Execute(o)
	if err != nil {
		return usageError{err}
	}
	if pw != nil {
		if err := pw.close(); err != nil {
			return failure{err}
		}
	}
	d, err := ladder.Build(r.Events, ladder.Options{
		Left: "client", Right: "server", Conn: s.Ladder,
		Absolute: lf.absolute, ASCII: lf.ascii, Timers: lf.timers,
		Color: lf.render.colored(w), Lang: lf.lang,
	})
	if err != nil {
		return fmt.Errorf("drawing the ladder: %w", err)
	}
	cliNotes(d)
	l := lf.lang
	lf.render.events = r.Events
	if err := lf.render.writeFiles(d, s, lf.o.Seed, l); err != nil {
		return err
	}
	title := l.Trf("%s (scenario %s, seed %d)", s.TitleIn(l), s.Name, lf.o.Seed)
	if err := writePlot(lf.plot, d, r.Events, title, false); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n\n", title)
	if err := d.WriteText(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n\n", s.CaptionIn(l))
	if figs := r.FiguresIn(l); len(figs) > 0 {
		fmt.Fprintf(w, "%s\n\n", strings.Join(figs, "\n"))
	}
	writeNotes(w, r.NotesIn(l), lf.changed, l)
	writeSummary(w, r, l)
	if lf.events {
		fmt.Fprintln(w, "\nEvents:")
		for i := range r.Events {
			fmt.Fprintln(w, r.Events[i].String())
		}
	}
	if len(r.Problems) > 0 {
		return failure{errors.New(l.Trf("scenario %s did not behave as it should:\n  %s", s.Name, strings.Join(r.Problems, "\n  ")))}
	}
	return nil
}

// cliNotes rewrites the ladder's notes for the command line: package
// ladder tells its Go callers that Options.Conn picks among several
// connections, but a scenario's ladder has no flag for it (and the http
// scenario draws every connection, each under its own title).
func cliNotes(d *ladder.Diagram) {
	for i, n := range d.Notes {
		d.Notes[i] = strings.TrimSuffix(n, "; Options.Conn chooses")
	}
}

// writeNotes says where an impaired run left the story the caption tells.
func writeNotes(w io.Writer, notes []string, changed string, l i18n.Lang) {
	if len(notes) == 0 {
		return
	}
	fmt.Fprintln(w, l.Trf("note: with %s this run differs from the explanation above, which describes the run without impairments:", changed))
	fmt.Fprintf(w, "  %s%s\n\n", strings.Join(notes, l.Tr(";\n  ")), l.Tr("."))
}

func writeSummary(w io.Writer, r *sim.Run, l i18n.Lang) {
	fmt.Fprintln(w, l.Trf("Ended at %v of virtual time.", r.Result.End))
	if l != i18n.English {
		writeSummaryIn(w, r, l)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "host\tActiveOpens\tPassiveOpens\tAttemptFails\tEstabResets\tInSegs\tOutSegs\tRetransSegs\tInErrs\tOutRsts\t")
	for _, h := range r.World.Hosts() {
		c := h.Stack.Counters()
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", h.Name, c.ActiveOpens, c.PassiveOpens,
			c.AttemptFails, c.EstabResets, c.InSegs, c.OutSegs, c.RetransSegs, c.InErrs, c.OutRsts)
	}
	tw.Flush()
}

// writeSummaryIn is the counters' table in language l: the host column in
// l, the counters under their names in l with their MIB names (RFC 4022)
// beneath, every column right-aligned by display width, as tabwriter
// aligns the English one (it counts a Chinese character as one column; a
// terminal shows two).
func writeSummaryIn(w io.Writer, r *sim.Run, l i18n.Lang) {
	mib := []string{"ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets", "InSegs", "OutSegs", "RetransSegs", "InErrs", "OutRsts"}
	head := []string{l.Tr("host")}
	for _, m := range mib {
		head = append(head, l.Tr(m))
	}
	rows := [][]string{head, append([]string{""}, mib...)}
	for _, h := range r.World.Hosts() {
		c := h.Stack.Counters()
		row := []string{l.Tr(h.Name)}
		for _, n := range []uint64{c.ActiveOpens, c.PassiveOpens, c.AttemptFails, c.EstabResets, c.InSegs, c.OutSegs, c.RetransSegs, c.InErrs, c.OutRsts} {
			row = append(row, fmt.Sprint(n))
		}
		rows = append(rows, row)
	}
	writeTableIn(w, rows, false)
}

// writeTableIn writes rows as columns two spaces apart, aligned by display
// width (i18n.Width): right-aligned, or the first column left-aligned if
// leftFirst.
func writeTableIn(w io.Writer, rows [][]string, leftFirst bool) {
	cols := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			cols[i] = max(cols[i], i18n.Width(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", cols[i]-i18n.Width(cell))
			if i == 0 && leftFirst {
				b.WriteString("  " + cell + pad)
				continue
			}
			b.WriteString("  " + pad + cell)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// pcapFile is a --pcap output: written in full, or removed.
type pcapFile struct {
	f    *os.File
	w    *capture.Writer
	done bool
}

func createPcap(name, at string) (*pcapFile, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, fmt.Errorf("--pcap: %w", err)
	}
	var w *capture.Writer
	switch at {
	case "both":
		w, err = capture.NewWriter(f, "client", "server")
	case "client", "server":
		w, err = capture.NewPointWriter(f, at)
	default:
		err = fmt.Errorf("--pcap-at %q: want client, server or both", at)
	}
	if err != nil {
		f.Close()
		os.Remove(name)
		return nil, fmt.Errorf("--pcap %s: %w", name, err)
	}
	return &pcapFile{f: f, w: w}, nil
}

func (p *pcapFile) close() error {
	p.done = true
	err := p.w.Flush()
	if cerr := p.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p.f.Name())
		return fmt.Errorf("--pcap %s: %w", p.f.Name(), err)
	}
	return nil
}

// abandon removes a file the run did not finish.
func (p *pcapFile) abandon() {
	if !p.done {
		p.f.Close()
		os.Remove(p.f.Name())
	}
}
