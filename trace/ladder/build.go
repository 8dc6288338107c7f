package ladder

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/wire"
)

// maxPayload bounds the payload length a label is printed with: more than
// any TCP segment carries, even from a capture of GSO/GRO super-packets.
const maxPayload = 1 << 20

// Build makes the diagram of one connection from events. It returns an error
// when no connection can be chosen (no events, no pair of hosts, Options
// naming hosts that are not there); odd input otherwise (unknown packet ids,
// events out of time order) is drawn as well as it can be and reported in
// Diagram.Notes. Build does not keep or modify events.
func Build(events []trace.Event, opt Options) (*Diagram, error) {
	if len(events) == 0 {
		return nil, errors.New("ladder: no events")
	}
	var notes []string
	var orig []int // orig[i] is the index in the caller's events of events[i], if sorted
	if !sort.SliceIsSorted(events, func(i, j int) bool { return events[i].At < events[j].At }) {
		// A stable sort keeps the recorded order of events at one instant,
		// which carries their causality (a segment arrives, then the state
		// changes).
		orig = make([]int, len(events))
		for i := range orig {
			orig[i] = i
		}
		sort.SliceStable(orig, func(i, j int) bool { return events[orig[i]].At < events[orig[j]].At })
		sorted := make([]trace.Event, len(events))
		for i, k := range orig {
			sorted[i] = events[k]
		}
		events = sorted
		notes = append(notes, "events were not in time order; sorted by time")
	}
	vs, conns := views(events, learnNames(events))
	sel, err := choose(conns, opt)
	if err != nil {
		return nil, err
	}
	b := &builder{
		opt:     opt,
		d:       &Diagram{opt: opt, Notes: append(notes, sel.notes...)},
		linkPkt: map[linkKey]int{},
		ph:      [2]int{-1, -1},
		counts:  map[string]int{},
	}
	for sd := range sel.ends {
		b.d.Hosts[sd] = Host{Name: sel.ends[sd].name, Addr: sel.ends[sd].ap}
	}
	type item struct {
		e    *trace.Event
		side Side
		i    int // index in the caller's events
	}
	var mine []item
	var seenState [2]bool
	// A host without a connection only ever answers with RSTs.
	var sentRST, sentOther [2]bool
	for i := range events {
		e := &events[i]
		if !isHostKind(e.Kind) && !isLinkKind(e.Kind) {
			b.count(fmt.Sprintf("events of unknown kind %d were ignored", e.Kind))
			continue
		}
		sd, ok := sel.side(e, vs[i])
		if !ok {
			if isLinkKind(e.Kind) && !vs[i].ok && b.unknownPacket(e, sel) {
				b.count("link events about packets never sent on the link were ignored")
			}
			continue
		}
		k := i
		if orig != nil {
			k = orig[i]
		}
		mine = append(mine, item{e, sd, k})
		if isHostKind(e.Kind) {
			h := &b.d.Hosts[sd]
			if e.Kind == trace.State && !seenState[sd] {
				h.Initial, seenState[sd] = fromName(e), true
			}
			h.Traced = true
			if e.Kind == trace.SegmentOut {
				sentRST[sd] = sentRST[sd] || e.Seg.Flags&wire.RST != 0
				sentOther[sd] = sentOther[sd] || e.Seg.Flags&wire.RST == 0
			}
		}
		if isLinkKind(e.Kind) {
			b.d.Links = true
		}
	}
	for sd := range b.d.Hosts {
		h := &b.d.Hosts[sd]
		switch {
		case !h.Traced:
			b.d.Notes = append(b.d.Notes, h.Name+" recorded no events: its states are unknown")
		case !seenState[sd] && sentRST[sd] && !sentOther[sd]:
			h.Initial = "CLOSED"
		case !seenState[sd]:
			b.d.Notes = append(b.d.Notes, h.Name+" recorded no state changes: its state is unknown")
		}
		b.cur[sd] = h.Initial
	}
	for _, it := range mine {
		b.at = it.i
		b.event(it.e, it.side)
	}
	b.finish()
	return b.d, nil
}

// unknownPacket reports a link event that is not a send, on a path between
// the selected hosts, for a packet id never sent.
func (b *builder) unknownPacket(e *trace.Event, sel *selection) bool {
	if e.Kind == trace.LinkSend {
		return false
	}
	from, to := splitPath(e.Host)
	return sel.names(from, to)
}

type builder struct {
	opt Options
	d   *Diagram
	cur [2]string // each side's state now
	at  int       // index in the caller's events of the event being drawn

	linkPkt map[linkKey]int // link packet id -> index in Packets
	// pendOut are packets a host sent, waiting for the link's record of
	// them at the same instant; pendLink the reverse, for events recorded
	// in the other order.
	pendOut, pendLink [2][]int
	// delivered are packets the link delivered to a side, waiting for the
	// host to take them in (SegmentIn) or drop them (Drop).
	delivered [2][]int
	// unlinked are packets a side sent that the link never reported, in
	// order: the receiver's SegmentIn tells when they arrived.
	unlinked [2][]int

	sendRow, arriveRow []int // per packet: its rows, or -1
	dead               []bool
	// ph is a row that holds only a state change of a side, which the next
	// segment that side sends at the same instant takes over (a host
	// changes state, then sends: CLOSED -> SYN-SENT, then the SYN).
	ph [2]int

	// fired is the latest timer a side saw fire, when timers are not drawn.
	fired [2]*trace.Event

	// syn is the options of the first SYN each side sent, nil until seen:
	// they give the window scales.
	syn [2]*wire.Options

	zeros  []byte
	counts map[string]int // notes about odd input, counted
}

func (b *builder) count(note string) { b.counts[note]++ }

func (b *builder) event(e *trace.Event, sd Side) {
	switch e.Kind {
	case trace.SegmentOut:
		b.segmentOut(e, sd)
	case trace.SegmentIn:
		b.segmentIn(e, sd)
	case trace.Drop:
		if e.Cause.Connection() {
			// A connection's drop of a segment it was handed: the arrival
			// is drawn; what the TCP made of it is a note.
			if b.opt.Notes {
				b.addRow(Row{At: e.At, Kind: RowNote, Side: sd, Packet: -1, Text: b.opt.Lang.Trf("dropped: %s", marksIn(b.opt.Lang, e.Why()))})
			}
			return
		}
		b.hostDrop(e, sd)
	case trace.State:
		b.state(e, sd)
	case trace.TimerSet, trace.TimerFired, trace.TimerStop:
		switch {
		case b.opt.Timers:
			b.timer(e, sd)
		case e.Kind == trace.TimerFired:
			// Kept in case the timer changes the state (TIME-WAIT ends):
			// then the state change's row says why.
			b.fired[sd] = e
		}
	case trace.ICMPIn:
		other := b.d.Hosts[1-sd].Addr.Addr()
		// Drawn where it happened: its row goes last, as rows are made in
		// time order, and the packet it quotes is already drawn.
		b.addRow(b.d.icmpRow(ICMP{At: e.At, To: sd, From: e.ICMPFrom, FromPeer: e.ICMPFrom == other,
			Text: e.Reason, HasSeq: true, Seq: e.Seg.Seq}))
	case trace.Note:
		if b.opt.Notes {
			b.addRow(Row{At: e.At, Kind: RowNote, Side: sd, Packet: -1, Text: e.Reason})
		}
	case trace.LinkSend:
		b.linkSend(e, sd)
	case trace.LinkDeliver, trace.LinkDrop, trace.LinkDuplicate, trace.LinkCorrupt, trace.LinkHold:
		i, ok := b.linkPkt[linkKey{e.Host, e.PacketID}]
		if !ok {
			b.count("link events about packets never sent on the link were ignored")
			return
		}
		b.link(e, i)
	}
}

// newPacket adds a packet sent from sd and labels it with the ISNs known now.
func (b *builder) newPacket(sd Side, e *trace.Event, sendSeen bool) int {
	p := Packet{
		N: b.number(), From: sd, Seg: e.Seg, PayloadLen: e.PayloadLen,
		Sent: e.At, SendSeen: sendSeen,
	}
	p.Seg.Payload = nil
	if p.PayloadLen < 0 {
		b.count("negative payload lengths were shown as 0")
		p.PayloadLen = 0
	}
	if h := &b.d.Hosts[sd]; p.Seg.Flags&wire.SYN != 0 && !h.HasISN {
		h.ISN, h.HasISN = p.Seg.Seq, true
	}
	if p.Seg.Flags&wire.SYN != 0 && b.syn[sd] == nil {
		o := p.Seg.Options
		b.syn[sd] = &o
	}
	b.window(&p)
	b.label(&p)
	return b.appendPacket(p)
}

// window sets the window p advertises from its sender's scale.
func (b *builder) window(p *Packet) {
	p.Window, p.WindowUnknown = int(p.Seg.Window), false
	if p.Seg.Flags&wire.SYN != 0 {
		return // RFC 7323 §2.2: the window of a SYN is never scaled
	}
	mine, peer := b.syn[p.From], b.syn[p.From.Other()]
	switch {
	case mine == nil || peer == nil:
		p.WindowUnknown = p.Seg.Window != 0
	case mine.HasWScale && peer.HasWScale:
		// RFC 7323 §2.3: a shift above 14 is used as 14.
		p.Window <<= min(mine.WScale, 14)
	}
}

// unknownScaleNote explains "×?".
const unknownScaleNote = "win=N×?: N is the window field as sent, to be multiplied by the sender's window scale (RFC 7323 §2.2), which is unknown: the SYNs that announce it were not both seen"

// number is the number of a packet the event being drawn shows first.
func (b *builder) number() int {
	if b.opt.Number != nil {
		if n := b.opt.Number(b.at); n > 0 {
			return n
		}
	}
	return len(b.d.Packets) + 1
}

func (b *builder) appendPacket(p Packet) int {
	b.d.Packets = append(b.d.Packets, p)
	b.sendRow = append(b.sendRow, -1)
	b.arriveRow = append(b.arriveRow, -1)
	return len(b.d.Packets) - 1
}

// label prints the canonical line of p's segment.
func (b *builder) label(p *Packet) {
	if p.PayloadLen > maxPayload {
		b.count(fmt.Sprintf("payload lengths over %d were shown as %d", maxPayload, maxPayload))
	}
	p.label(&b.d.Hosts, b.opt.Absolute, &b.zeros)
}

// label prints p's canonical line: seq and ack relative to the ISNs hosts
// know (AbsSeq and AbsAck flag those it does not), or absolute, and the
// window it advertises. zeros is a buffer for the payload the line's
// length is printed from.
func (p *Packet) label(hosts *[2]Host, absolute bool, zeros *[]byte) {
	seg := p.Seg
	n := min(max(p.PayloadLen, 0), maxPayload)
	if len(*zeros) < n {
		*zeros = make([]byte, n)
	}
	seg.Payload = (*zeros)[:n]
	p.AbsSeq, p.AbsAck = false, false
	if absolute {
		p.Label = seg.String()
		return
	}
	var seqBase, ackBase seq.Value
	if h := hosts[p.From]; h.HasISN {
		seqBase = h.ISN
	} else {
		p.AbsSeq = true
	}
	if seg.Flags&wire.ACK != 0 {
		if h := hosts[p.From.Other()]; h.HasISN {
			ackBase = h.ISN
		} else {
			p.AbsAck = true
		}
	}
	p.Label = seg.Compact(seqBase, ackBase)
	if p.Window == int(seg.Window) && !p.WindowUnknown {
		return
	}
	// The canonical line prints the field: put the advertised window in
	// its place.
	field := " win=" + strconv.Itoa(int(seg.Window)) + " "
	win := strconv.Itoa(p.Window)
	if p.WindowUnknown {
		win += "×?"
	}
	if i := strings.Index(p.Label, field); i >= 0 {
		p.Label = p.Label[:i] + " win=" + win + " " + p.Label[i+len(field):]
	}
}

func sameHeader(a, b *wire.Segment) bool {
	return a.Seq == b.Seq && a.Ack == b.Ack && a.Flags == b.Flags &&
		a.SrcPort == b.SrcPort && a.DstPort == b.DstPort
}

// take removes and returns the first packet of q recorded at instant at
// (per when) whose header matches seg; with loose, any packet of that
// instant if none matches. Entries from earlier instants are dropped.
func (b *builder) take(q *[]int, at clock.Time, when func(*Packet) clock.Time, seg *wire.Segment, loose bool) int {
	keep := (*q)[:0]
	for _, i := range *q {
		if when(&b.d.Packets[i]) >= at {
			keep = append(keep, i)
		}
	}
	*q = keep
	found := -1
	for k, i := range keep {
		p := &b.d.Packets[i]
		if when(p) == at && sameHeader(&p.Seg, seg) {
			found = k
			break
		}
	}
	if found < 0 && loose {
		for k, i := range keep {
			if when(&b.d.Packets[i]) == at {
				found = k
				break
			}
		}
	}
	if found < 0 {
		return -1
	}
	i := keep[found]
	*q = append(keep[:found], keep[found+1:]...)
	return i
}

func sentAt(p *Packet) clock.Time    { return p.Sent }
func arrivedAt(p *Packet) clock.Time { return p.Arrived }

// takeUnlinked removes and returns the oldest packet sent from sd that the
// link did not report and whose header matches seg: without link events, a
// host's SegmentIn is how we learn that its peer's segment arrived.
func (b *builder) takeUnlinked(sd Side, seg *wire.Segment) int {
	q := b.unlinked[sd]
	for k, i := range q {
		if sameHeader(&b.d.Packets[i].Seg, seg) {
			b.unlinked[sd] = append(q[:k], q[k+1:]...)
			return i
		}
	}
	return -1
}

// removeFrom deletes packet i from q.
func removeFrom(q *[]int, i int) {
	for k, j := range *q {
		if j == i {
			*q = append((*q)[:k], (*q)[k+1:]...)
			return
		}
	}
}

func (b *builder) segmentOut(e *trace.Event, sd Side) {
	i := b.take(&b.pendLink[sd], e.At, sentAt, &e.Seg, false)
	if i < 0 {
		i = b.newPacket(sd, e, true)
		b.sendRow[i] = b.addRow(Row{At: e.At, Kind: RowSend, Side: sd, Packet: i})
		b.pendOut[sd] = append(b.pendOut[sd], i)
		b.unlinked[sd] = append(b.unlinked[sd], i)
	}
	p := &b.d.Packets[i]
	if e.PayloadLen > 0 && p.PayloadLen != e.PayloadLen {
		p.PayloadLen = e.PayloadLen
		b.label(p)
	}
	p.Retransmit, p.Reason = e.Retransmit, e.Why()
	var ms []Marker
	switch {
	case p.Retransmit:
		for j := i - 1; j >= 0; j-- {
			q := &b.d.Packets[j]
			if q.From == sd && q.CopyOf == 0 && q.Seg.Seq == p.Seg.Seq &&
				q.Seg.Flags&(wire.SYN|wire.FIN) == p.Seg.Flags&(wire.SYN|wire.FIN) {
				p.RetransmitOf = q.N
				break
			}
		}
		l := b.opt.Lang
		t := l.Tr("retransmission")
		if p.RetransmitOf > 0 {
			t = l.Trf("retransmission of #%d", p.RetransmitOf)
		}
		if p.Reason != "" {
			t = l.Trf("%s (%s)", t, marksIn(l, p.Reason))
		}
		ms = append(ms, Marker{MarkRetransmit, t})
	case p.Reason != "":
		ms = append(ms, Marker{MarkReason, marksIn(b.opt.Lang, p.Reason)})
	}
	r := &b.d.Rows[b.sendRow[i]]
	r.Markers = append(ms, r.Markers...)
}

func (b *builder) linkSend(e *trace.Event, sd Side) {
	i := b.take(&b.pendOut[sd], e.At, sentAt, &e.Seg, false)
	if i < 0 {
		i = b.newPacket(sd, e, true)
		b.sendRow[i] = b.addRow(Row{At: e.At, Kind: RowSend, Side: sd, Packet: i})
		b.pendLink[sd] = append(b.pendLink[sd], i)
	}
	removeFrom(&b.unlinked[sd], i)
	p := &b.d.Packets[i]
	if p.PayloadLen == 0 && e.PayloadLen > 0 {
		p.PayloadLen = e.PayloadLen
		b.label(p)
	}
	k := linkKey{e.Host, e.PacketID}
	if _, dup := b.linkPkt[k]; dup {
		b.count("link packet ids were reused; the later packet is followed")
	}
	b.linkPkt[k] = i
}

// link applies a link event (other than a send) to packet i.
func (b *builder) link(e *trace.Event, i int) {
	p := &b.d.Packets[i]
	to := p.From.Other()
	// What the link did as the packet was sent is flagged on the send row;
	// later, it gets a row of its own.
	mark := func(kind MarkerKind, now, later string) {
		if e.At == p.Sent && b.sendRow[i] >= 0 {
			r := &b.d.Rows[b.sendRow[i]]
			r.Markers = append(r.Markers, Marker{kind, now})
			return
		}
		b.addRow(Row{At: e.At, Kind: RowLink, Side: p.From, Packet: i, Text: later})
	}
	switch e.Kind {
	case trace.LinkDeliver, trace.LinkDrop:
		if p.Fate != InFlight {
			b.count("link events about packets already delivered or lost were ignored")
			return
		}
		if e.Kind == trace.LinkDrop {
			p.Fate, p.LostCause, p.LostReason = Lost, e.LinkCause, e.Why()
			if e.At == p.Sent && b.sendRow[i] >= 0 {
				r := &b.d.Rows[b.sendRow[i]]
				r.Markers = append(r.Markers, Marker{MarkLost, lostTextIn(p, b.opt.Lang)})
				return
			}
			b.addRow(Row{At: e.At, Kind: RowLost, Side: p.From, Packet: i})
			return
		}
		p.Fate, p.Arrived = Delivered, e.At
		b.arriveRow[i] = b.addRow(Row{At: e.At, Kind: RowArrive, Side: to, Packet: i})
		b.delivered[to] = append(b.delivered[to], i)
	case trace.LinkDuplicate:
		k := linkKey{e.Host, e.Dup}
		if _, ok := b.linkPkt[k]; ok {
			b.count("link duplicates with an id already in use were ignored")
			return
		}
		c := b.appendPacket(Packet{
			N: b.number(), From: p.From, Seg: p.Seg, PayloadLen: p.PayloadLen,
			Label: p.Label, AbsSeq: p.AbsSeq, AbsAck: p.AbsAck, Sent: e.At, SendSeen: true,
			Window: p.Window, WindowUnknown: p.WindowUnknown, CopyOf: p.N,
		})
		p = &b.d.Packets[i] // appendPacket may have moved the slice
		q := &b.d.Packets[c]
		b.linkPkt[k] = c
		mark(MarkDuplicated,
			b.opt.Lang.Trf("duplicated by the link: the copy is #%d", q.N),
			b.opt.Lang.Trf("the link duplicates #%d: the copy is #%d", p.N, q.N))
	case trace.LinkHold:
		p.Held, p.HoldReason = true, e.Reason
		t := b.opt.Lang.Tr("held back by the link")
		if e.Reason != "" {
			t = b.opt.Lang.Trf("%s (%s)", t, reasonIn(b.opt.Lang, e.Reason))
		}
		mark(MarkHeld, t, fmt.Sprintf("#%d %s", p.N, t))
	case trace.LinkCorrupt:
		p.Corrupted = true
		mark(MarkCorrupted, b.opt.Lang.Tr("corrupted by the link (bits flipped)"),
			b.opt.Lang.Trf("the link corrupts #%d (bits flipped)", p.N))
	}
}

// plainLoss reports a packet the link lost at random or for no reason
// given: "lost" says it all.
func (p *Packet) plainLoss() bool {
	return p.LostCause == trace.LinkLoss || p.LostReason == ""
}

func (b *builder) segmentIn(e *trace.Event, sd Side) {
	if i := b.take(&b.delivered[sd], e.At, arrivedAt, &e.Seg, true); i >= 0 {
		return // the link's delivery row already shows it
	}
	if i := b.takeUnlinked(sd.Other(), &e.Seg); i >= 0 {
		b.arrive(i, e.At)
		return
	}
	i := b.newPacket(sd.Other(), e, false)
	b.arrive(i, e.At)
}

// arrive records the arrival of a packet the link did not report.
func (b *builder) arrive(i int, at clock.Time) {
	p := &b.d.Packets[i]
	p.Fate, p.Arrived = Delivered, at
	b.arriveRow[i] = b.addRow(Row{At: at, Kind: RowArrive, Side: p.From.Other(), Packet: i})
}

func (b *builder) hostDrop(e *trace.Event, sd Side) {
	i := b.take(&b.delivered[sd], e.At, arrivedAt, &e.Seg, true)
	if i < 0 {
		if i = b.takeUnlinked(sd.Other(), &e.Seg); i >= 0 {
			b.arrive(i, e.At)
		}
	}
	why := e.Why()
	reason := marksIn(b.opt.Lang, why)
	if reason == "" {
		reason = b.opt.Lang.Tr("no reason given")
	}
	if i >= 0 {
		p := &b.d.Packets[i]
		p.Dropped, p.DropReason = true, why
		r := &b.d.Rows[b.arriveRow[i]]
		r.Markers = append(r.Markers, Marker{MarkDropped,
			b.opt.Lang.Trf("%s drops it: %s", b.opt.Lang.Tr(b.d.Hosts[sd].Name), reason)})
		return
	}
	t := b.opt.Lang.Trf("drops a packet: %s", reason)
	if s := e.Seg; s.Flags != 0 || s.Seq != 0 || s.Ack != 0 || s.SrcPort != 0 {
		p := Packet{From: sd.Other(), Seg: s, PayloadLen: max(e.PayloadLen, 0)}
		b.window(&p)
		b.label(&p)
		t = b.opt.Lang.Trf("drops %s: %s", p.Label, reason)
	}
	b.addRow(Row{At: e.At, Kind: RowDrop, Side: sd, Packet: -1, Text: t})
}

func (b *builder) timer(e *trace.Event, sd Side) {
	name := e.Timer
	if name == "" {
		name = "a"
	}
	r := Row{At: e.At, Side: sd, Packet: -1}
	l := b.opt.Lang
	if l != i18n.English {
		name = l.Tr(name + " timer") // "TIME-WAIT 定时器"
	}
	switch e.Kind {
	case trace.TimerSet:
		r.Kind = RowTimerSet
		r.Text = l.Trf("%s timer set, fires at %v", name, e.Deadline)
	case trace.TimerFired:
		r.Kind, r.Text = RowTimerFired, l.Trf("%s timer fired", name)
	default:
		r.Kind, r.Text = RowTimerStop, l.Trf("%s timer stopped", name)
	}
	b.addRow(r)
}

// anchor reports a row that a state change of side sd at the same instant
// belongs to: the side sent, received, dropped or timed out.
func anchor(r *Row, sd Side) bool {
	if r.Side != sd {
		return false
	}
	switch r.Kind {
	case RowSend, RowArrive, RowDrop, RowTimerFired:
		return true
	}
	return false
}

// state records a state change: on the latest row of the same instant where
// the side did something, or else on a row of its own.
func (b *builder) state(e *trace.Event, sd Side) {
	to := e.To.String()
	if to == b.cur[sd] {
		return
	}
	b.cur[sd] = to
	rows := b.d.Rows
	for i := len(rows) - 1; i >= 0 && rows[i].At == e.At; i-- {
		r := &rows[i]
		if b.dead[i] || r.Side != sd || r.Kind == RowLost || r.Kind == RowLink {
			continue
		}
		if anchor(r, sd) && !r.Changed[sd] {
			r.Changed[sd] = true
			for j := i; j < len(rows); j++ {
				rows[j].State[sd] = to
			}
			return
		}
		if anchor(r, sd) || r.Kind == RowState {
			break
		}
		// A timer set or stopped, a note: look further back.
	}
	if f := b.fired[sd]; f != nil && f.At == e.At {
		b.fired[sd] = nil
		b.timer(f, sd)
		b.d.Rows[len(b.d.Rows)-1].Changed[sd] = true
		return
	}
	i := b.addRow(Row{At: e.At, Kind: RowState, Side: sd, Packet: -1})
	b.d.Rows[i].Changed[sd] = true
	b.ph[sd] = i
}

// fromName is the diagram's name for a State event's state before: the RFC
// name, or "" when it is not known.
func fromName(e *trace.Event) string {
	if e.FromUnknown {
		return ""
	}
	return e.From.String()
}

func (b *builder) addRow(r Row) int {
	rows := b.d.Rows
	if n := len(rows); n > 0 && rows[n-1].At != r.At {
		b.ph = [2]int{-1, -1}
	}
	r.State = b.cur
	b.d.Rows = append(rows, r)
	b.dead = append(b.dead, false)
	i := len(b.d.Rows) - 1
	sd := r.Side
	if ph := b.ph[sd]; ph >= 0 && anchor(&r, sd) {
		if r.Kind == RowSend {
			b.d.Rows[i].Changed[sd] = true
			b.d.Rows[ph].Changed[sd] = false
			b.dead[ph] = true
		}
		b.ph[sd] = -1
	}
	return i
}

// finish drops merged rows, flags RSTs on the row that carries the arrow's
// label, puts markers in a fixed order and turns counted oddities into notes.
func (b *builder) finish() {
	rows := b.d.Rows[:0]
	for i, r := range b.d.Rows {
		if b.dead[i] {
			continue
		}
		if p := b.d.Packet(&r); p != nil && p.Seg.Flags&wire.RST != 0 &&
			(r.Kind == RowSend || r.Kind == RowArrive && !p.SendSeen) {
			r.Markers = append(r.Markers, Marker{MarkReset, b.opt.Lang.Tr("RST: reset")})
		}
		sort.SliceStable(r.Markers, func(i, j int) bool { return r.Markers[i].Kind < r.Markers[j].Kind })
		rows = append(rows, r)
	}
	b.d.Rows = rows
	if !b.opt.Absolute {
		for i := range b.d.Packets {
			if b.d.Packets[i].WindowUnknown {
				b.d.Notes = append(b.d.Notes, unknownScaleNote)
				break
			}
		}
	}
	var odd []string
	for note, n := range b.counts {
		odd = append(odd, fmt.Sprintf("%d %s", n, note))
	}
	sort.Strings(odd)
	b.d.Notes = append(b.d.Notes, odd...)
}

// marksIn is a segment's reason in language l: the marks of a capture's
// expert analysis are joined by "; ", and some are formats filled in.
func marksIn(l i18n.Lang, reason string) string {
	if l == i18n.English {
		return reason
	}
	parts := strings.Split(reason, "; ")
	for i, m := range parts {
		parts[i] = l.TrFilled(m)
	}
	return strings.Join(parts, l.Tr("; "))
}
