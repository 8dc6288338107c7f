package plot

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/gosynack/synack/trace/i18n"
)

// Geometry, in pixels. Text is 11 px sans-serif, whose advance is about
// 0.58 em on average.
const (
	svgW       = 960.0
	marginL    = 78.0
	marginR    = 34.0
	plotW      = svgW - marginL - marginR
	binPx      = 16.0 // the least width of a goodput bar
	headLineH  = 16.0
	panelHead  = 40.0 // the panel's title and legend
	panelFoot  = 46.0 // tick labels and the axis title
	panelGap   = 10.0
	charW      = 6.4
	noteChars  = 140 // a note line wraps after this many characters
	titleChars = 105 // and a line of the title, in bold 14 px, after this many
	svgFont    = `font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11"`
	// svgFontCJK is svgFont with fonts that have the Chinese characters
	// after the Latin ones, for a plot in Chinese: the Latin letters and
	// digits keep their shapes and widths, the characters DejaVu Sans lacks
	// come from the first CJK font the viewer has (Noto Sans CJK, Source Han
	// Sans, WenQuanYi Zen Hei on Linux, PingFang on macOS, Microsoft YaHei
	// on Windows).
	svgFontCJK = `font-family="DejaVu Sans, Helvetica, Arial, 'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Zen Hei', 'PingFang SC', 'Microsoft YaHei', sans-serif" font-size="11"`
)

// Heights of the panels' plot areas.
var panelH = map[Panel]float64{TimeSeq: 340, Cwnd: 170, RTT: 150, Goodput: 130}

// Colours.
const (
	colData    = "#1f5fbf"
	colRetx    = "#d97706"
	colLost    = "#c62828"
	colCtl     = "#111827"
	colAck     = "#2e7d32"
	colWin     = "#b8860b"
	colSack    = "#7b1fa2"
	colFlight  = "#0f766e"
	colGoodput = "#0e7490"
	colMuted   = "#6b7280"
	colGrid    = "#e5e7eb"
	colFrame   = "#9ca3af"
	colBreak   = "#f3f4f6"
)

// svgWriter draws a Plot.
type svgWriter struct {
	w *bufio.Writer
	p *Plot
	y float64 // the top of what is drawn next
}

// px prints a coordinate to a tenth of a pixel.
func px(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// esc escapes s for an attribute or text.
func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s)) //nolint:errcheck // a bytes.Buffer does not fail
	return b.String()
}

// secs prints t nanoseconds as seconds, for data-t attributes.
func secs(t int64) string { return strconv.FormatFloat(float64(t)/1e9, 'f', -1, 64) }

// headLine is a line above the panels: of the title, the connection, or
// a note (indented when it continues one).
type headLine struct {
	text   string
	title  bool
	indent bool
}

// headLines are the title, the connection and the notes, wrapped.
func (p *Plot) headLines() []headLine {
	var out []headLine
	for _, l := range wrap(p.Title, titleChars) {
		out = append(out, headLine{text: l, title: true})
	}
	out = append(out, headLine{text: p.connLine()})
	for _, n := range p.Notes {
		for k, l := range wrap(p.Lang.Tr("note: ")+n, noteChars) {
			out = append(out, headLine{text: l, indent: k > 0})
		}
	}
	return out
}

// connLine names the connection by its 4-tuple and the direction drawn.
func (p *Plot) connLine() string {
	name := func(n, a string) string {
		if a == "" || a == n {
			return n
		}
		return n + " " + a
	}
	addr := func(i int) string {
		h := p.Sender
		if i == 1 {
			h = p.Receiver
		}
		if h.Addr.IsValid() {
			return h.Addr.String()
		}
		return ""
	}
	l := p.Lang
	return l.Trf("data sent by %s to %s", name(l.Tr(p.Sender.Name), addr(0)), name(l.Tr(p.Receiver.Name), addr(1)))
}

// wrap breaks s into lines of at most n columns (i18n.Width: a Chinese
// character takes two), at spaces or next to a Chinese character (Chinese
// is broken between any two characters, but not before its closing
// punctuation); "" is no line.
func wrap(s string, n int) []string {
	var out []string
	for i18n.Width(s) > n {
		cut, w := -1, 0
		var prev rune
		for i, r := range s {
			if i > 0 && (r == ' ' || wideRune(prev) || wideRune(r)) && !closing(r) {
				cut = i
			}
			w += i18n.Width(string(r))
			if w > n {
				break
			}
			prev = r
		}
		if cut <= 0 {
			// No place to break in the first n columns: break at n.
			cut, w = 0, 0
			for i, r := range s {
				if w += i18n.Width(string(r)); w > n {
					cut = i
					break
				}
			}
			if cut == 0 {
				break
			}
		}
		out = append(out, s[:cut])
		s = strings.TrimLeft(s[cut:], " ")
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

func wideRune(r rune) bool { return i18n.Width(string(r)) == 2 }

// closing reports punctuation a line must not start with.
func closing(r rune) bool { return strings.ContainsRune("，。、；：）」』！？", r) }

// panels are the panels drawn, in order.
func (p *Plot) panels() []Panel {
	var out []Panel
	for _, n := range panelNames {
		if p.Panels&n.p != 0 {
			out = append(out, n.p)
		}
	}
	return out
}

func panelName(pn Panel) string {
	for _, n := range panelNames {
		if n.p == pn {
			return n.name
		}
	}
	return "?"
}

// WriteSVG draws the plot: its title and notes, then each panel with its
// legend, over one time axis.
func (p *Plot) WriteSVG(w io.Writer) error {
	head := p.headLines()
	h := 12 + float64(len(head))*headLineH + 8
	for _, pn := range p.panels() {
		h += panelHead + panelH[pn] + panelFoot + panelGap
	}
	bw := bufio.NewWriter(w)
	font := svgFont
	if p.Lang != i18n.English {
		font = svgFontCJK
	}
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" class="synack-plot" width="%s" height="%s" viewBox="0 0 %[1]s %[2]s" %s>`+"\n", px(svgW), px(h), font)
	fmt.Fprintf(bw, `<rect class="bg" width="%s" height="%s" fill="#ffffff"/>`+"\n", px(svgW), px(h))
	sw := &svgWriter{w: bw, p: p, y: 12}
	notePrefix := p.Lang.Tr("note: ")
	for _, l := range head {
		x, attr := 12.0, `font-size="12"`
		switch {
		case l.title:
			attr = `font-weight="bold" font-size="14"`
		case l.indent:
			x, attr = 12+float64(i18n.Width(notePrefix))*charW, `fill="`+colMuted+`"`
		case strings.HasPrefix(l.text, notePrefix):
			attr = `fill="` + colMuted + `"`
		}
		sw.y += headLineH
		fmt.Fprintf(bw, `<text class="head" x="%s" y="%s" %s>%s</text>`+"\n", px(x), px(sw.y-4), attr, esc(l.text))
	}
	sw.y += 8
	for _, pn := range p.panels() {
		switch pn {
		case TimeSeq:
			sw.timeSeq()
		case Cwnd:
			sw.cwnd()
		case RTT:
			sw.rtt()
		case Goodput:
			sw.goodput()
		}
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// legendItem is one entry of a panel's legend: a swatch and its words.
type legendItem struct {
	kind   string // "bar", "line", "dash", "dot", "cross"
	colour string
	label  string
}

// frame is one panel's plot area.
type frame struct {
	name   string
	x0, y0 float64 // top left of the plot area
	h      float64
	va     valueAxis
}

func (f *frame) x(t int64, a *timeAxis) float64 { return f.x0 + a.x(t) }
func (f *frame) y(v int64) float64              { return f.y0 + f.va.y(v) }

// open draws a panel's title, legend, grid, axes and break, and opens its
// clipped group; close ends it.
func (sw *svgWriter) open(pn Panel, title string, legend []legendItem, va valueAxis, yfmt func(int64) string) *frame {
	w, a := sw.w, &sw.p.axis
	name := panelName(pn)
	f := &frame{name: name, x0: marginL, y0: sw.y + panelHead, h: panelH[pn], va: va}
	f.va.h = f.h
	fmt.Fprintf(w, `<g class="panel" data-panel="%s">`+"\n", name)
	fmt.Fprintf(w, `<text class="panel-title" x="%s" y="%s" font-weight="bold" font-size="12">%s</text>`+"\n", px(marginL), px(sw.y+12), esc(title))
	x, ly := marginL, sw.y+30
	fmt.Fprintln(w, `<g class="legend">`)
	for _, it := range legend {
		sy := ly - 4
		switch it.kind {
		case "bar":
			fmt.Fprintf(w, `<line x1="%[1]s" y1="%[2]s" x2="%[1]s" y2="%[3]s" stroke="%[4]s" stroke-width="3"/>`, px(x+8), px(sy-6), px(sy+6), it.colour)
		case "line", "dash":
			dash := ""
			if it.kind == "dash" {
				dash = ` stroke-dasharray="6 3"`
			}
			fmt.Fprintf(w, `<line x1="%[1]s" y1="%[2]s" x2="%[3]s" y2="%[2]s" stroke="%[4]s" stroke-width="2"%[5]s/>`, px(x), px(sy), px(x+18), it.colour, dash)
		case "dot":
			fmt.Fprintf(w, `<circle cx="%s" cy="%s" r="2.5" fill="%s"/>`, px(x+8), px(sy), it.colour)
		case "cross":
			sw.cross(x+8, sy, it.colour, "")
		case "diamond":
			fmt.Fprintf(w, `<path d="M%s %sL%s %sL%s %sL%s %sZ" fill="%s"/>`, px(x+2), px(sy), px(x+6), px(sy-4), px(x+10), px(sy), px(x+6), px(sy+4), it.colour)
			fmt.Fprintf(w, `<line x1="%[1]s" y1="%[2]s" x2="%[1]s" y2="%[3]s" stroke="%[4]s" stroke-width="3"/>`, px(x+14), px(sy-6), px(sy+6), it.colour)
		case "rect":
			fmt.Fprintf(w, `<rect x="%s" y="%s" width="12" height="8" fill="%s"/>`, px(x+2), px(sy-4), it.colour)
		}
		fmt.Fprintf(w, `<text x="%s" y="%s" fill="%s">%s</text>`+"\n", px(x+22), px(ly), colCtl, esc(it.label))
		x += 22 + float64(i18n.Width(it.label))*charW + 16
	}
	fmt.Fprintln(w, `</g>`)

	// Breaks in the time axis, shaded.
	for i := 1; i < len(a.pieces); i++ {
		bx0, bx1 := f.x0+a.pieces[i-1].x1, f.x0+a.pieces[i].x0
		fmt.Fprintf(w, `<rect class="break" x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", px(bx0), px(f.y0), px(bx1-bx0), px(f.h), colBreak)
		for _, yy := range []float64{f.y0, f.y0 + f.h} {
			for _, xx := range []float64{bx0, bx1} {
				fmt.Fprintf(w, `<line class="break-mark" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5"/>`, px(xx-3), px(yy+5), px(xx+3), px(yy-5), colCtl)
			}
		}
		gap := a.pieces[i].t0 - a.pieces[i-1].t1
		fmt.Fprintf(w, `<text class="break-label" x="%s" y="%s" text-anchor="middle" fill="%s" font-style="italic">%s</text>`+"\n",
			px((bx0+bx1)/2), px(f.y0+f.h+30), colMuted, esc(sw.p.Lang.Trf("%s later", fmtDur(gap))))
	}
	// Grid and tick labels.
	fmt.Fprintln(w, `<g class="axis">`)
	for _, t := range va.ticks(yfmt) {
		y := f.y0 + t.at*f.h/va.h
		fmt.Fprintf(w, `<line x1="%[1]s" y1="%[2]s" x2="%[3]s" y2="%[2]s" stroke="%[4]s"/>`, px(f.x0), px(y), px(f.x0+plotW), colGrid)
		fmt.Fprintf(w, `<text x="%s" y="%s" text-anchor="end" fill="%s">%s</text>`+"\n", px(f.x0-6), px(y+4), colMuted, esc(t.label))
	}
	for _, t := range a.timeTicks() {
		x := f.x0 + t.at
		fmt.Fprintf(w, `<line x1="%[1]s" y1="%[2]s" x2="%[1]s" y2="%[3]s" stroke="%[4]s"/>`, px(x), px(f.y0), px(f.y0+f.h), colGrid)
		fmt.Fprintf(w, `<line x1="%[1]s" y1="%[2]s" x2="%[1]s" y2="%[3]s" stroke="%[4]s"/>`, px(x), px(f.y0+f.h), px(f.y0+f.h+4), colFrame)
		fmt.Fprintf(w, `<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", px(x), px(f.y0+f.h+16), colMuted, esc(t.label))
	}
	// The axis's title, at the end away from the break's label.
	tx, anchor := f.x0+plotW, "end"
	if a.broken() && a.pieces[1].x0 > plotW/2 {
		tx, anchor = f.x0, "start"
	}
	fmt.Fprintf(w, `<text class="axis-title" x="%s" y="%s" text-anchor="%s" fill="%s">%s</text>`+"\n", px(tx), px(f.y0+f.h+30), anchor, colMuted, esc(sw.p.Lang.Tr("time (s)")))
	fmt.Fprintln(w, `</g>`)
	fmt.Fprintf(w, `<rect class="frame" x="%s" y="%s" width="%s" height="%s" fill="none" stroke="%s"/>`+"\n", px(f.x0), px(f.y0), px(plotW), px(f.h), colFrame)
	fmt.Fprintf(w, `<clipPath id="synack-plot-%s"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath>`+"\n", name, px(f.x0-3), px(f.y0-3), px(plotW+6), px(f.h+6))
	fmt.Fprintf(w, `<g class="data" clip-path="url(#synack-plot-%s)">`+"\n", name)
	return f
}

func (sw *svgWriter) close(f *frame) {
	fmt.Fprintln(sw.w, "</g>\n</g>")
	sw.y = f.y0 + f.h + panelFoot + panelGap
}

// empty says in the plot area why it holds nothing.
func (sw *svgWriter) empty(f *frame, why string) {
	fmt.Fprintf(sw.w, `<text class="empty" x="%s" y="%s" text-anchor="middle" fill="%s" font-style="italic">%s</text>`+"\n",
		px(f.x0+plotW/2), px(f.y0+f.h/2), colMuted, esc(why))
}

func (sw *svgWriter) cross(x, y float64, colour, attrs string) {
	fmt.Fprintf(sw.w, `<path%s d="M%s %sL%s %sM%s %sL%s %s" stroke="%s" stroke-width="1.8" fill="none"/>`,
		attrs, px(x-3.5), px(y-3.5), px(x+3.5), px(y+3.5), px(x-3.5), px(y+3.5), px(x+3.5), px(y-3.5), colour)
}

// steps draws values that hold until the next one as a step line to the
// end of the axis.
func (sw *svgWriter) steps(f *frame, class, colour, dash string, pts []Point) {
	if len(pts) == 0 {
		return
	}
	a := &sw.p.axis
	var b strings.Builder
	for i, pt := range pts {
		x, y := f.x(pt.At, a), f.y(pt.V)
		if i > 0 {
			fmt.Fprintf(&b, " %s,%s", px(x), px(f.y(pts[i-1].V)))
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s,%s", px(x), px(y))
	}
	fmt.Fprintf(&b, " %s,%s", px(f.x(sw.p.To, a)), px(f.y(pts[len(pts)-1].V)))
	fmt.Fprintf(sw.w, `<polyline class="%s" points="%s" fill="none" stroke="%s" stroke-width="1.6"%s/>`+"\n", class, b.String(), colour, dash)
}

// points draws one dot per value, each with its packet and value.
func (sw *svgWriter) points(f *frame, class, colour string, r float64, pts []Point, label func(Point) string) {
	a := &sw.p.axis
	fmt.Fprintf(sw.w, `<g class="%s-points" fill="%s">`+"\n", class, colour)
	for _, pt := range pts {
		fmt.Fprintf(sw.w, `<circle class="%s" data-packet="%d" data-t="%s" data-value="%d" cx="%s" cy="%s" r="%s"><title>%s</title></circle>`+"\n",
			class, pt.N, secs(pt.At), pt.V, px(f.x(pt.At, a)), px(f.y(pt.V)), px(r), esc(label(pt)))
	}
	fmt.Fprintln(sw.w, `</g>`)
}

func (p *Plot) at(n int, t int64) string { return p.Lang.Trf("#%d at %s s", n, secs(t)) }

// timeSeq draws the time–sequence graph.
func (sw *svgWriter) timeSeq() {
	p, a := sw.p, &sw.p.axis
	lo, hi, win := int64(math.MaxInt64), int64(math.MinInt64), int64(math.MinInt64)
	for _, s := range p.Segs {
		lo, hi = min(lo, s.Seq), max(hi, s.End)
	}
	for _, k := range p.Acks {
		lo, hi = min(lo, k.Ack), max(hi, k.Ack)
		for _, b := range k.SACK {
			hi = max(hi, b[1])
		}
		win = max(win, k.Win)
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	// The window's right edge is drawn when it fits in twice the data's
	// height; far above it (a 64 KB window over 4 KB of data) it would
	// flatten the data to a strip, and is clipped at the top instead.
	clipped := win > hi && win-lo > 2*(hi-lo)
	if win > hi && !clipped {
		hi = win
	}
	va := newValueAxis(lo, hi, panelH[TimeSeq])
	l := p.Lang
	legend := []legendItem{{"bar", colData, l.Tr("data segment")}, {"diamond", colRetx, l.Tr("retransmission")}}
	if !p.Capture {
		legend = append(legend, legendItem{"cross", colLost, l.Tr("lost (bar in red)")})
	}
	legend = append(legend, legendItem{"bar", colCtl, l.Tr("SYN or FIN")}, legendItem{"line", colAck, l.Tr("ACK")},
		legendItem{"line", colWin, l.Tr("receive window (ACK + window)")}, legendItem{"bar", colSack, l.Tr("SACK block")})
	title := p.trf("Time–sequence graph of %s's data (sequence numbers relative to its ISN, bytes)", p.host(p.Sender.Name))
	f := sw.open(TimeSeq, title, legend, va, si)
	w := sw.w
	if clipped {
		fmt.Fprintf(w, `<text class="clipped" x="%s" y="%s" fill="%s" font-style="italic">%s</text>`+"\n", px(f.x0+6), px(f.y0+14), colWin,
			esc(l.Trf("the receive-window line runs above the top, up to %s", si(win))))
	}
	if len(p.Segs) == 0 && len(p.Acks) == 0 {
		sw.empty(f, l.Tr("no segments in this direction"))
	}
	// The ACK and window lines, then the ACKs' dots and SACK blocks.
	var ack, wnd []Point
	for _, k := range p.Acks {
		ack = append(ack, Point{N: k.N, At: k.At, V: k.Ack})
		wnd = append(wnd, Point{N: k.N, At: k.At, V: k.Win})
	}
	sw.steps(f, "window-line", colWin, "", wnd)
	sw.steps(f, "ack-line", colAck, "", ack)
	fmt.Fprintf(w, `<g class="acks" fill="%s">`+"\n", colAck)
	for _, k := range p.Acks {
		what := l.Trf("%s: ACK %d, window to %d", p.at(k.N, k.At), k.Ack, k.Win)
		for _, b := range k.SACK {
			what += l.Trf(", SACK %d–%d", b[0], b[1])
		}
		fmt.Fprintf(w, `<circle class="ack" data-packet="%d" data-t="%s" data-ack="%d" data-win="%d" cx="%s" cy="%s" r="1.8"><title>%s</title></circle>`+"\n",
			k.N, secs(k.At), k.Ack, k.Win, px(f.x(k.At, a)), px(f.y(k.Ack)), esc(what))
	}
	fmt.Fprintln(w, `</g>`)
	fmt.Fprintf(w, `<g class="sacks" stroke="%s" stroke-width="3" stroke-opacity="0.8">`+"\n", colSack)
	for _, k := range p.Acks {
		for _, b := range k.SACK {
			x := f.x(k.At, a) + 3
			fmt.Fprintf(w, `<line class="sack" data-packet="%d" data-t="%s" data-left="%d" data-right="%d" x1="%[5]s" y1="%[6]s" x2="%[5]s" y2="%[7]s"/>`+"\n",
				k.N, secs(k.At), b[0], b[1], px(x), px(f.y(b[0])), px(f.y(b[1])))
		}
	}
	fmt.Fprintln(w, `</g>`)
	// The segments, lost ones last so that their crosses are on top.
	fmt.Fprintln(w, `<g class="segments" stroke-width="2">`)
	var lost []Seg
	for _, s := range p.Segs {
		class, colour := "seg", colData
		var what []string
		switch {
		case s.SYN || s.FIN:
			colour = colCtl
		}
		if s.SYN {
			class += " syn"
			what = append(what, "SYN")
		}
		if s.FIN {
			class += " fin"
			what = append(what, "FIN")
		}
		if s.Retransmit {
			class += " retransmit"
			colour = colRetx
			r := l.Tr("retransmission")
			if s.Why != "" {
				r = l.Trf("%s (%s)", r, marksIn(l, s.Why))
			}
			what = append(what, r)
		}
		if s.Lost {
			class += " lost"
			colour = colLost
			lw := s.LostWords
			if lw == "" {
				lw = "lost: " + s.LostWhy
			}
			what = append(what, lw)
			lost = append(lost, s)
		}
		x := f.x(s.At, a)
		y1, y2 := f.y(s.Seq), f.y(s.End)
		if y1-y2 < 2 {
			y2 = y1 - 2
		}
		label := l.Trf("%s: seq %d–%d (%d bytes)", p.at(s.N, s.At), s.Seq, s.End, s.Len)
		if len(what) > 0 {
			sep := ", " // in Chinese a semicolon, and 、 between the items
			if l != i18n.English {
				sep = l.Tr("; ")
			}
			label += sep + strings.Join(what, l.Tr(", "))
		}
		fmt.Fprintf(w, `<line class="%s" data-packet="%d" data-t="%s" data-seq="%d" data-end="%d" x1="%[6]s" y1="%[7]s" x2="%[6]s" y2="%[8]s" stroke="%[9]s"><title>%[10]s</title></line>`+"\n",
			class, s.N, secs(s.At), s.Seq, s.End, px(x), px(y1), px(y2), colour, esc(label))
	}
	fmt.Fprintln(w, `</g>`)
	// Each retransmission gets a diamond left of its bar's top, as a bar
	// a few bytes high is hard to see.
	fmt.Fprintf(w, `<g class="retransmit-marks" fill="%s">`+"\n", colRetx)
	for _, s := range p.Segs {
		if !s.Retransmit {
			continue
		}
		x, y := f.x(s.At, a)-6, min(f.y(s.End), f.y(s.Seq)-2)
		fmt.Fprintf(w, `<path class="retransmit-mark" data-packet="%d" data-t="%s" data-seq="%d" d="M%s %sL%s %sL%s %sL%s %sZ"/>`+"\n",
			s.N, secs(s.At), s.Seq, px(x-4), px(y), px(x), px(y-4), px(x+4), px(y), px(x), px(y+4))
	}
	fmt.Fprintln(w, `</g>`)
	for _, s := range lost {
		y := min(f.y(s.End), f.y(s.Seq)-2) - 5
		sw.cross(f.x(s.At, a), y, colLost, fmt.Sprintf(` class="lost-mark" data-packet="%d" data-t="%s" data-seq="%d"`, s.N, secs(s.At), s.Seq))
		fmt.Fprintln(w)
	}
	sw.close(f)
}

// cwnd draws the congestion window, ssthresh and bytes in flight.
func (sw *svgWriter) cwnd() {
	p := sw.p
	var hi int64
	for _, s := range [][]Point{p.Cwnd, p.Ssthresh, p.Flight} {
		for _, pt := range s {
			hi = max(hi, pt.V)
		}
	}
	va := newValueAxis(0, hi, panelH[Cwnd])
	var legend []legendItem
	l := p.Lang
	title := p.trf("Congestion window, slow-start threshold and bytes in flight of %s (bytes)", p.host(p.Sender.Name))
	if p.Capture {
		title = p.trf("Bytes in flight of %s, inferred from the segments: a capture holds no cwnd or ssthresh (bytes)", p.host(p.Sender.Name))
	} else {
		legend = append(legend, legendItem{"line", colData, term(l, "cwnd")}, legendItem{"dash", colLost, l.Tr("ssthresh (infinite until the first loss)")})
	}
	legend = append(legend, legendItem{"line", colFlight, l.Tr("in flight: highest sent − highest acknowledged")})
	f := sw.open(Cwnd, title, legend, va, si)
	if hi == 0 {
		sw.empty(f, l.Tr("no data in flight"))
	}
	sw.steps(f, "flight-line", colFlight, ` stroke-opacity="0.7"`, p.Flight)
	sw.steps(f, "ssthresh-line", colLost, ` stroke-dasharray="6 3"`, p.Ssthresh)
	sw.steps(f, "cwnd-line", colData, "", p.Cwnd)
	// Each value's tooltip: one format per value, specific enough that
	// i18n's TrFilled never takes another text for it.
	bytesAt := func(format string) func(Point) string {
		return func(pt Point) string { return l.Trf(format, p.at(pt.N, pt.At), pt.V) }
	}
	sw.points(f, "flight", colFlight, 1.3, p.Flight, bytesAt("%s: in flight %d bytes"))
	sw.points(f, "ssthresh", colLost, 2, p.Ssthresh, bytesAt("%s: ssthresh %d bytes"))
	sw.points(f, "cwnd", colData, 2, p.Cwnd, bytesAt("%s: cwnd %d bytes"))
	sw.close(f)
}

// rtt draws the RTT samples, SRTT and RTO.
func (sw *svgWriter) rtt() {
	p := sw.p
	var hi int64
	for _, s := range [][]Point{p.RTTs, p.SRTT, p.RTO} {
		for _, pt := range s {
			hi = max(hi, pt.V)
		}
	}
	unit, div := durUnit(hi)
	va := newValueAxis(0, hi, panelH[RTT])
	// Ticks at round numbers of the unit.
	if s := niceStep(float64(hi) / div / 5); hi > 0 {
		va.step = s * int64(div)
		va.hi = ceilTo(max(hi, 1), va.step)
	}
	l := p.Lang
	legend := []legendItem{{"dot", colData, l.Tr("RTT sample: a segment to the first ACK covering it (none for retransmitted data)")}}
	if !p.Capture {
		legend = append(legend, legendItem{"line", colAck, term(l, "SRTT")}, legendItem{"line", colRetx, term(l, "RTO")})
	}
	title := p.trf("Round-trip times seen by %s, inferred from the segments (%s)", p.host(p.Sender.Name), unit)
	if !p.Capture {
		title = p.trf("Round-trip times seen by %s, with its SRTT and RTO (%s)", p.host(p.Sender.Name), unit)
	}
	f := sw.open(RTT, title, legend, va, func(v int64) string { return trimFloat(float64(v) / div) })
	if hi == 0 {
		sw.empty(f, l.Tr("no RTT samples"))
	}
	sw.steps(f, "rto-line", colRetx, "", p.RTO)
	sw.steps(f, "srtt-line", colAck, "", p.SRTT)
	durAt := func(format string) func(Point) string {
		return func(pt Point) string { return l.Trf(format, p.at(pt.N, pt.At), fmtDur(pt.V)) }
	}
	sw.points(f, "rto", colRetx, 1.6, p.RTO, durAt("%s: RTO %s"))
	sw.points(f, "srtt", colAck, 1.6, p.SRTT, durAt("%s: SRTT %s"))
	sw.points(f, "rtt", colData, 2.4, p.RTTs, durAt("%s: RTT sample %s"))
	sw.close(f)
}

// terms are the abbreviations the plots use, each with the words a Chinese
// textbook puts before it: in English the abbreviation is the term.
var terms = map[string]string{
	"cwnd":     "拥塞窗口 cwnd",
	"ssthresh": "慢启动阈值 ssthresh",
	"SRTT":     "平滑往返时间 SRTT",
	"RTO":      "重传超时 RTO",
}

// term is the abbreviation abbr in language l.
func term(l i18n.Lang, abbr string) string {
	if t, ok := terms[abbr]; ok && l == i18n.Chinese {
		return t
	}
	return abbr
}

// rate is bin's goodput in bit/s.
func (b *Bin) rate() int64 {
	if b.To <= b.From {
		return 0
	}
	return int64(math.Round(float64(b.Bytes) * 8e9 / float64(b.To-b.From)))
}

// goodput draws the rate the sender's data was acknowledged at.
func (sw *svgWriter) goodput() {
	p, a := sw.p, &sw.p.axis
	var hi int64
	for i := range p.Goodput {
		hi = max(hi, p.Goodput[i].rate())
	}
	var mean int64
	if p.DataTo > p.DataFrom {
		mean = int64(math.Round(float64(p.Delivered) * 8e9 / float64(p.DataTo-p.DataFrom)))
	}
	va := newValueAxis(0, max(hi, mean), panelH[Goodput])
	l := p.Lang
	title := p.trf("Goodput: %s's data that %s acknowledged, per %s (bit/s)", p.host(p.Sender.Name), p.host(p.Receiver.Name), fmtDur(p.BinDur))
	legend := []legendItem{{"rect", colGoodput, l.Tr("goodput of the interval")}}
	if mean > 0 {
		legend = append(legend, legendItem{"dash", colCtl, l.Trf("mean: %s bytes in %s, %s", si(p.Delivered), fmtDur(p.DataTo-p.DataFrom), rate(mean))})
	}
	f := sw.open(Goodput, title, legend, va, si)
	if p.Delivered == 0 {
		sw.empty(f, l.Tr("no data acknowledged"))
	}
	fmt.Fprintf(sw.w, `<g class="goodput-bars" fill="%s">`+"\n", colGoodput)
	for i := range p.Goodput {
		b := &p.Goodput[i]
		if b.Bytes == 0 {
			continue
		}
		x0, x1 := f.x(b.From, a), f.x(b.To, a)
		r := b.rate()
		y := f.y(r)
		fmt.Fprintf(sw.w, `<rect class="goodput" data-packet="%d" data-from="%s" data-to="%s" data-bytes="%d" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`+"\n",
			b.N, secs(b.From), secs(b.To), b.Bytes, px(x0+0.5), px(y), px(max(x1-x0-1, 0.5)), px(f.y0+f.h-y),
			esc(l.Trf("%s–%s s: %d bytes acknowledged, %s (last ACK #%d)", secs(b.From), secs(b.To), b.Bytes, rate(r), b.N)))
	}
	fmt.Fprintln(sw.w, `</g>`)
	if mean > 0 {
		y := f.y(mean)
		fmt.Fprintf(sw.w, `<line class="goodput-mean" x1="%[1]s" y1="%[2]s" x2="%[3]s" y2="%[2]s" stroke="%[4]s" stroke-dasharray="6 3"/>`+"\n",
			px(f.x(p.DataFrom, a)), px(y), px(f.x(p.DataTo, a)), colCtl)
	}
	sw.close(f)
}
