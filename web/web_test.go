package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/ladder"
)

func get(t *testing.T, h http.Handler, target string) (int, http.Header, string) {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	req.Host = "127.0.0.1:8080"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Result().Header, string(b)
}

func TestScenarios(t *testing.T) {
	code, hdr, body := get(t, Handler(), "/api/scenarios")
	if code != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s: %s", code, hdr.Get("Content-Type"), body)
	}
	var list []ScenarioInfo
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
		if s.Title == "" || s.Caption == "" {
			t.Errorf("%s has no title or caption", s.Name)
		}
	}
	if strings.Join(names, ",") != strings.Join(sim.Names(), ",") {
		t.Errorf("scenarios %v, want %v", names, sim.Names())
	}
}

func TestRun(t *testing.T) {
	code, _, body := get(t, Handler(), "/api/run?scenario=lost-syn&seed=1&latency=50ms&loss=0%25&dup=0&reorder=0&jitter=0")
	if code != 200 {
		t.Fatalf("%d: %s", code, body)
	}
	var res RunResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	d := diagramOf(t, "lost-syn", sim.Overrides{Seed: 1})
	if res.Scenario != "lost-syn" || res.Seed != 1 || res.Packets != len(d.Packets) || res.Rows != len(d.Rows) || len(res.Problems) != 0 {
		t.Errorf("result %+v; want %d packets, %d rows", res, len(d.Packets), len(d.Rows))
	}
	if n := strings.Count(res.Viewer, `<g class="pkt`); n != len(d.Packets) {
		t.Errorf("%d arrows in the viewer, want %d", n, len(d.Packets))
	}
	if !strings.Contains(res.Text, "#1 S seq=0") || !strings.HasPrefix(res.Viewer, `<div class="synack-viewer" data-autoplay="true"`) {
		t.Errorf("text %.80q, viewer %.80q", res.Text, res.Viewer)
	}
	// The plot beside the ladder: a bar for each of the server's data
	// segments, named by its packet's number.
	if !strings.Contains(res.Viewer, `<div class="panes with-plot">`) || !strings.Contains(res.Viewer, `<svg xmlns="http://www.w3.org/2000/svg" class="synack-plot"`) {
		t.Error("no plot beside the ladder")
	}
	for i := range d.Packets {
		if p := &d.Packets[i]; p.From == ladder.Right && p.PayloadLen > 0 && !strings.Contains(res.Viewer, fmt.Sprintf(`class="seg" data-packet="%d"`, p.N)) {
			t.Errorf("no bar of the server's #%d on the plot", p.N)
		}
	}
	// The same request gives the same answer; another seed changes a lossy run.
	_, _, again := get(t, Handler(), "/api/run?scenario=lost-syn&seed=1&latency=50ms&loss=0%25&dup=0&reorder=0&jitter=0")
	if again != body {
		t.Error("two runs of the same request differ")
	}
}

// Bad parameters are a 400 whose message names the parameter.
func TestRunErrors(t *testing.T) {
	for _, c := range []struct{ query, field, text string }{
		{"", "scenario", "missing"},
		{"scenario=nope", "scenario", `unknown scenario "nope"`},
		{"scenario=demo&seed=-1", "seed", "not a whole number"},
		{"scenario=demo&seed=x", "seed", "not a whole number"},
		{"scenario=demo&loss=2", "loss", "outside 0..1"},
		{"scenario=demo&loss=150%25", "loss", "outside 0..1"},
		{"scenario=demo&loss=NaN", "loss", "outside 0..1"},
		{"scenario=demo&dup=lots", "dup", "not a number"},
		{"scenario=demo&reorder=-0.1", "reorder", "outside 0..1"},
		{"scenario=demo&corrupt=1.5", "corrupt", "outside 0..1"},
		{"scenario=demo&latency=fast", "latency", "not a duration"},
		{"scenario=demo&latency=11s", "latency", "outside 0..10s"},
		{"scenario=demo&jitter=-5ms", "jitter", "outside"},
		{"scenario=demo&bandwidth=1", "bandwidth", "unknown parameter"},
		{"scenario=demo&seed=1&seed=2", "seed", "more than once"},
	} {
		code, _, body := get(t, Handler(), "/api/run?"+c.query)
		var e struct{ Error, Field string }
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Errorf("%s: %v: %s", c.query, err, body)
			continue
		}
		if code != 400 || e.Field != c.field || !strings.HasPrefix(e.Error, c.field+": ") || !strings.Contains(e.Error, c.text) {
			t.Errorf("%s: %d %+v; want 400 naming %s and saying %q", c.query, code, e, c.field, c.text)
		}
	}
}

// The page and its assets load nothing from elsewhere, and the server says
// so to the browser.
func TestPageSelfContained(t *testing.T) {
	h := Handler()
	ext := regexp.MustCompile(`(?i)(src|href|action)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|fetch\(\s*["'](https?:)?//|@import`)
	for _, path := range []string{"/", "/app.js", "/app.css", "/viewer.js", "/viewer.css"} {
		code, hdr, body := get(t, h, path)
		if code != 200 || body == "" {
			t.Errorf("%s: %d", path, code)
		}
		if m := ext.FindString(body); m != "" {
			t.Errorf("%s refers to something elsewhere: %q", path, m)
		}
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "http") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}
	_, _, page := get(t, h, "/")
	for _, want := range []string{`<script src="/viewer.js">`, `<script src="/app.js">`, `id="scenario"`, `id="loss"`, `id="seed"`, `id="go"`} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q in the page", want)
		}
	}
}

func TestHostGuard(t *testing.T) {
	h := Handler()
	for host, want := range map[string]int{
		"127.0.0.1:8080": 200, "localhost:8080": 200, "[::1]:80": 200, "127.0.0.2": 200,
		"evil.example:8080": 403, "198.18.0.1:8080": 403, "": 403,
	} {
		req := httptest.NewRequest("GET", "/api/scenarios", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %q: %d, want %d", host, rec.Code, want)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:8080", "127.0.0.1:0", "[::1]:8080", "localhost:80", "127.1.2.3:9"} {
		if err := CheckAddr(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for addr, want := range map[string]string{
		"0.0.0.0:8080":   "not a loopback address",
		"[::]:8080":      "not a loopback address",
		":8080":          "every interface",
		"198.18.0.1:80":  "not a loopback address",
		"example.com:80": "not an IP address",
		"127.0.0.1":      "missing port",
		"127.0.0.1:http": "not a number",
		"127.0.0.1:1e6":  "not a number",
	} {
		err := CheckAddr(addr)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: %v, want an error naming it and saying %q", addr, err, want)
		}
	}
	ln, err := Listen("localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") {
		t.Errorf("localhost:0 listens on %s", ln.Addr())
	}
}

// FuzzParseRun: any query is read without a panic; an error names a
// parameter; a request it accepts runs (on a short scenario).
func FuzzParseRun(f *testing.F) {
	for _, q := range []string{"scenario=demo", "scenario=refused&seed=7&loss=5%25&latency=20&jitter=1ms&dup=0.1&reorder=0.2&corrupt=0",
		"scenario=x", "loss=1e400", "scenario=handshake&latency=1e-9ms", "a=b&a=c"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, err := ParseRun(q)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" || !strings.HasPrefix(err.Error(), fe.Field+": ") {
				t.Fatalf("%q: error %v names no parameter", raw, err)
			}
			return
		}
		o := req.Overrides
		for _, p := range []*float64{o.Loss, o.Duplicate, o.Reorder, o.Corrupt} {
			if p != nil && !(*p >= 0 && *p <= 1) {
				t.Fatalf("%q: probability %v accepted", raw, *p)
			}
		}
		for _, d := range []*int64{(*int64)(o.Latency), (*int64)(o.Jitter)} {
			if d != nil && (*d < 0 || *d > int64(maxDelay)) {
				t.Fatalf("%q: delay %v accepted", raw, *d)
			}
		}
		if req.Scenario.Name == "refused" || req.Scenario.Name == "handshake" {
			if _, err := Run(req); err != nil {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("%q: %v", raw, err)
				}
			}
		}
	})
}

// An impaired run that goes otherwise than the caption tells is not a
// problem; the answer's notes say where it left the story.
func TestRunNotes(t *testing.T) {
	code, _, body := get(t, Handler(), "/api/run?scenario=lost-syn&seed=1&loss=10%25")
	if code != 200 {
		t.Fatalf("%d: %s", code, body)
	}
	var res RunResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 0 || len(res.Notes) == 0 || !strings.Contains(strings.Join(res.Notes, "\n"), "the link also lost 1 packet") {
		t.Errorf("problems %q, notes %q", res.Problems, res.Notes)
	}
	_, _, body = get(t, Handler(), "/api/run?scenario=lost-syn&seed=1")
	if !strings.Contains(body, `"notes":[]`) {
		t.Errorf("a run without impairments: want empty notes, got %s", body)
	}
}

// The form has a field for every link parameter /api/run takes, and the
// page's script sends each of them.
func TestFormHasEveryParameter(t *testing.T) {
	_, _, page := get(t, Handler(), "/")
	_, _, app := get(t, Handler(), "/app.js")
	for _, p := range params {
		if p == "scenario" {
			continue
		}
		if !regexp.MustCompile(`<input name="` + p + `" id="` + p + `"`).MatchString(page) {
			t.Errorf("the form has no field %q", p)
		}
		if !strings.Contains(app, `"`+p+`"`) {
			t.Errorf("app.js does not send %q", p)
		}
	}
	if !strings.Contains(page, `<select name="scenario"`) {
		t.Error("the form has no scenario choice")
	}
}
