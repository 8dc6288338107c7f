package ladder

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// SVGOptions choose what WriteSVG adds around the diagram.
type SVGOptions struct {
	// Title, if set, is printed above the diagram.
	Title string
}

// Geometry of an SVG diagram, in pixels. Text is 12 px monospace, whose
// advance is about 0.6 em in the usual monospace fonts.
const (
	svgCharW   = 7.2
	svgRowH    = 26.0 // the least height of a row
	svgLineH   = 13.0 // one more line of detail under a row
	svgStateW  = 12*svgCharW + 14
	svgMinArea = 520.0
	svgGap     = clock.Time(time.Second) // a pause between rows this long is shown
	svgGapH    = 16.0
	svgFont    = `font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12"`
)

// Colours: packets by direction, then what sets a packet apart.
const (
	colLeft       = "#1f5fbf" // sent by the left host
	colRight      = "#2e7d32" // sent by the right host
	colRetransmit = "#d97706"
	colReset      = "#c62828"
	colCopy       = "#7b1fa2"
	colLost       = "#c62828"
	colMuted      = "#6b7280"
	colState      = "#1e3a5f"
	colStateFill  = "#e8f0fb"
	colICMP       = "#a21caf" // an ICMP message
)

// svgPlan is a diagram laid out: where each row and arrow goes. WriteSVG
// draws it; WriteHTML also hands the rows' positions to the page's script.
type svgPlan struct {
	d                    *Diagram
	opt                  SVGOptions
	timeX, leftX, rightX float64
	width, height, top   float64
	y                    []float64 // each row's line
	details              [][]string
	arrows               []svgArrow
	headLines            []string // title, numbering, notes
	bottom, legendY      float64
}

// svgArrow is the geometry of one packet's arrow.
type svgArrow struct {
	startRow, endRow int // rows where the arrow starts and ends (-1: none)
	x1, y1, x2, y2   float64
	head             bool // an arrowhead at (x2, y2): the packet arrived
	cross            bool // a cross at (x2, y2): the packet was lost
	dropped          bool // the receiver discarded it on arrival
	dashed, dotted   bool // a link-made copy; a send not recorded
	open             bool // still in flight when the trace ends
	colour           string
}

// rowDetails are the lines written under row r: its markers, but a loss
// at sending is drawn as a cross (with its reason) and a RST by colour.
func rowDetails(r *Row) []string {
	var out []string
	for _, mk := range r.Markers {
		if mk.Kind == MarkLost && r.Kind == RowSend {
			continue // the cross says it, with the reason
		}
		if mk.Kind == MarkReset {
			continue // the arrow's colour and the legend say it
		}
		out = append(out, mk.Text)
	}
	return out
}

func packetColour(p *Packet) string {
	switch {
	case p.Seg.Flags&wire.RST != 0:
		return colReset
	case p.CopyOf > 0:
		return colCopy
	case p.Retransmit:
		return colRetransmit
	case p.From == Left:
		return colLeft
	}
	return colRight
}

func planSVG(d *Diagram, opt SVGOptions) *svgPlan {
	pl := &svgPlan{d: d, opt: opt}
	if opt.Title != "" {
		pl.headLines = append(pl.headLines, opt.Title)
	}
	pl.headLines = append(pl.headLines, d.numbering())
	l := d.opt.Lang
	for _, n := range d.Notes {
		pl.headLines = append(pl.headLines, l.Tr("note: ")+l.TrFilled(n))
	}
	if !d.Links && len(d.Packets) > 0 {
		pl.headLines = append(pl.headLines, l.Tr("note: ")+l.Tr("no link events: an arrival is shown only where the receiver recorded it"))
	}

	// Columns: times, the left states, the area between the lifelines
	// (wide enough for the longest label), the right states.
	timeChars := len("time")
	for i := range d.Rows {
		timeChars = max(timeChars, len(d.Rows[i].At.String()))
	}
	pl.timeX = 12 + float64(timeChars)*svgCharW
	pl.leftX = pl.timeX + 16 + svgStateW + 10
	area := svgMinArea
	for i := range d.Packets {
		area = max(area, float64(len(d.body(&d.Packets[i])))*svgCharW+80)
	}
	for i := range d.Rows {
		for _, t := range rowDetails(&d.Rows[i]) {
			area = max(area, float64(len(t))*svgCharW+80)
		}
		if t := d.Rows[i].Text; t != "" {
			area = max(area, float64(len(t))*svgCharW+60)
		}
		if m := d.icmpOf(&d.Rows[i]); m != nil {
			area = max(area, float64(utf8.RuneCountInString(d.icmpTitle(m)))*svgCharW+60)
		}
	}
	pl.rightX = pl.leftX + math.Round(area)
	pl.width = pl.rightX + 10 + svgStateW + 12
	for i, h := range pl.headLines {
		cw := svgCharW
		if i == 0 && opt.Title != "" {
			cw = svgCharW * 14 / 12 // the title is larger
		}
		pl.width = max(pl.width, 24+float64(utf8.RuneCountInString(h))*cw)
	}

	// Rows: one line each, more under rows with details.
	pl.top = 16 + 16*float64(len(pl.headLines)) + 64
	y := pl.top + 14
	pl.y = make([]float64, len(d.Rows))
	pl.details = make([][]string, len(d.Rows))
	for i := range d.Rows {
		if i > 0 && d.Rows[i].At-d.Rows[i-1].At >= svgGap {
			y += svgGapH // room to say how much time passes
		}
		pl.y[i] = y
		pl.details[i] = rowDetails(&d.Rows[i])
		y += svgRowH + svgLineH*float64(len(pl.details[i]))
	}
	pl.bottom = y
	pl.legendY = y + 24
	pl.height = pl.legendY + 44
	if d.opt.NoLegend {
		pl.height = y + 16
	}
	pl.planArrows()
	return pl
}

func (pl *svgPlan) planArrows() {
	d := pl.d
	n := len(d.Packets)
	send, arrive, lost := make([]int, n), make([]int, n), make([]int, n)
	link := map[int][]int{} // packet -> its RowLink rows
	for i := range send {
		send[i], arrive[i], lost[i] = -1, -1, -1
	}
	for i := range d.Rows {
		r := &d.Rows[i]
		if r.Packet < 0 || r.Packet >= n {
			continue
		}
		switch r.Kind {
		case RowSend:
			send[r.Packet] = i
		case RowArrive:
			arrive[r.Packet] = i
		case RowLost:
			lost[r.Packet] = i
		case RowLink:
			link[r.Packet] = append(link[r.Packet], i)
		}
	}
	pl.arrows = make([]svgArrow, n)
	index := make(map[int]int, n) // packet number -> index in d.Packets
	for i := range d.Packets {
		index[d.Packets[i].N] = i
	}
	for i := range d.Packets {
		p := &d.Packets[i]
		a := svgArrow{startRow: send[i], endRow: -1, colour: packetColour(p), dashed: p.CopyOf > 0}
		x1, x2 := pl.leftX, pl.rightX
		if p.From == Right {
			x1, x2 = x2, x1
		}
		a.x1 = x1
		if orig, ok := index[p.CopyOf]; a.startRow < 0 && p.CopyOf > 0 && ok {
			// A copy starts where the link made it: on a row of its own,
			// or on the original's send row.
			a.startRow = send[orig]
			for _, r := range link[orig] {
				if d.Rows[r].At == p.Sent {
					a.startRow = r
				}
			}
		}
		switch {
		case a.startRow >= 0:
			a.y1 = pl.y[a.startRow]
		case arrive[i] >= 0:
			// Only the arrival was recorded: a dotted arrow from a row
			// above it.
			a.startRow, a.dotted = arrive[i], true
			a.y1 = pl.y[arrive[i]] - svgRowH
		default:
			a.startRow = 0
			a.y1 = pl.top
		}
		switch {
		case p.Fate == Delivered && arrive[i] >= 0:
			a.endRow, a.x2, a.y2, a.head = arrive[i], x2, pl.y[arrive[i]], true
			a.dropped = p.Dropped
		case p.Fate == Delivered && send[i] >= 0 && p.Arrived == p.Sent:
			// Seen once, at one capture point: MergeArrivals drew the
			// arrival on the send's row, and so does the arrow.
			a.endRow, a.x2, a.y2, a.head = send[i], x2, a.y1, true
			a.dropped = p.Dropped
		case p.Fate == Lost && lost[i] >= 0:
			a.endRow, a.x2, a.y2, a.cross = lost[i], (x1+x2)/2, pl.y[lost[i]], true
		case p.Fate == Lost:
			a.endRow, a.x2, a.y2, a.cross = a.startRow, (x1+x2)/2, a.y1+svgRowH*0.8, true
		default:
			a.endRow, a.x2, a.y2, a.open = len(d.Rows)-1, x1+(x2-x1)*0.6, a.y1+svgRowH, true
		}
		a.y2 = max(a.y2, a.y1)
		pl.arrows[i] = a
	}
}

// num prints a coordinate to a tenth of a pixel.
func num(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func esc(s string) string { return xmlEscaper.Replace(s) }

// WriteSVG draws the diagram as an SVG picture: the two hosts' lifelines
// with their states where they change, one slanted arrow per packet from
// the time it was sent to the time it arrived (or a cross half-way where it
// was lost), the segment's line along the arrow, times on the left and a
// legend. The picture depends only on d and opt.
func WriteSVG(w io.Writer, d *Diagram, opt SVGOptions) error {
	bw := bufio.NewWriter(w)
	pl := planSVG(d, opt)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" class="synack-ladder" width="%s" height="%s" viewBox="0 0 %[1]s %[2]s" %s>`+"\n",
		num(pl.width), num(pl.height), svgFont)
	pl.body(bw)
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// body writes everything inside the <svg> element.
func (pl *svgPlan) body(w *bufio.Writer) {
	d := pl.d
	fmt.Fprintf(w, `<rect class="bg" width="%s" height="%s" fill="#ffffff"/>`+"\n", num(pl.width), num(pl.height))
	// The row the viewer is at; hidden in a still picture.
	fmt.Fprintf(w, `<rect class="now" x="0" y="0" width="%s" height="%s" fill="#fff3c4" visibility="hidden"/>`+"\n", num(pl.width), num(svgRowH))

	y := 20.0
	for i, h := range pl.headLines {
		attr := `fill="` + colMuted + `"`
		if i == 0 && pl.opt.Title != "" {
			attr = `font-weight="bold" font-size="14"`
		}
		fmt.Fprintf(w, `<text class="head" x="12" y="%s" %s>%s</text>`+"\n", num(y), attr, esc(h))
		y += 16
	}

	// Hosts, their addresses, their states before the first row.
	hy := pl.top - 56
	for sd, x := range [2]float64{pl.leftX, pl.rightX} {
		h := d.Hosts[sd]
		fmt.Fprintf(w, `<text class="host" x="%s" y="%s" text-anchor="middle" font-weight="bold" font-size="14">%s</text>`+"\n", num(x), num(hy), esc(d.opt.Lang.Tr(h.Name)))
		if h.Addr.IsValid() && h.Addr.String() != h.Name {
			fmt.Fprintf(w, `<text class="addr" x="%s" y="%s" text-anchor="middle" font-size="11" fill="%s">%s</text>`+"\n", num(x), num(hy+14), colMuted, esc(h.Addr.String()))
		}
		pl.state(w, Side(sd), pl.top-18, initial(h), -1)
	}
	fmt.Fprintf(w, `<text class="axis" x="%s" y="%s" text-anchor="end" fill="%s">%s</text>`+"\n", num(pl.timeX), num(pl.top-18+4), colMuted, esc(d.opt.Lang.Tr("time")))

	// Lifelines.
	for _, x := range [2]float64{pl.leftX, pl.rightX} {
		fmt.Fprintf(w, `<line class="lifeline" x1="%s" y1="%s" x2="%[1]s" y2="%[3]s" stroke="#374151" stroke-width="2"/>`+"\n", num(x), num(pl.top-4), num(pl.bottom))
	}

	// Times, at the rows where time moves on, and long pauses.
	for i := range d.Rows {
		if i > 0 && d.Rows[i].At == d.Rows[i-1].At {
			continue
		}
		if i > 0 && d.Rows[i].At-d.Rows[i-1].At >= svgGap {
			fmt.Fprintf(w, `<text class="gap" data-row="%d" x="%s" y="%s" text-anchor="end" fill="%s" font-size="11" font-style="italic">%s</text>`+"\n",
				i, num(pl.timeX), num(pl.y[i]-svgRowH/2-4), colMuted, esc(d.opt.Lang.Trf("%s later", time.Duration(d.Rows[i].At-d.Rows[i-1].At).String())))
		}
		fmt.Fprintf(w, `<text class="time" data-row="%d" x="%s" y="%s" text-anchor="end" fill="%s">%s</text>`+"\n",
			i, num(pl.timeX), num(pl.y[i]+4), colMuted, esc(d.Rows[i].At.String()))
	}

	for i := range pl.arrows {
		pl.arrow(w, i)
	}
	for i := range d.Rows {
		pl.row(w, i)
	}
	if !d.opt.NoLegend {
		pl.legend(w)
	}
}

// state draws a state label beside side's lifeline.
func (pl *svgPlan) state(w *bufio.Writer, sd Side, y float64, name string, row int) {
	bw := max(svgStateW, float64(len(name))*svgCharW+14)
	x := pl.leftX - 10 - bw
	if sd == Right {
		x = pl.rightX + 10
	}
	fmt.Fprintf(w, `<g class="state" data-row="%d" data-side="%s" data-state="%s">`, row, sd, esc(name))
	fmt.Fprintf(w, `<rect x="%s" y="%s" width="%s" height="18" rx="4" fill="%s" stroke="%s"/>`,
		num(x), num(y-13), num(bw), colStateFill, colState)
	fmt.Fprintf(w, `<text x="%s" y="%s" text-anchor="middle" fill="%s" font-weight="bold">%s</text></g>`+"\n",
		num(x+bw/2), num(y), colState, esc(name))
}

// arrow draws packet i: its shaft, its end (head or cross), its label along
// the shaft at the sender's end, and the details of its send row beneath.
func (pl *svgPlan) arrow(w *bufio.Writer, i int) {
	d := pl.d
	p := &d.Packets[i]
	a := &pl.arrows[i]
	cls := "pkt"
	if p.Seg.Flags&wire.RST != 0 {
		cls += " rst"
	}
	if p.Retransmit {
		cls += " retransmit"
	}
	if p.CopyOf > 0 {
		cls += " copy"
	}
	if a.cross {
		cls += " lost"
	}
	fmt.Fprintf(w, `<g class="%s" data-n="%d" data-row="%d" data-end="%d" data-x1="%s" data-y1="%s" data-x2="%s" data-y2="%s">`+"\n",
		cls, p.N, a.startRow, a.endRow, num(a.x1), num(a.y1), num(a.x2), num(a.y2))
	dash := ""
	switch {
	case a.dotted:
		dash = ` stroke-dasharray="2 3"`
	case a.dashed, a.open:
		dash = ` stroke-dasharray="7 4"`
	}
	sw := "1.6"
	if p.Seg.Flags&wire.RST != 0 {
		sw = "2.6"
	}
	fmt.Fprintf(w, `<line class="shaft" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>`+"\n",
		num(a.x1), num(a.y1), num(a.x2), num(a.y2), a.colour, sw, dash)
	dx, dy := a.x2-a.x1, a.y2-a.y1
	l := math.Hypot(dx, dy)
	ux, uy := dx/l, dy/l
	switch {
	case a.head:
		// A filled head; a receiver that discards the packet adds a cross.
		bx, by := a.x2-10*ux, a.y2-10*uy
		fmt.Fprintf(w, `<polygon class="end head" points="%s,%s %s,%s %s,%s" fill="%s"/>`+"\n",
			num(a.x2), num(a.y2), num(bx-4*uy), num(by+4*ux), num(bx+4*uy), num(by-4*ux), a.colour)
		if a.dropped {
			cx := a.x2 - 22*ux
			cy := a.y2 - 22*uy
			pl.cross(w, cx, cy, "end dropped")
		}
	case a.cross:
		// Beyond the cross, towards the receiver, clear of the label at
		// the sender's end.
		pl.cross(w, a.x2, a.y2, "end cross")
		anchor, x := "start", a.x2+9
		if p.From == Right {
			anchor, x = "end", a.x2-9
		}
		fmt.Fprintf(w, `<text class="end lost-text" x="%s" y="%s" text-anchor="%s" fill="%s" font-weight="bold">%s</text>`+"\n",
			num(x), num(a.y2+4), anchor, colLost, esc(lostTextIn(p, pl.d.opt.Lang)))
	case a.open:
		fmt.Fprintf(w, `<text class="end open" x="%s" y="%s" text-anchor="middle" fill="%s">…?</text>`+"\n",
			num(a.x2+12*ux), num(a.y2+12*uy+4), colMuted)
	}

	// The label reads left to right along the shaft, starting at the
	// sender's end.
	ang := math.Atan2(dy, dx) * 180 / math.Pi
	anchor := "start"
	off := 12.0
	if p.From == Right {
		ang = math.Atan2(-dy, -dx) * 180 / math.Pi
		anchor, off = "end", 12
	}
	ax, ay := a.x1+off*ux, a.y1+off*uy
	label := d.body(p)
	if p.CopyOf > 0 {
		// A copy runs beside its original: a short label at its far end
		// keeps the two apart.
		label = d.opt.Lang.Trf("#%d copy of #%d", p.N, p.CopyOf)
		back := 22.0
		if a.cross || a.open {
			back = 10
		}
		ax, ay = a.x2-back*ux, a.y2-back*uy
		if anchor == "start" {
			anchor = "end"
		} else {
			anchor = "start"
		}
	}
	rot := fmt.Sprintf(`transform="rotate(%s %s %s)"`, num(ang), num(ax), num(ay))
	fmt.Fprintf(w, `<text class="label" x="%s" y="%s" text-anchor="%s" fill="%s" %s>%s</text>`+"\n",
		num(ax), num(ay-4), anchor, a.colour, rot, esc(label))
	if a.startRow >= 0 && a.startRow < len(d.Rows) && d.Rows[a.startRow].Packet == i &&
		(d.Rows[a.startRow].Kind == RowSend || a.dotted) {
		for k, t := range pl.details[a.startRow] {
			fmt.Fprintf(w, `<text class="detail" x="%s" y="%s" text-anchor="%s" fill="%s" font-size="11" font-style="italic" %s>%s</text>`+"\n",
				num(ax), num(ay+12+svgLineH*float64(k)), anchor, a.colour, rot, esc(t))
		}
	}
	fmt.Fprintln(w, "</g>")
}

func (pl *svgPlan) cross(w *bufio.Writer, x, y float64, cls string) {
	const s = 5
	fmt.Fprintf(w, `<path class="%s" d="M%s %sL%s %sM%s %sL%s %s" stroke="%s" stroke-width="2.4"/>`+"\n", cls,
		num(x-s), num(y-s), num(x+s), num(y+s), num(x-s), num(y+s), num(x+s), num(y-s), colLost)
}

// row draws what row i shows besides arrows: state changes, and the text of
// rows that are not a packet's send.
func (pl *svgPlan) row(w *bufio.Writer, i int) {
	d := pl.d
	r := &d.Rows[i]
	y := pl.y[i]
	for sd := range r.Changed {
		if r.Changed[sd] {
			pl.state(w, Side(sd), y+4, r.State[sd], i)
		}
	}
	x, anchor := pl.leftX+10, "start"
	if r.Side == Right {
		x, anchor = pl.rightX-10, "end"
	}
	text := func(cls, colour, extra, s string, k int) {
		fmt.Fprintf(w, `<text class="%s" data-row="%d" x="%s" y="%s" text-anchor="%s" fill="%s"%s>%s</text>`+"\n",
			cls, i, num(x), num(y+4+svgLineH*float64(k)), anchor, colour, extra, esc(s))
	}
	p := d.Packet(r)
	switch r.Kind {
	case RowSend:
		return // the arrow carries it
	case RowArrive:
		if p != nil && !p.SendSeen {
			return // drawn with the arrow
		}
		// The arrow's head says it; only details (a drop) are written, below
		// the arrival.
		for k, t := range pl.details[i] {
			text("detail", colLost, ` font-size="11" font-style="italic"`, t, k+1)
		}
		return
	case RowLost:
		return // the arrow's cross
	case RowLink:
		text("link", colCopy, ` font-style="italic"`, r.Text, 0)
	case RowDrop:
		fmt.Fprintf(w, `<g data-row="%d">`, i)
		pl.cross(w, pl.lifeX(r.Side), y, "drop")
		fmt.Fprintln(w, "</g>")
		text("drop", colLost, "", r.Text, 0)
	case RowState:
		return
	case RowICMP:
		pl.icmp(w, i)
		colour := colICMP
		for k, mk := range r.Markers {
			if mk.Kind == MarkMalformed {
				colour = colLost
			}
			text("detail", colour, ` font-size="11" font-style="italic"`, mk.Text, k+1)
			colour = colICMP
		}
		return
	default: // timers, notes
		fmt.Fprintf(w, `<circle class="tick" data-row="%d" cx="%s" cy="%s" r="3" fill="%s"/>`+"\n",
			i, num(pl.lifeX(r.Side)), num(y), colMuted)
		text("note", colMuted, ` font-style="italic"`, r.Text, 0)
	}
	for k, t := range pl.details[i] {
		text("detail", colMuted, ` font-size="11" font-style="italic"`, t, k+1)
	}
}

// lifeX is the x of side sd's lifeline.
func (pl *svgPlan) lifeX(sd Side) float64 {
	if sd == Left {
		return pl.leftX
	}
	return pl.rightX
}

// legend explains colours and marks in two lines.
func (pl *svgPlan) legend(w *bufio.Writer) {
	d := pl.d
	y := pl.legendY
	x := 12.0
	fmt.Fprintln(w, `<g class="legend">`)
	item := func(colour, dash, label string) {
		fmt.Fprintf(w, `<line x1="%s" y1="%s" x2="%s" y2="%[2]s" stroke="%[4]s" stroke-width="2"%[5]s/>`, num(x), num(y-4), num(x+26), colour, dash)
		fmt.Fprintf(w, `<text x="%s" y="%s" fill="#111827">%s</text>`+"\n", num(x+32), num(y), esc(label))
		x += 32 + float64(len(label))*svgCharW + 18
	}
	l := d.opt.Lang
	item(colLeft, "", l.Trf("sent by %s", d.name(d.Hosts[Left])))
	item(colRight, "", l.Trf("sent by %s", d.name(d.Hosts[Right])))
	item(colRetransmit, "", l.Tr("retransmission"))
	item(colReset, "", "RST")
	item(colCopy, ` stroke-dasharray="7 4"`, l.Tr("copy made by the link"))
	if len(d.ICMP) > 0 {
		item(colICMP, ` stroke-dasharray="3 3"`, "ICMP message (◇: from a router)")
	}
	y += 18
	x = 12
	pl.cross(w, x+13, y-4, "legend-cross")
	fmt.Fprintf(w, `<text x="%s" y="%s" fill="#111827">%s</text>`+"\n", num(x+32), num(y),
		esc(l.Tr("lost on the way; #n numbers packets in sending order; a state is shown where it changes")))
	fmt.Fprintln(w, "</g>")
}

// icmp draws the ICMP message of row i: a dashed arrow to its receiver's
// lifeline from the other one, or from a router mark in the middle, with
// its words above the shaft.
func (pl *svgPlan) icmp(w *bufio.Writer, i int) {
	d := pl.d
	r := &d.Rows[i]
	m := d.icmpOf(r)
	if m == nil {
		return
	}
	y := pl.y[i]
	x2 := pl.lifeX(r.Side)
	x1 := (pl.leftX + pl.rightX) / 2
	if m.FromPeer {
		x1 = pl.lifeX(r.Side.Other())
	}
	dir := 1.0
	if x2 < x1 {
		dir = -1
	}
	fmt.Fprintf(w, `<g class="icmp" data-n="%d" data-row="%d">`+"\n", m.N, i)
	fmt.Fprintf(w, `<line class="shaft" x1="%[1]s" y1="%[2]s" x2="%[3]s" y2="%[2]s" stroke="%[4]s" stroke-width="1.6" stroke-dasharray="3 3"/>`+"\n",
		num(x1), num(y), num(x2), colICMP)
	fmt.Fprintf(w, `<polygon class="end head" points="%s,%s %s,%s %s,%s" fill="%s"/>`+"\n",
		num(x2), num(y), num(x2-10*dir), num(y-4), num(x2-10*dir), num(y+4), colICMP)
	if !m.FromPeer {
		fmt.Fprintf(w, `<polygon class="router" points="%s,%s %s,%s %s,%s %s,%s" fill="#ffffff" stroke="%s" stroke-width="1.6"/>`+"\n",
			num(x1), num(y-6), num(x1+6), num(y), num(x1), num(y+6), num(x1-6), num(y), colICMP)
	}
	x, anchor := x2+12*(-dir), "end"
	if dir < 0 {
		anchor = "start"
	}
	fmt.Fprintf(w, `<text class="label" x="%s" y="%s" text-anchor="%s" fill="%s">%s</text>`+"\n",
		num(x), num(y-8), anchor, colICMP, esc(d.icmpTitle(m)))
	fmt.Fprintln(w, "</g>")
}
