package ladder

import (
	"bufio"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// figure5 are the transitions of RFC 9293's Figure 5 (the state diagram):
// from, to, and for CLOSED whether it is the box where connections end.
var figure5 = []struct {
	from, to string
	toEnd    bool
	why      string
}{
	{"CLOSED", "LISTEN", false, "passive OPEN"},
	{"LISTEN", "CLOSED", false, "CLOSE"},
	{"CLOSED", "SYN-SENT", false, "active OPEN, snd SYN"},
	{"SYN-SENT", "CLOSED", false, "CLOSE"},
	{"LISTEN", "SYN-RECEIVED", false, "rcv SYN, snd SYN,ACK"},
	{"LISTEN", "SYN-SENT", false, "SEND, snd SYN"},
	{"SYN-RECEIVED", "LISTEN", false, "rcv RST (note 1)"},
	{"SYN-SENT", "SYN-RECEIVED", false, "rcv SYN, snd SYN,ACK"},
	{"SYN-RECEIVED", "ESTABLISHED", false, "rcv ACK of SYN"},
	{"SYN-SENT", "ESTABLISHED", false, "rcv SYN,ACK, snd ACK"},
	{"SYN-RECEIVED", "FIN-WAIT-1", false, "CLOSE, snd FIN"},
	{"ESTABLISHED", "FIN-WAIT-1", false, "CLOSE, snd FIN"},
	{"ESTABLISHED", "CLOSE-WAIT", false, "rcv FIN, snd ACK"},
	{"FIN-WAIT-1", "FIN-WAIT-2", false, "rcv ACK of FIN"},
	{"FIN-WAIT-1", "CLOSING", false, "rcv FIN, snd ACK"},
	{"CLOSE-WAIT", "LAST-ACK", false, "CLOSE, snd FIN"},
	{"FIN-WAIT-2", "TIME-WAIT", false, "rcv FIN, snd ACK"},
	{"CLOSING", "TIME-WAIT", false, "rcv ACK of FIN"},
	{"LAST-ACK", "CLOSED", true, "rcv ACK of FIN"},
	{"TIME-WAIT", "CLOSED", true, "Timeout=2MSL, delete TCB"},
}

type drawnEdge struct {
	from, to int
	lines    [][2]fsmPt
	tip      fsmPt // the arrowhead's point
}

var (
	edgeRE = regexp.MustCompile(`<g class="edge" data-from="(\d+)" data-to="(\d+)">(.*?)</g>`)
	lineRE = regexp.MustCompile(`<line x1="([-\d.]+)" y1="([-\d.]+)" x2="([-\d.]+)" y2="([-\d.]+)"`)
	polyRE = regexp.MustCompile(`<polygon points="([-\d.]+),([-\d.]+) `)
)

func drawnEdges(t *testing.T) []drawnEdge {
	t.Helper()
	var b strings.Builder
	w := bufio.NewWriter(&b)
	writeStateMachine(w)
	w.Flush()
	f := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var out []drawnEdge
	for _, m := range edgeRE.FindAllStringSubmatch(b.String(), -1) {
		e := drawnEdge{from: int(f(m[1])), to: int(f(m[2]))}
		for _, l := range lineRE.FindAllStringSubmatch(m[3], -1) {
			e.lines = append(e.lines, [2]fsmPt{{f(l[1]), f(l[2])}, {f(l[3]), f(l[4])}})
		}
		p := polyRE.FindStringSubmatch(m[3])
		if len(e.lines) == 0 || p == nil {
			t.Fatalf("edge %d->%d: no line or arrowhead: %s", e.from, e.to, m[3])
		}
		e.tip = fsmPt{f(p[1]), f(p[2])}
		out = append(out, e)
	}
	return out
}

// inside reports whether p is inside box b, shrunk by margin on each side.
func inside(p fsmPt, b fsmBox, margin float64) bool {
	return math.Abs(p.x-b.x) < fsmW/2-margin && math.Abs(p.y-b.y) < fsmH/2-margin
}

// The stepper's state machine has an arrow for every transition of RFC
// 9293's Figure 5, and every arrow can be seen: it leaves its first box,
// points into its second, is long enough to show a shaft behind its head,
// and crosses no other box; no two boxes overlap.
func TestStateMachineIsFigure5(t *testing.T) {
	edges := drawnEdges(t)
	for _, tr := range figure5 {
		found := false
		for _, e := range edges {
			a, b := fsmBoxes[e.from], fsmBoxes[e.to]
			found = found || a.state == tr.from && !a.end && b.state == tr.to && b.end == tr.toEnd
		}
		if !found {
			t.Errorf("no arrow %s -> %s (%s)", tr.from, tr.to, tr.why)
		}
	}
	if len(edges) != len(figure5) {
		t.Errorf("%d arrows, want the %d of Figure 5", len(edges), len(figure5))
	}
	for i, a := range fsmBoxes {
		for _, b := range fsmBoxes[i+1:] {
			if math.Abs(a.x-b.x) < fsmW+2 && math.Abs(a.y-b.y) < fsmH+2 {
				t.Errorf("boxes %s and %s overlap or touch", a.state, b.state)
			}
		}
	}
	for _, e := range edges {
		a, b := fsmBoxes[e.from], fsmBoxes[e.to]
		name := a.state + " -> " + b.state
		first, last := e.lines[0], e.lines[len(e.lines)-1]
		// Start and head are on the boxes' borders, or a few pixels out.
		if !inside(first[0], a, -4) || inside(first[0], a, 0) {
			t.Errorf("%s: starts at %v, not at the border of %s", name, first[0], a.state)
		}
		if !inside(e.tip, b, -4) || inside(e.tip, b, 0) {
			t.Errorf("%s: its head is at %v, not at the border of %s", name, e.tip, b.state)
		}
		// The last line runs towards the head, and there is a shaft.
		dx, dy := e.tip.x-last[1].x, e.tip.y-last[1].y
		sx, sy := last[1].x-last[0].x, last[1].y-last[0].y
		if dx*sx+dy*sy <= 0 {
			t.Errorf("%s: the head points against its line", name)
		}
		shaft := 0.0
		for _, l := range e.lines {
			shaft += math.Hypot(l[1].x-l[0].x, l[1].y-l[0].y)
		}
		if shaft < 5 {
			t.Errorf("%s: a shaft of %.1f px behind the head, want at least 5", name, shaft)
		}
	crossing:
		for _, l := range e.lines {
			for k := 0; k <= 20; k++ {
				f := float64(k) / 20
				p := fsmPt{l[0].x + f*(l[1].x-l[0].x), l[0].y + f*(l[1].y-l[0].y)}
				for j, c := range fsmBoxes {
					if j != e.from && j != e.to && inside(p, c, 0) {
						t.Errorf("%s: crosses the box of %s at %v", name, c.state, p)
						break crossing
					}
				}
			}
		}
	}
}
