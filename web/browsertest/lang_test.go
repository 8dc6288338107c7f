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
