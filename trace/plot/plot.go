// Package plot draws one direction of a TCP connection as SVG plots that
// share one time axis, stacked: the time–sequence graph (Stevens' and
// tcptrace's: each data segment a vertical bar from its first sequence
// number to its last, the ACK line, the receive-window line, SACK blocks,
// retransmissions and losses in colours of their own), the sender's
// congestion window, slow-start threshold and bytes in flight, RTT samples
// with SRTT and RTO, and goodput.
//
// Build takes a ladder.Diagram (the packets of the connection, numbered as
// the ladder numbers them: in order of sending, or a capture's frame numbers)
// and the trace events it was built from (for the sender's own Metrics
// events); WriteSVG draws the result. Every point drawn carries the number
// of its packet in a data-packet attribute, so that a viewer can select the
// packet on the ladder.
//
// Build is a pure function of its input, and the picture depends only on
// the Plot: the same run always gives the same bytes.
package plot

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
	"github.com/gosynack/synack/wire"
)

// Panel is one of the stacked plots; Panels combine them.
type Panel uint8

const (
	// TimeSeq is the time–sequence graph.
	TimeSeq Panel = 1 << iota
	// Cwnd is the congestion window, slow-start threshold and bytes in
	// flight.
	Cwnd
	// RTT is the RTT samples, SRTT and RTO.
	RTT
	// Goodput is the rate data was acknowledged at.
	Goodput
	// All is every panel.
	All = TimeSeq | Cwnd | RTT | Goodput
)

var panelNames = []struct {
	name string
	p    Panel
}{{"tseq", TimeSeq}, {"cwnd", Cwnd}, {"rtt", RTT}, {"goodput", Goodput}}

// PanelNames lists the names ParsePanels takes, in drawing order.
func PanelNames() []string {
	var out []string
	for _, n := range panelNames {
		out = append(out, n.name)
	}
	return append(out, "all")
}

// ParsePanels reads a comma-separated list of panel names (tseq, cwnd,
// rtt, goodput) or "all".
func ParsePanels(s string) (Panel, error) {
	var p Panel
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "all" {
			p |= All
			continue
		}
		i := slices.IndexFunc(panelNames, func(n struct {
			name string
			p    Panel
		}) bool {
			return n.name == f
		})
		if i < 0 {
			return 0, fmt.Errorf("%q is not a plot: want %s, or several joined by commas", f, strings.Join(PanelNames(), ", "))
		}
		p |= panelNames[i].p
	}
	return p, nil
}

// Options choose what Build plots.
type Options struct {
	// Sender names the end whose data is plotted, as the diagram names its
	// hosts (Host.Name, e.g. "client") or by its address ("198.18.0.2:4000").
	// Empty picks the end that sent the most data (the left one on a tie).
	Sender string
	// Panels are the plots drawn; zero is All.
	Panels Panel
	// Title is the picture's first line; the line under it names the
	// connection and the direction.
	Title string
	// Capture says the events were read from a capture: nothing of the
	// sender's own state (cwnd, ssthresh, SRTT, RTO) is known, and what the
	// plots infer from the segments is what the capture point saw.
	Capture bool
	// Lang is the language of the plot's words: titles, axis labels,
	// legends, notes and the points' tooltips (the zero Lang is English).
	// The Title is drawn as it is given.
	Lang i18n.Lang
}

// Seg is one segment of the sender's, a bar on the time–sequence graph.
type Seg struct {
	// N is the packet's number on the ladder.
	N int
	// At is when it was sent, in nanoseconds of the diagram's time.
	At int64
	// Seq and End are its sequence space relative to the sender's ISN
	// (or to the first sequence number seen): [Seq, End).
	Seq, End int64
	Len      int // payload bytes
	SYN, FIN bool
	// Retransmit: the sender sent this space again. Lost: the link lost it
	// or the receiver discarded it on arrival (LostWhy says why).
	Retransmit bool
	Lost       bool
	LostWhy    string
	// LostWords says how it was lost in the plot's language, as the ladder
	// says it ("lost, as the scenario asks").
	LostWords string
	Why       string // why it was retransmitted, if said
}

// Ack is one segment of the receiver's as it reached the sender.
type Ack struct {
	N  int
	At int64
	// Ack is the acknowledgment number and Win the right edge of the
	// window it offers (Ack plus the scaled window), relative to the
	// sender's ISN; WinKnown is false when the window scale is not known.
	Ack, Win int64
	WinKnown bool
	// SACK are the blocks it carries, relative, each [left, right).
	SACK [][2]int64
}

// Point is a value at a time: bytes, or nanoseconds for the RTT panel. N is
// the packet it belongs to (for a Metrics value, the packet handled at that
// instant or last before it).
type Point struct {
	N  int
	At int64
	V  int64
}

// Bin is the data acknowledged in one interval of the goodput panel; N is
// the last ACK counted in it (0 if none).
type Bin struct {
	N        int
	From, To int64
	Bytes    int64
}

// Plot is one direction of a connection, ready to draw.
type Plot struct {
	Title string
	// Lang is the language of the plot's words (Options.Lang).
	Lang i18n.Lang
	// Sender and Receiver are the two ends: the sender's data is plotted.
	Sender, Receiver ladder.Host
	Panels           Panel
	Capture          bool
	// From and To bound the time axis: the connection's first and last
	// packet.
	From, To int64
	Segs     []Seg
	Acks     []Ack
	// Cwnd, Ssthresh (finite values only), SRTT (after the first sample)
	// and RTO are the sender's Metrics events; empty for a capture.
	Cwnd, Ssthresh, SRTT, RTO []Point
	// Flight is the sender's bytes in flight after each segment it sent and
	// each ACK it received: the highest sequence number sent minus the
	// highest acknowledged, as Wireshark's tcp.analysis.bytes_in_flight.
	Flight []Point
	// RTTs are the round-trip times seen: from a segment to the first ACK
	// that covers it, for segments never sent again (Karn's rule).
	RTTs []Point
	// Delivered is the data bytes acknowledged (SYN and FIN not counted),
	// and DataFrom/DataTo the first data segment sent and the ACK of the
	// last byte.
	Delivered        int64
	DataFrom, DataTo int64
	// Goodput is the data acknowledged per interval of BinDur
	// nanoseconds: an RTT (the median sample), or more where that would
	// be narrower than a few pixels.
	Goodput []Bin
	BinDur  int64
	// Notes tell what the plot infers or leaves out.
	Notes []string

	axis timeAxis
}

// Build plots the data that one end of d's connection sent, with the
// sender's Metrics events from events (the events d was built from; nil
// for none).
func Build(d *ladder.Diagram, events []trace.Event, opt Options) (*Plot, error) {
	if d == nil || len(d.Packets) == 0 {
		return nil, errors.New("plot: the connection has no packets")
	}
	sd, err := chooseSender(d, opt.Sender)
	if err != nil {
		return nil, err
	}
	p := &Plot{
		Title: opt.Title, Sender: d.Hosts[sd], Receiver: d.Hosts[sd.Other()],
		Panels: opt.Panels, Capture: opt.Capture, Lang: opt.Lang,
	}
	if p.Panels == 0 {
		p.Panels = All
	}
	b := builder{d: d, p: p, sd: sd}
	b.order()
	b.segments()
	b.metrics(events)
	p.axis = newAxis(p.From, p.To, b.times, plotW)
	b.goodput()
	if p.axis.broken() {
		g := p.axis.pieces[1].t0 - p.axis.pieces[0].t1
		p.Notes = append(p.Notes, p.Lang.Trf("the time axis is broken where nothing was sent for %s, more than half of the connection's time", fmtDur(g)))
	}
	return p, nil
}

// chooseSender finds the side named name, or the side that sent most.
func chooseSender(d *ladder.Diagram, name string) (ladder.Side, error) {
	if name != "" {
		for sd, h := range d.Hosts {
			if h.Name == name || (h.Addr.IsValid() && h.Addr.String() == name) {
				return ladder.Side(sd), nil
			}
		}
		var names []string
		for _, h := range d.Hosts {
			n := h.Name
			if h.Addr.IsValid() && h.Addr.String() != n {
				n += " (" + h.Addr.String() + ")"
			}
			names = append(names, n)
		}
		return 0, fmt.Errorf("no end of the connection is called %q: the ends are %s", name, strings.Join(names, " and "))
	}
	var sent [2]int64
	for i := range d.Packets {
		pk := &d.Packets[i]
		if pk.CopyOf == 0 {
			sent[pk.From&1] += int64(max(pk.PayloadLen, 0))
		}
	}
	if sent[ladder.Right] > sent[ladder.Left] {
		return ladder.Right, nil
	}
	return ladder.Left, nil
}

// happening is a send or an arrival, in the diagram's row order.
type happening struct {
	row    int
	at     int64
	pkt    int
	arrive bool
}

type builder struct {
	d     *ladder.Diagram
	p     *Plot
	sd    ladder.Side
	hs    []happening
	times []int64 // every instant a packet was sent or arrived
	// rowPkt is, per row with a packet, that packet's number, for
	// numbering Metrics points.
	rowAt  []int64
	rowPkt []int
	// acked is each ACK that acknowledged new data, V the data bytes.
	acked []Point
}

// order lists sends and arrivals in the order of the ladder's rows (which
// keep the order of events at one instant: an ACK arrives, then the data it
// lets out is sent).
func (b *builder) order() {
	d := b.d
	sendRow := make([]int, len(d.Packets))
	arriveRow := make([]int, len(d.Packets))
	for i := range sendRow {
		sendRow[i], arriveRow[i] = -1, -1
	}
	for ri := range d.Rows {
		r := &d.Rows[ri]
		if r.Packet < 0 || r.Packet >= len(d.Packets) {
			continue
		}
		b.rowAt = append(b.rowAt, int64(r.At))
		b.rowPkt = append(b.rowPkt, d.Packets[r.Packet].N)
		switch r.Kind {
		case ladder.RowSend:
			if sendRow[r.Packet] < 0 {
				sendRow[r.Packet] = ri
			}
		case ladder.RowArrive:
			if arriveRow[r.Packet] < 0 {
				arriveRow[r.Packet] = ri
			}
		}
	}
	from, to := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range d.Packets {
		pk := &d.Packets[i]
		sent := int64(pk.Sent)
		srow := sendRow[i]
		if !pk.SendSeen {
			sent = int64(pk.Arrived)
			srow = arriveRow[i]
		}
		if srow < 0 {
			srow = arriveRow[i]
		}
		b.hs = append(b.hs, happening{row: srow, at: sent, pkt: i})
		b.times = append(b.times, sent)
		if pk.Fate == ladder.Delivered {
			arow := arriveRow[i]
			if arow < 0 {
				arow = srow // one capture point: the arrival is the send's row
			}
			b.hs = append(b.hs, happening{row: arow, at: int64(pk.Arrived), pkt: i, arrive: true})
			b.times = append(b.times, int64(pk.Arrived))
		}
	}
	for _, t := range b.times {
		from, to = min(from, t), max(to, t)
	}
	b.p.From, b.p.To = from, to
	sort.SliceStable(b.hs, func(i, j int) bool {
		if b.hs[i].at != b.hs[j].at {
			return b.hs[i].at < b.hs[j].at
		}
		return b.hs[i].row < b.hs[j].row
	})
	slices.Sort(b.times)
	b.times = slices.Compact(b.times)
}

// unwrap turns sequence numbers into offsets from a base, across wraps of
// the 32-bit space: each value is taken as the one nearest the highest seen.
type unwrap struct {
	base uint32
	hi   int64
}

func (u *unwrap) rel(v uint32) int64 {
	r := u.hi + int64(int32(v-uint32(int64(u.base)+u.hi)))
	u.hi = max(u.hi, r)
	return r
}

// sent is a segment awaiting its acknowledgment, for RTT samples.
type sent struct {
	n        int
	at       int64
	end      int64
	repeated bool // its space was sent again: no sample (Karn)
}

// segments walks the sends and arrivals: the sender's segments, the
// receiver's ACKs, bytes in flight and RTT samples.
func (b *builder) segments() {
	d, p, sd := b.d, b.p, b.sd
	h := d.Hosts[sd]
	var u unwrap
	switch {
	case h.HasISN:
		u.base = uint32(h.ISN)
	default:
		for i := range d.Packets {
			if d.Packets[i].From == sd {
				u.base = uint32(d.Packets[i].Seg.Seq)
				break
			}
		}
	}
	var (
		nxt, una   int64
		started    bool // nxt and una hold values
		pending    []sent
		copies     int
		lostAcks   int
		unknownWin bool
		dataStart  int64 = -1
		finSeq     int64 = math.MaxInt64
		lastFlight int64 = -1
	)
	flight := func(n int, at int64) {
		if v := max(nxt-una, 0); v != lastFlight {
			p.Flight = append(p.Flight, Point{N: n, At: at, V: v})
			lastFlight = v
		}
	}
	for _, hp := range b.hs {
		pk := &d.Packets[hp.pkt]
		seg := &pk.Seg
		if pk.From == sd && !hp.arrive {
			if pk.CopyOf > 0 {
				copies++
				continue
			}
			s := Seg{N: pk.N, At: hp.at, Len: max(pk.PayloadLen, 0), SYN: seg.Flags&wire.SYN != 0, FIN: seg.Flags&wire.FIN != 0}
			s.Seq = u.rel(uint32(seg.Seq))
			s.End = s.Seq + int64(s.Len)
			if s.SYN {
				s.End++
			}
			if s.FIN {
				s.End++
				finSeq = min(finSeq, s.End-1)
			}
			if s.Len > 0 && dataStart < 0 {
				dataStart = s.Seq
				p.DataFrom = hp.at
			}
			s.Retransmit = pk.Retransmit
			if pk.Retransmit {
				s.Why = pk.Reason
			}
			switch {
			case pk.Fate == ladder.Lost:
				s.Lost, s.LostWhy = true, pk.LostReason
				s.LostWords = ladder.LostText(pk, p.Lang)
			case pk.Dropped:
				s.Lost, s.LostWhy = true, "discarded on arrival: "+pk.DropReason
				s.LostWords = p.Lang.Trf("discarded on arrival: %s", marksIn(p.Lang, pk.DropReason))
				if p.Lang == i18n.English {
					s.LostWords = "lost: " + s.LostWords
				}
			}
			if seg.Flags&wire.RST == 0 && s.End > s.Seq {
				p.Segs = append(p.Segs, s)
				if !started {
					nxt, una, started = s.Seq, s.Seq, true
				}
				repeated := s.Seq < nxt
				for i := range pending {
					if pending[i].end > s.Seq && repeated {
						pending[i].repeated = true
					}
				}
				pending = append(pending, sent{n: s.N, at: s.At, end: s.End, repeated: repeated || s.Retransmit})
				nxt = max(nxt, s.End)
				flight(s.N, hp.at)
			} else if s.Len == 0 && len(p.Segs) == 0 && !started {
				// A pure ACK before any data: not a bar, but where the
				// sequence space starts.
				nxt, una, started = s.Seq, s.Seq, true
			}
			continue
		}
		if pk.From == sd || !hp.arrive {
			continue
		}
		// The receiver's segment, arriving at the sender.
		if pk.Dropped {
			lostAcks++
			continue
		}
		if seg.Flags&wire.ACK == 0 {
			continue
		}
		a := Ack{N: pk.N, At: hp.at, Ack: u.rel(uint32(seg.Ack)), WinKnown: !pk.WindowUnknown}
		a.Win = a.Ack + int64(pk.Window)
		if pk.WindowUnknown {
			unknownWin = true
		}
		for _, blk := range seg.Options.SACKBlocks() {
			l, r := u.rel(uint32(blk.Left)), u.rel(uint32(blk.Right))
			if r > l {
				a.SACK = append(a.SACK, [2]int64{l, r})
			}
		}
		p.Acks = append(p.Acks, a)
		if !started {
			continue
		}
		if a.Ack > una {
			// RFC 6298 §3 (Karn): "RTT samples MUST NOT be made using
			// segments that were retransmitted"; the sample is the newest
			// segment this ACK covers.
			best := -1
			for i, s := range pending {
				if s.end <= a.Ack && (best < 0 || s.end >= pending[best].end) {
					best = i
				}
			}
			if best >= 0 && !pending[best].repeated {
				p.RTTs = append(p.RTTs, Point{N: a.N, At: a.At, V: a.At - pending[best].at})
			}
			pending = slices.DeleteFunc(pending, func(s sent) bool { return s.end <= a.Ack })
			if dataStart >= 0 {
				if got := min(a.Ack, finSeq) - dataStart; got > p.Delivered {
					b.acked = append(b.acked, Point{N: a.N, At: a.At, V: got - p.Delivered})
					p.Delivered = got
					p.DataTo = a.At
				}
			}
			una = a.Ack
			flight(a.N, a.At)
		}
	}
	l := p.Lang
	switch {
	case copies == 1:
		p.Notes = append(p.Notes, p.trf("1 copy the link made of %s's segments is not drawn (%[1]s did not send them)", p.host(p.Sender.Name)))
	case copies > 1:
		p.Notes = append(p.Notes, p.trf("%d copies the link made of %s's segments are not drawn (%[2]s did not send them)", copies, p.host(p.Sender.Name)))
	}
	switch {
	case lostAcks == 1:
		p.Notes = append(p.Notes, p.trf("1 segment of %s's was discarded by %s on arrival and is not drawn as an ACK", p.host(p.Receiver.Name), p.host(p.Sender.Name)))
	case lostAcks > 1:
		p.Notes = append(p.Notes, p.trf("%d segments of %s's were discarded by %s on arrival and are not drawn as ACKs", lostAcks, p.host(p.Receiver.Name), p.host(p.Sender.Name)))
	}
	if unknownWin {
		p.Notes = append(p.Notes, l.Tr("the window scale is not known (the capture missed the SYNs): the receive-window line uses the window field unscaled"))
	}
	if len(p.Segs) == 0 {
		p.Notes = append(p.Notes, p.trf("%s sent no data", p.host(p.Sender.Name)))
	}
}

// metrics takes the sender's Metrics events.
func (b *builder) metrics(events []trace.Event) {
	p := b.p
	h, peer := p.Sender, p.Receiver
	last := [4]int64{-1, -1, -1, -1}
	add := func(k int, dst *[]Point, n int, at, v int64) {
		if v == last[k] {
			return
		}
		last[k] = v
		*dst = append(*dst, Point{N: n, At: at, V: v})
	}
	for i := range events {
		e := &events[i]
		if e.Kind != trace.Metrics || e.Host != h.Name || (h.Addr.IsValid() && e.Local != h.Addr) || (peer.Addr.IsValid() && e.Remote != peer.Addr) {
			continue
		}
		at := int64(e.At)
		if at > p.To {
			continue
		}
		n := b.packetAt(at)
		add(0, &p.Cwnd, n, at, int64(e.Cwnd))
		if e.Ssthresh < math.MaxInt32 {
			add(1, &p.Ssthresh, n, at, int64(e.Ssthresh))
		}
		if e.SRTT > 0 {
			add(2, &p.SRTT, n, at, int64(e.SRTT))
		}
		if e.RTO > 0 {
			add(3, &p.RTO, n, at, int64(e.RTO))
		}
	}
	switch {
	case p.Capture:
		p.Notes = append(p.Notes, p.Lang.Tr("from a capture: the sender's cwnd, ssthresh, SRTT and RTO are not on the wire; bytes in flight and RTT samples are inferred from the segments, as the capture point saw them; a capture cannot tell which segments were lost, only which were sent again (Wireshark's marks)"))
	case len(p.Cwnd) == 0:
		p.Notes = append(p.Notes, p.trf("no Metrics events of %s: no cwnd, ssthresh, SRTT or RTO to draw", p.host(h.Name)))
	}
}

// packetAt is the number of the packet on the last row at or before at.
func (b *builder) packetAt(at int64) int {
	i := sort.Search(len(b.rowAt), func(i int) bool { return b.rowAt[i] > at })
	if i == 0 {
		if len(b.rowPkt) > 0 {
			return b.rowPkt[0]
		}
		return 0
	}
	return b.rowPkt[i-1]
}

// goodput sums the data acknowledged over bins of the time axis, each an
// RTT long (rounded to 1, 2 or 5 times a power of ten) and at least binPx
// wide, from the start of each piece of the axis.
func (b *builder) goodput() {
	p := b.p
	scale := 0.0 // pixels per nanosecond, on the widest scale
	for _, pc := range p.axis.pieces {
		if pc.t1 > pc.t0 {
			scale = max(scale, (pc.x1-pc.x0)/float64(pc.t1-pc.t0))
		}
	}
	if scale == 0 {
		return
	}
	want := binPx / scale
	if len(p.RTTs) > 0 {
		v := make([]int64, len(p.RTTs))
		for i, pt := range p.RTTs {
			v[i] = pt.V
		}
		slices.Sort(v)
		want = max(want, float64(v[len(v)/2]))
	}
	p.BinDur = niceFloor(want)
	k := 0
	for _, pc := range p.axis.pieces {
		if pc.t1 <= pc.t0 {
			continue
		}
		first := len(p.Goodput)
		for t := pc.t0; t < pc.t1; t += p.BinDur {
			end := min(t+p.BinDur, pc.t1)
			if end-t < p.BinDur/2 && len(p.Goodput) > first {
				// A short last bin joins the one before.
				p.Goodput[len(p.Goodput)-1].To = end
				break
			}
			p.Goodput = append(p.Goodput, Bin{From: t, To: end})
		}
		for i := first; i < len(p.Goodput); i++ {
			bin := &p.Goodput[i]
			last := i == len(p.Goodput)-1
			for k < len(b.acked) && (b.acked[k].At < bin.To || (last && b.acked[k].At <= bin.To)) {
				if b.acked[k].At >= bin.From {
					bin.Bytes += b.acked[k].V
					bin.N = b.acked[k].N
				}
				k++
			}
		}
	}
}

// host names a host in a sentence of the plot's language: "the client"
// (客户端 in Chinese), or an address as it is (in Chinese between marks
// that p.trf makes spaces).
func (p *Plot) host(name string) string {
	if _, err := netip.ParseAddrPort(name); err == nil {
		if p.Lang != i18n.English {
			return addrMark + name + addrMark
		}
		return name
	}
	if p.Lang == i18n.English {
		return "the " + name
	}
	return p.Lang.Tr(name)
}

// marksIn is a segment's reason in language l, as the ladder says it: the
// marks of a capture's expert analysis are joined by "; ", and some are
// formats filled in.
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

// addrMark stands beside an address in a Chinese sentence until p.trf
// turns it into a space or nothing.
const addrMark = "\x00"

// trf is p.Lang.Trf for a sentence that names hosts: in Chinese an address
// is set off from the characters beside it by a space (198.18.0.1:80 所发
// 数据), but not from punctuation or the sentence's ends (抓包：198.18...).
func (p *Plot) trf(format string, args ...any) string {
	s := p.Lang.Trf(format, args...)
	if !strings.Contains(s, addrMark) {
		return s
	}
	var b strings.Builder
	parts := strings.Split(s, addrMark)
	for i, part := range parts {
		if i > 0 && parts[i-1] != "" && part != "" {
			prev, _ := utf8.DecodeLastRuneInString(parts[i-1])
			next, _ := utf8.DecodeRuneInString(part)
			if !punct(prev) && !punct(next) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(part)
	}
	return b.String()
}

// punct reports a space or a punctuation mark, beside which an address
// needs no space.
func punct(r rune) bool {
	return r == ' ' || strings.ContainsRune("，。、；：（）「」『』！？“”", r)
}
