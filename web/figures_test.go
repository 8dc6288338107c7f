package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
)

// /api/run gives the scenario's own figures, the lines synack scenario
// run prints under the caption, in the page's language: the same
// sim.Run.FiguresIn, so that the two cannot say different things.
func TestRunFigures(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		// words each language's figures must hold, so that an empty or
		// untranslated list cannot pass.
		en, zh []string
	}{
		{"slow-start", []string{"round trip 1: the server sent 10 new segments", "ssthresh = "}, []string{"第 1 个往返时间：服务器发出 10 个新报文段", "ssthresh"}},
		{"fast-recovery", []string{"after 3 duplicate ACKs", "retransmission timeouts: 0"}, []string{"重复 ACK"}},
		{"syn-flood", []string{"spoofed SYNs: 64", "SyncookiesSent"}, []string{"SYN"}},
		{"time-wait-ports", []string{"connection 4: port 50001", "TIME-WAIT"}, []string{"TIME-WAIT"}},
		{"keepalive", []string{"keepalive probes from the client: 4"}, []string{"探测"}},
	} {
		for _, l := range []i18n.Lang{i18n.English, i18n.Chinese} {
			t.Run(fmt.Sprintf("%s/%s", tc.scenario, l), func(t *testing.T) {
				code, _, body := get(t, Handler(), "/api/run?scenario="+tc.scenario+"&seed=1&lang="+l.String())
				if code != 200 {
					t.Fatalf("%d: %s", code, body)
				}
				var res RunResult
				if err := json.Unmarshal([]byte(body), &res); err != nil {
					t.Fatal(err)
				}
				s, _ := sim.Lookup(tc.scenario)
				r, err := s.Execute(sim.Overrides{Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				want := r.FiguresIn(l)
				if len(want) == 0 || strings.Join(res.Figures, "\n") != strings.Join(want, "\n") {
					t.Fatalf("figures:\n%s\nwant (as synack scenario run prints them):\n%s", strings.Join(res.Figures, "\n"), strings.Join(want, "\n"))
				}
				all := strings.Join(res.Figures, "\n")
				words := tc.en
				if l == i18n.Chinese {
					words = tc.zh
					if !strings.ContainsFunc(all, func(c rune) bool { return unicode.Is(unicode.Han, c) }) {
						t.Errorf("the Chinese figures have no Chinese:\n%s", all)
					}
					for i, f := range r.FiguresIn(i18n.English) {
						if res.Figures[i] == f {
							t.Errorf("figure %d is not translated: %q", i+1, f)
						}
					}
				}
				for _, w := range words {
					if !strings.Contains(all, w) {
						t.Errorf("the figures lack %q:\n%s", w, all)
					}
				}
			})
		}
	}
	// A scenario without figures has none, as an empty list.
	_, _, body := get(t, Handler(), "/api/run?scenario=handshake")
	if !strings.Contains(body, `"figures":[]`) {
		t.Errorf("handshake: %.300s; want \"figures\":[]", body)
	}
}

// A scenario that names the connection its ladder shows (sim.Scenario's
// Ladder) is drawn on the page as synack scenario run draws it:
// pmtu-shared's lesson is its second connection, whose first data segments
// carry 1121 bytes from the path MTU the first one learnt.
func TestRunLadderConn(t *testing.T) {
	code, _, body := get(t, Handler(), "/api/run?scenario=pmtu-shared&seed=1")
	if code != 200 {
		t.Fatalf("%d: %s", code, body)
	}
	var res RunResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Text, "showing connection 2 of 2") || !strings.Contains(res.Text, "len=1121") {
		t.Errorf("the page's ladder is not pmtu-shared's second connection:\n%s", res.Text)
	}
}
