package ladder

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
)

// AddICMP puts the message on a row of its own at its time, after the
// rows of that instant, with the packet it quotes found by sequence
// number among those its receiver sent before it, the seq relative to
// that host's ISN; a malformed message says what is wrong beneath.
func TestAddICMP(t *testing.T) {
	d := onePoint(t)
	router := netip.MustParseAddr("198.18.9.1")
	at := clock.Time(2 * time.Millisecond)
	d.AddICMP(ICMP{N: 9, At: at, To: Left, From: router, Text: "ICMP Fragmentation Needed mtu=1280",
		HasSeq: true, Seq: client.isn + 1})
	d.AddICMP(ICMP{N: 10, At: clock.Time(4 * time.Millisecond), To: Right, From: client.ap.Addr(), FromPeer: true,
		Text: "ICMP Destination Unreachable (port unreachable)", HasSeq: true, Seq: server.isn + 77, Problem: "bad ICMP checksum"})
	var kinds []RowKind
	for _, r := range d.Rows {
		kinds = append(kinds, r.Kind)
	}
	want := []RowKind{RowSend, RowSend, RowSend, RowICMP, RowSend, RowICMP}
	if len(kinds) != len(want) {
		t.Fatalf("rows %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("rows %v, want %v", kinds, want)
		}
	}
	r := d.Rows[3]
	if r.Side != Left || r.At != at || r.State != d.Rows[2].State || r.Changed != [2]bool{} {
		t.Errorf("ICMP row %+v", r)
	}
	if len(r.Markers) != 1 || r.Markers[0].Text != "quotes #3 (seq=1)" {
		t.Errorf("markers %v", r.Markers)
	}
	r = d.Rows[5]
	if len(r.Markers) != 2 || r.Markers[0].Text != "quotes the segment with seq=77, not in the capture" || r.Markers[1] != (Marker{MarkMalformed, "bad ICMP checksum"}) {
		t.Errorf("markers %v", r.Markers)
	}
	text := renderDiagram(t, d)
	for _, w := range []string{
		"├◀~~ #9 ICMP Fragmentation Needed mtu=1280 from 198.18.9.1 ~~◇",
		"├~~ #10 ICMP Destination Unreachable (port unreachable) ~~",
		"~~▶┤",
		"~~▶ ICMP message  ◇~~▶ from a router on the path",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("no %q in\n%s", w, text)
		}
	}
	checkAligned(t, text)
	svg := svgOf(t, d, SVGOptions{})
	for _, w := range []string{`class="icmp" data-n="9" data-row="3"`, `stroke="#a21caf" stroke-width="1.6" stroke-dasharray="3 3"/>`, `class="router"`, ">#9 ICMP Fragmentation Needed mtu=1280 from 198.18.9.1</text>",
		">quotes #3 (seq=1)</text>", ">ICMP message (◇: from a router)</text>"} {
		if !strings.Contains(svg, w) {
			t.Errorf("no %q in the SVG", w)
		}
	}
	page := htmlOf(t, d, HTMLOptions{Title: "ICMP"})
	if !strings.Contains(page, "#9 ICMP Fragmentation Needed mtu=1280 from 198.18.9.1 reaches client; quotes #3 (seq=1)") {
		t.Errorf("the viewer's row does not describe the message")
	}
	if got := describeRow(d, &d.Rows[3], d.Rows[2].State); !strings.Contains(got, "#9 ICMP Fragmentation Needed mtu=1280 from 198.18.9.1 reaches client") {
		t.Errorf("describeRow: %q", got)
	}
}

func renderDiagram(t *testing.T, d *Diagram) string {
	t.Helper()
	var b strings.Builder
	if err := d.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
