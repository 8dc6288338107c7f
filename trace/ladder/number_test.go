package ladder

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gosynack/synack/trace"
)

// Options.Number numbers each packet from the event that first shows it,
// counted in the events as given even when Build has to sort them; the
// marks that name another packet, and a link's copy, use those numbers.
func TestNumber(t *testing.T) {
	s := newScript()
	s.handshake(0, 0)
	data := s.at(200*ms).send(client, server, "PA", 1, 1, 10)
	cp := s.dup(data)
	s.at(250 * ms).deliver(data)
	s.deliver(cp)
	ev := s.ev
	// The four events of the arrivals first: Build sorts them back.
	n := len(ev)
	ev = append(ev[n-4:n:n], ev[:n-4]...)
	number := func(i int) int { return 100 + i }
	d, err := Build(ev, Options{Number: number})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Packets) != 5 {
		t.Fatalf("%d packets", len(d.Packets))
	}
	for _, p := range d.Packets {
		if p.N <= 100 || p.N >= 100+len(ev) {
			t.Errorf("packet %q numbered %d, not by its event", p.Label, p.N)
			continue
		}
		e := ev[p.N-100]
		if p.CopyOf > 0 {
			if e.Kind != trace.LinkDuplicate {
				t.Errorf("copy #%d numbered by event %s", p.N, e.String())
			}
			continue
		}
		if e.At != p.Sent || e.Seg.Seq != p.Seg.Seq || e.Seg.Flags != p.Seg.Flags {
			t.Errorf("packet #%d %q sent %v: numbered by event %s", p.N, p.Label, p.Sent, e.String())
		}
	}
	orig, copyOf := d.Packets[3], d.Packets[4]
	if copyOf.CopyOf != orig.N {
		t.Errorf("the copy is of #%d, want #%d", copyOf.CopyOf, orig.N)
	}
	got := text(t, d)
	if want := "the copy is #" + strconv.Itoa(copyOf.N); !strings.Contains(got, want) {
		t.Errorf("text lacks %q:\n%s", want, got)
	}
	// The copy's arrow starts on its original's row.
	svg := svgOf(t, d, SVGOptions{})
	row := map[string]string{}
	for _, m := range regexp.MustCompile(`data-n="(\d+)" data-row="(-?\d+)"`).FindAllStringSubmatch(svg, -1) {
		row[m[1]] = m[2]
	}
	o, c := row[strconv.Itoa(orig.N)], row[strconv.Itoa(copyOf.N)]
	if o == "" || c != o {
		t.Errorf("the copy #%d starts on row %q, its original #%d on row %q", copyOf.N, c, orig.N, o)
	}
}
