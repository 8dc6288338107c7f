package browsertest

import (
	"math"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
)

// measureTexts is every text of the ladder's picture as the browser lays
// it out: its words, font size and advance (getComputedTextLength).
const measureTexts = `(() => [...document.querySelectorAll('svg.synack-ladder text')]
  .filter(t => t.textContent.trim() !== '')
  .map(t => ({s: t.textContent, size: parseFloat(getComputedStyle(t).fontSize), w: t.getComputedTextLength()})))()`

type measured struct {
	S    string  `json:"s"`
	Size float64 `json:"size"`
	W    float64 `json:"w"`
}

// The ladder's layout and its overlap test (trace/ladder's
// TestSVGNoOverlap*) measure a text as 0.6 em a column, a Chinese
// character two columns (i18n.Width), and keep 1% more and a pixel of
// room at each end. Here the browser's own fonts (DejaVu Sans Mono or
// what stands in for it, the CJK font for Chinese) lay out every text of
// the stepper's ladder, in English and in Chinese, in bold where the
// viewer's current row is: none is wider than that room.
func TestBrowserLadderTextWidths(t *testing.T) {
	ctx := browser(t)
	loss, dup := 0.3, 0.3
	for _, l := range []i18n.Lang{i18n.English, i18n.Chinese} {
		file, _ := htmlPage(t, "demo", sim.Overrides{Seed: 3, Loss: &loss, Duplicate: &dup}, l)
		var texts []measured
		for _, act := range []string{"first", "last"} {
			if err := chromedp.Do(ctx,
				chromedp.Navigate("file://"+file),
				chromedp.WaitVisible(chromedp.CSS(`.synack-viewer[data-ready="true"]`)),
				chromedp.Click(chromedp.CSS(`button[data-act="`+act+`"]`)),
			); err != nil {
				t.Fatal(err)
			}
			got, err := chromedp.Run(ctx, chromedp.Evaluate[[]measured](measureTexts))
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, got...)
		}
		if len(texts) < 50 {
			t.Fatalf("%s: only %d texts measured", l, len(texts))
		}
		worst, worstS := 0.0, ""
		for _, m := range texts {
			model := float64(i18n.Width(m.S)) * 0.6 * m.Size
			if model == 0 {
				continue
			}
			if r := m.W / model; r > worst {
				worst, worstS = r, m.S
			}
			if m.W > model*1.02+2 {
				t.Errorf("%s: %q at %g px is %.1f px wide in the browser, more than the layout's %.1f px and room", l, m.S, m.Size, m.W, model)
			}
		}
		t.Logf("%s: %d texts; the widest for its model is %q, %.3f of it", l, len(texts), worstS, worst)
		if math.IsNaN(worst) || worst < 0.5 {
			t.Errorf("%s: the browser's widths look wrong: at most %.3f of the model", l, worst)
		}
	}
}
