package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/wire"
)

// impairments are the overrides under which a scenario may go otherwise
// than its caption tells, by ordinary TCP behaviour.
func impairments() []struct {
	name string
	o    Overrides
} {
	p := func(v float64) *float64 { return &v }
	d := func(v time.Duration) *time.Duration { return &v }
	return []struct {
		name string
		o    Overrides
	}{
		{"loss 10%", Overrides{Loss: p(0.1)}},
		{"dup 10%", Overrides{Duplicate: p(0.1)}},
		{"reorder 10%", Overrides{Reorder: p(0.1)}},
		{"corrupt 5%", Overrides{Corrupt: p(0.05)}},
		{"jitter 30ms", Overrides{Jitter: d(30 * time.Millisecond)}},
	}
}

// Under impairments a retransmission more, or a packet lost that the story
// does not lose, is ordinary TCP: no scenario fails for it, over seeds
// 1..10.
func TestScenariosUnderImpairments(t *testing.T) {
	for _, imp := range impairments() {
		for _, s := range Scenarios() {
			for seed := uint64(1); seed <= 10; seed++ {
				o := imp.o
				o.Seed = seed
				r, err := s.Execute(o)
				if err != nil {
					t.Fatalf("%s, %s, seed %d: %v", s.Name, imp.name, seed, err)
				}
				if len(r.Problems) > 0 {
					t.Errorf("%s, %s, seed %d: %s", s.Name, imp.name, seed, strings.Join(r.Problems, "; "))
				}
			}
		}
	}
}

// The essential check holds of every run the caption tells: it asks less
// than Check, never something else. Such a run has no notes.
func TestEssentialOfCleanRuns(t *testing.T) {
	for _, s := range Scenarios() {
		if s.Essential == nil {
			t.Errorf("%s: no essential check", s.Name)
			continue
		}
		r, err := s.Execute(Overrides{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r.Impaired || len(r.Problems) > 0 || len(r.Notes) > 0 {
			t.Fatalf("%s: impaired %v, problems %q, notes %q", s.Name, r.Impaired, r.Problems, r.Notes)
		}
		if err := s.Essential(r); err != nil {
			t.Errorf("%s: the essential check fails on the run the caption tells: %v", s.Name, err)
		}
		if len(r.notes) > 0 || len(r.excused) > 0 {
			t.Errorf("%s: the essential check finds the run the caption tells unlike its story: %q", s.Name, r.notes)
		}
	}
}

// An impaired run that went exactly like the story (the default latency
// given as an override) has no notes; one that lost packets says which,
// and how many more segments were retransmitted.
func TestImpairedRunNotes(t *testing.T) {
	s, _ := Lookup("lost-syn")
	lat := 50 * time.Millisecond
	r, err := s.Execute(Overrides{Seed: 1, Latency: &lat})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Impaired || len(r.Notes) > 0 || len(r.Problems) > 0 {
		t.Errorf("--latency 50ms: impaired %v, notes %q, problems %q", r.Impaired, r.Notes, r.Problems)
	}
	loss := 0.1
	r, err = s.Execute(Overrides{Seed: 1, Loss: &loss})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.Notes, "\n")
	for _, want := range []string{
		"the link also lost 1 packet (#",
		"the client retransmitted 2 segments and the server 0, where the run without impairments retransmits 1 and 0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("notes lack %q:\n%s", want, got)
		}
	}
	if len(r.Problems) > 0 {
		t.Errorf("problems: %q", r.Problems)
	}
}

// broken returns s with the rules replaced.
func broken(s *Scenario, rules ...DirectedRule) *Scenario {
	b := *s
	b.Rules = rules
	return &b
}

// A run whose essential outcome did not happen still fails under
// impairments: with every packet from the server dropped, none of the
// scenarios can open (or refuse) its connection; without the rule that
// makes their story, lost-syn and lost-synack retransmit nothing.
func TestEssentialStillFails(t *testing.T) {
	none := 0.0
	blackhole := DirectedRule{serverName, clientName, netsim.Rule{Name: "blackhole", Action: netsim.Drop}}
	var cases []*Scenario
	for _, s := range Scenarios() {
		cases = append(cases, broken(s, append(append([]DirectedRule{}, s.Rules...), blackhole)...))
	}
	ls, _ := Lookup("lost-syn")
	lsa, _ := Lookup("lost-synack")
	cases = append(cases, broken(ls), broken(lsa))
	for _, s := range cases {
		r, err := s.Execute(Overrides{Seed: 1, Loss: &none})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Problems) == 0 {
			t.Errorf("%s with rules %v: no problem found; notes %q", s.Name, s.Rules, r.Notes)
		}
		t.Logf("%s with %d rules: %s", s.Name, len(s.Rules), strings.Join(r.Problems, "; "))
	}
}

// The essential checks' notes say what the link did to the story: the
// delayed SYN of stale-syn lost, the RST of abort lost.
func TestEssentialNotes(t *testing.T) {
	none := 0.0
	for _, c := range []struct {
		name string
		rule DirectedRule
		want string
	}{
		{"stale-syn", DirectedRule{clientName, serverName, netsim.Rule{Match: match(wire.SYN, wire.ACK, netsim.AnyPayload), Nth: 1, Action: netsim.Drop}},
			"the link lost the delayed SYN (#1 S from the client) as well"},
		{"abort", DirectedRule{clientName, serverName, netsim.Rule{Match: match(wire.RST, 0, netsim.AnyPayload), Action: netsim.Drop}},
			"an RST is neither acknowledged nor retransmitted"},
	} {
		s, _ := Lookup(c.name)
		r, err := broken(s, c.rule).Execute(Overrides{Seed: 1, Loss: &none})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Problems) > 0 || !strings.Contains(strings.Join(r.Notes, "\n"), c.want) {
			t.Errorf("%s: problems %q, notes %q; want a note %q", c.name, r.Problems, r.Notes, c.want)
		}
	}
}

// An MSL override is positive: 0 would otherwise be taken for tcp's
// default of 30 s.
func TestMSLOverride(t *testing.T) {
	s, _ := Lookup("close")
	for _, v := range []time.Duration{0, -time.Second} {
		if _, err := s.Execute(Overrides{Seed: 1, MSL: &v}); err == nil || !strings.Contains(err.Error(), "MSL") {
			t.Errorf("MSL %v: error %v", v, err)
		}
	}
}

// TestSoakCasesTranslated wants every soak case's description in the
// catalogue: soak --seed --lang zh prints it, and titles its plot with it.
func TestSoakCasesTranslated(t *testing.T) {
	for _, c := range SoakCases() {
		if !i18n.Has(c.About) {
			t.Errorf("soak case %s: %q has no Chinese translation in package i18n's catalogue", c.Name, c.About)
		}
	}
}

// TestScenariosTranslated wants every scenario's title and caption in the
// catalogue, so that --lang zh never prints one of them in English.
func TestScenariosTranslated(t *testing.T) {
	for _, s := range Scenarios() {
		for _, text := range []string{s.Title, s.Caption} {
			if !i18n.Has(text) {
				t.Errorf("scenario %s: %q has no Chinese translation in package i18n's catalogue", s.Name, text)
			}
		}
		if got := s.TitleIn(i18n.English); got != s.Title {
			t.Errorf("scenario %s: English title %q, want %q", s.Name, got, s.Title)
		}
	}
}

// An impaired run's notes are said in Chinese too: every note's format is
// in the catalogue, and the Chinese notes are not the English ones.
func TestNotesInChinese(t *testing.T) {
	loss, dup := 0.2, 0.2
	n := 0
	for _, name := range []string{"lost-syn", "stale-syn", "lost-final-ack", "simultaneous-open", "simultaneous-close", "abort"} {
		s, _ := Lookup(name)
		for seed := uint64(1); seed <= 4; seed++ {
			r, err := s.Execute(Overrides{Seed: seed, Loss: &loss, Duplicate: &dup})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range r.said {
				if !i18n.Has(m.format) {
					t.Errorf("%s seed %d: note %q has no Chinese in the catalogue", name, seed, m.format)
				}
			}
			zh := r.NotesIn(i18n.Chinese)
			if len(zh) != len(r.Notes) {
				t.Fatalf("%s seed %d: %d Chinese notes, %d English", name, seed, len(zh), len(r.Notes))
			}
			for i := range zh {
				n++
				if zh[i] == r.Notes[i] || strings.Contains(zh[i], " from the ") {
					t.Errorf("%s seed %d: note not in Chinese: %q", name, seed, zh[i])
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no run had notes: the test checks nothing")
	}
}
