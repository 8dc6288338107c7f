package ladder_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
)

var langs = []i18n.Lang{i18n.English, i18n.Chinese}

// overlaps fails t with the overlaps of d's picture, titled title, and
// of the picture on d's HTML page.
func overlaps(t *testing.T, d *ladder.Diagram, title string) {
	t.Helper()
	var b bytes.Buffer
	if err := ladder.WriteSVG(&b, d, ladder.SVGOptions{Title: title}); err != nil {
		t.Fatal(err)
	}
	reportOverlaps(t, b.String())
	// Each packet's label is written once, on its arrow or in the lane.
	escape := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")
	for _, p := range d.Packets {
		if p.CopyOf > 0 {
			continue
		}
		label := escape.Replace(fmt.Sprintf("#%d %s", p.N, p.Label))
		if n := strings.Count(b.String(), ">"+label); n != 1 {
			t.Errorf("the label %q is written %d times", label, n)
		}
	}
	b.Reset()
	if err := ladder.WriteHTML(&b, d, ladder.HTMLOptions{Title: title}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	i, j := strings.Index(page, "<svg "), strings.Index(page, "</svg>")
	if i < 0 || j < i {
		t.Fatal("no <svg> picture on the HTML page")
	}
	reportOverlaps(t, page[i:j+len("</svg>")])
}

func reportOverlaps(t *testing.T, svg string) {
	t.Helper()
	bad, err := ladder.SVGOverlaps(svg)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range bad {
		if i == 5 {
			t.Errorf("and %d more overlaps", len(bad)-i)
			break
		}
		t.Errorf("%s", s)
	}
}

func fptr(v float64) *float64 { return &v }

// No label of a scenario's picture, in either language, with or without
// the timers, overlaps another label, an arrow, a lifeline or a state box;
// nor do those of a few lossy, duplicating runs.
func TestSVGNoOverlapScenarios(t *testing.T) {
	type run struct {
		name string
		o    sim.Overrides
	}
	var runs []run
	for _, s := range sim.Scenarios() {
		runs = append(runs, run{s.Name, sim.Overrides{Seed: 1}})
	}
	for _, seed := range []uint64{3, 7} {
		runs = append(runs, run{"demo", sim.Overrides{Seed: seed, Loss: fptr(0.3), Duplicate: fptr(0.3)}})
	}
	runs = append(runs, run{"close", sim.Overrides{Seed: 5, Loss: fptr(0.3), Reorder: fptr(0.3)}})
	for _, r := range runs {
		s, _ := sim.Lookup(r.name)
		res, err := s.Execute(r.o)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		for _, l := range langs {
			for _, timers := range []bool{false, true} {
				name := r.name
				if r.o.Impaired() {
					name += fmt.Sprintf("-impaired-seed%d", r.o.Seed)
				}
				name += "/" + l.String()
				if timers {
					name += "/timers"
				}
				t.Run(name, func(t *testing.T) {
					d, err := ladder.Build(res.Events, ladder.Options{Left: "client", Right: "server", Lang: l, Timers: timers})
					if err != nil {
						t.Fatal(err)
					}
					overlaps(t, d, l.Trf("%s (scenario %s, seed %d)", s.TitleIn(l), s.Name, r.o.Seed))
				})
			}
		}
	}
}

// Nor in the pictures of the captures kept as test data (the kernel's
// own, with ICMP errors from a router and IPv6, and synack's), each
// connection in either language, with and without the ICMP messages of
// no connection.
func TestSVGNoOverlapCaptures(t *testing.T) {
	var files []string
	for _, dir := range []string{"../../capture/testdata", "testdata", "../../cmd/synack/testdata"} {
		for _, ext := range []string{"*.pcap", "*.pcapng"} {
			m, _ := filepath.Glob(filepath.Join(dir, ext))
			files = append(files, m...)
		}
	}
	if len(files) == 0 {
		t.Fatal("no captures found")
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		file, err := capture.Read(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, all := range []bool{false, true} {
			a := capture.Analyze(file)
			a.AllICMP = all // with the ICMP messages of no connection too
			for _, c := range a.Conns {
				for _, l := range langs {
					sub := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)) + "/" + c.String() + "/" + l.String()
					if all {
						sub += "/all-icmp"
					}
					t.Run(sub, func(t *testing.T) {
						d, err := a.Diagram(c, ladder.Options{Lang: l})
						if err != nil {
							t.Fatal(err)
						}
						overlaps(t, d, l.Trf("%s, connection %d: %s", filepath.Base(name), c.N, c))
					})
				}
			}
		}
	}
}
