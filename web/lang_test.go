package web

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/gosynack/synack/trace/i18n"
)

// ?lang=zh gives the scenarios, the run's title, caption and diagram in
// Chinese; without it, English as before.
func TestRunChinese(t *testing.T) {
	code, _, body := get(t, Handler(), "/api/run?scenario=stale-syn&lang=zh")
	if code != 200 {
		t.Fatalf("%d: %s", code, body)
	}
	var res RunResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Title != "迟到的重复 SYN：握手为什么需要三次" {
		t.Errorf("title %q", res.Title)
	}
	if strings.Contains(res.Caption, "\n") || !strings.Contains(res.Caption, "客户端的第一个 SYN 滞留在网络中") {
		t.Errorf("caption %q: want the Chinese one, its lines joined", res.Caption)
	}
	for _, w := range []string{"到达", "▶ 播放", "客户端"} {
		if !strings.Contains(res.Viewer, w) {
			t.Errorf("the viewer lacks %q", w)
		}
	}
	if !strings.Contains(res.Text, "图例：") {
		t.Errorf("the text ladder is not in Chinese:\n%s", res.Text)
	}
	// The plot beside the ladder follows the page's language.
	for _, w := range []string{"所发数据的时间–序号图", "时间（秒）", "数据报文段", "WenQuanYi Zen Hei"} {
		if !strings.Contains(res.Viewer, w) {
			t.Errorf("the plot beside the ladder lacks %q", w)
		}
	}
	if strings.Contains(res.Viewer, "Time–sequence graph") {
		t.Error("the plot beside the Chinese ladder is in English")
	}

	_, _, body = get(t, Handler(), "/api/scenarios?lang=zh")
	var list []ScenarioInfo
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Name == "handshake" && s.Title != "三次握手" {
			t.Errorf("handshake's title %q", s.Title)
		}
	}

	code, _, body = get(t, Handler(), "/api/run?scenario=demo&lang=fr")
	if code != 400 || !strings.Contains(body, `"field":"lang"`) || !strings.Contains(body, `\"fr\"`) {
		t.Errorf("lang=fr: %d %s; want 400 naming the field and the value", code, body)
	}
}

// Every word of the page that the switch changes is in PageWords, and so
// in the catalogue with its Chinese; /api/words gives them.
func TestPageWords(t *testing.T) {
	_, _, page := get(t, Handler(), "/")
	_, _, app := get(t, Handler(), "/app.js")
	known := map[string]bool{}
	for _, w := range PageWords {
		known[w] = true
		if !i18n.Has(w) {
			t.Errorf("page word %q has no Chinese in the catalogue", w)
		}
	}
	for _, m := range regexp.MustCompile(`data-i18n="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !known[m[1]] {
			t.Errorf("index.html's %q is not in PageWords", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`tr\("([^"]*)"\)`).FindAllStringSubmatch(app, -1) {
		if !known[m[1]] {
			t.Errorf("app.js's %q is not in PageWords", m[1])
		}
	}
	if !strings.Contains(page, `<select id="lang">`) {
		t.Error("the page has no language switch")
	}
	code, _, body := get(t, Handler(), "/api/words?lang=zh")
	var words map[string]string
	if err := json.Unmarshal([]byte(body), &words); code != 200 || err != nil {
		t.Fatalf("%d %v: %s", code, err, body)
	}
	if words["Run"] != "运行" || len(words) != len(PageWords) {
		t.Errorf("/api/words?lang=zh: %v", words)
	}
}
