// Package web serves synack's browser view: a page on which to pick a
// scenario, set the link's impairments and a seed, run it, and watch the
// ladder diagram drawn packet by packet with both hosts' state machines.
//
// The page and its scripts are embedded in the program and fetch nothing
// but this server's own endpoints; the server listens on loopback only.
//
// Endpoints:
//
//	GET /                  the page
//	GET /api/scenarios     the scenarios, as JSON [{name, title, caption}]
//	GET /api/run?scenario=NAME&seed=N&loss=P&latency=D&jitter=D&dup=P&reorder=P&corrupt=P
//	                       runs a scenario; JSON {title, caption, figures,
//	                       seed, packets, rows, problems, notes, text,
//	                       viewer}, where figures are the run's own numbers
//	                       that the scenario teaches (as synack scenario run
//	                       prints them under the caption) and viewer is the
//	                       HTML of the animated diagram with the
//	                       connection's plot beside it. A bad parameter is a
//	                       400 with JSON {error, field}.
package web

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
	"github.com/gosynack/synack/trace/plot"
)

//go:embed static
var static embed.FS

// csp lets the page load only from this server: no external fetches.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// maxRuns bounds the scenarios run at once.
const maxRuns = 2

// Handler returns the web view's handler.
func Handler() http.Handler {
	mux := http.NewServeMux()
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux.Handle("GET /", http.FileServerFS(files))
	mux.HandleFunc("GET /viewer.js", asset("text/javascript; charset=utf-8", ladder.ViewerJS))
	mux.HandleFunc("GET /viewer.css", asset("text/css; charset=utf-8", ladder.ViewerCSS))
	mux.HandleFunc("GET /api/scenarios", scenarios)
	mux.HandleFunc("GET /api/words", words)
	sem := make(chan struct{}, maxRuns)
	mux.HandleFunc("GET /api/run", func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
		case <-r.Context().Done():
			return
		}
		run(w, r)
	})
	return guard(mux)
}

// guard answers only requests addressed to a loopback name (a page on
// another site cannot reach the server through a name that resolves to
// 127.0.0.1), and sets the headers that keep the page to itself.
func guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "synack web answers only requests to 127.0.0.1, [::1] or localhost", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckAddr accepts a listening address on loopback only: 127.0.0.1:PORT,
// [::1]:PORT or localhost:PORT (PORT may be 0 for any free port).
func CheckAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %v (write e.g. 127.0.0.1:8080)", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("address %q: port %q is not a number from 0 to 65535", addr, port)
	}
	if host == "" {
		return fmt.Errorf("address %q listens on every interface; synack web listens on loopback only (write 127.0.0.1%s)", addr, addr)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("address %q: %q is not an IP address or localhost; synack web listens on loopback only (127.0.0.1)", addr, host)
	}
	if !ip.IsLoopback() {
		return fmt.Errorf("address %q is not a loopback address; synack web listens on loopback only (127.0.0.0/8 or ::1), so that nothing but this machine can reach it", addr)
	}
	return nil
}

// Listen checks addr (CheckAddr) and listens on it. localhost is taken as
// 127.0.0.1, whatever the resolver says.
func Listen(addr string) (net.Listener, error) {
	if err := CheckAddr(addr); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	if strings.EqualFold(host, "localhost") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return net.Listen("tcp", addr)
}

// Server returns an http.Server for Handler with timeouts set.
func Server() *http.Server {
	return &http.Server{
		Handler:           Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
}

func asset(ctype, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ctype)
		io.WriteString(w, body)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// ScenarioInfo describes a scenario.
type ScenarioInfo struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Caption string `json:"caption"`
}

func scenarios(w http.ResponseWriter, r *http.Request) {
	l, err := langParam(r.URL.Query())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error(), "field": "lang"})
		return
	}
	var out []ScenarioInfo
	for _, s := range sim.Scenarios() {
		out = append(out, ScenarioInfo{s.Name, s.TitleIn(l), caption(s, l)})
	}
	writeJSON(w, http.StatusOK, out)
}

// caption is s's caption in l; a Chinese one is unwrapped, as the page
// flows it and a line break between Chinese characters must not become a
// space.
func caption(s *sim.Scenario, l i18n.Lang) string {
	if l == i18n.English {
		return s.Caption
	}
	return i18n.Unwrap(s.CaptionIn(l))
}

// langParam reads the lang parameter: en (the default) or zh.
func langParam(q url.Values) (i18n.Lang, error) {
	v := strings.TrimSpace(q.Get("lang"))
	if v == "" {
		return i18n.English, nil
	}
	l, err := i18n.Parse(v)
	if err != nil {
		return i18n.English, &FieldError{"lang", err.Error()}
	}
	return l, nil
}

// PageWords are the words of the page itself (index.html's elements with
// a data-i18n attribute, and app.js's few sentences), which /api/words
// gives in the language asked for: the page has them from the catalogue.
var PageWords = []string{
	"a TCP you can watch", "scenario", "seed", "latency", "jitter", "loss", "duplicate", "reorder", "corrupt", "Run",
	"language",
	"With these impairments this run differs from the explanation above, which describes the run without them:",
	"This page needs JavaScript to run scenarios.",
	"Did not behave as the scenario teaches: ", "Could not list the scenarios: ", "%s (seed %s)",
}

// words answers /api/words?lang=zh: each of PageWords with its
// translation.
func words(w http.ResponseWriter, r *http.Request) {
	l, err := langParam(r.URL.Query())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error(), "field": "lang"})
		return
	}
	out := map[string]string{}
	for _, p := range PageWords {
		out[p] = l.Tr(p)
	}
	writeJSON(w, http.StatusOK, out)
}

// RunResult is the answer to /api/run.
type RunResult struct {
	Scenario string `json:"scenario"`
	Title    string `json:"title"`
	Caption  string `json:"caption"`
	// Figures are the run's own numbers that the scenario teaches (the
	// flights and ssthresh, the probes' times, the SYN cookie counters),
	// one sentence each, in the request's language: sim.Run.FiguresIn,
	// which synack scenario run prints under the caption. Empty for a
	// scenario without such figures.
	Figures  []string `json:"figures"`
	Seed     uint64   `json:"seed"`
	Packets  int      `json:"packets"`
	Rows     int      `json:"rows"`
	Problems []string `json:"problems"`
	// Notes say where a run with impairments went otherwise than the
	// caption tells (sim.Run.Notes).
	Notes []string `json:"notes"`
	// Text is the ladder as the terminal shows it; Viewer is the HTML of
	// the animated diagram (ladder.WriteHTML's fragment), with the plot
	// of the connection (package plot) beside the ladder.
	Text   string `json:"text"`
	Viewer string `json:"viewer"`
}

// FieldError is a bad request parameter.
type FieldError struct {
	Field, Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func run(w http.ResponseWriter, r *http.Request) {
	req, err := ParseRun(r.URL.Query())
	if err != nil {
		var fe *FieldError
		errors.As(err, &fe)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error(), "field": fe.Field})
		return
	}
	res, err := Run(req)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error(), "field": fe.Field})
			return
		}
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// RunRequest is a scenario to run and how.
type RunRequest struct {
	Scenario  *sim.Scenario
	Overrides sim.Overrides
	// Lang is the language of the titles, caption and diagram (the lang
	// parameter: en or zh).
	Lang i18n.Lang
}

// Limits on the link a request may ask for.
const (
	maxDelay = 10 * time.Second
)

// params are the parameters /api/run takes.
var params = []string{"scenario", "seed", "loss", "latency", "jitter", "dup", "reorder", "corrupt"}

// ParseRun reads /api/run's parameters. Its error is a *FieldError naming
// the parameter that is wrong.
func ParseRun(q map[string][]string) (*RunRequest, error) {
	for k, v := range q {
		known := k == "lang"
		for _, p := range params {
			known = known || k == p
		}
		if !known {
			name := k
			if name == "" {
				name = `""` // a parameter with no name: say so
			}
			return nil, &FieldError{name, fmt.Sprintf("unknown parameter (the parameters are %s, lang)", strings.Join(params, ", "))}
		}
		if len(v) > 1 {
			return nil, &FieldError{k, "given more than once"}
		}
	}
	get := func(k string) (string, bool) {
		v, ok := q[k]
		if !ok || len(v) == 0 || strings.TrimSpace(v[0]) == "" {
			return "", false
		}
		return strings.TrimSpace(v[0]), true
	}
	name, ok := get("scenario")
	if !ok {
		return nil, &FieldError{"scenario", "missing; the scenarios are " + strings.Join(sim.Names(), ", ")}
	}
	s, ok := sim.Lookup(name)
	if !ok {
		return nil, &FieldError{"scenario", fmt.Sprintf("unknown scenario %q; the scenarios are %s", name, strings.Join(sim.Names(), ", "))}
	}
	req := &RunRequest{Scenario: s, Overrides: sim.Overrides{Seed: 1}}
	l, err := langParam(q)
	if err != nil {
		return nil, err
	}
	req.Lang = l
	o := &req.Overrides
	if v, ok := get("seed"); ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, &FieldError{"seed", fmt.Sprintf("%q is not a whole number from 0 to 18446744073709551615", v)}
		}
		o.Seed = n
	}
	for _, f := range []struct {
		name string
		dst  **float64
	}{{"loss", &o.Loss}, {"dup", &o.Duplicate}, {"reorder", &o.Reorder}, {"corrupt", &o.Corrupt}} {
		if v, ok := get(f.name); ok {
			p, err := parseProbability(v)
			if err != nil {
				return nil, &FieldError{f.name, err.Error()}
			}
			*f.dst = &p
		}
	}
	for _, f := range []struct {
		name string
		dst  **time.Duration
	}{{"latency", &o.Latency}, {"jitter", &o.Jitter}} {
		if v, ok := get(f.name); ok {
			d, err := parseDelay(v)
			if err != nil {
				return nil, &FieldError{f.name, err.Error()}
			}
			*f.dst = &d
		}
	}
	return req, nil
}

// parseProbability reads 0.05 or 5%.
func parseProbability(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number (write a probability like 0.05, or a percentage like 5%%)", s)
	}
	if pct {
		f /= 100
	}
	if !(f >= 0 && f <= 1) { // also NaN
		return 0, fmt.Errorf("%q is outside 0..1 (0%%..100%%)", s)
	}
	return f, nil
}

// parseDelay reads a duration: 50ms, 1.5s, or a plain number of
// milliseconds.
func parseDelay(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		ms, err2 := strconv.ParseFloat(s, 64)
		if err2 != nil || ms != ms {
			return 0, fmt.Errorf("%q is not a duration (write e.g. 50ms or 1.5s)", s)
		}
		if ms < 0 || ms > float64(maxDelay/time.Millisecond) {
			return 0, fmt.Errorf("%q is outside 0..%v", s, maxDelay)
		}
		d = time.Duration(ms * float64(time.Millisecond))
	}
	if d < 0 || d > maxDelay {
		return 0, fmt.Errorf("%q is outside 0..%v", s, maxDelay)
	}
	return d, nil
}

// Run runs a scenario and draws it.
func Run(req *RunRequest) (*RunResult, error) {
	s := req.Scenario
	r, err := s.Execute(req.Overrides)
	if err != nil {
		// The only input Execute rejects is the link's impairment.
		return nil, &FieldError{"link", err.Error()}
	}
	d, err := ladder.Build(r.Events, ladder.Options{Left: "client", Right: "server", Conn: s.Ladder, Lang: req.Lang})
	if err != nil {
		return nil, fmt.Errorf("drawing the ladder: %w", err)
	}
	var text, view, pic strings.Builder
	if err := d.WriteText(&text); err != nil {
		return nil, err
	}
	// The plot beside the ladder, linked to it (a click on a point
	// selects its packet), in the language of the page.
	if len(d.Packets) > 0 {
		p, err := plot.Build(d, r.Events, plot.Options{
			Title: req.Lang.Trf("%s (scenario %s, seed %d)", s.TitleIn(req.Lang), s.Name, req.Overrides.Seed),
			Lang:  req.Lang,
		})
		if err != nil {
			return nil, fmt.Errorf("plotting the connection: %w", err)
		}
		if err := p.WriteSVG(&pic); err != nil {
			return nil, err
		}
	}
	if err := ladder.WriteHTML(&view, d, ladder.HTMLOptions{Fragment: true, Autoplay: true, Plot: pic.String()}); err != nil {
		return nil, err
	}
	return &RunResult{
		Scenario: s.Name, Title: s.TitleIn(req.Lang), Caption: caption(s, req.Lang),
		Figures: append([]string{}, r.FiguresIn(req.Lang)...), Seed: req.Overrides.Seed,
		Packets: len(d.Packets), Rows: len(d.Rows), Problems: append([]string{}, r.Problems...),
		Notes: append([]string{}, r.NotesIn(req.Lang)...), Text: text.String(), Viewer: view.String(),
	}, nil
}
