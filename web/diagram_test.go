package web

import (
	"testing"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/ladder"
)

// diagramOf is the ladder of scenario name as the page builds it; the
// browser tests in web/browsertest have their own copy.
func diagramOf(t *testing.T, name string, o sim.Overrides) *ladder.Diagram {
	t.Helper()
	s, ok := sim.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %s", name)
	}
	r, err := s.Execute(o)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ladder.Build(r.Events, ladder.Options{Left: "client", Right: "server"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
