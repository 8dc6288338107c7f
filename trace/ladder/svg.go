package ladder

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace/i18n"
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

// svgPlan is a diagram laid out: where each row, arrow and text goes.
// WriteSVG draws it; WriteHTML also hands the rows' positions to the
// page's script.
type svgPlan struct {
	d                    *Diagram
	opt                  SVGOptions
	timeX, leftX, rightX float64
	laneX                float64 // where the side lane's texts start
	width, height, top   float64
	y                    []float64 // each row's line
	details              [][]string
	arrows               []svgArrow
	headLines            []string // title, numbering, notes
	titleLines           int      // how many of headLines are the title
	bottom, legendY      float64
	blocks               []*svgBlock   // every text, in the order they are placed
	arrowBlocks          [][]*svgBlock // the texts of each packet's arrow
	rowBlocks            [][]*svgBlock // the texts of each row
}

// svgLine is a line of text of the picture.
type svgLine struct {
	cls, colour, extra string // extra: more attributes
	size               float64
	s                  string
	row                int // its data-row; -1: none (it is in its packet's group)
}

// svgPos is where a line of text goes: its baseline's anchor, rotated by
// rot degrees about (rx, ry).
type svgPos struct {
	x, y        float64
	anchor      string
	rot, rx, ry float64
}

// svgBlock is a text that goes in one piece: a packet's label with its
// details, a note with its details, and so on. The layout puts it at the
// first of its places (cands) where it meets no other text, arrow,
// lifeline or box, or else in the side lane right of the right-hand
// states, on its row, where nothing else is; rows grow to make room.
type svgBlock struct {
	lines  []svgLine
	lane   []svgLine // what it says in the lane (nil: lines)
	row    int       // the row whose lane it goes to
	cands  func() [][]svgPos
	tagOf  *svgBlock // a tag ("#n" on the arrow) shown only if tagOf is in the lane
	inLane bool
	hidden bool // a tag not needed, or with no room
	pos    []svgPos
}

// shown are the lines the block draws where it is placed.
func (b *svgBlock) shown() []svgLine {
	if b.inLane && b.lane != nil {
		return b.lane
	}
	return b.lines
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

// gapText says how much time passes before row i, where it is long.
func (pl *svgPlan) gapText(i int) string {
	r := pl.d.Rows
	if i == 0 || r[i].At-r[i-1].At < svgGap {
		return ""
	}
	return pl.d.opt.Lang.Trf("%s later", time.Duration(r[i].At-r[i-1].At).String())
}

// wrapText cuts s into lines no wider than maxW at font size px: at
// spaces, or beside a CJK character (not before CJK punctuation); a word
// wider than maxW stays whole.
func wrapText(s string, px, maxW float64) []string {
	wide := func(r rune) bool { return i18n.Width(string(r)) == 2 }
	var out []string
	for textWidth(s, px) > maxW {
		rs := []rune(s)
		cut, w := -1, 0.0 // break before rs[cut]
		for i, r := range rs {
			if i > 0 && (r == ' ' || wide(r) || wide(rs[i-1])) && !strings.ContainsRune("，。；：）、」’”", r) {
				cut = i
			}
			w += textWidth(string(r), px)
			if w > maxW && cut > 0 {
				break
			}
		}
		if cut <= 0 {
			break
		}
		out = append(out, strings.TrimRight(string(rs[:cut]), " "))
		s = strings.TrimLeft(string(rs[cut:]), " ")
	}
	return append(out, s)
}

// stateBoxW is the width of the box of state name.
func stateBoxW(name string) float64 {
	return max(svgStateW, textWidth(name, 12)+14)
}

// svgLaneLineH is the height of a line of text in the side lane.
const svgLaneLineH = 15.0

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
	// (wide enough for the longest label), the right states, the lane.
	timeW := textWidth(l.Tr("time"), 12)
	for i := range d.Rows {
		timeW = max(timeW, textWidth(d.Rows[i].At.String(), 12))
		if t := pl.gapText(i); t != "" {
			timeW = max(timeW, textWidth(t, 11))
		}
	}
	stateW := [2]float64{stateBoxW(initial(d.Hosts[Left])), stateBoxW(initial(d.Hosts[Right]))}
	for i := range d.Rows {
		for sd := range d.Rows[i].Changed {
			if d.Rows[i].Changed[sd] {
				stateW[sd] = max(stateW[sd], stateBoxW(d.Rows[i].State[sd]))
			}
		}
	}
	pl.timeX = 12 + math.Ceil(timeW)
	pl.leftX = pl.timeX + 16 + stateW[Left] + 10
	area := svgMinArea
	for i := range d.Packets {
		area = max(area, textWidth(d.body(&d.Packets[i]), 12)+80)
	}
	for i := range d.Rows {
		for _, t := range rowDetails(&d.Rows[i]) {
			area = max(area, textWidth(t, 11)+80)
		}
		if t := d.Rows[i].Text; t != "" {
			area = max(area, textWidth(t, 12)+60)
		}
		if m := d.icmpOf(&d.Rows[i]); m != nil {
			area = max(area, textWidth(d.icmpTitle(m), 12)+60)
		}
	}
	pl.rightX = pl.leftX + math.Round(area)
	pl.laneX = pl.rightX + 10 + stateW[Right] + 16
	pl.width = pl.rightX + 10 + stateW[Right] + 12
	// Long head lines are wrapped to the picture's width, or 100 columns.
	wrapW := max(pl.width-24, 100*svgCharW)
	var head []string
	for i, h := range pl.headLines {
		size := 12.0
		if i == 0 && opt.Title != "" {
			size = 14 // the title is larger
			head = append(head, h)
			pl.titleLines = 1
		} else {
			head = append(head, wrapText(h, size, wrapW)...)
		}
	}
	pl.headLines = head
	for i, h := range pl.headLines {
		size := 12.0
		if i < pl.titleLines {
			size = 14
		}
		pl.width = max(pl.width, 24+textWidth(h, size))
	}
	if !d.opt.NoLegend {
		pl.width = max(pl.width, legendWidth(d))
	}
	pl.details = make([][]string, len(d.Rows))
	for i := range d.Rows {
		pl.details[i] = rowDetails(&d.Rows[i])
	}
	pl.makeBlocks()
	pl.place()
	return pl
}

// layRows places the rows: one line each, more under rows with details,
// and as many lines as the lane holds on each row.
func (pl *svgPlan) layRows() {
	d := pl.d
	lane := make([]int, len(d.Rows))
	for _, b := range pl.blocks {
		if b.inLane {
			lane[b.row] += len(b.shown())
		}
	}
	pl.top = 16 + 16*float64(len(pl.headLines)) + 64
	y := pl.top + 14
	pl.y = make([]float64, len(d.Rows))
	for i := range d.Rows {
		if i > 0 && d.Rows[i].At-d.Rows[i-1].At >= svgGap {
			y += svgGapH // room to say how much time passes
		}
		pl.y[i] = y
		y += max(svgRowH+svgLineH*float64(len(pl.details[i])), svgLaneLineH*float64(lane[i]))
	}
	pl.bottom = y
	pl.legendY = y + 24
	pl.height = pl.legendY + 44
	if d.opt.NoLegend {
		pl.height = y + 16
	}
}

// place lays out rows, arrows and texts: each text where it first fits,
// or in the lane. A text moved to the lane makes its row taller, which
// moves what is below; so the layout is done again until no text moves,
// at most a few times, after which every text still in the middle goes
// to the lane, where it meets nothing.
func (pl *svgPlan) place() {
	const rounds = 6
	for round := 0; ; round++ {
		pl.layRows()
		pl.planArrows()
		if round == rounds {
			for _, b := range pl.blocks {
				if b.tagOf == nil {
					b.inLane = true
				}
			}
			pl.layRows()
			pl.planArrows()
		}
		obstacles := pl.obstacles()
		var placed []poly
		moved := false
		for _, b := range pl.blocks {
			b.hidden, b.pos = false, nil
			if b.tagOf != nil && !b.tagOf.inLane {
				b.hidden = true
				continue
			}
			if b.inLane {
				continue
			}
			ok := false
			for _, c := range b.cands() {
				ps := blockPolys(b.lines, c)
				if !anyMeet(ps, obstacles) && !anyMeet(ps, placed) {
					b.pos, ok = c, true
					placed = append(placed, ps...)
					break
				}
			}
			switch {
			case ok:
			case b.tagOf != nil:
				b.hidden = true
			default:
				b.inLane, moved = true, true
			}
		}
		if !moved {
			break
		}
	}
	// The lane: each row's texts one under another.
	next := make([]int, len(pl.d.Rows))
	for _, b := range pl.blocks {
		if !b.inLane {
			continue
		}
		for _, ln := range b.shown() {
			y := pl.y[b.row] + 4 + svgLaneLineH*float64(next[b.row])
			next[b.row]++
			b.pos = append(b.pos, svgPos{x: pl.laneX, y: y, anchor: "start"})
			pl.width = max(pl.width, pl.laneX+textWidth(ln.s, ln.size)+12)
		}
	}
}

// blockPolys are the boxes of lines placed at pos.
func blockPolys(lines []svgLine, pos []svgPos) []poly {
	out := make([]poly, len(lines))
	for i, ln := range lines {
		p := pos[i]
		out[i] = textPoly(ln.s, ln.size, p.x, p.y, p.anchor, p.rot, p.rx, p.ry, 1)
	}
	return out
}

func anyMeet(a, b []poly) bool {
	for _, p := range a {
		for _, q := range b {
			if p.meets(q) {
				return true
			}
		}
	}
	return false
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
// legend. No text meets another text, an arrow, a lifeline or a box: a
// label with no room along its arrow is written in a lane right of the
// right-hand states, on its row (see svgBlock). The picture depends only
// on d and opt.
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
		if i < pl.titleLines {
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
		if t := pl.gapText(i); t != "" {
			fmt.Fprintf(w, `<text class="gap" data-row="%d" x="%s" y="%s" text-anchor="end" fill="%s" font-size="11" font-style="italic">%s</text>`+"\n",
				i, num(pl.timeX), num(pl.y[i]-svgRowH/2-4), colMuted, esc(t))
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
	bw := stateBoxW(name)
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
		pl.cross(w, a.x2, a.y2, "end cross")
	}
	pl.writeBlocks(w, pl.arrowBlocks[i])
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
	switch r.Kind {
	case RowDrop:
		fmt.Fprintf(w, `<g data-row="%d">`, i)
		pl.cross(w, pl.lifeX(r.Side), y, "drop")
		fmt.Fprintln(w, "</g>")
	case RowICMP:
		pl.icmp(w, i)
		return // its texts are in its group
	case RowSend, RowArrive, RowLost, RowLink, RowState:
	default: // timers, notes
		fmt.Fprintf(w, `<circle class="tick" data-row="%d" cx="%s" cy="%s" r="3" fill="%s"/>`+"\n",
			i, num(pl.lifeX(r.Side)), num(y), colMuted)
	}
	pl.writeBlocks(w, pl.rowBlocks[i])
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
		x += 32 + textWidth(label, 12) + 18
	}
	items, last := legendItems(d)
	for _, it := range items {
		item(it.colour, it.dash, it.label)
	}
	y += 18
	x = 12
	pl.cross(w, x+13, y-4, "legend-cross")
	fmt.Fprintf(w, `<text x="%s" y="%s" fill="#111827">%s</text>`+"\n", num(x+32), num(y), esc(last))
	fmt.Fprintln(w, "</g>")
}

type legendItem struct{ colour, dash, label string }

// legendItems are the legend's first line, and its second line's words.
func legendItems(d *Diagram) ([]legendItem, string) {
	l := d.opt.Lang
	items := []legendItem{
		{colLeft, "", l.Trf("sent by %s", d.name(d.Hosts[Left]))},
		{colRight, "", l.Trf("sent by %s", d.name(d.Hosts[Right]))},
		{colRetransmit, "", l.Tr("retransmission")},
		{colReset, "", "RST"},
		{colCopy, ` stroke-dasharray="7 4"`, l.Tr("copy made by the link")},
	}
	if len(d.ICMP) > 0 {
		items = append(items, legendItem{colICMP, ` stroke-dasharray="3 3"`, l.Tr("ICMP message (◇: from a router)")})
	}
	return items, l.Tr("lost on the way; #n numbers packets in sending order; a state is shown where it changes")
}

// legendWidth is how wide the legend is.
func legendWidth(d *Diagram) float64 {
	items, last := legendItems(d)
	x := 12.0
	for _, it := range items {
		x += 32 + textWidth(it.label, 12) + 18
	}
	return max(x, 12+32+textWidth(last, 12)+12)
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
	x1, x2, y, router := pl.icmpLine(i)
	dir := 1.0
	if x2 < x1 {
		dir = -1
	}
	fmt.Fprintf(w, `<g class="icmp" data-n="%d" data-row="%d">`+"\n", m.N, i)
	fmt.Fprintf(w, `<line class="shaft" x1="%[1]s" y1="%[2]s" x2="%[3]s" y2="%[2]s" stroke="%[4]s" stroke-width="1.6" stroke-dasharray="3 3"/>`+"\n",
		num(x1), num(y), num(x2), colICMP)
	fmt.Fprintf(w, `<polygon class="end head" points="%s,%s %s,%s %s,%s" fill="%s"/>`+"\n",
		num(x2), num(y), num(x2-10*dir), num(y-4), num(x2-10*dir), num(y+4), colICMP)
	if router {
		fmt.Fprintf(w, `<polygon class="router" points="%s,%s %s,%s %s,%s %s,%s" fill="#ffffff" stroke="%s" stroke-width="1.6"/>`+"\n",
			num(x1), num(y-6), num(x1+6), num(y), num(x1), num(y+6), num(x1-6), num(y), colICMP)
	}
	pl.writeBlocks(w, pl.rowBlocks[i])
	fmt.Fprintln(w, "</g>")
}

// Attributes of the kinds of text.
const (
	attrDetail = ` font-size="11" font-style="italic"`
	attrItalic = ` font-style="italic"`
)

// makeBlocks makes the texts of the picture and the places each may go.
func (pl *svgPlan) makeBlocks() {
	d := pl.d
	l := d.opt.Lang
	pl.arrowBlocks = make([][]*svgBlock, len(d.Packets))
	pl.rowBlocks = make([][]*svgBlock, len(d.Rows))
	var labels, ends, rows, tags []*svgBlock
	// Which rows arrows start and end on, and how they end, does not
	// depend on where the rows are.
	pl.layRows()
	pl.planArrows()
	for i := range d.Packets {
		p := &d.Packets[i]
		i := i
		colour := packetColour(p)
		// The label, and the details of its send row beneath it.
		b := &svgBlock{}
		if p.CopyOf > 0 {
			// A copy runs beside its original: a short label at its far
			// end keeps the two apart.
			b.lines = []svgLine{{cls: "label", colour: colour, size: 12, s: l.Trf("#%d copy of #%d", p.N, p.CopyOf), row: -1}}
		} else {
			b.lines = []svgLine{{cls: "label", colour: colour, size: 12, s: d.body(p), row: -1}}
		}
		withDetails := func() []string {
			a := &pl.arrows[i]
			if a.startRow >= 0 && a.startRow < len(d.Rows) && d.Rows[a.startRow].Packet == i &&
				(d.Rows[a.startRow].Kind == RowSend || a.dotted) {
				return pl.details[a.startRow]
			}
			return nil
		}
		for _, t := range withDetails() {
			b.lines = append(b.lines, svgLine{cls: "detail", colour: colour, extra: attrDetail, size: 11, s: t, row: -1})
		}
		b.row = pl.arrows[i].startRow
		copyLabel := p.CopyOf > 0
		b.cands = func() [][]svgPos {
			n := len(b.lines)
			order := []int{alongStart, alongMiddle, alongEnd}
			if copyLabel {
				order = []int{alongEnd, alongMiddle, alongStart}
			}
			var c [][]svgPos
			for _, below := range []bool{false, true} {
				for _, where := range order {
					c = append(c, pl.along(i, n, where, below))
				}
			}
			return append(c, pl.flat(i, n))
		}
		labels = append(labels, b)
		pl.arrowBlocks[i] = append(pl.arrowBlocks[i], b)
		if p.CopyOf == 0 {
			// Where the label is in the lane, its number on the arrow.
			tag := &svgBlock{tagOf: b, lines: []svgLine{{cls: "label tag", colour: colour, size: 12, s: fmt.Sprintf("#%d", p.N), row: -1}}}
			tag.cands = func() [][]svgPos {
				return [][]svgPos{pl.along(i, 1, alongStart, false), pl.along(i, 1, alongMiddle, false), pl.along(i, 1, alongEnd, false),
					pl.along(i, 1, alongStart, true), pl.along(i, 1, alongMiddle, true), pl.along(i, 1, alongEnd, true)}
			}
			tags = append(tags, tag)
			pl.arrowBlocks[i] = append(pl.arrowBlocks[i], tag)
		}
		// The words at a lost packet's cross, or the mark of one still
		// in flight.
		a := &pl.arrows[i]
		switch {
		case a.cross:
			t := lostTextIn(p, l)
			e := &svgBlock{
				lines: []svgLine{{cls: "end lost-text", colour: colLost, extra: ` font-weight="bold"`, size: 12, s: t, row: -1}},
				lane:  []svgLine{{cls: "end lost-text", colour: colLost, extra: ` font-weight="bold"`, size: 12, s: fmt.Sprintf("#%d %s", p.N, t), row: -1}},
				row:   a.endRow,
			}
			right := p.From == Right
			e.cands = func() [][]svgPos {
				a := &pl.arrows[i]
				// Beyond the cross, towards the receiver, clear of the
				// label at the sender's end; or under the cross.
				beside := svgPos{x: a.x2 + 9, y: a.y2 + 4, anchor: "start"}
				if right {
					beside = svgPos{x: a.x2 - 9, y: a.y2 + 4, anchor: "end"}
				}
				return [][]svgPos{{beside}, {{x: a.x2, y: a.y2 + 18, anchor: "middle"}}}
			}
			ends = append(ends, e)
			pl.arrowBlocks[i] = append(pl.arrowBlocks[i], e)
		case a.open:
			e := &svgBlock{
				lines: []svgLine{{cls: "end open", colour: colMuted, size: 12, s: "…?", row: -1}},
				lane:  []svgLine{{cls: "end open", colour: colMuted, size: 12, s: fmt.Sprintf("#%d …?", p.N), row: -1}},
				row:   a.endRow,
			}
			e.cands = func() [][]svgPos {
				a := &pl.arrows[i]
				dx, dy := a.x2-a.x1, a.y2-a.y1
				ln := math.Hypot(dx, dy)
				return [][]svgPos{{{x: a.x2 + 12*dx/ln, y: a.y2 + 12*dy/ln + 4, anchor: "middle"}}}
			}
			ends = append(ends, e)
			pl.arrowBlocks[i] = append(pl.arrowBlocks[i], e)
		}
	}
	for i := range d.Rows {
		r := &d.Rows[i]
		i := i
		var lines []svgLine
		detail := func(colour, prefix string) {
			for _, t := range pl.details[i] {
				lines = append(lines, svgLine{cls: "detail", colour: colour, extra: attrDetail, size: 11, s: prefix + t, row: i})
			}
		}
		p := d.Packet(r)
		first := 0 // the line of the row its first line is on
		switch r.Kind {
		case RowArrive:
			if p != nil && !p.SendSeen {
				continue // drawn with the arrow
			}
			// The arrow's head says it; only details (a drop) are
			// written, below the arrival.
			detail(colLost, "")
			first = 1
		case RowLink:
			lines = append(lines, svgLine{cls: "link", colour: colCopy, extra: attrItalic, size: 12, s: r.Text, row: i})
			detail(colMuted, "")
		case RowDrop:
			lines = append(lines, svgLine{cls: "drop", colour: colLost, size: 12, s: r.Text, row: i})
			detail(colMuted, "")
		case RowSend, RowLost, RowState:
			continue
		case RowICMP:
			first = 1
			if m := d.icmpOf(r); m != nil {
				lines = append(lines, svgLine{cls: "label", colour: colICMP, size: 12, s: d.icmpTitle(m), row: -1})
			}
			for _, mk := range r.Markers {
				colour := colICMP
				if mk.Kind == MarkMalformed {
					colour = colLost
				}
				lines = append(lines, svgLine{cls: "detail", colour: colour, extra: attrDetail, size: 11, s: mk.Text, row: i})
			}
		default: // timers, notes
			lines = append(lines, svgLine{cls: "note", colour: colMuted, extra: attrItalic, size: 12, s: r.Text, row: i})
			detail(colMuted, "")
		}
		if len(lines) == 0 {
			continue
		}
		b := &svgBlock{lines: lines, row: i}
		switch {
		case r.Kind == RowArrive && p != nil:
			// In the lane, say which packet it is about.
			for _, ln := range lines {
				ln.s = fmt.Sprintf("#%d %s", p.N, ln.s)
				b.lane = append(b.lane, ln)
			}
		case r.Kind != RowICMP && r.Kind != RowLink:
			// A note in the lane, far from its lifeline, names its host.
			b.lane = append([]svgLine(nil), lines...)
			b.lane[0].s = d.name(d.Hosts[r.Side]) + l.Tr(": ") + b.lane[0].s
		}
		icmp := r.Kind == RowICMP && d.icmpOf(r) != nil
		b.cands = func() [][]svgPos {
			y := pl.y[i]
			x, anchor := pl.leftX+10, "start"
			if r.Side == Right {
				x, anchor = pl.rightX-10, "end"
			}
			var c []svgPos
			k := first
			for n := range b.lines {
				if n == 0 && icmp {
					c = append(c, pl.icmpTitlePos(i))
					continue
				}
				if icmp {
					k = n
				}
				c = append(c, svgPos{x: x, y: y + 4 + svgLineH*float64(k), anchor: anchor})
				k++
			}
			return [][]svgPos{c}
		}
		rows = append(rows, b)
		pl.rowBlocks[i] = append(pl.rowBlocks[i], b)
	}
	pl.blocks = append(append(append(labels, ends...), rows...), tags...)
}

// Where along its arrow a text goes.
const (
	alongStart = iota
	alongMiddle
	alongEnd
)

// along places n lines along arrow i: the first just above the shaft,
// the others under it (or, below, all of them under it), reading left to
// right; at the sender's end, the middle, or the receiver's end (clear of
// the arrow's head or cross).
func (pl *svgPlan) along(i, n, where int, below bool) []svgPos {
	p := &pl.d.Packets[i]
	a := &pl.arrows[i]
	dx, dy := a.x2-a.x1, a.y2-a.y1
	l := math.Hypot(dx, dy)
	ux, uy := dx/l, dy/l
	ang := math.Atan2(dy, dx) * 180 / math.Pi
	anchor, other := "start", "end"
	if p.From == Right {
		ang = math.Atan2(-dy, -dx) * 180 / math.Pi
		anchor, other = "end", "start"
	}
	ax, ay := a.x1+12*ux, a.y1+12*uy
	switch where {
	case alongMiddle:
		ax, ay, anchor = (a.x1+a.x2)/2, (a.y1+a.y2)/2, "middle"
	case alongEnd:
		back := 22.0
		switch {
		case a.dropped:
			back = 32 // beyond the receiver's cross
		case a.cross:
			back = 12
		case a.open:
			back = 4
		}
		ax, ay, anchor = a.x2-back*ux, a.y2-back*uy, other
	}
	out := make([]svgPos, n)
	for k := range out {
		y := ay - 4
		switch {
		case below:
			y = ay + 13 + svgLineH*float64(k)
		case k > 0:
			y = ay + 12 + svgLineH*float64(k-1)
		}
		out[k] = svgPos{x: ax, y: y, anchor: anchor, rot: ang, rx: ax, ry: ay}
	}
	return out
}

// flat places n lines level above the start of arrow i, beside the
// sender's lifeline, the last just above the shaft's start: where an
// arrow is short (a loss) or crossed (packets in flight at once), the
// rows above it may have room.
func (pl *svgPlan) flat(i, n int) []svgPos {
	a := &pl.arrows[i]
	x, anchor := a.x1+12, "start"
	if pl.d.Packets[i].From == Right {
		x, anchor = a.x1-12, "end"
	}
	out := make([]svgPos, n)
	for k := range out {
		out[k] = svgPos{x: x, y: a.y1 - 4 - svgLineH*float64(n-1-k), anchor: anchor}
	}
	return out
}

// icmpTitlePos is where the words of row i's ICMP message go: above its
// shaft, ending short of the head, high enough to clear the router's mark.
func (pl *svgPlan) icmpTitlePos(i int) svgPos {
	x1, x2, y, _ := pl.icmpLine(i)
	if x2 > x1 {
		return svgPos{x: x2 - 12, y: y - 10, anchor: "end"}
	}
	return svgPos{x: x2 + 12, y: y - 10, anchor: "start"}
}

// icmpLine is the shaft of row i's ICMP message and whether it comes from
// a router in the middle.
func (pl *svgPlan) icmpLine(i int) (x1, x2, y float64, router bool) {
	r := &pl.d.Rows[i]
	m := pl.d.icmpOf(r)
	x2 = pl.lifeX(r.Side)
	x1 = (pl.leftX + pl.rightX) / 2
	if m != nil && m.FromPeer {
		x1 = pl.lifeX(r.Side.Other())
	}
	return x1, x2, pl.y[i], m != nil && !m.FromPeer
}

// obstacles are the shapes texts must keep clear of: everything drawn but
// the texts placed by the layout.
func (pl *svgPlan) obstacles() []poly {
	d := pl.d
	seg := func(x1, y1, x2, y2 float64) poly { return newPoly(point{x1, y1}, point{x2, y2}) }
	cross := func(out []poly, x, y float64) []poly {
		const s = 5
		return append(out, seg(x-s, y-s, x+s, y+s), seg(x-s, y+s, x+s, y-s))
	}
	stateBox := func(sd Side, y float64, name string) poly {
		bw := stateBoxW(name)
		x := pl.leftX - 10 - bw
		if sd == Right {
			x = pl.rightX + 10
		}
		return rectPoly(x, y-13, bw, 18)
	}
	var out []poly
	// Above the rows: the head lines, hosts and their first states; below
	// them, the legend.
	out = append(out, rectPoly(-1e4, -1e4, 1e5, 1e4+pl.top-12), rectPoly(-1e4, pl.bottom+2, 1e5, 1e4))
	for sd := range d.Hosts {
		out = append(out, stateBox(Side(sd), pl.top-18, initial(d.Hosts[sd])))
	}
	for _, x := range [2]float64{pl.leftX, pl.rightX} {
		out = append(out, seg(x, pl.top-4, x, pl.bottom))
	}
	for i := range pl.arrows {
		a := &pl.arrows[i]
		out = append(out, seg(a.x1, a.y1, a.x2, a.y2))
		dx, dy := a.x2-a.x1, a.y2-a.y1
		l := math.Hypot(dx, dy)
		ux, uy := dx/l, dy/l
		switch {
		case a.head:
			bx, by := a.x2-10*ux, a.y2-10*uy
			out = append(out, newPoly(point{a.x2, a.y2}, point{bx - 4*uy, by + 4*ux}, point{bx + 4*uy, by - 4*ux}))
			if a.dropped {
				out = cross(out, a.x2-22*ux, a.y2-22*uy)
			}
		case a.cross:
			out = cross(out, a.x2, a.y2)
		}
	}
	for i := range d.Rows {
		r := &d.Rows[i]
		y := pl.y[i]
		for sd := range r.Changed {
			if r.Changed[sd] {
				out = append(out, stateBox(Side(sd), y+4, r.State[sd]))
			}
		}
		switch r.Kind {
		case RowSend, RowArrive, RowLost, RowLink, RowState:
		case RowDrop:
			out = cross(out, pl.lifeX(r.Side), y)
		case RowICMP:
			if d.icmpOf(r) == nil {
				break
			}
			x1, x2, y, router := pl.icmpLine(i)
			dir := 1.0
			if x2 < x1 {
				dir = -1
			}
			out = append(out, seg(x1, y, x2, y), newPoly(point{x2, y}, point{x2 - 10*dir, y - 4}, point{x2 - 10*dir, y + 4}))
			if router {
				out = append(out, newPoly(point{x1, y - 6}, point{x1 + 6, y}, point{x1, y + 6}, point{x1 - 6, y}))
			}
		default:
			x := pl.lifeX(r.Side)
			out = append(out, rectPoly(x-3, y-3, 6, 6))
		}
	}
	return out
}

// writeBlocks writes the texts of blocks where the layout put them.
func (pl *svgPlan) writeBlocks(w *bufio.Writer, blocks []*svgBlock) {
	for _, b := range blocks {
		if b.hidden {
			continue
		}
		for k, ln := range b.shown() {
			if k >= len(b.pos) {
				break
			}
			p := b.pos[k]
			row := ""
			if ln.row >= 0 {
				row = fmt.Sprintf(` data-row="%d"`, ln.row)
			}
			rot := ""
			if p.rot != 0 {
				rot = fmt.Sprintf(` transform="rotate(%s %s %s)"`, num(p.rot), num(p.rx), num(p.ry))
			}
			fmt.Fprintf(w, `<text class="%s"%s x="%s" y="%s" text-anchor="%s" fill="%s"%s%s>%s</text>`+"\n",
				ln.cls, row, num(p.x), num(p.y), p.anchor, ln.colour, ln.extra, rot, esc(ln.s))
		}
	}
}
