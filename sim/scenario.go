package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/wire"
)

// Addresses of the two hosts of every scenario, in the range reserved for
// benchmarking (RFC 2544), so that nothing here ever names a real network.
var (
	ClientAddr = netip.MustParseAddr("198.18.0.2")
	ServerAddr = netip.MustParseAddr("198.18.0.1")
)

// Scenario is a situation from the TCP literature as data: two programs, a
// link, and rules that script what goes wrong.
type Scenario struct {
	Name    string
	Title   string
	Caption string // plain-language explanation printed under the ladder
	// Client and Server are the two hosts' programs.
	Client, Server []Step
	// Link is the impairment of both directions (default: 50 ms one way).
	Link netsim.Impairment
	// Rules script the link: each applies to one direction.
	Rules []DirectedRule
	// MSL for both hosts (default: tcp's 30 s).
	MSL time.Duration
	// Limit bounds the run in virtual time (default 10 minutes).
	Limit time.Duration
	// Ladder is the connection the ladder shows, counted from 1 in the
	// order they opened (0: the first; ladder.Options.Conn).
	Ladder int
	// Check, if set, verifies the outcome of the run the caption tells
	// (the scenario's own link and MSL) down to its counters; a scenario
	// that does not end the way it teaches is a bug, and says so.
	Check func(w *World) error
	// Essential, if set, verifies instead a run whose link or MSL the
	// overrides changed (Overrides.Impaired). There a retransmission more
	// or a packet lost that the story does not lose is ordinary TCP, not a
	// fault: Essential asks only what the scenario teaches, given what the
	// link did, and says in notes (Run.note) where the run left the story.
	Essential func(r *Run) error

	// configure, if set, adjusts each host's stack configuration (its
	// TCP policy, SYN queue, ports) before the host is made.
	configure func(host string, c *stack.Config)
	// setup, if set, prepares the world once its hosts and link are
	// made, before the programs start: actions at set times (World.At),
	// such as a flood of spoofed SYNs or a peer that vanishes.
	setup func(w *World) error
	// figures, if set, are the run's own numbers that the scenario
	// teaches (counters, windows), read from the stacks after the run and
	// printed under the caption.
	figures func(r *Run) []message
}

// TitleIn is the scenario's title in language l (package i18n's
// catalogue has every built-in scenario's title and caption).
func (s *Scenario) TitleIn(l i18n.Lang) string { return l.Tr(s.Title) }

// CaptionIn is the scenario's caption in language l.
func (s *Scenario) CaptionIn(l i18n.Lang) string { return l.Tr(s.Caption) }

// DirectedRule is a link rule on one direction.
type DirectedRule struct {
	From, To string
	Rule     netsim.Rule
}

// Overrides change a scenario's link from the command line.
type Overrides struct {
	Seed                              uint64
	Latency, Jitter                   *time.Duration
	Loss, Duplicate, Reorder, Corrupt *float64
	Bandwidth                         *int64
	// MSL, if set, is positive: TIME-WAIT lasts 2·MSL.
	MSL *time.Duration
	// Recorder, if set, also receives every event of the run, and Tap
	// every packet (see World.SetTap): a capture writer needs both.
	Recorder trace.Recorder
	Tap      Tap
}

// Impaired reports whether o changes the scenario's link or MSL, so that
// the run may go otherwise than its caption tells (the seed alone changes
// nothing but the initial sequence numbers and ports).
func (o *Overrides) Impaired() bool {
	return o.Latency != nil || o.Jitter != nil || o.Loss != nil || o.Duplicate != nil ||
		o.Reorder != nil || o.Corrupt != nil || o.Bandwidth != nil || o.MSL != nil
}

// Run is the outcome of a scenario.
type Run struct {
	Scenario *Scenario
	World    *World
	Events   []trace.Event
	Result   Result
	// Impaired says the overrides changed the link or the MSL
	// (Overrides.Impaired): the scenario's Essential check judged the run.
	Impaired bool
	// Problems lists what went unlike the scenario teaches (empty when it
	// behaved).
	Problems []string
	// Notes say, for an impaired run, where it went otherwise than the
	// run the caption tells: what the link did besides the scenario's
	// rules, how many more segments were retransmitted, and what the
	// scenario's story missed because of it. Each is a clause that reads
	// after "this run differs:", e.g. "the link also lost 1 packet (#4 A
	// from the client)". Empty for a run without impairments.
	Notes []string
	// excused are the hosts whose program may stop short: the Essential
	// check found that the link, not TCP, kept it from finishing.
	excused map[string]bool
	notes   []message // the Essential check's
	// said are the Notes, to be said in any language (NotesIn).
	said []message
}

// FiguresIn are the scenario's own figures of this run (the counters and
// windows it teaches), one line each, in language l; none for a scenario
// without such figures.
func (r *Run) FiguresIn(l i18n.Lang) []string {
	if r.Scenario.figures == nil {
		return nil
	}
	var out []string
	for _, m := range r.Scenario.figures(r) {
		out = append(out, m.in(l))
	}
	return out
}

// NotesIn are the Notes in language l.
func (r *Run) NotesIn(l i18n.Lang) []string {
	var out []string
	for _, m := range r.said {
		out = append(out, m.in(l))
	}
	return out
}

// note adds an Essential check's note: format is English, the key of its
// Chinese in package i18n's catalogue; args that are sayers are said in
// the note's language.
func (r *Run) note(format string, args ...any) {
	r.notes = append(r.notes, message{format, args})
}

// excuse lets host's program stop short, for the reason the note gives.
func (r *Run) excuse(host, format string, args ...any) {
	if r.excused == nil {
		r.excused = map[string]bool{}
	}
	r.excused[host] = true
	r.note(format, args...)
}

const (
	clientName = "client"
	serverName = "server"
)

// Execute runs the scenario with the given overrides and seed.
func (s *Scenario) Execute(o Overrides) (*Run, error) {
	link := s.Link
	if link == (netsim.Impairment{}) {
		link.Latency = 50 * time.Millisecond
	}
	set := func(dst *time.Duration, v *time.Duration) {
		if v != nil {
			*dst = *v
		}
	}
	setf := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&link.Latency, o.Latency)
	set(&link.Jitter, o.Jitter)
	setf(&link.Loss, o.Loss)
	setf(&link.Duplicate, o.Duplicate)
	setf(&link.Reorder, o.Reorder)
	setf(&link.Corrupt, o.Corrupt)
	if o.Bandwidth != nil {
		link.Bandwidth = *o.Bandwidth
	}
	if err := link.Validate(); err != nil {
		return nil, err
	}
	msl := s.MSL
	if o.MSL != nil && *o.MSL <= 0 {
		// tcp.Config takes 0 for its default: an override of 0 would
		// silently be 30 s.
		return nil, fmt.Errorf("MSL %v: the maximum segment lifetime must be positive (RFC 9293 §3.4.2)", *o.MSL)
	}
	set(&msl, o.MSL)
	log := &trace.Log{}
	w := NewWorld(o.Seed, trace.Tee(log, o.Recorder))
	w.SetTap(o.Tap)
	w.log = log
	cfg := tcp.Config{MSL: msl}
	tweak := func(name string) func(*stack.Config) {
		if s.configure == nil {
			return nil
		}
		return func(c *stack.Config) { s.configure(name, c) }
	}
	client, err := w.AddHostWith(clientName, ClientAddr, cfg, tweak(clientName))
	if err != nil {
		return nil, err
	}
	server, err := w.AddHostWith(serverName, ServerAddr, cfg, tweak(serverName))
	if err != nil {
		return nil, err
	}
	for _, d := range [][2]string{{clientName, serverName}, {serverName, clientName}} {
		if err := w.Network().SetPath(d[0], d[1], link); err != nil {
			return nil, err
		}
	}
	for _, r := range s.Rules {
		if err := w.Network().AddRule(r.From, r.To, r.Rule); err != nil {
			return nil, err
		}
	}
	if s.setup != nil {
		if err := s.setup(w); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
	}
	w.Run(server, s.Server...)
	w.Run(client, s.Client...)
	limit := s.Limit
	if limit == 0 {
		limit = 10 * time.Minute
	}
	res := w.RunFor(limit)
	run := &Run{Scenario: s, World: w, Events: log.Events, Result: res, Impaired: o.Impaired()}
	var checkErr error
	switch {
	case run.Impaired && s.Essential != nil:
		checkErr = s.Essential(run)
	case s.Check != nil:
		checkErr = s.Check(w)
	}
	if res.TimedOut {
		run.Problems = append(run.Problems, fmt.Sprintf("still running after %v of virtual time", limit))
	}
	for _, h := range w.Hosts() {
		if err := h.Err(); err != nil {
			run.Problems = append(run.Problems, err.Error())
		} else if !h.Done() && !run.excused[h.Name] {
			run.Problems = append(run.Problems, fmt.Sprintf("%s: program stopped at step %d (%s)", h.Name, h.prog.pc+1, h.prog.steps[h.prog.pc]))
		}
	}
	if checkErr != nil {
		run.Problems = append(run.Problems, checkErr.Error())
	}
	if run.Impaired {
		base, err := s.Execute(Overrides{Seed: o.Seed})
		if err != nil {
			return nil, err
		}
		run.said = append(linkNotes(run), retransNote(run, base)...)
		run.said = append(run.said, run.notes...)
		run.Notes = run.NotesIn(i18n.English)
	}
	return run, nil
}

var registry = map[string]*Scenario{}

func register(s *Scenario) { registry[s.Name] = s }

// Lookup finds a scenario by name.
func Lookup(name string) (*Scenario, bool) {
	s, ok := registry[name]
	return s, ok
}

// Scenarios returns every scenario, sorted by name.
func Scenarios() []*Scenario {
	out := make([]*Scenario, 0, len(registry))
	for _, s := range registry {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the scenario names, sorted.
func Names() []string {
	var n []string
	for _, s := range Scenarios() {
		n = append(n, s.Name)
	}
	return n
}

// The demo's HTTP-shaped exchange.
const (
	Request  = "GET / HTTP/1.1\r\nHost: server\r\n\r\n"
	Response = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!"
)

// match builds a link match: flags that must be set, flags that must not.
func match(flags, not wire.Flags, payload netsim.PayloadMatch) netsim.Match {
	return netsim.Match{Flags: flags, NotFlags: not, Payload: payload}
}

func expectState(h *Host, want tcp.State) error {
	c := h.Conn()
	if c == nil {
		return fmt.Errorf("%s: no connection", h.Name)
	}
	if c.State() != want {
		return fmt.Errorf("%s: connection ended in %v, want %v", h.Name, c.State(), want)
	}
	return nil
}

func expectErr(h *Host, want error) error {
	c := h.Conn()
	if c == nil {
		return fmt.Errorf("%s: no connection", h.Name)
	}
	if c.Err() != want {
		return fmt.Errorf("%s: connection ended with %v, want %v", h.Name, c.Err(), want)
	}
	return nil
}

func all(errs ...error) error {
	var msgs []string
	for _, e := range errs {
		if e != nil && !slices.Contains(msgs, e.Error()) {
			msgs = append(msgs, e.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}
