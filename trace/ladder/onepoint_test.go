package ladder

import (
	"strings"
	"testing"
)

// onePoint is an exchange as one capture point sees it: each packet sent
// and taken in at the same instant, no link events, the arrivals merged
// into the sends (a capture's ladder).
func onePoint(t *testing.T) *Diagram {
	t.Helper()
	s := newScript()
	s.links = false
	syn := s.send(client, server, "S", 0, 0, 0)
	s.deliver(syn)
	s.at(1 * ms)
	sa := s.send(server, client, "SA", 0, 1, 0)
	s.deliver(sa)
	s.at(2 * ms)
	data := s.send(client, server, "PA", 1, 1, 1400)
	s.deliver(data)
	s.at(3 * ms)
	ack := s.send(server, client, "A", 1, 1401, 0)
	s.deliver(ack)
	d := build(t, s.ev, Options{})
	d.MergeArrivals()
	return d
}

// A packet a capture saw once is drawn as delivered, with its head, on its
// one row: not as in flight ("…?") for want of an arrival row of its own.
func TestSVGOnePointDelivered(t *testing.T) {
	d := onePoint(t)
	for i := range d.Packets {
		if d.Packets[i].Fate != Delivered {
			t.Fatalf("#%d: fate %v", d.Packets[i].N, d.Packets[i].Fate)
		}
	}
	got := svgOf(t, d, SVGOptions{}) // checkSVG: a head per delivered packet
	if strings.Contains(got, "…?") {
		t.Errorf("a packet drawn in flight:\n%s", got)
	}
}
