package ladder

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/wire"
)

// HTMLOptions choose what WriteHTML writes around the diagram.
type HTMLOptions struct {
	// Title heads the page; Caption is a paragraph under it.
	Title, Caption string
	// Fragment writes only the viewer's element (a <div class=
	// "synack-viewer">), for a page that has ViewerCSS in a style sheet and
	// ViewerJS in a script and calls synackViewer.init on the element.
	Fragment bool
	// Autoplay starts playing the exchange as soon as the viewer starts.
	Autoplay bool
	// Plot is an SVG picture drawn beside the ladder (package plot's
	// Plot.WriteSVG), linked to it: its elements with a data-packet
	// attribute name a packet by its number on the ladder (Packet.N); a
	// click on one (or near one) selects that packet's row, and the packet
	// of the current row is highlighted in it. It is written as given, so
	// it must be markup the caller made, never the user's.
	Plot string
}

// ViewerCSS and ViewerJS are the style sheet and script of the viewer that
// WriteHTML writes. They fetch nothing.
var (
	//go:embed viewer.css
	ViewerCSS string
	//go:embed viewer.js
	ViewerJS string
)

// viewerData is what the viewer's script is handed, as JSON: each row's
// position, words and states.
type viewerData struct {
	Hosts   [2]string   `json:"hosts"`
	Initial [2]string   `json:"initial"`
	Top     float64     `json:"top"`
	Rows    []viewerRow `json:"rows"`
	// Words are the script's own sentences in the diagram's language;
	// absent in English, where the script has them.
	Words *viewerWords `json:"words,omitempty"`
}

type viewerWords struct {
	Before string `json:"before"` // the text before the first row
	Row    string `json:"row"`    // "row %d of %d"
	Play   string `json:"play"`   // the play button, stopped
	Pause  string `json:"pause"`  // and playing
}

type viewerRow struct {
	At      string    `json:"at"`
	Y       float64   `json:"y"`
	Text    string    `json:"text"`
	State   [2]string `json:"state"`
	Changed [2]bool   `json:"changed"`
	// N is the number of the packet the row sends, delivers or loses
	// (Packet.N); 0 for a row of no packet.
	N int `json:"n,omitempty"`
}

// WriteHTML writes a page that steps through the exchange: the SVG ladder,
// buttons and keys (← →, Home, End, space) to go back and forth one row at a
// time, the current row in words, and for each host a picture of the TCP
// state machine (RFC 9293 Figure 5) with its current state lit. The page is
// one file with its style and script inline, and loads nothing.
func WriteHTML(w io.Writer, d *Diagram, opt HTMLOptions) error {
	bw := bufio.NewWriter(w)
	if !opt.Fragment {
		title := opt.Title
		if title == "" {
			title = d.name(d.Hosts[Left]) + " ⇄ " + d.name(d.Hosts[Right])
		}
		lang := "en"
		if d.opt.Lang == i18n.Chinese {
			lang = "zh-CN"
		}
		fmt.Fprintf(bw, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"+
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n",
			lang, esc(title), ViewerCSS)
		fmt.Fprintf(bw, "<h1>%s</h1>\n", esc(title))
		if opt.Caption != "" {
			c := opt.Caption
			if d.opt.Lang != i18n.English {
				c = i18n.Unwrap(c) // no space where a line breaks between Chinese characters
			}
			fmt.Fprintf(bw, "<p class=\"caption\">%s</p>\n", esc(c))
		}
	}
	writeViewer(bw, d, opt)
	if !opt.Fragment {
		// The script is inline: "</" must not end it early.
		fmt.Fprintf(bw, "<script>\n%s</script>\n</body>\n</html>\n", strings.ReplaceAll(ViewerJS, "</", `<\/`))
	}
	return bw.Flush()
}

func writeViewer(w *bufio.Writer, d *Diagram, opt HTMLOptions) {
	pl := planSVG(d, SVGOptions{})
	data := viewerData{Top: pl.top}
	l := d.opt.Lang
	for sd := range d.Hosts {
		data.Hosts[sd] = d.name(d.Hosts[sd])
		data.Initial[sd] = d.Hosts[sd].Initial
	}
	if l != i18n.English {
		initial := func(sd Side) string {
			if s := d.Hosts[sd].Initial; s != "" {
				return s
			}
			return l.Tr("in an unknown state")
		}
		data.Words = &viewerWords{
			Before: l.Trf("Before the first packet: %s is %s, %s is %s. Press → or play.",
				data.Hosts[Left], initial(Left), data.Hosts[Right], initial(Right)),
			Row: l.Tr("row %d of %d"), Play: l.Tr("▶ play"), Pause: l.Tr("❚❚ pause"),
		}
	}
	prev := data.Initial
	for i := range d.Rows {
		r := &d.Rows[i]
		vr := viewerRow{
			At: r.At.String(), Y: pl.y[i], Text: describeRow(d, r, prev),
			State: r.State, Changed: r.Changed,
		}
		if p := d.Packet(r); p != nil && r.Kind != RowICMP {
			vr.N = p.N
		}
		data.Rows = append(data.Rows, vr)
		prev = r.State
	}
	js, err := json.Marshal(data) // escapes <, > and &: safe in a <script>
	if err != nil {
		panic(err) // strings, numbers and bools only
	}
	fmt.Fprintf(w, "<div class=\"synack-viewer\" data-autoplay=\"%t\" data-rows=\"%d\" data-packets=\"%d\" tabindex=\"0\">\n", opt.Autoplay, len(d.Rows), len(d.Packets))
	button := func(act, title, label string) {
		fmt.Fprintf(w, `<button type="button" data-act="%s" title="%s">%s</button>`, act, esc(l.Tr(title)), esc(l.Tr(label)))
	}
	fmt.Fprint(w, `<div class="controls">`)
	button("first", "start (Home)", "⇤ start")
	button("prev", "back one row (←)", "◀ back")
	button("play", "play or pause (space)", "▶ play")
	button("next", "forward one row (→)", "forward ▶")
	button("last", "end (End)", "end ⇥")
	fmt.Fprint(w, `<span class="status"></span></div>`+"\n")
	fmt.Fprintln(w, `<div class="now-text"><span class="at"></span> <span class="what"></span></div>`)
	panes := "panes"
	if opt.Plot != "" {
		panes += " with-plot"
	}
	fmt.Fprintf(w, "<div class=\"%s\"><div class=\"ladder\">\n", panes)
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" class="synack-ladder" width="%s" height="%s" viewBox="0 0 %[1]s %[2]s" %s>`+"\n",
		num(pl.width), num(pl.height), svgFont)
	pl.body(w)
	fmt.Fprintln(w, "</svg></div>")
	if opt.Plot != "" {
		fmt.Fprintf(w, "<div class=\"plot\" title=\"%s\">\n", esc(l.Tr("click a point to select its packet on the ladder")))
		w.WriteString(strings.TrimSpace(opt.Plot))
		fmt.Fprintln(w, "\n</div>")
	}
	fmt.Fprintln(w, `<div class="machines">`)
	for sd := range d.Hosts {
		fmt.Fprintf(w, "<div class=\"machine\" data-side=\"%s\"><div class=\"machine-title\">%s <span class=\"cur-state\"></span></div>\n", Side(sd), esc(d.name(d.Hosts[sd])))
		writeStateMachine(w)
		fmt.Fprintln(w, "</div>")
	}
	fmt.Fprintf(w, "<p class=\"fig\">%s</p>\n", esc(l.Tr("TCP connection states, after RFC 9293 Figure 5. Lit: the state now; tinted: states passed through.")))
	fmt.Fprintln(w, "</div></div>")
	fmt.Fprintf(w, "<script type=\"application/json\" class=\"synack-data\">%s</script>\n</div>\n", js)
}

// describeRow says in words what row r shows; prev is each side's state
// before it.
func describeRow(d *Diagram, r *Row, prev [2]string) string {
	l := d.opt.Lang
	name := func(sd Side) string { return d.name(d.Hosts[sd]) }
	var parts []string
	p := d.Packet(r)
	switch r.Kind {
	case RowSend:
		if p != nil {
			s := l.Trf("%s sends %s", name(r.Side), d.body(p))
			if p.Seg.Flags&wire.RST != 0 {
				s += l.Tr(" (a reset)")
			}
			parts = append(parts, s)
		}
	case RowArrive:
		if p != nil {
			s := l.Trf("#%d %s arrives at %s", p.N, p.Seg.Flags, name(r.Side))
			if !p.SendSeen {
				s = l.Trf("%s arrives at %s (its sending was not recorded)", d.body(p), name(r.Side))
			}
			if p.Held {
				s += l.Tr(" (it was held back)")
			}
			parts = append(parts, s)
		}
	case RowLost:
		if p != nil {
			parts = append(parts, l.Trf("#%d %s is %s", p.N, p.Seg.Flags, lostTextIn(p, l)))
		}
	case RowLink:
		parts = append(parts, l.Tr(r.Text))
	case RowICMP:
		if m := d.icmpOf(r); m != nil {
			parts = append(parts, l.Trf("%s reaches %s", d.icmpTitle(m), name(r.Side)))
		}
	case RowState:
	default:
		parts = append(parts, name(r.Side)+l.Tr(": ")+l.Tr(r.Text))
	}
	for _, mk := range r.Markers {
		if mk.Kind != MarkReset {
			parts = append(parts, mk.Text)
		}
	}
	for sd := range r.Changed {
		if r.Changed[sd] {
			from := prev[sd]
			if from == "" {
				from = "?"
			}
			parts = append(parts, l.Trf("%s: %s → %s", name(Side(sd)), from, r.State[sd]))
		}
	}
	return strings.Join(parts, l.Tr("; "))
}

// The state machine's boxes, laid out as in RFC 9293 Figure 5; CLOSED is
// drawn twice, where connections begin and where they end. TIME-WAIT sits
// left of its column so that its 2·MSL arrow to CLOSED has room.
type fsmBox struct {
	state string
	x, y  float64 // centre
	end   bool
}

var fsmBoxes = []fsmBox{
	{"CLOSED", 150, 16, false},
	{"LISTEN", 150, 54, false},
	{"SYN-RECEIVED", 56, 92, false},
	{"SYN-SENT", 244, 92, false},
	{"ESTABLISHED", 150, 130, false},
	{"FIN-WAIT-1", 56, 168, false},
	{"CLOSE-WAIT", 244, 168, false},
	{"FIN-WAIT-2", 56, 206, false},
	{"CLOSING", 150, 206, false},
	{"LAST-ACK", 244, 206, false},
	{"TIME-WAIT", 128, 244, false},
	{"CLOSED", 244, 244, true},
}

// fsmEdge is one of Figure 5's transitions, between two fsmBoxes. An edge
// with a reverse twin is drawn beside it (shift, px to its right); one
// that would cross a box goes round it through via.
type fsmEdge struct {
	from, to int
	shift    float64
	via      []fsmPt
}

type fsmPt struct{ x, y float64 }

// fsmEdges are every transition of RFC 9293 Figure 5 (note 1's RST from
// SYN-RECEIVED back to LISTEN included). Like the figure they leave out
// the RSTs of note 3 and the FIN-WAIT-1 to TIME-WAIT shortcut of note 2.
var fsmEdges = []fsmEdge{
	{from: 0, to: 1, shift: 4},                // passive OPEN
	{from: 1, to: 0, shift: 4},                // CLOSE
	{from: 0, to: 3, via: []fsmPt{{252, 10}}}, // active OPEN, snd SYN
	{from: 3, to: 0, via: []fsmPt{{236, 22}}}, // CLOSE
	{from: 1, to: 2, shift: 3},                // rcv SYN, snd SYN,ACK
	{from: 2, to: 1, shift: 3},                // rcv RST (note 1)
	{from: 1, to: 3},                          // SEND, snd SYN
	{from: 3, to: 2},                          // rcv SYN, snd SYN,ACK
	{from: 2, to: 4},                          // rcv ACK of SYN
	{from: 3, to: 4},                          // rcv SYN,ACK, snd ACK
	{from: 2, to: 5},                          // CLOSE, snd FIN
	{from: 4, to: 5},                          // CLOSE, snd FIN
	{from: 4, to: 6},                          // rcv FIN, snd ACK
	{from: 5, to: 7},                          // rcv ACK of FIN
	{from: 5, to: 8},                          // rcv FIN, snd ACK
	{from: 6, to: 9},                          // CLOSE, snd FIN
	{from: 7, to: 10},                         // rcv FIN, snd ACK
	{from: 8, to: 10},                         // rcv ACK of FIN
	{from: 9, to: 11},                         // rcv ACK of FIN
	{from: 10, to: 11},                        // Timeout=2MSL, delete TCB
}

const fsmW, fsmH = 90.0, 22.0

// fsmClip returns where the line from p towards q leaves box b, whose centre
// p is near (as a shifted line's start is), 2 px out.
func fsmClip(b fsmBox, p, q fsmPt) fsmPt {
	dx, dy := q.x-p.x, q.y-p.y
	t := math.Inf(1)
	if dx != 0 {
		t = min(t, (fsmW/2+2-(p.x-b.x)*math.Copysign(1, dx))/math.Abs(dx))
	}
	if dy != 0 {
		t = min(t, (fsmH/2+2-(p.y-b.y)*math.Copysign(1, dy))/math.Abs(dy))
	}
	return fsmPt{p.x + dx*t, p.y + dy*t}
}

// points returns the polyline of e, from border to border.
func (e fsmEdge) points() []fsmPt {
	a, b := fsmBoxes[e.from], fsmBoxes[e.to]
	pa, pb := fsmPt{a.x, a.y}, fsmPt{b.x, b.y}
	if len(e.via) == 0 {
		if e.shift != 0 {
			l := math.Hypot(pb.x-pa.x, pb.y-pa.y)
			// To the right of the direction of travel: twins part.
			nx, ny := -(pb.y-pa.y)/l*e.shift, (pb.x-pa.x)/l*e.shift
			pa, pb = fsmPt{pa.x + nx, pa.y + ny}, fsmPt{pb.x + nx, pb.y + ny}
		}
		return []fsmPt{fsmClip(a, pa, pb), fsmClip(b, pb, pa)}
	}
	// Through the corners: out of a level with the first, into b level
	// with the last.
	first, last := e.via[0], e.via[len(e.via)-1]
	start := fsmPt{a.x, a.y}
	if math.Abs(first.x-a.x) > fsmW/2 {
		start.y = first.y
	} else {
		start.x = first.x
	}
	end := fsmPt{b.x, b.y}
	if math.Abs(last.x-b.x) > fsmW/2 {
		end.y = last.y
	} else {
		end.x = last.x
	}
	pts := []fsmPt{fsmClip(a, start, first)}
	pts = append(pts, e.via...)
	return append(pts, fsmClip(b, end, last))
}

// writeStateMachine draws the state machine; the viewer lights its boxes.
func writeStateMachine(w *bufio.Writer) {
	fmt.Fprintln(w, `<svg xmlns="http://www.w3.org/2000/svg" class="fsm" width="300" height="262" viewBox="0 0 300 262" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="11">`)
	for _, e := range fsmEdges {
		pts := e.points()
		n := len(pts)
		p, q := pts[n-2], pts[n-1]
		l := math.Hypot(q.x-p.x, q.y-p.y)
		ux, uy := (q.x-p.x)/l, (q.y-p.y)/l
		bx, by := q.x-7*ux, q.y-7*uy
		fmt.Fprintf(w, `<g class="edge" data-from="%d" data-to="%d">`, e.from, e.to)
		for i := 0; i+1 < n; i++ {
			x2, y2 := pts[i+1].x, pts[i+1].y
			if i+1 == n-1 {
				x2, y2 = bx, by // the head covers the rest
			}
			fmt.Fprintf(w, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#9ca3af"/>`, num(pts[i].x), num(pts[i].y), num(x2), num(y2))
		}
		fmt.Fprintf(w, `<polygon points="%s,%s %s,%s %s,%s" fill="#9ca3af"/></g>`+"\n",
			num(q.x), num(q.y), num(bx-3*uy), num(by+3*ux), num(bx+3*uy), num(by-3*ux))
	}
	for i, b := range fsmBoxes {
		fmt.Fprintf(w, `<g class="box" data-i="%d" data-state="%s" data-end="%t"><rect x="%s" y="%s" width="%s" height="%s" rx="5" fill="#f3f4f6" stroke="#9ca3af"/>`+
			`<text x="%s" y="%s" text-anchor="middle" fill="#374151">%s</text></g>`+"\n",
			i, b.state, b.end, num(b.x-fsmW/2), num(b.y-fsmH/2), num(fsmW), num(fsmH), num(b.x), num(b.y+4), b.state)
	}
	fmt.Fprintln(w, "</svg>")
}
