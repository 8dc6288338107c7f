package browsertest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
	"github.com/gosynack/synack/trace/plot"
	"github.com/gosynack/synack/web"
)

// htmlPage writes scenario name's stepper page in l, with its plot beside
// the ladder as synack demo --html writes it, and returns the file and
// the ladder.
func htmlPage(t *testing.T, name string, o sim.Overrides, l i18n.Lang) (string, *ladder.Diagram) {
	t.Helper()
	s, ok := sim.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %s", name)
	}
	r, err := s.Execute(o)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ladder.Build(r.Events, ladder.Options{Left: "client", Right: "server", Lang: l})
	if err != nil {
		t.Fatal(err)
	}
	title := l.Trf("%s (scenario %s, seed %d)", s.TitleIn(l), s.Name, o.Seed)
	p, err := plot.Build(d, r.Events, plot.Options{Title: title, Lang: l})
	if err != nil {
		t.Fatal(err)
	}
	var svg strings.Builder
	if err := p.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), name+".html")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := ladder.WriteHTML(f, d, ladder.HTMLOptions{Title: title, Caption: s.CaptionIn(l), Plot: svg.String()}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return file, d
}

// selection is what the page has selected: its row, the packet numbers of
// the plot's highlighted elements and of the ladder's highlighted arrows.
type selection struct {
	Step  int      `json:"step"`
	Plot  []string `json:"plot"`
	Arrow []string `json:"arrow"`
	Total int      `json:"total"` // the plot's elements of that packet
}

const readSelection = `(() => {
  const v = document.querySelector('.synack-viewer');
  const sel = v.dataset.selected || '';
  return {
    step: +v.dataset.step,
    plot: [...v.querySelectorAll('.plot .sel')].map(e => e.dataset.packet),
    arrow: [...v.querySelectorAll('svg.synack-ladder g.pkt.sel')].map(g => g.dataset.n),
    total: sel === '' ? 0 : v.querySelectorAll('.plot [data-packet="' + sel + '"]').length,
  };
})()`

// packetOfRow is the number of the packet row i sends, delivers or loses
// ("" for none); sendRowOf is the row that sends packet n.
func packetOfRow(d *ladder.Diagram, i int) string {
	if i < 0 {
		return ""
	}
	r := &d.Rows[i]
	if p := d.Packet(r); p != nil && r.Kind != ladder.RowICMP {
		return fmt.Sprint(p.N)
	}
	return ""
}

func sendRowOf(d *ladder.Diagram, n int) int {
	for i := range d.Rows {
		if p := d.Packet(&d.Rows[i]); p != nil && p.N == n && d.Rows[i].Kind != ladder.RowICMP {
			return i
		}
	}
	return -2
}

// checkSelected checks that the page is at row step with the packet of that
// row highlighted on the plot and the ladder, and nothing else.
func checkSelected(t *testing.T, ctx context.Context, d *ladder.Diagram, step int) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[selection](readSelection))
	if err != nil {
		t.Fatal(err)
	}
	want := packetOfRow(d, step)
	if got.Step != step {
		t.Errorf("the page is at row %d, want %d", got.Step, step)
	}
	if want == "" {
		if len(got.Plot)+len(got.Arrow) != 0 {
			t.Errorf("row %d has no packet, yet the plot highlights %v and the ladder %v", step, got.Plot, got.Arrow)
		}
		return
	}
	for _, n := range got.Plot {
		if n != want {
			t.Errorf("row %d is packet #%s, but the plot highlights a point of #%s", step, want, n)
		}
	}
	if len(got.Plot) != got.Total {
		t.Errorf("row %d: %d of the plot's %d elements of #%s highlighted", step, len(got.Plot), got.Total, want)
	}
	if fmt.Sprint(got.Arrow) != "["+want+"]" {
		t.Errorf("row %d: the ladder highlights %v, want [%s]", step, got.Arrow, want)
	}
}

// clickPlot clicks 3 px right of and below the centre of the plot's first
// element matching css (the points are small: a click near one selects
// it) and returns its packet number.
func clickPlot(t *testing.T, ctx context.Context, css string) int {
	t.Helper()
	type target struct {
		X, Y float64
		N    int
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[target](fmt.Sprintf(`(() => {
  const el = document.querySelector('.synack-viewer .plot %s');
  el.scrollIntoView({block: 'center', inline: 'center'});
  const b = el.getBoundingClientRect();
  return {X: b.left + b.width / 2 + 3, Y: b.top + b.height / 2 + 3, N: +el.dataset.packet};
})()`, css)))
	if err != nil {
		t.Fatalf("finding %s on the plot: %v", css, err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(got.X, got.Y)); err != nil {
		t.Fatal(err)
	}
	return got.N
}

// The page that --html writes shows the plot beside the ladder, linked: a
// click on a point of the plot goes to its packet's row and highlights the
// packet on both; stepping moves the highlight to each row's packet.
func TestBrowserPlotBesideLadder(t *testing.T) {
	ctx := browser(t)
	// A lossy demo: the lost segments and their retransmissions are drawn.
	loss := 0.3
	file, d := htmlPage(t, "demo", sim.Overrides{Seed: 6, Loss: &loss}, i18n.English)
	if err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+file),
		chromedp.WaitVisible(chromedp.CSS(`.synack-viewer[data-ready="true"] .plot svg.synack-plot`)),
	); err != nil {
		t.Fatal(err)
	}
	// The plot is beside the ladder, not under it, and both are on screen.
	type box struct{ L, T, R, B float64 }
	boxes, err := chromedp.Run(ctx, chromedp.Evaluate[[]box](`[...document.querySelectorAll('.synack-viewer .ladder, .synack-viewer .plot')].map(e => {
  const b = e.getBoundingClientRect(); return {L: b.left, T: b.top, R: b.right, B: b.bottom};
})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(boxes) != 2 || boxes[1].L < boxes[0].R || boxes[1].T > boxes[0].B || boxes[1].R > 1500 || boxes[1].R-boxes[1].L < 300 {
		t.Errorf("the ladder is at %+v and the plot at %+v: want the plot beside it, at least 300 px wide, within the window", boxes[0], boxes[1])
	}
	checkSelected(t, ctx, d, -1)

	for _, css := range []string{"line.seg.retransmit", "circle.ack", "circle.rtt", "line.seg.lost"} {
		n := clickPlot(t, ctx, css)
		step := sendRowOf(d, n)
		if step < 0 {
			t.Fatalf("%s is of packet #%d, which no row sends", css, n)
		}
		checkSelected(t, ctx, d, step)
		if css == "line.seg.retransmit" {
			screenshot(t, ctx, "plot-beside-ladder")
		}
	}
	// The keys step on; the highlight follows each row's packet.
	for range 4 {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`+document.querySelector('.synack-viewer').dataset.step`))
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight)); err != nil {
			t.Fatal(err)
		}
		checkSelected(t, ctx, d, min(got+1, len(d.Rows)-1))
	}
	// A click on a ladder arrow selects its packet too.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`svg.synack-ladder g.pkt[data-n="2"] text.label`))); err != nil {
		t.Fatal(err)
	}
	checkSelected(t, ctx, d, sendRowOf(d, 2))
}

// The web view shows the run's plot beside its ladder, linked the same way.
func TestBrowserWebPlot(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?scenario=lost-syn"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS(`#view .synack-viewer[data-ready="true"] .plot svg.synack-plot`)),
	); err != nil {
		t.Fatal(err)
	}
	d := diagramOf(t, "lost-syn", sim.Overrides{Seed: 1})
	// Stop the autoplay at the end, then select by the plot.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-act="last"]`))); err != nil {
		t.Fatal(err)
	}
	checkSelected(t, ctx, d, len(d.Rows)-1)
	n := clickPlot(t, ctx, "line.seg")
	checkSelected(t, ctx, d, sendRowOf(d, n))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.scrollTo(0, 0) === undefined`)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "web-plot")
}
