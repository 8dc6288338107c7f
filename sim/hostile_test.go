package sim

import (
	"testing"

	"github.com/gosynack/synack/trace/i18n"
)

// TestHostileQuick runs every attack of the quick hostile soak: every
// legitimate connection completes with every byte intact.
func TestHostileQuick(t *testing.T) {
	for _, c := range HostileCases() {
		t.Run(c.Name, func(t *testing.T) {
			r, err := RunHostile(c, 1, true)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", r)
			for _, n := range r.Notes(i18n.English) {
				t.Log(n)
			}
			if !r.OK() {
				t.Errorf("%d of %d completed, %d of %d bytes intact: %v", r.Completed, r.Legit, r.BytesIntact, r.BytesSent, r.Problems)
			}
		})
	}
}
