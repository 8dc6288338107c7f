package sim

import (
	"reflect"
	"testing"

	"github.com/gosynack/synack/trace/i18n"
)

// TestHostileQuick runs every attack of the quick hostile soak: every
// legitimate connection completes with every byte intact both ways, and
// each attack did what it says (the counts of its notes).
func TestHostileQuick(t *testing.T) {
	for _, c := range HostileCases() {
		t.Run(c.Name, func(t *testing.T) {
			r, err := RunHostile(c, 1, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range r.Notes(i18n.English) {
				t.Log(n)
			}
			if !r.OK() {
				t.Errorf("%d of %d completed, %d of %d bytes intact, over budget %v: %v", r.Completed, r.Legit, r.BytesIntact, r.BytesSent, r.OverBudget, r.Problems)
			}
			if r.AttackPackets == 0 {
				t.Errorf("no attack packet reached the server")
			}
			if b := r.Blind; b != nil && (b.Resets != 0 || b.RSTExact != 0 || b.DataAccepted != 0) {
				t.Errorf("blind injection: %+v", *b)
			}
		})
	}
}

// The same case and seed give the same counts (not the timings).
func TestHostileDeterministic(t *testing.T) {
	for _, name := range []string{"blind-inject", "sack-abuse-48"} {
		c, _ := LookupHostileCase(name)
		a, _ := RunHostile(c, 3, true)
		b, _ := RunHostile(c, 3, true)
		a.CPU, b.CPU = CPUFigures{}, CPUFigures{}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs differ:\n%+v\n%+v", name, a, b)
		}
	}
}

// Every attack's words and note formats are in the catalogue, so that
// --lang zh says them in Chinese.
func TestHostileWordsTranslated(t *testing.T) {
	for _, c := range HostileCases() {
		if !i18n.Has(c.About) {
			t.Errorf("%s: About %q is not in package i18n's catalogue", c.Name, c.About)
		}
		r, err := RunHostile(c, 1, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.notes {
			if !i18n.Has(m.format) {
				t.Errorf("%s: note %q is not in the catalogue", c.Name, m.format)
			}
		}
	}
}
