package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/gosynack/synack/sim/httpcost"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
)

// httpScenario is the name of the scenario run by package httpcost rather
// than by sim's registry.
const httpScenario = "http"

const httpTitle = "HTTP/1.0, keep-alive and HTTP/2: what the handshake costs"

const httpCaption = `The same requests three ways. HTTP/1.0 opens a connection per request, so each request
waits a round trip for the three-way handshake before it can be sent, and another for its
answer. HTTP/1.1 keep-alive pays the handshake once, then a round trip per request. HTTP/2
sends every request at once as streams on one connection: two round trips in all. Time runs
from the first SYN to the last response byte; the closes come after. The bytes exchanged are
those net/http and x/net/http2 produce (the tests check that real net/http over synack opens
as many connections and takes as long).`

// httpFlags are the flags of the http scenario.
type httpFlags struct {
	requests int
	rtt      time.Duration
	size     int
	ladder   bool
}

func (f *httpFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.requests, "requests", 3, "http scenario: number of requests in each mode")
	fs.DurationVar(&f.rtt, "rtt", 100*time.Millisecond, "http scenario: round-trip time of the link")
	fs.IntVar(&f.size, "size", 1024, "http scenario: bytes in each response body")
	fs.BoolVar(&f.ladder, "ladder", false, "http scenario: show the ladder of every connection of every mode")
}

// checkUnused rejects the http flags on other scenarios.
func (f *httpFlags) checkUnused(fs *pflag.FlagSet, name string) error {
	for _, n := range []string{"requests", "rtt", "size", "ladder"} {
		if fs.Changed(n) {
			return usageError{fmt.Errorf("--%s is a flag of the http scenario, not of %s", n, name)}
		}
	}
	return nil
}

// httpRefused are the output flags of the other scenarios that the http
// scenario cannot honour, and why.
var httpRefused = []struct{ flag, why string }{
	{"svg", "it runs three modes, HTTP/1.0 with a connection per request, and a picture holds one ladder; use --ladder to see every connection's"},
	{"html", "it runs three modes, HTTP/1.0 with a connection per request, and a page steps through one ladder; use --ladder to see every connection's"},
	{"pcap", "its three modes are three separate runs, each starting at time 0 between the same addresses and ports, which one capture could not keep apart; use --events for every mode's packets and what the stacks did"},
	{"pcap-at", "it writes no capture (see --pcap)"},
	{"plot", "it runs three modes, HTTP/1.0 with a connection per request, and a plot is of one connection"},
}

// checkHTTPFlags refuses the flags the http scenario cannot honour, and
// the ladder flags without --ladder.
func checkHTTPFlags(fs *pflag.FlagSet, hf *httpFlags) error {
	if fs.Changed("latency") {
		return usageError{fmt.Errorf("the http scenario takes --rtt (each direction gets half), not --latency")}
	}
	for _, r := range httpRefused {
		if fs.Changed(r.flag) {
			return usageError{fmt.Errorf("--%s is not supported by the http scenario: %s", r.flag, r.why)}
		}
	}
	if !hf.ladder {
		for _, n := range []string{"timers", "absolute", "ascii"} {
			if fs.Changed(n) {
				return usageError{fmt.Errorf("--%s changes the ladders, which the http scenario draws only with --ladder: add --ladder", n)}
			}
		}
	}
	return nil
}

func runHTTP(w io.Writer, lf *linkFlags, hf *httpFlags, fs *pflag.FlagSet) error {
	if err := checkHTTPFlags(fs, hf); err != nil {
		return err
	}
	if hf.requests < 1 || hf.requests > 1000 {
		return usageError{fmt.Errorf("--requests %d: want 1 to 1000", hf.requests)}
	}
	if hf.size < 0 || hf.size > 1<<20 {
		return usageError{fmt.Errorf("--size %d: want 0 to %d bytes (1 MiB)", hf.size, 1<<20)}
	}
	if hf.rtt <= 0 {
		return usageError{fmt.Errorf("--rtt %v: want a positive duration", hf.rtt)}
	}
	cfg := httpcost.Config{Requests: hf.requests, RTT: hf.rtt, BodySize: hf.size, Seed: lf.o.Seed}
	o := lf.o
	set := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&cfg.Link.Loss, o.Loss)
	set(&cfg.Link.Duplicate, o.Duplicate)
	set(&cfg.Link.Reorder, o.Reorder)
	set(&cfg.Link.Corrupt, o.Corrupt)
	if o.Jitter != nil {
		cfg.Link.Jitter = *o.Jitter
	}
	if o.Bandwidth != nil {
		cfg.Link.Bandwidth = *o.Bandwidth
	}
	if o.MSL != nil {
		cfg.MSL = *o.MSL
	}
	rs, err := httpcost.Run(cfg)
	if err != nil {
		return usageError{err}
	}
	link := cfg.Link
	link.Latency = hf.rtt / 2
	l := lf.lang
	fmt.Fprintf(w, "%s\n\n", l.Trf("%s (scenario %s, seed %d)", l.Tr(httpTitle), httpScenario, lf.o.Seed))
	fmt.Fprintf(w, "%s\n\n", l.Trf("%d requests in each mode, %d-byte responses; link: %v each way (RTT %v)", hf.requests, hf.size, link, hf.rtt))
	if l == i18n.English {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "mode                 \thandshakes\tsegments\tretransmitted\tpayload bytes\twire bytes\ttime\t")
		for _, r := range rs {
			fmt.Fprintf(tw, "%-21s\t%d\t%d\t%d\t%d\t%d\t%v\t\n", r.Mode, r.Handshakes, r.Segments, r.Retransmits, r.PayloadBytes, r.WireBytes, r.Time)
		}
		tw.Flush()
	} else {
		rows := [][]string{{l.Tr("mode"), l.Tr("handshakes"), l.Tr("segments"), l.Tr("retransmitted"), l.Tr("payload bytes"), l.Tr("wire bytes"), l.Tr("time")}}
		for _, r := range rs {
			rows = append(rows, []string{r.Mode, fmt.Sprint(r.Handshakes), fmt.Sprint(r.Segments), fmt.Sprint(r.Retransmits),
				fmt.Sprint(r.PayloadBytes), fmt.Sprint(r.WireBytes), fmt.Sprint(r.Time)})
		}
		writeTableIn(w, rows, true)
	}
	fmt.Fprintf(w, "\n%s\n", l.Tr(httpCaption))
	var problems []string
	for _, r := range rs {
		problems = append(problems, r.Problems...)
		if !hf.ladder {
			continue
		}
		for i := 1; i <= r.Handshakes; i++ {
			d, err := ladder.Build(r.Events, ladder.Options{
				Left: "client", Right: "server", Conn: i,
				Absolute: lf.absolute, ASCII: lf.ascii, Timers: lf.timers,
				Color: lf.render.colored(w), Lang: lf.lang,
			})
			if err != nil {
				return fmt.Errorf("drawing the ladder of %s, connection %d: %w", r.Mode, i, err)
			}
			cliNotes(d)
			fmt.Fprintf(w, "\n%s\n\n", l.Trf("%s, connection %d of %d", r.Mode, i, r.Handshakes))
			if err := d.WriteText(w); err != nil {
				return err
			}
		}
	}
	if lf.events {
		for _, r := range rs {
			fmt.Fprintf(w, "\nEvents of %s:\n", r.Mode)
			for i := range r.Events {
				fmt.Fprintln(w, r.Events[i].String())
			}
		}
	}
	if len(problems) > 0 {
		return failure{fmt.Errorf("scenario http did not behave as it should:\n  %s", strings.Join(problems, "\n  "))}
	}
	return nil
}
