package ladder

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/wire"
)

// Text builds the diagram of events and draws it as text.
func Text(events []trace.Event, opt Options) (string, error) {
	d, err := Build(events, opt)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	if err := d.WriteText(&sb); err != nil {
		return "", err
	}
	return sb.String(), nil
}

// glyphs are the characters a text diagram is drawn with.
type glyphs struct {
	line, reset, unsent string // arrow shafts: normal, RST, send not recorded
	rail, teeL, teeR    string // the hosts' lifelines, and where an arrow leaves them
	sendR, sendL        string // heads of arrows in flight
	arriveR, arriveL    string // heads of arrows that arrive
	lost                string // where a packet ends
	tickL, tickR        string // a host's own line (timer, note, drop)
	sub                 string // before a detail of the row above
	pair                string // between the two hosts in the title
	icmp, router        string // an ICMP message's shaft, and the router it comes from
}

var unicodeGlyphs = glyphs{
	line: "─", reset: "═", unsent: "┄",
	rail: "│", teeL: "├", teeR: "┤",
	sendR: "▷", sendL: "◁", arriveR: "▶", arriveL: "◀",
	lost: "✗", tickL: "╴", tickR: "╶", sub: "└", pair: "⇄",
	icmp: "~", router: "◇",
}

var asciiGlyphs = glyphs{
	line: "-", reset: "=", unsent: ".",
	rail: "|", teeL: "|", teeR: "|",
	sendR: ">", sendL: "<", arriveR: ">", arriveL: "<",
	lost: "X", tickL: "-", tickR: "-", sub: "`-", pair: "<->",
	icmp: "~", router: "*",
}

// Legend explains the marks of a text diagram in two lines.
func Legend(ascii bool) string { return LegendIn(ascii, i18n.English) }

// LegendIn is Legend in language l.
func LegendIn(ascii bool, l i18n.Lang) string {
	g := unicodeGlyphs
	if ascii {
		g = asciiGlyphs
	}
	return l.Trf("legend: #n packet number  %[1]s%[1]s%[2]s sent  %[1]s%[1]s%[3]s arrives  %[4]s lost or dropped  "+
		"%[5]s%[5]s RST  %[6]s%[6]s%[3]s send not recorded\n"+
		"        %[7]s about the row above  a state is shown on the row where it changes\n",
		g.line, g.sendR, g.arriveR, g.lost, g.reset, g.unsent, g.sub)
}

// minArea is the least width between the two lifelines: with 9-character
// times and 12-character states, a diagram is 99 columns wide.
const minArea = 60

// part is what is drawn between the lifelines on one line: left and right
// text with fill between them, at least min cells of it.
type part struct {
	left, fill, right string
	min               int
	railL, railR      string
	sgr               string // ANSI colour of the text, with Options.Color
}

// ANSI select graphic rendition codes.
const (
	sgrReset   = "\x1b[0m"
	sgrBold    = "\x1b[1m"
	sgrDim     = "\x1b[2m"
	sgrRed     = "\x1b[31m"
	sgrGreen   = "\x1b[32m"
	sgrYellow  = "\x1b[33m"
	sgrBlue    = "\x1b[34m"
	sgrMagenta = "\x1b[35m"
)

// paint wraps s in an ANSI colour when on and s is not blank.
func paint(on bool, sgr, s string) string {
	if !on || sgr == "" || strings.TrimSpace(s) == "" {
		return s
	}
	return sgr + s + sgrReset
}

// packetSGR is the colour of a packet's arrow.
func packetSGR(p *Packet) string {
	switch {
	case p == nil:
		return sgrDim
	case p.Seg.Flags&wire.RST != 0:
		return sgrRed
	case p.CopyOf > 0:
		return sgrMagenta
	case p.Retransmit:
		return sgrYellow
	case p.From == Left:
		return sgrBlue
	}
	return sgrGreen
}

// markerSGR is the colour of a marker's line.
func markerSGR(k MarkerKind) string {
	switch k {
	case MarkRetransmit:
		return sgrYellow
	case MarkReset, MarkLost, MarkDropped, MarkCorrupted:
		return sgrRed
	case MarkDuplicated, MarkHeld, MarkQuote:
		return sgrMagenta
	case MarkMalformed:
		return sgrRed
	}
	return sgrDim
}

// width is the number of terminal columns s takes: a Chinese character
// takes two.
func width(s string) int { return i18n.Width(s) }

// textRow is a row laid out: its main line and the detail lines below it.
type textRow struct {
	time    string
	states  [2]string
	main    part
	details []part
}

// WriteText draws the diagram for a terminal: a title, the hosts' columns,
// one line per row with details beneath, and a legend.
func (d *Diagram) WriteText(w io.Writer) error {
	g := d.glyphs()
	bw := bufio.NewWriter(w)

	l := d.opt.Lang
	// Title: who, how the numbers read, what to know.
	fmt.Fprintln(bw, d.Title())
	fmt.Fprintln(bw, d.numbering())
	for _, n := range d.Notes {
		fmt.Fprintln(bw, l.Tr("note: ")+l.TrFilled(n))
	}
	if !d.Links && len(d.Packets) > 0 {
		fmt.Fprintln(bw, l.Tr("note: ")+l.Tr("no link events: an arrival is shown only where the receiver recorded it"))
	}
	fmt.Fprintln(bw)

	lay := d.fitLayout()
	for _, line := range d.TextHeader(lay) {
		fmt.Fprintln(bw, line)
	}
	for i := range d.Rows {
		for _, line := range d.TextRow(i, lay) {
			fmt.Fprintln(bw, line)
		}
	}
	if !d.opt.NoLegend {
		fmt.Fprintln(bw)
		fmt.Fprint(bw, LegendIn(d.opt.ASCII, l))
		if len(d.ICMP) > 0 {
			fmt.Fprintf(bw, "        %[1]s%[1]s%[2]s %[4]s  %[3]s%[1]s%[1]s%[2]s %[5]s\n", g.icmp, g.arriveR, g.router, l.Tr("ICMP message"), l.Tr("from a router on the path"))
		}
	}
	return bw.Flush()
}

// TextLayout is the widths of a text diagram's columns, in terminal
// columns: the time, the left host's states, and the area between the two
// lifelines.
type TextLayout struct {
	Time, State, Area int
}

// streamArea is the width between the lifelines of a ladder drawn as it
// grows: a SYN with the options Linux sends fits it.
const streamArea = 74

// StreamLayout is the layout of a ladder drawn row by row while it grows
// (a live capture), whose rows cannot be redrawn when a later one is
// wider: times up to 9999 s and a fixed width between the lifelines. A
// label longer than that pushes its line's right lifeline out.
func (d *Diagram) StreamLayout() TextLayout {
	return TextLayout{
		Time:  max(width(d.opt.Lang.Tr("time")), len("9999.999999s")),
		State: max(12, width(d.name(d.Hosts[Left])), width(initial(d.Hosts[Left]))),
		Area:  streamArea,
	}
}

// fitLayout is the layout that fits every row of d.
func (d *Diagram) fitLayout() TextLayout {
	g := d.glyphs()
	lay := TextLayout{Time: width(d.opt.Lang.Tr("time")), State: 12, Area: minArea}
	// Only the left column of states is padded.
	lay.State = max(lay.State, width(d.name(d.Hosts[Left])), width(initial(d.Hosts[Left])))
	for i := range d.Rows {
		tr := d.textRow(&d.Rows[i], g)
		lay.Time = max(lay.Time, width(tr.time))
		lay.State = max(lay.State, width(tr.states[Left]))
		for _, p := range append([]part{tr.main}, tr.details...) {
			lay.Area = max(lay.Area, width(p.left)+p.min+width(p.right))
		}
	}
	return lay
}

func (d *Diagram) glyphs() glyphs {
	if d.opt.ASCII {
		return asciiGlyphs
	}
	return unicodeGlyphs
}

// textRow lays out row r.
func (d *Diagram) textRow(r *Row, g glyphs) textRow {
	tr := textRow{time: r.At.String()}
	for sd := range r.State {
		if r.Changed[sd] {
			tr.states[sd] = r.State[sd]
		}
	}
	tr.main, tr.details = d.layout(r, g)
	return tr
}

// TextHeader returns the lines above the rows of the text diagram: the
// hosts' names over their lifelines, and their states before the first
// row.
func (d *Diagram) TextHeader(lay TextLayout) []string {
	g := d.glyphs()
	return []string{
		d.textLine(g, lay, d.opt.Lang.Tr("time"), d.name(d.Hosts[Left]), part{}, d.name(d.Hosts[Right])),
		d.textLine(g, lay, "", initial(d.Hosts[Left]), part{}, initial(d.Hosts[Right])),
	}
}

// TextRow returns the lines of row i of the text diagram: its main line
// and the details beneath it.
func (d *Diagram) TextRow(i int, lay TextLayout) []string {
	g := d.glyphs()
	tr := d.textRow(&d.Rows[i], g)
	out := []string{d.textLine(g, lay, tr.time, tr.states[Left], tr.main, tr.states[Right])}
	for _, p := range tr.details {
		out = append(out, d.textLine(g, lay, "", "", p, ""))
	}
	return out
}

// textLine draws one line: time, left state, what is between the
// lifelines, right state.
func (d *Diagram) textLine(g glyphs, lay TextLayout, time, ls string, p part, rs string) string {
	railL, railR := p.railL, p.railR
	if railL == "" {
		railL = g.rail
	}
	if railR == "" {
		railR = g.rail
	}
	fill := max(lay.Area-width(p.left)-width(p.right), p.min)
	if p.fill == "" {
		p.fill = " "
	}
	c := d.opt.Color
	s := fmt.Sprintf("%s  %s %s%s%s %s", paint(c, sgrDim, padLeft(time, lay.Time)), paint(c, sgrBold, pad(ls, lay.State)),
		railL, paint(c, p.sgr, p.left+strings.Repeat(p.fill, fill)+p.right), railR, paint(c, sgrBold, rs))
	return strings.TrimRight(s, " ")
}

func pad(s string, n int) string {
	if w := width(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// padLeft right-aligns s in n columns.
func padLeft(s string, n int) string {
	if w := width(s); w < n {
		return strings.Repeat(" ", n-w) + s
	}
	return s
}

// name is how the diagram calls host h: its name, in the diagram's
// language ("client" is 客户端 in Chinese).
func (d *Diagram) name(h Host) string { return d.opt.Lang.Tr(h.Name) }

func (d *Diagram) hostTitle(h Host) string {
	if h.Addr.IsValid() && h.Addr.String() != h.Name {
		return d.name(h) + " " + h.Addr.String()
	}
	return d.name(h)
}

func initial(h Host) string {
	if h.Initial == "" {
		return "?"
	}
	return h.Initial
}

// numbering says how to read sequence numbers.
func (d *Diagram) numbering() string {
	l := d.opt.Lang
	isn := func(h Host) string {
		if h.FirstSeen {
			return l.Trf("%s not seen, counted from its first seq %s", d.name(h), h.ISN.String())
		}
		if h.HasISN {
			return d.name(h) + " " + h.ISN.String()
		}
		return l.Trf("%s unknown", d.name(h))
	}
	isns := l.Trf("ISNs: %s, %s", isn(d.Hosts[Left]), isn(d.Hosts[Right]))
	switch {
	case !d.Relative() && !d.Hosts[Left].HasISN && !d.Hosts[Right].HasISN:
		return l.Tr("absolute sequence numbers (no SYN seen, ISNs unknown)")
	case !d.Relative():
		return l.Trf("absolute sequence numbers (%s)", isns)
	}
	s := l.Trf("seq and ack relative to each side's ISN (%s)", isns)
	for i := range d.Packets {
		if d.Packets[i].AbsSeq || d.Packets[i].AbsAck {
			s += l.Tr("; [abs]: absolute, ISN not yet seen")
			break
		}
	}
	return s
}

// body is an arrow's text: number, canonical line, absolute flag.
func (d *Diagram) body(p *Packet) string {
	s := fmt.Sprintf("#%d %s", p.N, p.Label)
	if d.Relative() {
		switch {
		case p.AbsSeq && p.AbsAck:
			s += d.opt.Lang.Tr(" [abs]")
		case p.AbsSeq:
			s += d.opt.Lang.Tr(" [abs seq]")
		case p.AbsAck:
			s += d.opt.Lang.Tr(" [abs ack]")
		}
	}
	return s
}

// short names a packet on rows other than the one with its label, in
// language l.
func short(p *Packet, l i18n.Lang) string {
	s := fmt.Sprintf("#%d %s", p.N, p.Seg.Flags)
	if p.CopyOf > 0 {
		s += l.Trf(" (copy of #%d)", p.CopyOf)
	}
	return s
}

// layout draws row r: its main line and the markers beneath it.
func (d *Diagram) layout(r *Row, g glyphs) (part, []part) {
	var m part
	l := d.opt.Lang
	p := d.Packet(r)
	left := r.Side == Left
	shaft := g.line
	if p != nil && p.Seg.Flags&wire.RST != 0 {
		shaft = g.reset
	}
	two := shaft + shaft
	var details, sgrs []string
	lost := ""
	for _, mk := range r.Markers {
		if mk.Kind == MarkLost && r.Kind == RowSend {
			// Drawn on the arrow; a reason other than plain loss (a rule,
			// a full queue) goes beneath.
			lost = l.Tr("lost")
			if p != nil && !p.plainLoss() {
				details = append(details, droppedText(p, l))
				sgrs = append(sgrs, sgrRed)
			}
			continue
		}
		details = append(details, mk.Text)
		sgrs = append(sgrs, markerSGR(mk.Kind))
	}
	switch {
	case r.Kind == RowSend && p != nil:
		b := d.body(p)
		switch {
		case left && lost != "":
			m = part{left: two + " " + b + " " + two + g.lost + " " + lost, min: 1, railL: g.teeL}
		case left:
			m = part{left: two + " " + b + " ", fill: shaft, min: 2, right: g.sendR, railL: g.teeL}
		case lost != "":
			m = part{right: lost + " " + g.lost + two + " " + b + " " + two, min: 1, railR: g.teeR}
		default:
			m = part{left: g.sendL, fill: shaft, min: 2, right: " " + b + " " + two, railR: g.teeR}
		}
	case r.Kind == RowArrive && p != nil && !p.SendSeen:
		// Only the arrival was recorded: the whole arrow, dotted where the
		// send is unknown.
		b, dot := d.body(p), g.unsent+g.unsent
		if left {
			m = part{left: g.arriveL, fill: g.unsent, min: 2, right: " " + b + " " + dot, railL: g.teeL}
		} else {
			m = part{left: dot + " " + b + " ", fill: g.unsent, min: 2, right: g.arriveR, railR: g.teeR}
		}
	case r.Kind == RowArrive && p != nil:
		t := l.Trf("%s arrives", short(p, l))
		if p.Held {
			t = l.Trf("%s arrives (was held back)", short(p, l))
		}
		if left {
			m = part{left: g.arriveL + two + " " + t, railL: g.teeL}
		} else {
			m = part{right: t + " " + two + g.arriveR, railR: g.teeR}
		}
	case r.Kind == RowLost && p != nil:
		t := short(p, l) + " " + lostTextIn(p, l)
		if left {
			m = part{left: "   " + g.lost + " " + t}
		} else {
			m = part{right: t + " " + g.lost + "   "}
		}
	case r.Kind == RowLink:
		if left {
			m = part{left: "   " + l.Tr(r.Text)}
		} else {
			m = part{right: l.Tr(r.Text) + "   "}
		}
	case r.Kind == RowDrop:
		if left {
			m = part{left: g.tickL + " " + g.lost + " " + l.Tr(r.Text), railL: g.teeL}
		} else {
			m = part{right: l.Tr(r.Text) + " " + g.lost + " " + g.tickR, railR: g.teeR}
		}
	case r.Kind == RowICMP:
		m = d.icmpPart(r, g)
	case r.Kind == RowState:
	default: // timers, notes
		if left {
			m = part{left: g.tickL + " " + l.Tr(r.Text), railL: g.teeL}
		} else {
			m = part{right: l.Tr(r.Text) + " " + g.tickR, railR: g.teeR}
		}
	}
	// Details sit under the text they are about: an arrow's label is at its
	// sender's end.
	if r.Kind == RowArrive && p != nil && !p.SendSeen {
		left = p.From == Left
	}
	switch {
	case r.Kind == RowLost || lost != "":
		m.sgr = sgrRed
	case p != nil:
		m.sgr = packetSGR(p)
	case r.Kind == RowDrop:
		m.sgr = sgrRed
	case r.Kind == RowICMP:
		m.sgr = sgrMagenta
	default:
		m.sgr = sgrDim
	}
	var ds []part
	for k, t := range details {
		if left {
			ds = append(ds, part{left: "   " + g.sub + " " + t, sgr: sgrs[k]})
		} else {
			ds = append(ds, part{right: g.sub + " " + t + "   ", sgr: sgrs[k]})
		}
	}
	return m, ds
}

// icmpPart draws an ICMP row: an arrow to the side it reached, from the
// other lifeline when the other host sent it, else from a router mark
// clear of the far lifeline.
func (d *Diagram) icmpPart(r *Row, g glyphs) part {
	m := d.icmpOf(r)
	if m == nil {
		return part{}
	}
	t, two := d.icmpTitle(m), g.icmp+g.icmp
	switch {
	case r.Side == Left && m.FromPeer:
		return part{left: g.arriveL, fill: g.icmp, min: 2, right: " " + t + " " + two, railL: g.teeL, railR: g.teeR}
	case r.Side == Left:
		return part{left: g.arriveL + two + " " + t + " " + two + g.router, railL: g.teeL}
	case m.FromPeer:
		return part{left: two + " " + t + " ", fill: g.icmp, min: 2, right: g.arriveR, railL: g.teeL, railR: g.teeR}
	}
	return part{right: g.router + two + " " + t + " " + two + g.arriveR, railR: g.teeR}
}

// lostTextIn says how a packet was lost, in language l: "lost", "lost:"
// and the reason other than plain loss, or, for a scenario's rule, "lost,
// as the scenario asks".
func lostTextIn(p *Packet, l i18n.Lang) string {
	if p.plainLoss() {
		return l.Tr("lost")
	}
	if _, ok := ruleAction(p.LostReason); ok {
		return l.Tr("lost, as the scenario asks")
	}
	return l.Trf("lost: %s", reasonIn(l, p.LostReason))
}

// LostText says how p was lost, in language l, as the ladder says it
// ("lost", "lost: queue full", "lost, as the scenario asks"), for a
// picture drawn beside the ladder.
func LostText(p *Packet, l i18n.Lang) string { return lostTextIn(p, l) }

// droppedText says, under a lost packet's arrow, why the link dropped
// it: for a scenario's rule in words ("the link drops this ACK, as the
// scenario asks"), else with the link's reason.
func droppedText(p *Packet, l i18n.Lang) string {
	if a, ok := ruleAction(p.LostReason); ok && a == "drop" {
		return l.Trf("the link drops %s, as the scenario asks", this(p, l))
	}
	return l.Trf("the link dropped it: %s", reasonIn(l, p.LostReason))
}

// this names packet p in a sentence by what it is: "this SYN", "this
// SYN-ACK", "this data segment", "this ACK".
func this(p *Packet, l i18n.Lang) string {
	f := p.Seg.Flags
	switch {
	case f&wire.RST != 0:
		return l.Tr("this RST")
	case f&wire.SYN != 0 && f&wire.ACK != 0:
		return l.Tr("this SYN-ACK")
	case f&wire.SYN != 0:
		return l.Tr("this SYN")
	case f&wire.FIN != 0:
		return l.Tr("this FIN")
	case p.PayloadLen > 0:
		return l.Tr("this data segment")
	case f&wire.ACK != 0:
		return l.Tr("this ACK")
	}
	return l.Tr("this segment")
}

// ruleAction reads what a scenario's rule did from a link's reason
// ("rule: drop 2nd A !S !F !R !P nodata", as package netsim writes it):
// its first word, drop, hold, duplicate or corrupt. The rule's compact
// form stays in the events (synack -v) and the link's counters.
func ruleAction(r string) (string, bool) {
	rule, ok := strings.CutPrefix(r, "rule: ")
	if !ok {
		return "", false
	}
	a, _, _ := strings.Cut(rule, " ")
	switch a {
	case "drop", "hold", "duplicate", "corrupt":
		return a, true
	}
	return "", false
}

// reasonIn is a link's reason in language l. A scenario's rule is said in
// words ("rule: hold 1st S for 3s: until 3.05s" is "for 3s, as the
// scenario asks, until 3.05s"); in English any other reason is as the
// link gave it.
func reasonIn(l i18n.Lang, r string) string {
	head, until, hasUntil := strings.Cut(r, ": until ")
	if a, ok := ruleAction(head); ok {
		rule := strings.TrimPrefix(head, "rule: ")
		var d string
		if i := strings.LastIndex(rule, " for "); a == "hold" && i >= 0 {
			d = rule[i+len(" for "):]
		}
		switch {
		case d != "" && hasUntil:
			return l.Trf("for %s, as the scenario asks, until %s", d, until)
		case a == "hold" && strings.HasSuffix(rule, " until released"):
			return l.Tr("until the scenario releases it")
		}
		return l.Tr("as the scenario asks")
	}
	if l == i18n.English {
		return r
	}
	switch {
	case head == "reorder" && hasUntil:
		return l.Trf("reordering, until %s", until)
	}
	var size, mtu int
	if n, _ := fmt.Sscanf(r, "too big: %d bytes, MTU %d", &size, &mtu); n == 2 {
		if strings.HasSuffix(r, ", no ICMP (a black hole)") {
			return l.Trf("too big: %d bytes, MTU %d, no ICMP (a black hole)", size, mtu)
		}
		if !strings.Contains(r, "DF not set") {
			return l.Trf("too big: %d bytes, MTU %d", size, mtu)
		}
	}
	return l.Tr(r)
}

// Title is the text diagram's first line: the two hosts.
func (d *Diagram) Title() string {
	return d.hostTitle(d.Hosts[Left]) + " " + d.glyphs().pair + " " + d.hostTitle(d.Hosts[Right])
}

// Numbering says, in the diagram's language, how its sequence numbers
// read: relative to which ISNs, or absolute.
func (d *Diagram) Numbering() string { return d.numbering() }
