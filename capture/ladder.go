package capture

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
	"github.com/gosynack/synack/wire"
)

// Diagram builds the ladder of connection c: the opener on the left, each
// packet numbered by its frame number (Packet.N; for a packet seen both
// sent and received, the frame of its send). The diagram's notes say what
// the analysis inferred or could not tell.
func (a *Analysis) Diagram(c *Conn, opt ladder.Options) (*ladder.Diagram, error) {
	r := a.Events(c)
	if len(r.Events) == 0 {
		return nil, fmt.Errorf("connection %s: no segments", c)
	}
	opt.Left, opt.Right, opt.Conn = c.Name[0], c.Name[1], 0
	opt.Number = func(i int) int { return r.Frames[i] }
	d, err := ladder.Build(r.Events, opt)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", c, err)
	}
	if r.SinglePoint {
		d.MergeArrivals()
		d.Notes = append(d.Notes, "one capture point: each packet is drawn once, when it was captured; states are inferred from the segments")
	} else {
		d.Notes = append(d.Notes, "each packet is drawn when its sender's interface sent it and its receiver's received it; states are inferred from the segments")
	}
	// A capture is the link's view: the ladder's note about missing link
	// events does not apply.
	d.Links = d.Links || r.SinglePoint
	for sd := range r.HasSYN {
		if !r.HasSYN[sd] && sentAny(d, ladder.Side(sd)) {
			d.SetBase(ladder.Side(sd), r.FirstSeq[sd])
		}
	}
	d.Notes = append(d.Notes, r.Notes...)
	d.Notes = append(d.Notes, "#n is the frame number: the packet's place in the file, as Wireshark numbers it")
	a.addICMP(d, c)
	return d, nil
}

// addICMP draws on d the ICMP errors that quote c's segments and, with
// AllICMP, the other ICMP messages between c's two hosts.
func (a *Analysis) addICMP(d *ladder.Diagram, c *Conn) {
	var ms []*ICMP
	quoting := 0
	for _, m := range a.ICMP {
		switch {
		case m.dup:
		case m.Conn == c:
			ms = append(ms, m)
			quoting++
		case a.AllICMP && m.Conn == nil && between(c, m):
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return
	}
	if quoting > 0 {
		what := "1 ICMP message quotes"
		if quoting > 1 {
			what = fmt.Sprintf("%d ICMP messages quote", quoting)
		}
		router := "◇"
		if d.Options().ASCII {
			router = "*"
		}
		d.Notes = append(d.Notes, what+" this connection's segments: drawn when captured, "+
			"to the host that sent the quoted segment, from the host or the router ("+router+") that sent it; "+
			"a host heeds one only if the quoted seq is one it sent and is unacknowledged (RFC 5927 §4.1), "+
			"and whether it then gives up is its own choice (RFC 1122 §4.2.3.9, RFC 5461): the states are not inferred from ICMP")
		a.offloadAfterPMTU(d, c)
	}
	for _, m := range ms {
		l := ladder.ICMP{N: m.N, At: m.At, From: m.Msg.Src, Text: m.Msg.Words(), Problem: m.Msg.Problem}
		if m.Conn == c {
			l.To = ladder.Side(m.From)
			q := m.Msg.Quote()
			l.HasSeq, l.Seq = q.HasSeq, q.Seq
			if w := outsideWindow(c, m); w != "" {
				if l.Problem != "" {
					l.Problem += "; "
				}
				l.Problem += w
			}
		} else if m.Msg.Dst == c.Addr[1].Addr() {
			l.To = ladder.Right
		}
		l.FromPeer = m.Msg.Src == c.Addr[l.To.Other()].Addr()
		d.AddICMP(l)
	}
}

// outsideWindow says, for an error quoting c's segment, when its quoted
// sequence number is not one the segment's sender has sent and not yet
// had acknowledged, as far as the frames before it show: RFC 5927 §4.1
// has TCP check that it lies in SND.UNA..SND.NXT (SND.UNA included,
// SND.NXT not) and discard the message if not, so that a blind attacker
// cannot reset or shrink a connection. A seq of SND.NXT itself passes, as
// Linux lets it (tcp_v4_err's between() includes both ends): a segment
// with no sequence space, a pure ACK, carries it. SND.UNA is taken as the highest
// ACK the peer sent, SND.NXT as the end of the highest segment the
// sender sent.
func outsideWindow(c *Conn, m *ICMP) string {
	q := m.Msg.Quote()
	if !q.HasSeq {
		return ""
	}
	x := m.From
	var una, nxt seq.Value
	var sent, acked bool
	for i := range c.sights {
		s := &c.sights[i]
		if s.pkt.N > m.N {
			break
		}
		tcp := &s.seg.TCP
		switch {
		case s.from == x && s.send:
			end := tcp.Seq.Add(seqLen(&s.seg))
			if !sent || nxt.LessThan(end) {
				nxt = end
			}
			if !sent && !acked {
				una = tcp.Seq
			}
			sent = true
		case s.from != x && tcp.Flags&wire.ACK != 0 && tcp.Flags&wire.RST == 0:
			if !acked || una.LessThan(tcp.Ack) {
				una = tcp.Ack
			}
			acked = true
		}
	}
	switch {
	case !sent:
		return ""
	case q.Seq.LessThan(una):
		return "its quoted seq is already acknowledged (below SND.UNA): a host discards it (RFC 5927 §4.1)"
	case nxt.LessThan(q.Seq):
		return "its quoted seq was never sent (above SND.NXT): a host discards it (RFC 5927 §4.1)"
	}
	return ""
}

// sentAny reports whether side sd sent a packet of d.
func sentAny(d *ladder.Diagram, sd ladder.Side) bool {
	for i := range d.Packets {
		if d.Packets[i].From == sd {
			return true
		}
	}
	return false
}

// offloadAfterPMTU notes the segments a side sent, after an ICMP error
// told it a smaller path MTU (RFC 1191 §4, RFC 8201 §4), that are still
// too big for it: the capturing host's segmentation offload (GSO/TSO)
// cut them after the capture point, as the kernel hands it packets
// sized for the old MSS with the new size to cut them to.
func (a *Analysis) offloadAfterPMTU(d *ladder.Diagram, c *Conn) {
	for _, m := range c.ICMP {
		mtu := 0
		switch v := &m.Msg; {
		case !v.IsV6 && v.V4.Type == wire.ICMPv4DestUnreachable && v.V4.Code == wire.ICMPv4FragmentationNeeded:
			mtu = int(v.V4.MTU)
		case v.IsV6 && v.V6.Type == wire.ICMPv6PacketTooBig:
			mtu = int(v.V6.MTU)
		}
		if mtu == 0 || m.dup {
			continue
		}
		n := 0
		for i := range c.sights {
			s := &c.sights[i]
			iph := 20
			if s.seg.IP.Version == 6 {
				iph = 40
			}
			if s.from == m.From && s.send && s.at > m.At && iph+s.seg.TCP.HeaderLen()+s.seg.PayloadLen > mtu {
				n++
			}
		}
		if n > 0 {
			d.Notes = append(d.Notes, fmt.Sprintf("#%d says the path MTU is %d bytes, yet %d later segments from %s are larger: "+
				"the capturing host's segmentation offload (GSO/TSO) cut them to the new size after the capture point", m.N, mtu, n, c.Name[m.From]))
		}
		return // the first such message says it
	}
}

// between reports a message from one of c's hosts to the other.
func between(c *Conn, m *ICMP) bool {
	x, y := c.Addr[0].Addr(), c.Addr[1].Addr()
	return m.Msg.Src == x && m.Msg.Dst == y || m.Msg.Src == y && m.Msg.Dst == x
}

// WriteText prints a summary of the capture and the ladder of each of
// conns.
func (a *Analysis) WriteText(w io.Writer, name string, conns []*Conn, opt ladder.Options) error {
	f := a.File
	l := opt.Lang
	zh := l != i18n.English
	if zh {
		fmt.Fprint(w, l.Trf("%s: %s, %d packets, %d TCP connections", name, f.Format, len(f.Packets), len(a.Conns)))
	} else {
		fmt.Fprintf(w, "%s: %s, %s, %s", name, f.Format, count(len(f.Packets), "packet"), count(len(a.Conns), "TCP connection"))
	}
	if n := a.nICMP(); n > 0 {
		if zh {
			fmt.Fprint(w, l.Trf(", %d ICMP messages", n))
		} else {
			fmt.Fprintf(w, ", %s", count(n, "ICMP message"))
		}
	}
	if len(f.Packets) > 0 {
		fmt.Fprint(w, l.Trf("; time 0 is the first packet, %s", a.Start.UTC().Format(time.RFC3339Nano)))
	}
	fmt.Fprintln(w)
	if len(a.Conns) > 1 {
		for _, c := range a.Conns {
			icmp := ""
			if len(c.ICMP) > 0 {
				icmp = l.Trf(", %d ICMP", len(c.ICMP))
			}
			fmt.Fprintln(w, l.Trf("  connection %d: %s (%d packets%s)", c.N, c, c.Packets, icmp))
		}
	}
	note := l.Tr("note: ")
	if f.Cut != "" {
		fmt.Fprintln(w, note+l.TrFilled(f.Cut))
	}
	for _, s := range a.skipped() {
		fmt.Fprintln(w, note+l.TrFilled(s))
	}
	if n := a.nLoose(); n > 0 && !a.AllICMP {
		fmt.Fprintln(w, note+l.Trf("%d ICMP messages quote no TCP segment of the capture (echo requests and replies, errors about other packets): "+
			"synack ladder --icmp draws those between a connection's two hosts on its ladder and lists them all", n))
	}
	if a.AllICMP && a.nICMP() > 0 {
		fmt.Fprintln(w, l.Tr("ICMP messages:"))
		for _, m := range a.ICMP {
			if m.dup {
				continue
			}
			about := l.Tr("about no connection")
			if m.Conn != nil {
				about = l.Trf("about connection %d", m.Conn.N)
			}
			fmt.Fprintf(w, "  %s%s%s\n", ladder.ICMPWordsIn(l, m.String()), l.Tr("; "), about)
		}
	}
	if a.Truncated > 0 {
		fmt.Fprintln(w, note+l.Trf("%d segments were cut by the snaplen: their headers are read, their payload length comes from the IP header, and their checksums are not checked", a.Truncated))
	}
	if a.NBad > 0 {
		fmt.Fprintln(w, note+l.Trf("%d packets could not be decoded and were left out:", a.NBad))
		for _, b := range a.Bad {
			fmt.Fprintln(w, "  "+b)
		}
		if a.NBad > len(a.Bad) {
			fmt.Fprintln(w, l.Trf("  (and %d more)", a.NBad-len(a.Bad)))
		}
	}
	for _, c := range conns {
		d, err := a.Diagram(c, opt)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%s\n\n", l.Trf("Connection %d: %s", c.N, c))
		if err := d.WriteText(w); err != nil {
			return err
		}
	}
	return nil
}

// nICMP counts the ICMP messages, each once; nLoose those about no
// connection.
func (a *Analysis) nICMP() int {
	n := 0
	for _, m := range a.ICMP {
		if !m.dup {
			n++
		}
	}
	return n
}

func (a *Analysis) nLoose() int {
	n := 0
	for _, m := range a.ICMP {
		if !m.dup && m.Conn == nil {
			n++
		}
	}
	return n
}

func (a *Analysis) skipped() []string {
	var out []string
	for reason, n := range a.Skipped {
		out = append(out, fmt.Sprintf("%d %s were left out", n, reason))
	}
	sort.Strings(out)
	return out
}

// Summary says in one line what was left out, for errors.
func (a *Analysis) Summary() string {
	s := a.skipped()
	if a.File.Cut != "" {
		s = append([]string{a.File.Cut}, s...)
	}
	if a.NBad > 0 {
		s = append(s, fmt.Sprintf("%d packets could not be decoded (first: %s)", a.NBad, a.Bad[0]))
	}
	return strings.Join(s, "; ")
}

// count is "1 packet" or "n packets".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
