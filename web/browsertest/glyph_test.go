package browsertest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/web"
)

// findMissing draws every character of the page that is not ASCII in the
// font its element is drawn in (text of the SVG pictures included) on a
// canvas, and compares each drawing with those of characters no font has
// (two private-use code points, whose drawing is the font's "missing
// glyph" box, or nothing): a character drawn the same, or not at all, is
// missing from every font the browser has for it, and would show as tofu.
// It returns the characters checked and those missing, each with its font.
const findMissing = `(() => {
  const W = 48, H = 48;
  const cv = document.createElement('canvas');
  cv.width = W; cv.height = H;
  const cx = cv.getContext('2d', {willReadFrequently: true});
  const draw = (font, ch) => {
    cx.clearRect(0, 0, W, H);
    cx.font = font;
    cx.fillStyle = '#000';
    cx.textBaseline = 'alphabetic';
    cx.fillText(ch, 6, 36);
    const a = cx.getImageData(0, 0, W, H).data;
    let h = 2166136261, ink = 0;
    for (let i = 3; i < a.length; i += 4) {
      ink += a[i];
      h = Math.imul(h ^ a[i], 16777619) >>> 0;
    }
    return ink === 0 ? 'blank' : String(h);
  };
  const byFont = new Map();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('script, style, noscript')) continue;
    const st = getComputedStyle(el);
    if (st.display === 'none') continue;
    const font = (st.fontStyle === 'italic' ? 'italic ' : '') + st.fontWeight + ' 32px ' + st.fontFamily;
    if (!byFont.has(font)) byFont.set(font, new Set());
    for (const ch of n.data) {
      if (ch.codePointAt(0) > 0x7f && !/\s/.test(ch)) byFont.get(font).add(ch);
    }
  }
  const checked = new Set(), missing = [];
  for (const [font, chars] of byFont) {
    const tofu = new Set([draw(font, '\u{10FFFD}'), draw(font, '\uE000'), 'blank']);
    for (const ch of chars) {
      checked.add(ch);
      if (tofu.has(draw(font, ch))) missing.push(ch + ' (U+' + ch.codePointAt(0).toString(16).toUpperCase() + ') in ' + font);
    }
  }
  return {checked: [...checked].join(''), missing: missing};
})()`

type glyphs struct {
	Checked string   `json:"checked"`
	Missing []string `json:"missing"`
}

// checkGlyphs fails for every character of the page the browser has no
// glyph for; a Chinese page must have Chinese characters to check.
func checkGlyphs(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[glyphs](findMissing))
	if err != nil {
		t.Fatalf("checking the glyphs of %s: %v", what, err)
	}
	cjk := 0
	for _, r := range got.Checked {
		if r >= 0x4e00 && r <= 0x9fff {
			cjk++
		}
	}
	t.Logf("%s: %d characters beyond ASCII checked, %d of them CJK ideographs", what, len([]rune(got.Checked)), cjk)
	if cjk < 50 {
		t.Errorf("%s has only %d distinct Chinese characters: not the Chinese page", what, cjk)
	}
	if len(got.Missing) > 0 {
		t.Errorf("%s: %d characters have no glyph in any font the browser has (they show as boxes); "+
			"install a CJK font (Debian: apt-get install fonts-wqy-zenhei, or fonts-noto-cjk):\n  %s",
			what, len(got.Missing), strings.Join(got.Missing, "\n  "))
	}
}

// The HTML stepper in Chinese (demo --html --lang zh), with its plot:
// every character has its glyph.
func TestBrowserHTMLChineseGlyphs(t *testing.T) {
	ctx := browser(t)
	loss := 0.3
	file, _ := htmlPage(t, "demo", sim.Overrides{Seed: 6, Loss: &loss}, i18n.Chinese)
	if err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+file),
		chromedp.WaitVisible(chromedp.CSS(`.synack-viewer[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS(`button[data-act="last"]`)),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "html-zh")
	checkGlyphs(t, ctx, "the HTML stepper in Chinese")
}

// The web view in Chinese (?lang=zh) after a run: every character of the
// page, the scenario list, the ladder and the state machines has its glyph.
func TestBrowserWebChineseGlyphs(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?lang=zh&scenario=stale-syn"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS(`#view .synack-viewer[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS(`button[data-act="last"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("go").textContent === "运行"`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the page is not in Chinese: %v", err)
	}
	screenshot(t, ctx, "web-zh-run")
	checkGlyphs(t, ctx, "the web view in Chinese")
}
