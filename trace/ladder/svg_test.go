package ladder

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/tcp/state"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// svgOf draws d as SVG and checks it (checkSVG).
func svgOf(t *testing.T, d *Diagram, opt SVGOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSVG(&b, d, opt); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, d, b.String())
	return b.String()
}

// xmlElem is an element of a parsed SVG: its name, attributes and text.
type xmlElem struct {
	name  string
	attr  map[string]string
	text  string
	class string
	depth int
}

// parseXML parses s with encoding/xml, failing on any error, and returns
// its elements in document order.
func parseXML(t *testing.T, s string) []*xmlElem {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	var els, stack []*xmlElem
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &xmlElem{name: tok.Name.Local, attr: map[string]string{}, depth: len(stack)}
			for _, a := range tok.Attr {
				e.attr[a.Name.Local] = a.Value
			}
			e.class = e.attr["class"]
			els = append(els, e)
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements in\n%s", s)
	}
	return els
}

func hasClass(e *xmlElem, c string) bool {
	for _, f := range strings.Fields(e.class) {
		if f == c {
			return true
		}
	}
	return false
}

// checkSVG checks a drawing of d against the model: well-formed XML, one
// arrow per packet with a head if it arrived and a cross if it was lost,
// RSTs marked, one state label per state change, coordinates inside the
// picture.
func checkSVG(t *testing.T, d *Diagram, s string) {
	t.Helper()
	els := parseXML(t, s)
	if len(els) == 0 || els[0].name != "svg" || els[0].attr["xmlns"] == "" && !strings.Contains(s, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Fatalf("does not start with an <svg> element:\n%s", s)
	}
	width, _ := strconv.ParseFloat(els[0].attr["width"], 64)
	height, _ := strconv.ParseFloat(els[0].attr["height"], 64)
	var pkts, heads, crosses, rsts []*xmlElem
	var states []string
	var cur *xmlElem
	for _, e := range els {
		if e.name == "g" && hasClass(e, "pkt") {
			pkts = append(pkts, e)
			cur = e
		} else if e.name == "g" && cur != nil && e.depth <= cur.depth {
			cur = nil // the heads of what follows are not the packet's
		}
		if e.name == "g" && hasClass(e, "rst") {
			rsts = append(rsts, e)
		}
		if cur != nil && e.depth == cur.depth+1 {
			switch {
			case hasClass(e, "head"):
				heads = append(heads, cur)
			case hasClass(e, "cross"):
				crosses = append(crosses, cur)
			}
		}
		if e.name == "g" && hasClass(e, "state") && e.attr["data-row"] != "-1" {
			states = append(states, e.attr["data-side"]+" "+e.attr["data-state"])
		}
		for _, k := range []string{"x", "y", "x1", "y1", "x2", "y2"} {
			if v, ok := e.attr[k]; ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < -1 || k[0] == 'x' && f > width+1 || k[0] == 'y' && f > height+1 {
					t.Errorf("<%s class=%q> %s=%q is outside the %vx%v picture", e.name, e.class, k, v, width, height)
				}
			}
		}
	}
	if len(pkts) != len(d.Packets) {
		t.Fatalf("%d arrows, want one per packet: %d", len(pkts), len(d.Packets))
	}
	var wantHeads, wantCrosses, wantRSTs int
	for i := range d.Packets {
		p := &d.Packets[i]
		if got := pkts[i].attr["data-n"]; got != strconv.Itoa(p.N) {
			t.Errorf("arrow %d is #%s, want #%d", i, got, p.N)
		}
		switch p.Fate {
		case Delivered:
			wantHeads++
		case Lost:
			wantCrosses++
		}
		if p.Seg.Flags&wire.RST != 0 {
			wantRSTs++
		}
	}
	if len(heads) != wantHeads || len(crosses) != wantCrosses || len(rsts) != wantRSTs {
		t.Errorf("%d heads, %d crosses, %d RSTs; want %d, %d, %d", len(heads), len(crosses), len(rsts), wantHeads, wantCrosses, wantRSTs)
	}
	var wantStates []string
	for _, r := range d.Rows {
		for sd := range r.Changed {
			if r.Changed[sd] {
				wantStates = append(wantStates, Side(sd).String()+" "+r.State[sd])
			}
		}
	}
	if strings.Join(states, ",") != strings.Join(wantStates, ",") {
		t.Errorf("state labels\n  %v\nwant\n  %v", states, wantStates)
	}
}

func build(t *testing.T, ev []trace.Event, opt Options) *Diagram {
	t.Helper()
	d, err := Build(ev, opt)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSVGHandshake(t *testing.T) {
	d := build(t, fullExchange(), Options{})
	got := svgOf(t, d, SVGOptions{Title: "A whole connection"})
	golden(t, "handshake_svg", got)
	if again := svgOf(t, build(t, fullExchange(), Options{}), SVGOptions{Title: "A whole connection"}); again != got {
		t.Error("two drawings of the same events differ")
	}
	for _, want := range []string{">A whole connection</text>", ">#1 S seq=0 ack=- win=65535 len=0 &lt;mss 1460&gt;</text>", ">client</text>", ">198.18.0.1:80</text>", ">0.350000s</text>"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in the picture", want)
		}
	}
}

// A lost SYN ends in a cross half-way; its retransmission is marked and
// coloured apart.
func TestSVGLostSYN(t *testing.T) {
	s := newScript()
	s.state(server, nil, state.Closed, state.Listen)
	s.state(client, server, state.Closed, state.SynSent)
	syn := s.send(client, server, "S", 0, 0, 0)
	s.lose(syn, trace.LinkLoss, "")
	s.at(time.Second)
	syn2 := s.resend(client, server, "S", 0, 0, 0, "RTO")
	s.at(1050 * ms)
	s.deliver(syn2)
	s.state(server, client, state.Listen, state.SynReceived)
	d := build(t, s.ev, Options{})
	got := svgOf(t, d, SVGOptions{})
	golden(t, "lost_syn_svg", got)
	pl := planSVG(d, SVGOptions{})
	a := pl.arrows[0]
	if !a.cross || a.head || a.x2 != (pl.leftX+pl.rightX)/2 {
		t.Errorf("lost SYN's arrow %+v: want a cross half-way between %v and %v", a, pl.leftX, pl.rightX)
	}
	if b := pl.arrows[1]; !b.head || b.colour != colRetransmit || b.x2 != pl.rightX || b.y2 <= b.y1 {
		t.Errorf("retransmitted SYN's arrow %+v: want an orange arrow down to the server", b)
	}
	if !strings.Contains(got, "retransmission of #1 (RTO)") {
		t.Error("the retransmission is not marked")
	}
}

// Arrows slope with time: a packet is drawn from its sending row down to
// its arrival row.
func TestSVGSlope(t *testing.T) {
	d := build(t, fullExchange(), Options{})
	pl := planSVG(d, SVGOptions{})
	for i, a := range pl.arrows {
		p := &d.Packets[i]
		if p.Fate != Delivered {
			continue
		}
		if a.y1 != pl.y[a.startRow] || a.y2 != pl.y[a.endRow] || d.Rows[a.startRow].At != p.Sent || d.Rows[a.endRow].At != p.Arrived || a.y2 <= a.y1 {
			t.Errorf("#%d drawn from row %d (y %v) to row %d (y %v); sent %v, arrived %v", p.N, a.startRow, a.y1, a.endRow, a.y2, p.Sent, p.Arrived)
		}
	}
	for i := 1; i < len(pl.y); i++ {
		if pl.y[i] <= pl.y[i-1] {
			t.Errorf("row %d at y %v, above row %d at %v", i, pl.y[i], i-1, pl.y[i-1])
		}
	}
}

// Each of the ladder tests' exchanges draws as a picture that agrees with
// its model; RSTs are drawn in their own colour.
func TestSVGScenarios(t *testing.T) {
	s := newScript()
	s.state(client, server, state.Closed, state.SynSent)
	syn := s.send(client, server, "S", 0, 0, 0)
	s.at(50 * ms)
	s.deliver(syn)
	rst := seg(server, client, "RA", 0, 1)
	rst.Seq, rst.Window = 0, 0
	r := s.out(server, client, rst, 0, false, "no listener")
	s.at(100 * ms)
	s.deliver(r)
	s.state(client, server, state.SynSent, state.Closed)
	d := build(t, s.ev, Options{Notes: true})
	got := svgOf(t, d, SVGOptions{})
	if !regexp.MustCompile(`<g class="pkt rst"[^>]*>\s*<line class="shaft"[^>]*stroke="` + colReset + `"`).MatchString(got) {
		t.Error("the RST is not drawn in the RST colour")
	}

	dup := newScript()
	dup.handshake(0, 0)
	dup.at(200 * ms)
	data := dup.send(client, server, "PA", 1, 1, 100)
	cp := dup.dup(data)
	dup.at(250 * ms)
	dup.deliver(data)
	dup.at(270 * ms)
	dup.reject(cp, "unacceptable segment")
	dd := build(t, dup.ev, Options{})
	got = svgOf(t, dd, SVGOptions{})
	for _, want := range []string{"#5 copy of #4", "duplicated by the link: the copy is #5", "server drops it: unacceptable segment", `class="end dropped"`} {
		if !strings.Contains(got, want) {
			t.Errorf("the duplicate's picture has no %q", want)
		}
	}

	// No link events, one side traced: arrivals the sender did not record
	// are dotted.
	nl := newScript()
	nl.links = false
	nl.handshake(0, 0)
	var ev []trace.Event
	for _, e := range nl.ev {
		if e.Host == "server" {
			ev = append(ev, e)
		}
	}
	svgOf(t, build(t, ev, Options{}), SVGOptions{})
}

// Names and text from the events are escaped.
func TestSVGEscapes(t *testing.T) {
	s := newScript()
	s.handshake(0, 0)
	for i := range s.ev {
		s.ev[i].Host = strings.NewReplacer("client", `a<b&"c'`).Replace(s.ev[i].Host)
	}
	d := build(t, s.ev, Options{})
	got := svgOf(t, d, SVGOptions{Title: "<script>&"})
	if !strings.Contains(got, "&lt;script&gt;&amp;") || !strings.Contains(got, "a&lt;b&amp;&quot;c&#39;") {
		t.Errorf("not escaped:\n%s", got)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// With Color the text is the same once the colours are taken out, and
// the packets are coloured.
func TestTextColor(t *testing.T) {
	plain := render(t, fullExchange(), Options{})
	colored, err := Text(fullExchange(), Options{Color: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := ansi.ReplaceAllString(colored, ""); got != plain {
		t.Errorf("colours change the text:\n%s\nwant\n%s", got, plain)
	}
	for _, want := range []string{sgrBlue + "── #1 S", sgrGreen + "◁", sgrBold + "SYN-SENT"} {
		if !strings.Contains(colored, want) {
			t.Errorf("no %q in\n%q", want, colored)
		}
	}
	if strings.Contains(plain, "\x1b") {
		t.Error("colours without Color")
	}
}

// htmlOf writes d as a page and checks it (checkHTML).
func htmlOf(t *testing.T, d *Diagram, opt HTMLOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, d, opt); err != nil {
		t.Fatal(err)
	}
	checkHTML(t, d, b.String(), opt)
	return b.String()
}

var externalRef = regexp.MustCompile(`(?i)(src|href|action|url)\s*[=(]\s*["']?\s*(https?:)?//`)

// checkHTML checks a page: it refers to nothing outside itself, its SVG
// agrees with the model, its data has a row per row, and it has both state
// machines.
func checkHTML(t *testing.T, d *Diagram, page string, opt HTMLOptions) {
	t.Helper()
	if m := externalRef.FindString(page); m != "" {
		t.Errorf("the page refers to something outside itself: %q", m)
	}
	for _, bad := range []string{"<link", "@import", "<script src", "<iframe", "<img"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page has %q", bad)
		}
	}
	if opt.Fragment == strings.HasPrefix(page, "<!DOCTYPE html>") {
		t.Errorf("Fragment %v, page starts %.40q", opt.Fragment, page)
	}
	wantScripts := 1 // the data
	if !opt.Fragment {
		wantScripts = 2
	}
	if n := strings.Count(page, "</script"); n != wantScripts {
		t.Errorf("%d script ends, want %d", n, wantScripts)
	}
	i := strings.Index(page, "<svg")
	j := strings.Index(page, "</svg>")
	if i < 0 || j < 0 {
		t.Fatal("no SVG in the page")
	}
	checkSVG(t, d, page[i:j+len("</svg>")])
	if n := strings.Count(page, `<g class="box"`); n != 2*len(fsmBoxes) {
		t.Errorf("%d state boxes, want %d (two machines)", n, 2*len(fsmBoxes))
	}
	const open = `<script type="application/json" class="synack-data">`
	k := strings.Index(page, open)
	if k < 0 {
		t.Fatal("no data")
	}
	rest := page[k+len(open):]
	var data viewerData
	if err := json.Unmarshal([]byte(rest[:strings.Index(rest, "</script>")]), &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Rows) != len(d.Rows) {
		t.Fatalf("%d rows of data, want %d", len(data.Rows), len(d.Rows))
	}
	for i, r := range data.Rows {
		if r.State != d.Rows[i].State || r.Changed != d.Rows[i].Changed || r.At != d.Rows[i].At.String() {
			t.Errorf("row %d: %+v, model %+v", i, r, d.Rows[i])
		}
	}
}

func TestHTML(t *testing.T) {
	d := build(t, fullExchange(), Options{})
	page := htmlOf(t, d, HTMLOptions{Title: "A whole </script> connection", Caption: "It <opens> & closes."})
	for _, want := range []string{"<title>A whole &lt;/script&gt; connection</title>", "It &lt;opens&gt; &amp; closes.", `data-act="next"`, `data-act="prev"`, "ArrowRight", `data-state="TIME-WAIT"`} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q in the page", want)
		}
	}
	frag := htmlOf(t, d, HTMLOptions{Fragment: true, Autoplay: true})
	if !strings.HasPrefix(frag, `<div class="synack-viewer" data-autoplay="true"`) {
		t.Errorf("fragment starts %.60q", frag)
	}
	if strings.Contains(page, `class="plot"`) || strings.Contains(frag, "with-plot") {
		t.Error("a plot pane without a plot")
	}
}

// HTMLOptions.Plot goes beside the ladder, after its SVG and before the
// state machines, and the rows name their packets for the script to link
// the two.
func TestHTMLPlot(t *testing.T) {
	d := build(t, fullExchange(), Options{})
	const pic = `<svg xmlns="http://www.w3.org/2000/svg" class="synack-plot"><circle data-packet="2" r="2"/></svg>`
	page := htmlOf(t, d, HTMLOptions{Fragment: true, Plot: pic + "\n"})
	ladderEnd := strings.Index(page, "</svg></div>")
	plotAt := strings.Index(page, `<div class="plot" title="click a point to select its packet on the ladder">`+"\n"+pic+"\n</div>")
	machines := strings.Index(page, `<div class="machines">`)
	if !strings.Contains(page, `<div class="panes with-plot">`) || ladderEnd < 0 || plotAt < ladderEnd || machines < plotAt {
		t.Errorf("the plot is not between the ladder and the machines:\n%s", page)
	}
	var n []int
	for i := range d.Rows {
		if p := d.Packet(&d.Rows[i]); p != nil {
			n = append(n, p.N)
		}
	}
	want := ""
	for _, k := range n {
		want += `"n":` + strconv.Itoa(k) + "}"
	}
	got := strings.Join(regexp.MustCompile(`"n":\d+\}`).FindAllString(page, -1), "")
	if got != want || len(n) == 0 {
		t.Errorf("the rows name packets %s, want %s", got, want)
	}
}

func TestDescribeRow(t *testing.T) {
	d := build(t, fullExchange(), Options{})
	prev := [2]string{d.Hosts[Left].Initial, d.Hosts[Right].Initial}
	var got []string
	for i := range d.Rows[:3] {
		got = append(got, describeRow(d, &d.Rows[i], prev))
		prev = d.Rows[i].State
	}
	want := []string{
		"server: CLOSED → LISTEN",
		"client sends #1 S seq=0 ack=- win=65535 len=0 <mss 1460>; client: CLOSED → SYN-SENT",
		"#1 S arrives at server; server: LISTEN → SYN-RECEIVED",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
