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

// overlaps fails t with the overlaps of d's picture, titled title.
func overlaps(t *testing.T, d *ladder.Diagram, title string) {
	t.Helper()
	var b bytes.Buffer
	if err := ladder.WriteSVG(&b, d, ladder.SVGOptions{Title: title}); err != nil {
		t.Fatal(err)
	}
	bad, err := ladder.SVGOverlaps(b.String())
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

// knownFailing skips the overlap checks of whole pictures unless
// SYNACK_SVG_OVERLAP=1: today's layout (labels along the arrows) fails
// them on 88 of 126 cases (issue 19: the layout redesign is not done).
func knownFailing(t *testing.T) {
	if os.Getenv("SYNACK_SVG_OVERLAP") != "1" {
		t.Skip("known failing until the SVG layout is redesigned (issue 19); run with SYNACK_SVG_OVERLAP=1")
	}
}

func fptr(v float64) *float64 { return &v }

// No label of a scenario's picture, in either language, with or without
// the timers, overlaps another label, an arrow, a lifeline or a state box;
// nor do those of a few lossy, duplicating runs.
func TestSVGNoOverlapScenarios(t *testing.T) {
	knownFailing(t)
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

// Nor in the pictures of the kernel captures kept as test data, each
// connection in either language.
func TestSVGNoOverlapCaptures(t *testing.T) {
	knownFailing(t)
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
		a := capture.Analyze(file)
		for _, c := range a.Conns {
			for _, l := range langs {
				t.Run(strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))+"/"+c.String()+"/"+l.String(), func(t *testing.T) {
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
