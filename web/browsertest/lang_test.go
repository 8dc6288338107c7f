package browsertest

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gosynack/synack/web"
)

// The language switch turns the page, the scenario list and the diagram
// shown into Chinese, and keeps the choice in the address.
func TestBrowserLanguageSwitch(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?scenario=stale-syn"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS(`#view .synack-viewer`)),
		chromedp.SetValue(chromedp.CSS("#lang"), "zh"),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("lang").dispatchEvent(new Event("change"))`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("go").textContent === "运行" && `+
		`document.querySelector("#view .synack-viewer .status") !== null && `+
		`document.querySelector("#view .synack-viewer .status").textContent.indexOf("第") === 0`,
		chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("the page did not turn Chinese: %v", err)
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	button := eval(`document.getElementById("go").textContent`)
	option := eval(`document.querySelector('#scenario option[value="handshake"]').textContent`)
	status := eval(`document.querySelector("#view .synack-viewer .status").textContent`)
	now := eval(`document.querySelector("#view .now-text .what").textContent`)
	htmlLang := eval(`document.documentElement.lang`)
	addr := eval(`location.search`)
	screenshot(t, ctx, "web-zh")
	if button != "运行" || option != "handshake — 三次握手" || htmlLang != "zh-CN" || !strings.Contains(addr, "lang=zh") {
		t.Errorf("button %q, option %q, <html lang=%q>, address %q", button, option, htmlLang, addr)
	}
	if !strings.HasPrefix(status, "第 ") || strings.Contains(now, "arrives") {
		t.Errorf("the viewer is not in Chinese: status %q, row %q", status, now)
	}
}

// The language switch turns the plot beside the ladder Chinese with the
// rest of the view: its titles, axis labels and legends are the
// catalogue's, every character has its glyph, and the screenshot shows
// the plot beside its ladder.
func TestBrowserWebPlotChinese(t *testing.T) {
	ctx := browser(t)
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?scenario=fast-recovery"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS(`#view .synack-viewer[data-ready="true"] .plot svg.synack-plot`)),
		chromedp.SetValue(chromedp.CSS("#lang"), "zh"),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("lang").dispatchEvent(new Event("change"))`)); err != nil {
		t.Fatal(err)
	}
	const plotTitles = `[...document.querySelectorAll("#view .plot svg.synack-plot text.panel-title")].map(e => e.textContent)`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#view .synack-viewer[data-ready='true'] .plot svg.synack-plot") !== null && `+
		plotTitles+`.some(s => s.indexOf("时间–序号图") >= 0)`, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("the plot did not turn Chinese: %v", err)
	}
	// Stop the autoplay at the end, so that the picture is the whole run.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#view button[data-act="last"]`))); err != nil {
		t.Fatal(err)
	}
	titles, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](plotTitles))
	if err != nil {
		t.Fatal(err)
	}
	words, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#view .plot svg.synack-plot text")].map(e => e.textContent).join("\n")`))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"服务器所发数据的时间–序号图", "拥塞窗口 cwnd", "慢启动阈值 ssthresh", "在途字节", "往返时间 RTT", "重传超时 RTO", "有效吞吐量", "时间（秒）", "丢失（红色竖条）"} {
		if !strings.Contains(words, w) {
			t.Errorf("the Chinese plot lacks %q; its titles: %q", w, titles)
		}
	}
	for _, en := range []string{"Time–sequence", "Congestion window", "Goodput", "time (s)", "data segment"} {
		if strings.Contains(words, en) {
			t.Errorf("the Chinese plot still says %q", en)
		}
	}
	// Beside the ladder, not under it.
	type box struct{ L, T, R, B float64 }
	boxes, err := chromedp.Run(ctx, chromedp.Evaluate[[]box](`[...document.querySelectorAll('#view .synack-viewer .ladder, #view .synack-viewer .plot')].map(e => {
  const b = e.getBoundingClientRect(); return {L: b.left, T: b.top, R: b.right, B: b.bottom};
})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(boxes) != 2 || boxes[1].L < boxes[0].R || boxes[1].T > boxes[0].B {
		t.Errorf("the ladder is at %+v and the plot at %+v: want the plot beside it", boxes[0], boxes[1])
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.scrollTo(0, 0) === undefined`)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "web-plot-zh")
	checkGlyphs(t, ctx, "the web view in Chinese with its plot")
}
