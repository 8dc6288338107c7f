package capture

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace/ladder"
)

// DefaultSettle is how long Stream waits for the answer to a packet
// before it draws the packet's row.
const DefaultSettle = 300 * time.Millisecond

// retireAfter is how long a connection whose ends have both closed stays
// quiet before a Stream lets go of it: long enough for a FIN retransmitted
// into TIME-WAIT to be drawn on its ladder.
const retireAfter = 3 * time.Second

// MaxStream bounds the packets a Stream keeps to draw from.
const MaxStream = 200000

// Stream draws the ladders of the TCP connections of a capture that grows
// (a live one), each row once, as the packets come: Add each packet as it
// is captured, call Draw now and then, and Close at the end.
//
// A row is drawn once it is settled: when the packet's receiver has sent
// a later one, or when Settle has passed since the packet. The states of
// both sides are inferred as Analyze infers them for a whole capture, and
// a packet's row can need the next one: the server's state before its
// SYN-ACK shows only from that SYN-ACK. If a later packet still changes
// rows already drawn (a SYN unanswered for longer than Settle), Close says
// so and draws that connection's ladder again, whole.
//
// Each Draw analyses again the packets of the connections not yet over;
// a connection whose ends have both closed is let go of once it has been
// quiet for a few seconds, its notes kept for Close.
type Stream struct {
	// Settle is how long a packet's row waits for the receiver's next
	// packet (DefaultSettle if zero).
	Settle time.Duration

	w        io.Writer
	opt      ladder.Options
	spec     string
	port     int
	file     File
	seen     int                 // packets added, the frame number of the latest
	skipped  map[string]int      // left out, by reason
	full     bool                // MaxStream was reached
	conns    map[int]*streamConn // by the frame number of the connection's first packet
	retired  []*streamConn       // connections over, their packets let go
	next     int                 // the number of the last connection drawn
	last     int                 // the connection drawn last
	started  bool                // the time base has been said
	dirty    bool                // packets added since the last Draw
	unsettle bool                // rows wait to be drawn
}

type streamConn struct {
	num     int    // the connection's number, in order of drawing
	name    string // A:P-B:P
	lay     ladder.TextLayout
	rows    [][]string // the lines of each row drawn
	revised bool       // a row drawn was later drawn differently
	closing string     // its notes, drawn by Close, once it is over
}

// NewStream returns a Stream drawing on w the connections that spec
// ("A:P-B:P") or, with port > 0, port chooses, or all of them.
func NewStream(w io.Writer, spec string, port int, opt ladder.Options) (*Stream, error) {
	opt.NoLegend = true // Close draws it once, after every connection
	s := &Stream{w: w, opt: opt, spec: spec, port: port, skipped: map[string]int{}, conns: map[int]*streamConn{},
		file: File{Format: "live"}}
	if _, err := Analyze(&File{}).Select(spec, port); err != nil {
		return nil, err
	}
	return s, nil
}

// Seen is the number of packets added.
func (s *Stream) Seen() int { return s.seen }

// Add takes the next packet of the capture; its N is set to its place in
// the capture, counted from 1, as the --pcap file numbers it. Packets of
// other protocols and, with a choice of connections, TCP segments of
// others are counted and left out.
func (s *Stream) Add(p Packet) {
	s.seen++
	p.N = s.seen
	seg, msg, sk, err := decode(&p)
	switch {
	case err != nil:
	case sk != "":
		s.skipped[string(sk)]++
		return
	case msg != nil && msg.linkLocal():
		s.skipped[skipLinkLocal]++
		return
	case seg != nil && !s.chosen(seg):
		s.skipped["TCP segments of other connections"]++
		return
	}
	if len(s.file.Packets) >= MaxStream {
		s.full = true
		return
	}
	if len(s.file.Packets) == 0 && s.file.epoch.IsZero() {
		s.file.epoch = p.Time // time 0, kept when the packets before go
	}
	s.file.Packets = append(s.file.Packets, p)
	s.dirty = true
}

// chosen reports whether seg belongs to a connection the stream draws.
func (s *Stream) chosen(seg *Segment) bool {
	switch {
	case s.spec != "":
		l, r, _ := strings.Cut(s.spec, "-")
		a, _ := netip.ParseAddrPort(l)
		b, _ := netip.ParseAddrPort(r)
		return seg.Src == a && seg.Dst == b || seg.Src == b && seg.Dst == a
	case s.port > 0:
		return int(seg.Src.Port()) == s.port || int(seg.Dst.Port()) == s.port
	}
	return true
}

// pending is a row to draw.
type pending struct {
	c  *Conn
	sc *streamConn
	d  *ladder.Diagram
	i  int
	at clock.Time
}

// Draw draws the rows settled at wall-clock time now.
func (s *Stream) Draw(now time.Time) error {
	if !s.dirty && !s.unsettle {
		return nil
	}
	_, err := s.draw(now, false)
	return err
}

func (s *Stream) draw(now time.Time, all bool) (*Analysis, error) {
	s.dirty, s.unsettle = false, false
	a := Analyze(&s.file)
	conns, err := a.Select(s.spec, s.port)
	if err != nil {
		return a, err
	}
	settle := s.Settle
	if settle <= 0 {
		settle = DefaultSettle
	}
	var todo []pending
	type over struct {
		c  *Conn
		sc *streamConn
		d  *ladder.Diagram
	}
	var ended []over
	for _, c := range conns {
		d, err := a.Diagram(c, s.opt)
		if err != nil {
			continue // no segments: an ICMP message alone
		}
		key := c.sights[0].pkt.N
		sc := s.conns[key]
		if sc == nil {
			sc = &streamConn{lay: d.StreamLayout(), name: c.String()}
			s.conns[key] = sc
		}
		for i := 0; i < len(sc.rows) && i < len(d.Rows) && !sc.revised; i++ {
			if !equalLines(sc.rows[i], d.TextRow(i, sc.lay)) {
				sc.revised = true
			}
		}
		// The latest packet each side sent: a row's receiver shows how it
		// took the packet in only with its own next segment.
		var lastFrom [2]clock.Time
		for i := range c.sights {
			if sg := &c.sights[i]; sg.send {
				lastFrom[sg.from] = max(lastFrom[sg.from], sg.at+1)
			}
		}
		n := len(sc.rows)
		for i := len(sc.rows); i < len(d.Rows); i++ {
			r := &d.Rows[i]
			answered := lastFrom[0] > r.At && lastFrom[1] > r.At
			if r.Kind == ladder.RowSend {
				answered = lastFrom[r.Side.Other()] > r.At
			}
			if !all && !answered && now.Sub(a.Start.Add(time.Duration(r.At))) < settle {
				s.unsettle = true
				break
			}
			todo = append(todo, pending{c: c, sc: sc, d: d, i: i, at: r.At})
			n++
		}
		// A connection both of whose ends are closed, every row drawn and
		// quiet for retireAfter, is over: its notes are kept, its packets
		// let go.
		latest := c.sights[len(c.sights)-1].at
		if !all && n == len(d.Rows) && len(d.Rows) > 0 && finished(d.Rows[len(d.Rows)-1].State) {
			if now.Sub(a.Start.Add(time.Duration(latest))) >= max(settle, retireAfter) {
				ended = append(ended, over{c, sc, d})
			} else {
				s.unsettle = true // a later Draw lets go of it
			}
		}
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].at < todo[j].at })
	l := s.opt.Lang
	for _, p := range todo {
		sc := p.sc
		if !s.started {
			s.started = true
			fmt.Fprintln(s.w, l.Trf("time 0 is the first TCP or ICMP packet captured, %s", a.Start.UTC().Format(time.RFC3339Nano)))
		}
		switch {
		case len(sc.rows) == 0:
			s.next++
			sc.num = s.next
			fmt.Fprintf(s.w, "\n%s\n%s\n%s\n\n", l.Trf("Connection %d: %s", sc.num, sc.name), p.d.Title(), p.d.Numbering())
			for _, line := range p.d.TextHeader(sc.lay) {
				fmt.Fprintln(s.w, line)
			}
		case s.last != sc.num:
			fmt.Fprintln(s.w, l.Trf("(connection %d: %s)", sc.num, sc.name))
		}
		s.last = sc.num
		lines := p.d.TextRow(p.i, sc.lay)
		for _, line := range lines {
			if _, err := fmt.Fprintln(s.w, line); err != nil {
				return a, err
			}
		}
		sc.rows = append(sc.rows, lines)
	}
	if len(ended) > 0 {
		gone := map[int]bool{}
		for _, o := range ended {
			o.sc.closing = s.closing(o.d, o.sc)
			s.retired = append(s.retired, o.sc)
			delete(s.conns, o.c.sights[0].pkt.N)
			for i := range o.c.sights {
				gone[o.c.sights[i].pkt.N] = true
			}
			for _, m := range o.c.ICMP {
				gone[m.N] = true
			}
		}
		kept := s.file.Packets[:0]
		for _, p := range s.file.Packets {
			if !gone[p.N] {
				kept = append(kept, p)
			}
		}
		clear(s.file.Packets[len(kept):])
		s.file.Packets = kept
	}
	return a, nil
}

// finished reports whether both ends of a connection are closed: CLOSED,
// or TIME-WAIT, which sends nothing more unless the peer's FIN comes again.
func finished(st [2]string) bool {
	for _, s := range st {
		if s != "CLOSED" && s != "TIME-WAIT" {
			return false
		}
	}
	return true
}

// closing is what Close draws of a connection: its notes, or, if later
// packets changed rows drawn, its whole ladder.
func (s *Stream) closing(d *ladder.Diagram, sc *streamConn) string {
	l := s.opt.Lang
	var b strings.Builder
	for i, n := range d.Notes {
		if n == fileFrameNote {
			d.Notes[i] = liveFrameNote
		}
	}
	fmt.Fprintf(&b, "\n%s\n", l.Trf("Connection %d: %s", sc.num, sc.name))
	if sc.revised {
		fmt.Fprintln(&b, l.Tr("note: ")+l.Tr("later packets changed rows drawn above; the whole capture draws this connection so:"))
		fmt.Fprintln(&b)
		d.WriteText(&b) // a strings.Builder does not fail
		return b.String()
	}
	fmt.Fprintln(&b, d.Numbering())
	for _, n := range d.Notes {
		fmt.Fprintln(&b, l.Tr("note: ")+l.Tr(n))
	}
	return b.String()
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// liveFrameNote replaces the capture's note about frame numbers: a live
// capture has no file unless --pcap writes one.
const (
	fileFrameNote = "#n is the frame number: the packet's place in the file, as Wireshark numbers it"
	liveFrameNote = "#n numbers the packets in the order the interface showed them, counted from 1 as Wireshark numbers the frames of the --pcap file"
)

// Close draws every row left, then what the capture left out and, for
// each connection drawn, its notes: what the analysis inferred or could
// not tell, how it ended. A connection whose drawn rows a later packet
// changed is drawn again, whole.
func (s *Stream) Close(now time.Time) error {
	a, err := s.draw(now, true)
	if err != nil {
		return err
	}
	l := s.opt.Lang
	w := s.w
	fmt.Fprintln(w)
	if s.full {
		fmt.Fprintln(w, l.Tr("note: ")+l.Trf("only the first %d packets of the connections drawn were kept: the later ones are not drawn", MaxStream))
	}
	var left []string
	for reason, n := range s.skipped {
		left = append(left, l.Tr("note: ")+l.Trf("%d %s were left out", n, l.Tr(reason)))
	}
	sort.Strings(left)
	for _, line := range left {
		fmt.Fprintln(w, line)
	}
	if a.NBad > 0 {
		fmt.Fprintln(w, l.Tr("note: ")+l.Trf("%d packets could not be decoded and were left out:", a.NBad))
		for _, b := range a.Bad {
			fmt.Fprintln(w, "  "+b)
		}
	}
	conns, _ := a.Select(s.spec, s.port)
	done := append([]*streamConn(nil), s.retired...)
	for _, c := range conns {
		sc := s.conns[c.sights[0].pkt.N]
		if sc == nil || len(sc.rows) == 0 {
			continue
		}
		d, err := a.Diagram(c, s.opt)
		if err != nil {
			return err
		}
		sc.closing = s.closing(d, sc)
		done = append(done, sc)
	}
	sort.Slice(done, func(i, j int) bool { return done[i].num < done[j].num })
	drawn := len(done)
	for _, sc := range done {
		fmt.Fprint(w, sc.closing)
	}
	if drawn == 0 {
		what := l.Tr("no TCP segments were seen")
		switch {
		case s.spec != "":
			what = l.Trf("no TCP segments of %s were seen", s.spec)
		case s.port > 0:
			what = l.Trf("no TCP segments to or from port %d were seen", s.port)
		}
		fmt.Fprintln(w, what)
		return nil
	}
	fmt.Fprintln(w)
	_, err = fmt.Fprint(w, ladder.LegendIn(s.opt.ASCII, l))
	return err
}
