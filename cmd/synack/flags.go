package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
)

// probability is a flag value in [0,1], written as 0.05 or 5%.
type probability struct {
	name string
	v    *float64
	raw  string // as the user wrote it
}

func (p *probability) String() string {
	if p.v == nil {
		return "0"
	}
	if p.raw != "" {
		return p.raw
	}
	return strconv.FormatFloat(*p.v, 'g', -1, 64)
}

func (p *probability) Set(s string) error {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
	if err != nil {
		return fmt.Errorf("%q is not a number (write a probability like 0.05, or a percentage like 5%%)", s)
	}
	if pct {
		f /= 100
	}
	if f < 0 || f > 1 {
		if !pct && f > 1 && f <= 100 {
			return fmt.Errorf("%q is not a probability between 0 and 1 (did you mean %s%%?)", s, t)
		}
		return fmt.Errorf("%q is outside 0..1 (0%%..100%%)", s)
	}
	p.v, p.raw = &f, t
	return nil
}

func (p *probability) Type() string { return "prob" }

// getenv reads the locale variables that choose --lang's default (tests
// replace it, so that the developer's locale does not change their output).
var getenv = os.Getenv

// langFlag is the global --lang: the language of what a learner reads.
type langFlag struct{ l *i18n.Lang }

func (f langFlag) String() string { return f.l.String() }

func (f langFlag) Set(s string) error {
	l, err := i18n.Parse(s)
	if err != nil {
		return err
	}
	*f.l = l
	return nil
}

func (f langFlag) Type() string { return "zh|en" }

// registerLang gives root the global --lang flag, its default chosen by
// LC_ALL, LC_MESSAGES or LANG (zh... is Chinese, anything else English).
func registerLang(root *cobra.Command) {
	l := i18n.FromEnv(getenv)
	root.PersistentFlags().Var(langFlag{&l}, "lang", "language of the titles, explanations, ladders and summaries: zh (简体中文) or en (default from LC_ALL, LC_MESSAGES, then LANG)")
}

// langOf is the --lang of cmd's command line.
func langOf(cmd *cobra.Command) i18n.Lang { return langIn(cmd.Flags()) }

// langIn is the --lang of a parsed flag set (English without one).
func langIn(fs *pflag.FlagSet) i18n.Lang {
	if fl := fs.Lookup("lang"); fl != nil {
		if v, ok := fl.Value.(langFlag); ok {
			return *v.l
		}
	}
	return i18n.English
}

// optDuration is a duration flag that remembers whether it was set.
// zero, if set, is why 0 is refused.
type optDuration struct {
	v    **time.Duration
	zero string
}

func (d optDuration) String() string {
	if *d.v == nil {
		return ""
	}
	return (**d.v).String()
}

func (d optDuration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (write e.g. 50ms, 1.5s)", s)
	}
	if v < 0 {
		return fmt.Errorf("%q is negative", s)
	}
	if v == 0 && d.zero != "" {
		return fmt.Errorf("%q: %s", s, d.zero)
	}
	*d.v = &v
	return nil
}

func (d optDuration) Type() string { return "duration" }

// bandwidth is a rate in bits per second: 1000000, 10Mbit, 512kbit, 1Gbit.
type bandwidth struct {
	v   **int64
	raw string // as the user wrote it
}

func (b *bandwidth) String() string {
	if *b.v == nil {
		return ""
	}
	if b.raw != "" {
		return b.raw
	}
	return strconv.FormatInt(**b.v, 10)
}

func (b *bandwidth) Set(s string) error {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "/s"), "bit")
	t = strings.TrimSuffix(t, "bps")
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1e3, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1e6, strings.TrimSuffix(t, "m")
	case strings.HasSuffix(t, "g"):
		mult, t = 1e9, strings.TrimSuffix(t, "g")
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 {
		return fmt.Errorf("%q is not a positive rate in bits per second (write e.g. 10Mbit, 512kbit, 1000000)", s)
	}
	v := int64(f * float64(mult))
	*b.v, b.raw = &v, strings.TrimSpace(s)
	return nil
}

func (b *bandwidth) Type() string { return "rate" }

// mslZero is why --msl 0 is refused. RFC 9293 §3.4.2 makes MSL how long a
// segment may live in the network, and TIME-WAIT 2·MSL so that the
// connection's old segments die out first; no segment lives 0 s on a link
// with a delay, and tcp.Config takes an MSL of 0 for its default.
const mslZero = "the maximum segment lifetime must be positive (RFC 9293 §3.4.2: TIME-WAIT lasts 2·MSL, for the connection's old segments to die out); for a TIME-WAIT that is over at once, give a small one, e.g. --msl 1ms"

// linkFlags are the flags that change a scenario's link and output.
type linkFlags struct {
	o        sim.Overrides
	absolute bool
	ascii    bool
	timers   bool
	events   bool
	pcap     string
	pcapAt   string
	plot     string      // --plot (plot.go)
	render   renderFlags // --svg, --html, --color (render.go)
	lang     i18n.Lang   // the global --lang
	// changed is the link and MSL flags given, as written ("--loss 10%"):
	// what made the run impaired (sim.Overrides.Impaired).
	changed string
}

// storyFlags are the flags that change a scenario's link or MSL, in the
// order their notes name them.
var storyFlags = []string{"latency", "jitter", "loss", "dup", "reorder", "corrupt", "bandwidth", "msl"}

func (f *linkFlags) register(fs *pflag.FlagSet) {
	fs.Uint64Var(&f.o.Seed, "seed", 1, "seed of the run's randomness (the same seed gives the same run)")
	fs.Var(optDuration{v: &f.o.Latency}, "latency", "one-way delay of each direction (default 50ms)")
	fs.Var(optDuration{v: &f.o.Jitter}, "jitter", "extra random one-way delay, up to this much")
	fs.Var(&probability{name: "loss", v: nil}, "loss", "probability a packet is lost (0.05 or 5%)")
	fs.Var(&probability{name: "dup"}, "dup", "probability a packet is duplicated")
	fs.Var(&probability{name: "reorder"}, "reorder", "probability a packet is delayed so later ones overtake it")
	fs.Var(&probability{name: "corrupt"}, "corrupt", "probability a bit of a packet is flipped")
	fs.Var(&bandwidth{v: &f.o.Bandwidth}, "bandwidth", "bottleneck rate (e.g. 10Mbit); unlimited if unset")
	fs.Var(optDuration{v: &f.o.MSL, zero: mslZero}, "msl", "maximum segment lifetime, positive; TIME-WAIT lasts 2·MSL (default 30s)")
	fs.BoolVar(&f.absolute, "absolute", false, "show the numbers as on the wire: absolute seq and ack instead of relative to each ISN, the window field unscaled")
	fs.BoolVar(&f.ascii, "ascii", false, "draw the ladder with ASCII characters only")
	fs.BoolVar(&f.timers, "timers", false, "show timers being set, fired and stopped")
	fs.BoolVar(&f.events, "events", false, "print every trace event, one per line, after the ladder")
	fs.StringVar(&f.pcap, "pcap", "", "also write the packets to this pcapng file, each packet commented with what the stack decided (virtual time 0 is written as 2000-01-01T00:00:00Z)")
	fs.StringVar(&f.pcapAt, "pcap-at", "client", "where --pcap captures: client or server (as tcpdump on that host would), or both (one interface per host; Wireshark then takes each received copy for a retransmission)")
	fs.StringVar(&f.plot, "plot", "", "also plot the run as SVG into this file: time–sequence graph, cwnd, RTT, goodput (see synack plot)")
	f.render.register(fs)
}

// resolve copies the probability flags into the overrides (pflag keeps
// their values in the flag objects).
func (f *linkFlags) resolve(fs *pflag.FlagSet) {
	get := func(name string) *float64 {
		fl := fs.Lookup(name)
		if fl == nil || !fl.Changed {
			return nil
		}
		return fl.Value.(*probability).v
	}
	f.o.Loss, f.o.Duplicate, f.o.Reorder, f.o.Corrupt = get("loss"), get("dup"), get("reorder"), get("corrupt")
	f.lang = langIn(fs)
	var changed []string
	for _, name := range storyFlags {
		if fl := fs.Lookup(name); fl != nil && fl.Changed {
			changed = append(changed, "--"+name+" "+fl.Value.String())
		}
	}
	f.changed = strings.Join(changed, " ")
}
