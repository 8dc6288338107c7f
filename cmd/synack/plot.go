package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
	"github.com/gosynack/synack/trace/plot"
)

// plotFlags are synack plot's own flags.
type plotFlags struct {
	out  string
	what string
	dir  string
	conn string
	port int
}

// captureOnly and runOnly are the flags that make sense for one kind of
// input: a capture, or a simulated run.
var (
	captureOnly = []string{"conn", "port"}
	runOnly     = append([]string{"seed"}, storyFlags...)
)

func newPlot() *cobra.Command {
	var (
		f  plotFlags
		lf linkFlags
	)
	cmd := &cobra.Command{
		Use:   "plot SCENARIO|FILE|- -o OUT.svg",
		Short: "Plot a run or a capture: time–sequence graph, cwnd, RTT and goodput as SVG",
		Long: `Plot one direction of a TCP connection as an SVG picture of stacked panels
over one time axis:

  tseq     the time–sequence graph (as Stevens and tcptrace draw it): each data
           segment a vertical bar from its first sequence number to its last,
           retransmissions in orange, segments the link lost in red with a
           cross, the ACK line, the receive-window line (ACK + window) and the
           SACK blocks; sequence numbers relative to the sender's ISN
  cwnd     the sender's congestion window and slow-start threshold (its own
           Metrics events) and its bytes in flight (highest sent - highest
           acknowledged, from the segments)
  rtt      RTT samples (a segment to the first ACK that covers it; none for
           retransmitted data, Karn's rule) with the sender's SRTT and RTO
  goodput  the data acknowledged per interval, and its mean

The input is a scenario (as 'synack scenario run NAME' runs it, with the same
link flags: --loss, --seed...) or a pcap or pcapng capture (- reads it from
standard input). A name is taken for a scenario first: write ./demo for a file
called demo. A capture holds no cwnd, ssthresh, SRTT or RTO, and what the
plot infers from its segments (bytes in flight, RTT samples) is what the
capture point saw; the picture says so.

--dir names the end whose data is plotted: client or server in a scenario, an
ADDR:PORT in a capture; by default the end that sent the most data. Each point
carries the packet's number on the ladder (a capture's frame number) in a
data-packet attribute. Where nothing was sent for more than half of the
connection's time, the time axis is broken there.`,
		Args: exactArgs(1, "a scenario name, a capture file, or - for standard input"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlot(cmd, args[0], &f, &lf)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.out, "out", "o", "", "write the SVG to this file (- for standard output)")
	fs.StringVar(&f.what, "what", "all", "the panels to draw: "+strings.Join(plot.PanelNames(), ", ")+", or several joined by commas (tseq,cwnd)")
	fs.StringVar(&f.dir, "dir", "", "the end whose data is plotted: client or server in a scenario, ADDR:PORT in a capture (default: the end that sent the most data)")
	fs.StringVar(&f.conn, "conn", "", "capture: plot this connection, written ADDR:PORT-ADDR:PORT (either order)")
	fs.IntVar(&f.port, "port", 0, "capture: plot the connection with an end on this port")
	// The link flags of scenario run, and no others: a plot has no ladder
	// text to change, nor a capture to write.
	all := pflag.NewFlagSet("link", pflag.ContinueOnError)
	lf.register(all)
	for _, name := range runOnly {
		fs.AddFlag(all.Lookup(name))
	}
	return cmd
}

func runPlot(cmd *cobra.Command, input string, f *plotFlags, lf *linkFlags) error {
	fs := cmd.Flags()
	panels, err := plot.ParsePanels(f.what)
	if err != nil {
		return usageError{fmt.Errorf("--what: %w", err)}
	}
	if f.out == "" {
		return usageError{errors.New("synack plot needs -o FILE for the SVG (or -o - for standard output)")}
	}
	if f.port < 0 || f.port > 65535 {
		return usageError{fmt.Errorf("--port %d: want a port number 1..65535", f.port)}
	}
	if f.conn != "" && fs.Changed("port") {
		return usageError{errors.New("--conn and --port both choose a connection: give one")}
	}
	l := langOf(cmd)
	opt := plot.Options{Sender: f.dir, Panels: panels, Lang: l}
	var (
		d      *ladder.Diagram
		events []trace.Event
		failed error
	)
	s, isScenario := sim.Lookup(input)
	switch {
	case isScenario:
		if name := changed(fs, captureOnly); name != "" {
			return usageError{fmt.Errorf("--%s chooses a connection of a capture; scenario %s has one", name, input)}
		}
		lf.resolve(fs)
		r, err := s.Execute(lf.o)
		if err != nil {
			return usageError{err}
		}
		if d, err = ladder.Build(r.Events, ladder.Options{Left: "client", Right: "server", Conn: s.Ladder, Lang: l}); err != nil {
			return fmt.Errorf("drawing the ladder: %w", err)
		}
		events = r.Events
		opt.Title = l.Trf("%s (scenario %s, seed %d)", s.TitleIn(l), s.Name, lf.o.Seed)
		if len(r.Problems) > 0 {
			failed = failure{fmt.Errorf("scenario %s did not behave as it should:\n  %s", s.Name, strings.Join(r.Problems, "\n  "))}
		}
	case input == httpScenario:
		return usageError{errors.New("the http scenario runs three modes over many connections, and a plot is of one connection: plot a capture of one, or another scenario")}
	default:
		if err := checkCaptureName(input); err != nil {
			return usageError{err}
		}
		if name := changed(fs, runOnly); name != "" {
			return usageError{fmt.Errorf("--%s changes a simulated run, and %s is a capture, not a scenario", name, input)}
		}
		if d, opt.Title, err = plotCapture(cmd, input, f); err != nil {
			return err
		}
		opt.Capture = true
	}
	p, err := plot.Build(d, events, opt)
	if err != nil {
		if f.dir != "" {
			err = fmt.Errorf("--dir: %w", err)
		}
		return usageError{err}
	}
	if f.out == "-" {
		if err := p.WriteSVG(cmd.OutOrStdout()); err != nil {
			return err
		}
	} else {
		if err := writeFile("-o", f.out, p.WriteSVG); err != nil {
			return err
		}
		who := l.Tr(p.Sender.Name)
		if _, err := netip.ParseAddrPort(who); err == nil && l != i18n.English {
			who += " " // 198.18.0.1:80 所发数据
		}
		fmt.Fprintln(cmd.OutOrStdout(), l.Trf("%s: the plot of the data sent by %s (%s)", f.out, who, f.what))
	}
	return failed
}

// plotCapture reads the capture input and returns the ladder of the one
// connection chosen, and the plot's title.
func plotCapture(cmd *cobra.Command, input string, f *plotFlags) (*ladder.Diagram, string, error) {
	name := input
	var file *capture.File
	var err error
	if input == "-" {
		name = "standard input"
		in := cmd.InOrStdin()
		if fi, ok := in.(*os.File); ok && term.IsTerminal(int(fi.Fd())) {
			return nil, "", usageError{errors.New("- reads the capture from standard input, which is a terminal: pipe one in (tcpdump -w - | synack plot - -o plot.svg)")}
		}
		file, err = readCaptureFrom(name, in)
	} else {
		file, err = readCapture(input)
	}
	if err != nil {
		return nil, "", usageError{err}
	}
	a := capture.Analyze(file)
	if len(a.Conns) == 0 {
		msg := fmt.Sprintf("%s: no TCP/IPv4 segments in %d packets: nothing to plot", name, len(file.Packets))
		if s := a.Summary(); s != "" {
			msg += " (" + s + ")"
		}
		return nil, "", failure{errors.New(msg)}
	}
	conns, err := a.Select(f.conn, f.port)
	if err != nil {
		return nil, "", usageError{err}
	}
	switch {
	case len(conns) == 0:
		what := "--conn " + f.conn
		if f.port > 0 {
			what = fmt.Sprintf("--port %d", f.port)
		}
		return nil, "", usageError{fmt.Errorf("%s matches none of the %d connections in %s:%s", what, len(a.Conns), name, connList(a.Conns))}
	case len(conns) > 1:
		return nil, "", usageError{fmt.Errorf("a plot is of one connection and %s holds %d: pick one with --conn or --port:%s", name, len(conns), connList(conns))}
	}
	c := conns[0]
	l := langOf(cmd)
	d, err := a.Diagram(c, ladder.Options{Lang: l})
	if err != nil {
		return nil, "", err
	}
	return d, l.Trf("%s, connection %d: %s", filepath.Base(name), c.N, c), nil
}

// checkCaptureName says what is wrong with input, which is not a
// scenario, as the name of a capture file: none by that name, or a
// directory.
func checkCaptureName(input string) error {
	if input == "-" {
		return nil
	}
	st, err := os.Stat(input)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s is neither a scenario (%s) nor a file: synack plot needs a scenario name or a capture file (pcap or pcapng)", input, strings.Join(sim.Names(), ", "))
	case err == nil && st.IsDir():
		return fmt.Errorf("%s is a directory: synack plot needs a scenario name or a capture file (pcap or pcapng)", input)
	}
	return nil // readCapture says what else is wrong
}

// changed returns the first of names given on the command line, or "".
func changed(fs *pflag.FlagSet, names []string) string {
	for _, n := range names {
		if fl := fs.Lookup(n); fl != nil && fl.Changed {
			return n
		}
	}
	return ""
}

// writePlot writes the --plot file of a run or capture whose ladder is d
// (events are those d was built from, for the sender's Metrics; nil for a
// capture), titled title: every panel, of the end that sent the most, in
// the ladder's language.
func writePlot(name string, d *ladder.Diagram, events []trace.Event, title string, fromCapture bool) error {
	if name == "" {
		return nil
	}
	p, err := buildPlot(d, events, title, fromCapture)
	if err != nil {
		return fmt.Errorf("--plot %s: %w", name, err)
	}
	return writeFile("--plot", name, func(w io.Writer) error { return p.WriteSVG(w) })
}

// buildPlot plots every panel of the data of the end of d that sent the
// most (events as for writePlot).
func buildPlot(d *ladder.Diagram, events []trace.Event, title string, fromCapture bool) (*plot.Plot, error) {
	if o := d.Options(); o.Absolute && events != nil {
		// The plot's windows are scaled whatever --absolute says.
		o.Absolute = false
		var err error
		if d, err = ladder.Build(events, o); err != nil {
			return nil, err
		}
	}
	return plot.Build(d, events, plot.Options{Title: title, Capture: fromCapture, Lang: d.Options().Lang})
}

// plotSVG is buildPlot's picture, for the HTML page beside the ladder.
func plotSVG(d *ladder.Diagram, events []trace.Event, title string, fromCapture bool) (string, error) {
	p, err := buildPlot(d, events, title, fromCapture)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := p.WriteSVG(&b); err != nil {
		return "", err
	}
	return b.String(), nil
}
