package browsertest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/ladder"
	"github.com/gosynack/synack/web"
)

// The browser tests drive Debian's chromium (apt-get install chromium)
// headless; $SYNACK_CHROMIUM names another binary. They save screenshots
// into $SYNACK_ARTIFACTS, or else web/testdata/screenshot-*.png (ignored
// by git), the folder of package web beside this module's.

func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SYNACK_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (Debian: apt-get install chromium; or set SYNACK_CHROMIUM): the browser tests are skipped")
	return ""
}

func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1500, 1150), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	return ctx
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("SYNACK_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "testdata")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "screenshot-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot saved to %s", file)
}

// domState is what the page shows, read from its DOM.
type domState struct {
	Step      int        `json:"step"`
	Arrows    int        `json:"arrows"`
	Visible   int        `json:"visible"`
	Arrived   []int      `json:"arrived"`
	Heads     int        `json:"heads"`
	Crosses   int        `json:"crosses"`
	Numbers   []int      `json:"numbers"`
	Labels    []string   `json:"labels"`
	States    []string   `json:"states"`
	Shown     []string   `json:"shown"`
	Machines  []string   `json:"machines"`
	Lit       [][]string `json:"lit"`
	Resources []string   `json:"resources"`
	Error     string     `json:"error"`
}

const readDOM = `(() => {
  const v = document.querySelector('.synack-viewer');
  const svg = v.querySelector('svg.synack-ladder');
  const pk = [...svg.querySelectorAll('g.pkt')];
  const shown = el => !el.classList.contains('hidden');
  const states = [...svg.querySelectorAll('g.state')].filter(g => g.dataset.row !== '-1');
  const err = document.getElementById('error');
  return {
    step: +v.dataset.step,
    arrows: pk.length,
    visible: pk.filter(shown).length,
    arrived: pk.filter(g => shown(g) && g.dataset.arrived === 'true').map(g => +g.dataset.n),
    heads: pk.filter(g => shown(g) && [...g.querySelectorAll('.head')].some(shown)).length,
    crosses: pk.filter(g => shown(g) && [...g.querySelectorAll('.cross')].some(shown)).length,
    numbers: pk.map(g => +g.dataset.n),
    labels: pk.map(g => g.querySelector('text.label').textContent),
    states: states.map(g => g.dataset.side + ' ' + g.textContent),
    shown: states.filter(shown).map(g => g.dataset.side + ' ' + g.textContent),
    machines: [...v.querySelectorAll('.machine')].map(m => m.dataset.state),
    lit: [...v.querySelectorAll('.machine')].map(m => [...m.querySelectorAll('g.box.lit')].map(b => b.dataset.state)),
    resources: performance.getEntriesByType('resource').map(e => e.name).concat([location.href]),
    error: err ? err.textContent : '',
  };
})()`

// expected is what the page should show of d once at step (the viewer's
// row; len(d.Rows)-1 is the end).
func expected(d *ladder.Diagram, step int) (visible int, arrived []int, heads, crosses int, states []string, final [2]string) {
	sendRow := map[int]int{}
	arriveRow := map[int]int{}
	for i, r := range d.Rows {
		switch r.Kind {
		case ladder.RowSend:
			sendRow[r.Packet] = i
		case ladder.RowArrive:
			arriveRow[r.Packet] = i
		}
		for sd := range r.Changed {
			if r.Changed[sd] {
				states = append(states, ladder.Side(sd).String()+" "+r.State[sd])
			}
		}
	}
	for i := range d.Packets {
		p := &d.Packets[i]
		s, ok := sendRow[i]
		if !ok || s > step {
			continue
		}
		visible++
		switch {
		case p.Fate == ladder.Delivered && arriveRow[i] <= step:
			arrived = append(arrived, p.N)
			heads++
		case p.Fate == ladder.Lost: // lost as it was sent
			arrived = append(arrived, p.N)
			crosses++
		}
	}
	final = [2]string{d.Hosts[0].Initial, d.Hosts[1].Initial}
	if step >= 0 {
		final = d.Rows[step].State
	}
	return
}

func diagramOf(t *testing.T, name string, o sim.Overrides) *ladder.Diagram {
	t.Helper()
	s, ok := sim.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %s", name)
	}
	r, err := s.Execute(o)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ladder.Build(r.Events, ladder.Options{Left: "client", Right: "server"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// check compares the page at step with the model.
func check(t *testing.T, ctx context.Context, d *ladder.Diagram, step int, origin string) domState {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[domState](readDOM))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	visible, arrived, heads, crosses, states, final := expected(d, step)
	if got.Step != step {
		t.Errorf("the page is at row %d, want %d", got.Step, step)
	}
	if got.Arrows != len(d.Packets) {
		t.Errorf("%d arrows in the page, want %d packets", got.Arrows, len(d.Packets))
	}
	for i := range d.Packets {
		p := &d.Packets[i]
		if i >= len(got.Numbers) || i >= len(got.Labels) {
			break
		}
		want := fmt.Sprintf("#%d %s", p.N, p.Label)
		if p.CopyOf > 0 {
			want = fmt.Sprintf("#%d copy of #%d", p.N, p.CopyOf)
		}
		if got.Numbers[i] != p.N || !strings.HasPrefix(got.Labels[i], want) {
			t.Errorf("arrow %d is #%d %q, want %q", i, got.Numbers[i], got.Labels[i], want)
		}
	}
	if got.Visible != visible || fmt.Sprint(got.Arrived) != fmt.Sprint(arrived) || got.Heads != heads || got.Crosses != crosses {
		t.Errorf("at row %d: %d arrows shown, ended %v, %d heads, %d crosses; want %d, %v, %d, %d",
			step, got.Visible, got.Arrived, got.Heads, got.Crosses, visible, arrived, heads, crosses)
	}
	if strings.Join(got.States, ",") != strings.Join(states, ",") {
		t.Errorf("state labels %v, want %v", got.States, states)
	}
	if got.Machines[0] != final[0] || got.Machines[1] != final[1] ||
		fmt.Sprint(got.Lit) != fmt.Sprint([][]string{{final[0]}, {final[1]}}) {
		t.Errorf("state machines at %v, lit %v; want %v", got.Machines, got.Lit, final)
	}
	for _, u := range got.Resources {
		if !strings.HasPrefix(u, origin) {
			t.Errorf("the page fetched %s, not from %s", u, origin)
		}
	}
	return got
}

// The page runs a scenario, plays its ladder to the end, and then shows
// what the model says: every arrow, every state; the keys and buttons step
// back and forth.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(web.Handler()) // listens on 127.0.0.1:0
	defer srv.Close()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
	); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	runs := 0
	for _, sc := range []struct {
		name string
		o    sim.Overrides
		seed string
		loss string
	}{
		{"lost-syn", sim.Overrides{Seed: 1}, "1", ""},
		{"refused", sim.Overrides{Seed: 4}, "4", ""},
	} {
		t.Run(sc.name, func(t *testing.T) {
			d := diagramOf(t, sc.name, sc.o)
			runs++
			err := chromedp.Do(ctx,
				chromedp.SetValue(chromedp.CSS("#scenario"), sc.name),
				chromedp.SetValue(chromedp.CSS("#seed"), sc.seed),
				chromedp.Click(chromedp.CSS("#go")),
			)
			if err != nil {
				t.Fatal(err)
			}
			// The ladder plays by itself, a row at a time, to the end.
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(
				`document.body.dataset.runs === "%d" && document.querySelector('#view .synack-viewer[data-scenario=%q][data-done="true"]') !== null`,
				runs, sc.name), chromedp.WithPollingTimeout(90*time.Second))); err != nil {
				msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('error').textContent`))
				t.Fatalf("the ladder did not play to the end: %v (page error: %q)", err, msg)
			}
			last := len(d.Rows) - 1
			check(t, ctx, d, last, srv.URL)
			screenshot(t, ctx, sc.name)

			// Home goes back to before the first packet; → steps.
			if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Home)); err != nil {
				t.Fatal(err)
			}
			check(t, ctx, d, -1, srv.URL)
			for range 3 {
				if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight)); err != nil {
					t.Fatal(err)
				}
			}
			check(t, ctx, d, 2, srv.URL)
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-act="next"]`))); err != nil {
				t.Fatal(err)
			}
			check(t, ctx, d, 3, srv.URL)
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-act="prev"]`))); err != nil {
				t.Fatal(err)
			}
			check(t, ctx, d, 2, srv.URL)
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-act="last"]`))); err != nil {
				t.Fatal(err)
			}
			check(t, ctx, d, last, srv.URL)
		})
	}
}

// The page that --html writes works from a file, with the keys.
func TestBrowserHTMLFile(t *testing.T) {
	ctx := browser(t)
	d := diagramOf(t, "demo", sim.Overrides{Seed: 1})
	file := filepath.Join(t.TempDir(), "demo.html")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := ladder.WriteHTML(f, d, ladder.HTMLOptions{Title: "demo"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+file),
		chromedp.WaitVisible(chromedp.CSS(`.synack-viewer[data-ready="true"]`)),
	); err != nil {
		t.Fatal(err)
	}
	check(t, ctx, d, -1, "file://")
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.End)); err != nil {
		t.Fatal(err)
	}
	check(t, ctx, d, len(d.Rows)-1, "file://")
	for range 5 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowLeft)); err != nil {
			t.Fatal(err)
		}
	}
	check(t, ctx, d, len(d.Rows)-6, "file://")
	screenshot(t, ctx, "html-demo")
}
