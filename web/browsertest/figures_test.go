package browsertest

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/web"
)

// shownFigures is what the page shows of the run's figures: each line's
// text, whether the list is on screen, and where it is beside the caption
// above it and the diagram below.
const shownFigures = `(() => {
  const f = document.getElementById('figures');
  const box = e => { const b = e.getBoundingClientRect(); return {t: b.top, b: b.bottom, h: b.height, w: b.width}; };
  const st = getComputedStyle(f);
  return {
    lines: [...f.querySelectorAll('li')].map(li => li.textContent),
    visible: !f.hidden && st.display !== 'none' && st.visibility !== 'hidden' && f.getBoundingClientRect().height > 0,
    figures: box(f), caption: box(document.getElementById('caption')), view: box(document.getElementById('view')),
  };
})()`

type rect struct {
	T float64 `json:"t"`
	B float64 `json:"b"`
	H float64 `json:"h"`
	W float64 `json:"w"`
}

type figuresShown struct {
	Lines   []string `json:"lines"`
	Visible bool     `json:"visible"`
	Figures rect     `json:"figures"`
	Caption rect     `json:"caption"`
	View    rect     `json:"view"`
}

// The web view shows a scenario's own figures (sim.Run.FiguresIn, the
// lines synack scenario run prints under its caption) under the
// explanation and above the diagram, and the language switch turns them
// Chinese with the rest of the page; a scenario without figures shows no
// empty list.
func TestBrowserFigures(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	s, _ := sim.Lookup("slow-start")
	r, err := s.Execute(sim.Overrides{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[i18n.Lang][]string{i18n.English: r.FiguresIn(i18n.English), i18n.Chinese: r.FiguresIn(i18n.Chinese)}
	if len(want[i18n.English]) < 3 {
		t.Fatalf("slow-start has %d figures: %q", len(want[i18n.English]), want[i18n.English])
	}
	read := func() figuresShown {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[figuresShown](shownFigures))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	checkShown := func(l i18n.Lang, got figuresShown) {
		t.Helper()
		if strings.Join(got.Lines, "\n") != strings.Join(want[l], "\n") {
			t.Errorf("%s: the page shows the figures\n%s\nwant\n%s", l, strings.Join(got.Lines, "\n"), strings.Join(want[l], "\n"))
		}
		if !got.Visible || got.Figures.W < 200 {
			t.Errorf("%s: the figures are not visible: %+v", l, got)
		}
		if got.Figures.T < got.Caption.B || got.Figures.B > got.View.T {
			t.Errorf("%s: the figures (%+v) are not between the caption (%+v) and the diagram (%+v)", l, got.Figures, got.Caption, got.View)
		}
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?scenario=slow-start"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS(`#view .synack-viewer[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS(`#view button[data-act="last"]`)),
	); err != nil {
		t.Fatal(err)
	}
	checkShown(i18n.English, read())
	screenshot(t, ctx, "web-figures")

	// The switch (one change event, as a click on it gives): the figures
	// of the same run, in Chinese.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const s = document.getElementById("lang"); s.value = "zh"; return s.dispatchEvent(new Event("change")); })()`)); err != nil {
		t.Fatal(err)
	}
	first, _ := json.Marshal(want[i18n.Chinese][0])
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#figures li") !== null && `+
		`document.querySelector("#figures li").textContent === `+string(first)+` && `+
		`document.body.dataset.runs === "2" && document.querySelector("#view .synack-viewer[data-ready='true']") !== null`,
		chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("the figures did not turn Chinese: %v; the page shows %q", err, read().Lines)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#view button[data-act="last"]`))); err != nil {
		t.Fatal(err)
	}
	checkShown(i18n.Chinese, read())
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.scrollTo(0, 0) === undefined`)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "web-figures-zh")
	checkGlyphs(t, ctx, "the web view in Chinese with the scenario's figures")

	// A scenario without figures: the list is hidden, not left over.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#scenario"), "handshake"),
		chromedp.Click(chromedp.CSS("#go")),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#view .synack-viewer[data-scenario="handshake"]') !== null`,
		chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("handshake did not run: %v", err)
	}
	if got := read(); got.Visible || len(got.Lines) != 0 {
		t.Errorf("handshake, which has no figures, shows %q (visible %v)", got.Lines, got.Visible)
	}
}
