package capture

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp/state"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Analysis is a capture's TCP connections and what was left out.
type Analysis struct {
	File  *File
	Conns []*Conn
	// Start is the time of the file's first packet: event times count
	// from it.
	Start time.Time
	// Skipped counts packets that are neither TCP nor ICMP, by reason.
	Skipped map[string]int
	// ICMP are the ICMP and ICMPv6 messages of the capture, in frame
	// order; those about a connection are also in its Conn.ICMP.
	ICMP []*ICMP
	// AllICMP draws on each connection's ladder, besides the ICMP errors
	// that quote its segments (always drawn), the other ICMP messages
	// between its two hosts' addresses: echo requests and replies, errors
	// about other packets. WriteText then also lists every ICMP message
	// of the capture.
	AllICMP bool
	// Bad lists packets that could not be decoded ("frame 7: ..."), at
	// most maxBad of them; NBad counts them all.
	Bad  []string
	NBad int
	// Truncated counts TCP segments whose payload the snaplen cut.
	Truncated int
	// Directional: the file says which packets each of several interfaces
	// sent and received (synack's pcapng with --pcap-at both), so sends
	// and arrivals are seen apart.
	Directional bool
}

const maxBad = 20

// skipLinkLocal counts the ICMPv6 messages every IPv6 link carries, which
// are about no connection.
const skipLinkLocal = "ICMPv6 neighbour discovery and multicast listener messages (the link's own)"

// Conn is one TCP connection of a capture.
type Conn struct {
	// N numbers the connection in order of first appearance, from 1.
	N int
	// Addr[0] opened the connection (sent the first SYN seen) or, if the
	// capture has no SYN without ACK, sent the first packet seen; Addr[1]
	// is its peer.
	Addr [2]netip.AddrPort
	// Name is what the ladder calls each end: the pcapng interface that
	// sent its packets, if the file says so, else its address.
	Name    [2]string
	sights  []sighting
	Packets int
	// ICMP are the ICMP and ICMPv6 errors that quote the connection's
	// segments, in frame order.
	ICMP []*ICMP
}

// ICMP is an ICMP or ICMPv6 message of a capture.
type ICMP struct {
	Msg Message
	// N is its frame number, At its time from the capture's start.
	N  int
	At clock.Time
	// Conn is the connection whose segment the message quotes, nil if
	// none; From is the end of it that sent the quoted segment (and got
	// the message).
	Conn *Conn
	From int
	dup  bool // a copy of an earlier message, seen on another interface
}

// String prints the message on one line: frame, time, addresses, words.
func (m *ICMP) String() string {
	s := fmt.Sprintf("#%d %v %v>%v %s", m.N, m.At, m.Msg.Src, m.Msg.Dst, m.Msg.Words())
	if q := m.Msg.Quote(); m.Msg.IsError() && q.IP.Version != 0 {
		s += " quoting " + q.String()
	}
	if m.Msg.Problem != "" {
		s += " (" + m.Msg.Problem + ")"
	}
	return s
}

// sighting is a packet of the connection as one interface saw it.
type sighting struct {
	pkt       *Packet
	seg       Segment
	from      int // 0 or 1: who sent it
	send, rcv bool
	at        clock.Time
}

// String names the connection as --conn takes it: A:P-B:P.
func (c *Conn) String() string { return c.Addr[0].String() + "-" + c.Addr[1].String() }

// Analyze decodes the packets of f, IPv4 and IPv6, groups the TCP segments
// into connections by their addresses and ports (a new SYN after a
// connection has closed with both FINs or a RST starts a new connection),
// and attaches each ICMP or ICMPv6 error to the connection whose segment
// it quotes (its addresses, ports and sequence number: RFC 792, RFC 4443
// §2.4, RFC 5927 §4.1).
func Analyze(f *File) *Analysis {
	a := &Analysis{File: f, Skipped: map[string]int{}}
	switch {
	case !f.epoch.IsZero():
		a.Start = f.epoch
	case len(f.Packets) > 0:
		a.Start = f.Packets[0].Time
	}
	// Sends and arrivals are seen apart only when the packets carry their
	// direction and come from more than one interface (one per host); a
	// single interface with directions is still one capture point.
	dirs, ifaces := false, map[int]bool{}
	for _, p := range f.Packets {
		dirs = dirs || p.Dir != DirUnknown
		ifaces[p.Iface] = true
	}
	a.Directional = dirs && len(ifaces) > 1
	type key struct{ a, b netip.AddrPort }
	byKey := map[key]*Conn{}
	closed := map[*Conn]bool{}
	ifaceOf := map[netip.Addr]string{} // address -> interface that sends from it
	ifaceBad := map[netip.Addr]bool{}
	for i := range f.Packets {
		p := &f.Packets[i]
		s, msg, sk, err := decode(p)
		if err != nil {
			a.NBad++
			if len(a.Bad) < maxBad {
				a.Bad = append(a.Bad, fmt.Sprintf("frame %d: %v", p.N, err))
			}
			continue
		}
		if sk != "" {
			a.Skipped[string(sk)]++
			continue
		}
		if msg != nil && msg.linkLocal() {
			a.Skipped[skipLinkLocal]++
			continue
		}
		if msg != nil {
			m := &ICMP{Msg: *msg, N: p.N, At: clock.Time(p.Time.Sub(a.Start))}
			q := msg.Quote()
			if msg.IsError() && q.HasPorts && q.IP.Protocol() == wire.ProtocolTCP {
				qs, qd := netip.AddrPortFrom(q.IP.Src(), q.SrcPort), netip.AddrPortFrom(q.IP.Dst(), q.DstPort)
				k := key{qs, qd}
				if k.b.Compare(k.a) < 0 {
					k.a, k.b = k.b, k.a
				}
				if c := byKey[k]; c != nil {
					m.Conn = c
					if qs != c.Addr[0] {
						m.From = 1
					}
					// The same message seen on a second interface (a
					// capture of both hosts) is drawn once.
					for _, o := range c.ICMP {
						if a.Directional && f.Packets[o.N-1].Iface != p.Iface && o.Msg.Src == msg.Src && o.Msg.Dst == msg.Dst && string(f.Packets[o.N-1].Data) == string(p.Data) {
							m.dup = true
						}
					}
					if !m.dup {
						c.ICMP = append(c.ICMP, m)
					}
				}
			}
			a.ICMP = append(a.ICMP, m)
			continue
		}
		if s.Truncated {
			a.Truncated++
		}
		k := key{s.Src, s.Dst}
		if k.b.Compare(k.a) < 0 {
			k.a, k.b = k.b, k.a
		}
		c := byKey[k]
		if c != nil && closed[c] && s.TCP.Flags&(wire.SYN|wire.ACK) == wire.SYN {
			c = nil // the 4-tuple is reused by a new connection
		}
		if c == nil {
			c = &Conn{N: len(a.Conns) + 1, Addr: [2]netip.AddrPort{s.Src, s.Dst}}
			a.Conns = append(a.Conns, c)
			byKey[k] = c
		}
		from := 0
		if s.Src != c.Addr[0] {
			from = 1
		}
		sg := sighting{pkt: p, seg: *s, from: from, send: p.Dir != DirIn || !a.Directional, rcv: p.Dir != DirOut || !a.Directional,
			at: clock.Time(p.Time.Sub(a.Start))}
		c.sights = append(c.sights, sg)
		c.Packets++
		if s.TCP.Flags&wire.RST != 0 {
			closed[c] = true
		}
		if p.Dir == DirOut && p.Iface < len(f.Interfaces) {
			name := f.Interfaces[p.Iface].Name
			if old, ok := ifaceOf[s.Src.Addr()]; ok && old != name {
				ifaceBad[s.Src.Addr()] = true
			}
			ifaceOf[s.Src.Addr()] = name
		}
	}
	// A connection where both sides sent FINs is closed too; mark it for
	// the reuse rule above only afterwards, which is good enough for the
	// rare capture that reuses a 4-tuple.
	for _, c := range a.Conns {
		// The opener is the sender of the first SYN without ACK.
		for _, s := range c.sights {
			if s.seg.TCP.Flags&(wire.SYN|wire.ACK) == wire.SYN {
				if s.from == 1 {
					c.Addr[0], c.Addr[1] = c.Addr[1], c.Addr[0]
					for i := range c.sights {
						c.sights[i].from = 1 - c.sights[i].from
					}
					for _, m := range c.ICMP {
						m.From = 1 - m.From
					}
				}
				break
			}
		}
		for sd := range c.Addr {
			c.Name[sd] = c.Addr[sd].String()
			if n, ok := ifaceOf[c.Addr[sd].Addr()]; ok && n != "" && !ifaceBad[c.Addr[sd].Addr()] {
				c.Name[sd] = n
			}
		}
		if c.Name[0] == c.Name[1] {
			c.Name = [2]string{c.Addr[0].String(), c.Addr[1].String()}
		}
	}
	return a
}

// Select returns the connections matching spec: "A:P-B:P" (either order),
// or, with port > 0, those with an end on that port. With neither, all.
func (a *Analysis) Select(spec string, port int) ([]*Conn, error) {
	var want [2]netip.AddrPort
	if spec != "" {
		l, r, ok := strings.Cut(spec, "-")
		var err1, err2 error
		if ok {
			want[0], err1 = netip.ParseAddrPort(l)
			want[1], err2 = netip.ParseAddrPort(r)
		}
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("--conn %q: write the connection as ADDR:PORT-ADDR:PORT, e.g. 198.18.0.2:40000-198.18.0.1:80", spec)
		}
	}
	var out []*Conn
	for _, c := range a.Conns {
		switch {
		case spec != "":
			if c.Addr == want || c.Addr == [2]netip.AddrPort{want[1], want[0]} {
				out = append(out, c)
			}
		case port > 0:
			if int(c.Addr[0].Port()) == port || int(c.Addr[1].Port()) == port {
				out = append(out, c)
			}
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

// side is what is known of one end of a connection.
type side struct {
	st      string // state now, "" unknown
	initial string
	iss     seq.Value
	hasISS  bool
	finSent bool
	finEnd  seq.Value
	finRecv bool
	// For the expert marks, from the segments it sent:
	hasNext  bool
	nextSeq  seq.Value
	maxAt    clock.Time // when nextSeq last grew
	sent     intervals
	base     seq.Value
	hasAck   bool
	lastAck  seq.Value
	lastWin  uint16
	dupCount int
	dupOf    int // frame number of the ACK being duplicated
	wscale   int // -1 unknown
	synOpt   *wire.Options
	pending  []pend // received segments not yet taken in (single capture point)
}

type pend struct {
	s        *sighting
	deferred bool // the receiver's later segments show it had not got it
}

// Result is a connection turned into trace events, with what the analysis
// had to guess or could not tell.
type Result struct {
	Events []trace.Event
	// Frames[i] is the frame number (Packet.N) of the packet Events[i] is
	// about, 0 for a State event.
	Frames []int
	Notes  []string
	// FirstSeq is each side's first sequence number seen, and HasSYN
	// whether its SYN was seen: without it, sequence numbers count from
	// FirstSeq.
	FirstSeq [2]seq.Value
	HasSYN   [2]bool
	// SinglePoint: packets were seen at one point, not as sent and
	// received apart; arrivals are drawn with their sends.
	SinglePoint bool
}

// Events converts connection c to trace events: for each packet a
// SegmentOut by its sender and a SegmentIn by its receiver (at the same
// instant when the capture saw it once; the arrival later when the
// receiver's own segments show it took the packet in later), State events
// inferred from the segments, and Wireshark's expert marks in the
// SegmentOut's Retransmit and Reason.
func (a *Analysis) Events(c *Conn) *Result {
	b := &eventBuilder{a: a, c: c, r: &Result{SinglePoint: !a.Directional}, notes: map[string]bool{}}
	for i := range b.sd {
		b.sd[i].wscale = -1
	}
	synSeen := b.firstSegments()
	b.windowScales(synSeen)
	b.startStates(synSeen)
	b.pairArrivals()
	for i := range c.sights {
		b.sighting(i)
	}
	b.drainPending()
	b.offloadNotes()
	b.endNotes()
	return b.r
}

// defaultMSS is the MSS of a peer whose SYN has no MSS option (RFC 9293
// §3.7.1): "536 for IPv4 or 1220 (1280 - 60) for IPv6 (MUST-15)".
const (
	defaultMSS  = 536
	defaultMSS6 = 1220
)

// offloadNotes notes the segments a side sent with more payload than the
// MSS its peer's SYN announced: no TCP sends those (RFC 9293 §3.7.1), so
// the capturing host's segmentation offload made them.
func (b *eventBuilder) offloadNotes() {
	for x := range b.sd {
		peer := b.sd[1-x].synOpt
		if peer == nil {
			continue // the MSS is not known
		}
		mss := defaultMSS
		if b.c.Addr[0].Addr().Is6() {
			mss = defaultMSS6
		}
		if peer.HasMSS {
			mss = int(peer.MSS)
		}
		n, largest := 0, 0
		for i := range b.c.sights {
			s := &b.c.sights[i]
			if s.from == x && s.send && s.seg.PayloadLen > mss {
				n, largest = n+1, max(largest, s.seg.PayloadLen)
			}
		}
		if n > 0 {
			b.note(fmt.Sprintf("%d segments from %s carry more than the %d-byte MSS %s announced (the largest %d bytes): "+
				"the capturing host's NIC or kernel offload (TSO/GSO when sending, GRO/LRO when receiving) had yet to cut them or had merged them, "+
				"so the capture shows them as the host handed them over, not as they crossed the wire", n, b.c.Name[x], mss, b.c.Name[1-x], largest))
		}
	}
}

// eventBuilder is Events at work on one connection.
type eventBuilder struct {
	a     *Analysis
	c     *Conn
	r     *Result
	sd    [2]side
	notes map[string]bool // r.Notes, as a set
	// rtt is the handshake's round trip as the capture shows it, 3 ms if
	// it does not; expert calls a segment sent less than rtt after the
	// highest one out of order rather than retransmitted.
	rtt clock.Time
	// In a directional capture (pairArrivals), pairOf[i] is the send that
	// arrival i received, gotIt[i] whether send i was received, and
	// laterReceived[i] whether a later send of the same side was.
	pairOf        map[int]int
	gotIt         []bool
	laterReceived []bool
	lost          int        // sends never received while later ones were
	firstSet      [2]bool    // r.FirstSeq[i] is set
	lastAt        clock.Time // time of the latest sighting so far
}

// add appends e to the result's events, about the packet of frame number
// frame (0: none).
func (b *eventBuilder) add(e trace.Event, frame int) {
	b.r.Events = append(b.r.Events, e)
	b.r.Frames = append(b.r.Frames, frame)
}

// note adds s to the result's notes once.
func (b *eventBuilder) note(s string) {
	if !b.notes[s] {
		b.notes[s] = true
		b.r.Notes = append(b.r.Notes, s)
	}
}

// firstSegments reads each side's state before the capture from its
// first segment sent (CLOSED before a SYN, LISTEN before a SYN-ACK,
// CLOSED before a RST sent after the peer's SYN), its SYN's options, and
// the handshake's round trip: from the first SYN to the latest SYN-ACK
// sent after it. It reports which sides' SYNs were seen.
func (b *eventBuilder) firstSegments() (synSeen [2]bool) {
	sd := &b.sd
	var seenFirst [2]bool
	var rttStart clock.Time = -1
	b.rtt = 3 * clock.Time(time.Millisecond)
	for i := range b.c.sights {
		s := &b.c.sights[i]
		f := s.seg.TCP.Flags
		if f&wire.SYN != 0 && s.send {
			if !synSeen[s.from] {
				o := s.seg.TCP.Options
				sd[s.from].synOpt = &o
			}
			synSeen[s.from] = true
			if f&wire.ACK == 0 && rttStart < 0 {
				rttStart = s.at
			} else if f&wire.ACK != 0 && rttStart >= 0 && s.at > rttStart {
				b.rtt = s.at - rttStart
			}
		}
		if !s.send || seenFirst[s.from] {
			continue
		}
		seenFirst[s.from] = true
		switch {
		case f&(wire.SYN|wire.ACK) == wire.SYN:
			sd[s.from].initial = "CLOSED"
		case f&(wire.SYN|wire.ACK) == wire.SYN|wire.ACK:
			sd[s.from].initial = "LISTEN"
		case f&wire.RST != 0 && synSeen[1-s.from]:
			sd[s.from].initial = "CLOSED"
		}
	}
	return synSeen
}

// windowScales sets each side's window scale from the SYNs: the shift it
// announced if both announced one, else 0. Without both SYNs it stays
// unknown.
func (b *eventBuilder) windowScales(synSeen [2]bool) {
	sd := &b.sd
	if !synSeen[0] || !synSeen[1] {
		b.note("the handshake is not in the capture, so \"window full\" is not checked: it needs the window scale the SYNs announce")
		return
	}
	for i := range sd {
		o := sd[i].synOpt
		p := sd[1-i].synOpt
		if o.HasWScale && p.HasWScale {
			sd[i].wscale = int(min(o.WScale, 14))
		} else {
			sd[i].wscale = 0
		}
	}
}

// startStates puts each side in its state before the capture and notes
// the sides whose state is unknown.
func (b *eventBuilder) startStates(synSeen [2]bool) {
	for i := range b.sd {
		b.sd[i].st = b.sd[i].initial
		b.r.HasSYN[i] = synSeen[i]
		if b.sd[i].initial == "" {
			b.note(b.c.Name[i] + "'s state before the capture is unknown")
		}
	}
}

// pairArrivals pairs, in a directional capture, each arrival with its
// send: the first packet sent with the same bytes and not yet received.
func (b *eventBuilder) pairArrivals() {
	c := b.c
	b.pairOf = map[int]int{}
	b.gotIt = make([]bool, len(c.sights))
	b.laterReceived = make([]bool, len(c.sights))
	if !b.a.Directional {
		return
	}
	waiting := map[string][]int{}
	for i := range c.sights {
		s := &c.sights[i]
		k := string(s.pkt.Data)
		if s.send {
			waiting[k] = append(waiting[k], i)
		}
		if s.rcv && !(s.send && s.pkt.Dir == DirUnknown) {
			if q := waiting[k]; len(q) > 0 && q[0] != i {
				b.pairOf[i], b.gotIt[q[0]] = q[0], true
				waiting[k] = q[1:]
			}
		}
	}
	var seen [2]bool
	for i := len(c.sights) - 1; i >= 0; i-- {
		s := &c.sights[i]
		b.laterReceived[i] = seen[s.from]
		if s.send && b.gotIt[i] {
			seen[s.from] = true
		}
	}
}

// state moves side who to state to, with a State event, if it is not
// there already.
func (b *eventBuilder) state(who int, to, why string, at clock.Time) {
	h := &b.sd[who]
	if to == h.st {
		return
	}
	e := trace.Event{At: at, Kind: trace.State, Host: b.c.Name[who], Local: b.c.Addr[who], Remote: b.c.Addr[1-who], Reason: why}
	setStates(&e, h.st, to)
	b.add(e, 0)
	h.st = to
}

// takeIn has s's receiver take it in at time at: a SegmentIn and the
// state it leads to.
func (b *eventBuilder) takeIn(s *sighting, at clock.Time) {
	c := b.c
	y := 1 - s.from
	e := trace.Event{At: at, Kind: trace.SegmentIn, Host: c.Name[y], Local: c.Addr[y], Remote: c.Addr[s.from],
		Seg: s.seg.TCP, PayloadLen: s.seg.PayloadLen}
	b.add(e, s.pkt.N)
	to, why := received(&b.sd[y], &s.seg)
	if b.sd[y].st == "" && to != "" {
		b.note(fmt.Sprintf("%s's state is inferred from %s's segments only after it changes", c.Name[y], c.Name[s.from]))
	}
	b.state(y, to, why, at)
}

// flush takes in the pending segments of side y that are not held back;
// ack, if set, releases the held ones that y's segment acknowledges.
func (b *eventBuilder) flush(y int, at clock.Time, ack *seq.Value) {
	h := &b.sd[y]
	k := 0
	for ; k < len(h.pending); k++ {
		p := h.pending[k]
		if p.deferred {
			end := p.s.seg.TCP.Seq.Add(seqLen(&p.s.seg))
			if ack == nil || !end.LessThanEq(*ack) {
				break
			}
		}
		b.takeIn(p.s, at)
	}
	h.pending = h.pending[k:]
}

// sighting turns sighting i into its events: the send, if the capture
// saw it sent, then the arrival, if it saw it received.
func (b *eventBuilder) sighting(i int) {
	s := &b.c.sights[i]
	x := s.from
	b.lastAt = max(b.lastAt, s.at)
	if !b.firstSet[x] && (s.send || b.a.Directional) {
		b.firstSet[x] = true
		b.r.FirstSeq[x] = s.seg.TCP.Seq
	}
	if s.send {
		b.send(i)
	}
	if !s.rcv {
		return
	}
	if b.a.Directional {
		b.arrive(i)
		return
	}
	b.arriveSinglePoint(i)
}

// send emits the SegmentOut of sighting i with its expert marks, after
// the sender has taken in what the segment acknowledges, and the state
// the segment shows; in a directional capture also its LinkSend, and a
// LinkDrop if the network lost it.
func (b *eventBuilder) send(i int) {
	c := b.c
	s := &c.sights[i]
	x, y := s.from, 1-s.from
	seg := &s.seg.TCP
	if seg.Flags&wire.ACK != 0 && seg.Flags&wire.RST == 0 {
		ack := seg.Ack
		b.flush(x, s.at, &ack)
	}
	retrans, why := expert(&b.sd[x], &b.sd[y], s, s.at, b.rtt)
	b.add(trace.Event{
		At: s.at, Kind: trace.SegmentOut, Host: c.Name[x], Local: c.Addr[x], Remote: c.Addr[y],
		Seg: *seg, PayloadLen: s.seg.PayloadLen, Retransmit: retrans, Reason: why,
	}, s.pkt.N)
	if b.sd[x].st == "" && seg.Flags&(wire.ACK|wire.SYN|wire.RST) == wire.ACK {
		b.note(c.Name[x] + " is assumed ESTABLISHED from its first segment (the capture starts mid-connection)")
		b.state(x, "ESTABLISHED", "assumed", s.at)
	}
	to, why2 := sent(&b.sd[x], seg, s.seg.PayloadLen)
	b.state(x, to, why2, s.at)
	if !b.a.Directional {
		return
	}
	link := c.Name[x] + "->" + c.Name[y]
	e := trace.Event{At: s.at, Kind: trace.LinkSend, Host: link, Local: c.Addr[x], Remote: c.Addr[y],
		Seg: *seg, PayloadLen: s.seg.PayloadLen, PacketID: uint64(i + 1)}
	b.add(e, s.pkt.N)
	if !b.gotIt[i] && b.laterReceived[i] {
		// A later packet of the same sender was received: this
		// one never will be.
		b.lost++
		b.add(trace.Event{At: s.at, Kind: trace.LinkDrop, Host: link,
			PacketID: uint64(i + 1), LinkCause: trace.LinkNeverReceived}, s.pkt.N)
	}
}

// arrive takes in arrival i of a directional capture when it was seen
// received, with the LinkDeliver of the send it is paired with.
func (b *eventBuilder) arrive(i int) {
	c := b.c
	s := &c.sights[i]
	x, y := s.from, 1-s.from
	if j, ok := b.pairOf[i]; ok {
		b.add(trace.Event{At: s.at, Kind: trace.LinkDeliver,
			Host: c.Name[x] + "->" + c.Name[y], PacketID: uint64(j + 1)}, c.sights[j].pkt.N)
	}
	b.takeIn(s, s.at)
}

// arriveSinglePoint takes in sighting i of a capture from one point: the
// receiver takes the segment in now, unless it is a SYN or FIN and the
// receiver's next segment does not acknowledge it (it was sent before
// this one arrived, as in a simultaneous close), or earlier segments are
// held back.
func (b *eventBuilder) arriveSinglePoint(i int) {
	c := b.c
	s := &c.sights[i]
	y := 1 - s.from
	seg := &s.seg.TCP
	hold := false
	if seg.Flags&(wire.SYN|wire.FIN) != 0 && seg.Flags&wire.RST == 0 {
		end := seg.Seq.Add(seqLen(&s.seg))
		for j := i + 1; j < len(c.sights); j++ {
			t := &c.sights[j]
			if t.from == y && t.send && t.seg.TCP.Flags&wire.RST == 0 {
				hold = t.seg.TCP.Flags&wire.ACK == 0 || t.seg.TCP.Ack.LessThan(end)
				break
			}
		}
	}
	if hold || len(b.sd[y].pending) > 0 {
		if hold {
			b.note(fmt.Sprintf("%s took in some SYN or FIN segments after it sent segments that do not acknowledge them: those arrivals are drawn where its segments show them", c.Name[y]))
		}
		b.sd[y].pending = append(b.sd[y].pending, pend{s: s, deferred: hold})
		b.flush(y, s.at, nil)
		return
	}
	b.takeIn(s, s.at)
}

// drainPending takes in, at the time of the last sighting, the segments
// still held back at the end of the capture.
func (b *eventBuilder) drainPending() {
	for y := range b.sd {
		if len(b.sd[y].pending) > 0 {
			b.note(fmt.Sprintf("%d segments to %s were never acknowledged: drawn as arriving at the end", len(b.sd[y].pending), b.c.Name[y]))
			for _, p := range b.sd[y].pending {
				b.takeIn(p.s, b.lastAt)
			}
			b.sd[y].pending = nil
		}
	}
}

// endNotes notes the packets the network lost and how the sides end.
func (b *eventBuilder) endNotes() {
	if b.lost > 0 {
		b.note(fmt.Sprintf("%d packets were sent and never received while later ones were: the network lost them", b.lost))
	}
	for i := range b.sd {
		switch b.sd[i].st {
		case "TIME-WAIT":
			b.note(b.c.Name[i] + " ends in TIME-WAIT: it lasts 2·MSL after the capture's last segment of the connection, and its end sends nothing")
		case "":
			b.note(b.c.Name[i] + "'s state could not be inferred from the segments")
		}
	}
}

// setStates sets a State event's states from the RFC names the inference
// uses, "" for a state not known.
func setStates(e *trace.Event, from, to string) {
	var ok bool
	e.From, ok = state.Parse(from)
	e.FromUnknown = !ok
	e.To, _ = state.Parse(to) // never "": a change is always to a named state
}

func seqLen(s *Segment) seq.Size {
	n := seq.Size(s.PayloadLen)
	if s.TCP.Flags&wire.SYN != 0 {
		n++
	}
	if s.TCP.Flags&wire.FIN != 0 {
		n++
	}
	return n
}

// sent returns side h's state after it sent seg (RFC 9293 §3.3.2, as far as
// a segment shows it).
func sent(h *side, seg *wire.Segment, payload int) (string, string) {
	s, f := h.st, seg.Flags
	switch {
	case f&wire.RST != 0:
		if s == "LISTEN" {
			return s, ""
		}
		return "CLOSED", "sent RST"
	case f&(wire.SYN|wire.ACK) == wire.SYN:
		if !h.hasISS {
			h.iss, h.hasISS = seg.Seq, true
		}
		if s == "" || s == "CLOSED" {
			return "SYN-SENT", "sent SYN"
		}
		return s, ""
	case f&wire.SYN != 0:
		if !h.hasISS {
			h.iss, h.hasISS = seg.Seq, true
		}
		switch s {
		case "", "LISTEN", "CLOSED", "SYN-SENT":
			return "SYN-RECEIVED", "sent SYN-ACK"
		}
		return s, ""
	}
	if f&wire.FIN != 0 && !h.finSent {
		h.finSent = true
		h.finEnd = seg.Seq.Add(seq.Size(payload) + 1)
		switch s {
		case "ESTABLISHED", "SYN-RECEIVED":
			return "FIN-WAIT-1", "sent FIN"
		case "CLOSE-WAIT":
			return "LAST-ACK", "sent FIN"
		}
	}
	return s, ""
}

// received returns side h's state after it took in s.
func received(h *side, s *Segment) (string, string) {
	st, seg := h.st, &s.TCP
	f := seg.Flags
	if f&wire.RST != 0 {
		switch st {
		case "LISTEN", "CLOSED":
			return st, ""
		case "SYN-SENT":
			if f&wire.ACK != 0 && h.hasISS && seg.Ack == h.iss.Add(1) {
				return "CLOSED", "got RST: connection refused"
			}
			return st, ""
		}
		return "CLOSED", "got RST"
	}
	if f&wire.SYN != 0 {
		if f&wire.ACK == 0 {
			switch st {
			case "SYN-SENT":
				return "SYN-RECEIVED", "got SYN (simultaneous open)"
			case "LISTEN":
				return "SYN-RECEIVED", "got SYN"
			}
			return st, ""
		}
		if (st == "SYN-SENT" || st == "SYN-RECEIVED") && h.hasISS && seg.Ack == h.iss.Add(1) {
			return "ESTABLISHED", "got SYN-ACK"
		}
		return st, ""
	}
	why := ""
	if f&wire.ACK != 0 {
		if st == "SYN-RECEIVED" && h.hasISS && h.iss.Add(1).LessThanEq(seg.Ack) {
			st, why = "ESTABLISHED", "got ACK of SYN"
		}
		if h.finSent && h.finEnd.LessThanEq(seg.Ack) {
			switch st {
			case "FIN-WAIT-1":
				st, why = "FIN-WAIT-2", "got ACK of FIN"
			case "CLOSING":
				st, why = "TIME-WAIT", "got ACK of FIN"
			case "LAST-ACK":
				st, why = "CLOSED", "got ACK of FIN"
			}
		}
	}
	if f&wire.FIN != 0 && !h.finRecv {
		h.finRecv = true
		switch st {
		case "", "ESTABLISHED", "SYN-RECEIVED":
			st, why = "CLOSE-WAIT", "got FIN"
		case "FIN-WAIT-1":
			st, why = "CLOSING", "got FIN"
		case "FIN-WAIT-2":
			st, why = "TIME-WAIT", "got FIN"
		}
	}
	return st, why
}

// expert marks a segment that x sent as Wireshark's TCP expert analysis
// does (tcp.analysis.*), from the segments seen so far: it returns whether
// the segment is a retransmission and the words for the rest.
func expert(x, y *side, s *sighting, at, rtt clock.Time) (bool, string) {
	seg := &s.seg.TCP
	f := seg.Flags
	sl := seqLen(&s.seg)
	end := seg.Seq.Add(sl)
	var marks []string
	retrans := false
	keepAlive := false
	if x.hasNext {
		switch {
		case sl <= 1 && f&(wire.SYN|wire.FIN|wire.RST) == 0 && seg.Seq.Add(1) == x.nextSeq:
			keepAlive = true
			if y.hasAck && y.lastWin == 0 {
				marks = append(marks, "zero-window probe (keep-alive form)")
			} else {
				marks = append(marks, "keep-alive")
			}
		case sl > 0 && seg.Seq.LessThan(x.nextSeq):
			if x.sent.covers(seg.Seq.Size(x.base), end.Size(x.base)) || f&wire.SYN != 0 {
				retrans = true
				switch {
				case y.hasAck && end.LessThanEq(y.lastAck) && f&wire.SYN == 0:
					marks = append(marks, "spurious: already acknowledged")
				case y.dupCount >= 2 && y.lastAck == seg.Seq:
					marks = append(marks, fmt.Sprintf("fast retransmission, after %d duplicate ACKs", y.dupCount))
				}
			} else if at-x.maxAt < rtt {
				marks = append(marks, "out-of-order")
			} else {
				retrans = true
				marks = append(marks, "its first transmission was not captured")
			}
		case sl > 0 && x.nextSeq.LessThan(seg.Seq):
			marks = append(marks, "previous segment not captured")
		}
		if sl == 1 && s.seg.PayloadLen == 1 && seg.Seq == x.nextSeq && y.hasAck && y.lastWin == 0 {
			marks = append(marks, "zero-window probe")
		}
	}
	if seg.Window == 0 && f&(wire.SYN|wire.FIN|wire.RST) == 0 {
		marks = append(marks, "zero window")
	}
	if s.seg.PayloadLen > 0 && y.hasAck && y.wscale >= 0 && !retrans &&
		end == y.lastAck.Add(seq.Size(uint32(y.lastWin)<<uint(y.wscale))) {
		marks = append(marks, "window full")
	}
	if f&wire.ACK != 0 {
		pure := sl == 0 && s.seg.PayloadLen == 0 && f&(wire.SYN|wire.FIN|wire.RST) == 0
		switch {
		case x.hasAck && pure && !keepAlive && seg.Ack == x.lastAck && seg.Window == x.lastWin && seg.Window != 0 && (!x.hasNext || seg.Seq == x.nextSeq):
			x.dupCount++
			marks = append(marks, "duplicate ACK #"+strconv.Itoa(x.dupCount)+" of #"+strconv.Itoa(x.dupOf))
		case x.hasAck && pure && seg.Ack == x.lastAck && seg.Window != x.lastWin:
			marks = append(marks, "window update")
		case !x.hasAck || seg.Ack != x.lastAck:
			x.dupCount, x.dupOf = 0, s.pkt.N
		}
		if y.hasNext && y.nextSeq.LessThan(seg.Ack) && f&wire.RST == 0 {
			marks = append(marks, "acknowledges a segment that was not captured")
		}
		if f&wire.RST == 0 {
			x.hasAck, x.lastAck, x.lastWin = true, seg.Ack, seg.Window
		}
	}
	if !x.hasNext {
		x.hasNext, x.nextSeq, x.base, x.maxAt = true, end, seg.Seq, at
	} else if x.nextSeq.LessThan(end) {
		x.nextSeq, x.maxAt = end, at
	}
	if sl > 0 && !keepAlive {
		x.sent.add(seg.Seq.Size(x.base), end.Size(x.base))
	}
	return retrans, strings.Join(marks, "; ")
}

// intervals is a set of byte ranges [lo, hi) as offsets from a side's
// first sequence number, merged and sorted.
type intervals []struct{ lo, hi uint32 }

func (v *intervals) add(lo, hi seq.Size) {
	a, b := uint32(lo), uint32(hi)
	if b <= a {
		return
	}
	s := append(*v, struct{ lo, hi uint32 }{a, b})
	sort.Slice(s, func(i, j int) bool { return s[i].lo < s[j].lo })
	out := s[:1]
	for _, r := range s[1:] {
		last := &out[len(out)-1]
		if r.lo <= last.hi {
			last.hi = max(last.hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	*v = out
}

func (v intervals) covers(lo, hi seq.Size) bool {
	a, b := uint32(lo), uint32(hi)
	for _, r := range v {
		if r.lo <= a && b <= r.hi {
			return true
		}
	}
	return false
}
