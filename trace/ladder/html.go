package ladder

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

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
}

type viewerRow struct {
	At      string    `json:"at"`
	Y       float64   `json:"y"`
	Text    string    `json:"text"`
	State   [2]string `json:"state"`
	Changed [2]bool   `json:"changed"`
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
			title = d.Hosts[Left].Name + " ⇄ " + d.Hosts[Right].Name
		}
		fmt.Fprintf(bw, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"+
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n",
			esc(title), ViewerCSS)
		fmt.Fprintf(bw, "<h1>%s</h1>\n", esc(title))
		if opt.Caption != "" {
			fmt.Fprintf(bw, "<p class=\"caption\">%s</p>\n", esc(opt.Caption))
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
	for sd := range d.Hosts {
		data.Hosts[sd] = d.Hosts[sd].Name
		data.Initial[sd] = d.Hosts[sd].Initial
	}
	prev := data.Initial
	for i := range d.Rows {
		r := &d.Rows[i]
		data.Rows = append(data.Rows, viewerRow{
			At: r.At.String(), Y: pl.y[i], Text: describeRow(d, r, prev),
			State: r.State, Changed: r.Changed,
		})
		prev = r.State
	}
	js, err := json.Marshal(data) // escapes <, > and &: safe in a <script>
	if err != nil {
		panic(err) // strings, numbers and bools only
	}
	fmt.Fprintf(w, "<div class=\"synack-viewer\" data-autoplay=\"%t\" data-rows=\"%d\" data-packets=\"%d\" tabindex=\"0\">\n", opt.Autoplay, len(d.Rows), len(d.Packets))
	fmt.Fprint(w, `<div class="controls">`+
		`<button type="button" data-act="first" title="start (Home)">⇤ start</button>`+
		`<button type="button" data-act="prev" title="back one row (←)">◀ back</button>`+
		`<button type="button" data-act="play" title="play or pause (space)">▶ play</button>`+
		`<button type="button" data-act="next" title="forward one row (→)">forward ▶</button>`+
		`<button type="button" data-act="last" title="end (End)">end ⇥</button>`+
		`<span class="status"></span></div>`+"\n")
	fmt.Fprintln(w, `<div class="now-text"><span class="at"></span> <span class="what"></span></div>`)
	fmt.Fprintln(w, `<div class="panes"><div class="ladder">`)
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" class="synack-ladder" width="%s" height="%s" viewBox="0 0 %[1]s %[2]s" %s>`+"\n",
		num(pl.width), num(pl.height), svgFont)
	pl.body(w)
	fmt.Fprintln(w, "</svg></div>")
	fmt.Fprintln(w, `<div class="machines">`)
	for sd := range d.Hosts {
		fmt.Fprintf(w, "<div class=\"machine\" data-side=\"%s\"><div class=\"machine-title\">%s <span class=\"cur-state\"></span></div>\n", Side(sd), esc(d.Hosts[sd].Name))
		writeStateMachine(w)
		fmt.Fprintln(w, "</div>")
	}
	fmt.Fprintln(w, `<p class="fig">TCP connection states, after RFC 9293 Figure 5. Lit: the state now; tinted: states passed through.</p>`)
	fmt.Fprintln(w, "</div></div>")
	fmt.Fprintf(w, "<script type=\"application/json\" class=\"synack-data\">%s</script>\n</div>\n", js)
}

// describeRow says in words what row r shows; prev is each side's state
// before it.
func describeRow(d *Diagram, r *Row, prev [2]string) string {
	name := func(sd Side) string { return d.Hosts[sd].Name }
	var parts []string
	p := d.Packet(r)
	switch r.Kind {
	case RowSend:
		if p != nil {
			s := name(r.Side) + " sends " + d.body(p)
			if p.Seg.Flags&wire.RST != 0 {
				s += " (a reset)"
			}
			parts = append(parts, s)
		}
	case RowArrive:
		if p != nil {
			s := fmt.Sprintf("#%d %s arrives at %s", p.N, p.Seg.Flags, name(r.Side))
			if !p.SendSeen {
				s = d.body(p) + " arrives at " + name(r.Side) + " (its sending was not recorded)"
			}
			if p.Held {
				s += " (it was held back)"
			}
			parts = append(parts, s)
		}
	case RowLost:
		if p != nil {
			parts = append(parts, fmt.Sprintf("#%d %s is %s", p.N, p.Seg.Flags, lostText(p)))
		}
	case RowLink:
		parts = append(parts, r.Text)
	case RowState:
	default:
		parts = append(parts, name(r.Side)+": "+r.Text)
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
			parts = append(parts, fmt.Sprintf("%s: %s → %s", name(Side(sd)), from, r.State[sd]))
		}
	}
	return strings.Join(parts, "; ")
}

// The state machine's boxes, laid out as in RFC 9293 Figure 5; CLOSED is
// drawn twice, where connections begin and where they end.
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
	{"TIME-WAIT", 150, 244, false},
	{"CLOSED", 244, 244, true},
}

// fsmEdges are Figure 5's transitions, as indexes into fsmBoxes.
var fsmEdges = [][2]int{
	{0, 1}, {0, 3}, {1, 2}, {1, 3}, {3, 2}, {2, 4}, {3, 4}, {2, 5}, {4, 5}, {4, 6},
	{5, 7}, {5, 8}, {7, 10}, {8, 10}, {6, 9}, {9, 11}, {10, 11},
}

const fsmW, fsmH = 96.0, 22.0

// writeStateMachine draws the state machine; the viewer lights its boxes.
func writeStateMachine(w *bufio.Writer) {
	fmt.Fprintln(w, `<svg xmlns="http://www.w3.org/2000/svg" class="fsm" width="300" height="262" viewBox="0 0 300 262" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="11">`)
	// clip returns where the line from a's centre towards b leaves a's box.
	clip := func(a, b fsmBox) (float64, float64) {
		dx, dy := b.x-a.x, b.y-a.y
		t := math.Inf(1)
		if dx != 0 {
			t = min(t, (fsmW/2+2)/math.Abs(dx))
		}
		if dy != 0 {
			t = min(t, (fsmH/2+2)/math.Abs(dy))
		}
		return a.x + dx*t, a.y + dy*t
	}
	for _, e := range fsmEdges {
		a, b := fsmBoxes[e[0]], fsmBoxes[e[1]]
		x1, y1 := clip(a, b)
		x2, y2 := clip(b, a)
		l := math.Hypot(x2-x1, y2-y1)
		ux, uy := (x2-x1)/l, (y2-y1)/l
		bx, by := x2-7*ux, y2-7*uy
		fmt.Fprintf(w, `<g class="edge" data-from="%d" data-to="%d"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#9ca3af"/>`+
			`<polygon points="%s,%s %s,%s %s,%s" fill="#9ca3af"/></g>`+"\n",
			e[0], e[1], num(x1), num(y1), num(bx), num(by),
			num(x2), num(y2), num(bx-3*uy), num(by+3*ux), num(bx+3*uy), num(by-3*ux))
	}
	for i, b := range fsmBoxes {
		fmt.Fprintf(w, `<g class="box" data-i="%d" data-state="%s" data-end="%t"><rect x="%s" y="%s" width="%s" height="%s" rx="5" fill="#f3f4f6" stroke="#9ca3af"/>`+
			`<text x="%s" y="%s" text-anchor="middle" fill="#374151">%s</text></g>`+"\n",
			i, b.state, b.end, num(b.x-fsmW/2), num(b.y-fsmH/2), num(fsmW), num(fsmH), num(b.x), num(b.y+4), b.state)
	}
	fmt.Fprintln(w, "</svg>")
}
