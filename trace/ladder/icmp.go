package ladder

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
)

// ICMP is an ICMP or ICMPv6 message about a connection, as a capture shows
// it: an error that quotes one of the connection's segments (RFC 792, RFC
// 4443 §2.4: the quote holds the ports and the sequence number), sent to
// that segment's sender by a router on the path or by the other host.
type ICMP struct {
	// N numbers the message among the diagram's packets (a capture's frame
	// number).
	N  int
	At clock.Time
	// To is the host the message was sent to.
	To Side
	// From is the address of the message's sender; FromPeer reports that
	// it is the other host's, so the arrow starts at its lifeline (a
	// Destination Unreachable from the host itself). Otherwise it is a
	// router between the two, drawn in the middle.
	From     netip.Addr
	FromPeer bool
	// Text says what the message is, in words: "ICMPv6 Packet Too Big
	// mtu=1280".
	Text string
	// Seq is the quoted segment's sequence number, if HasSeq.
	HasSeq bool
	Seq    seq.Value
	// Problem says what is wrong with the message, "" if nothing: a bad
	// checksum, a quote cut short. A receiver discards a message whose
	// checksum fails.
	Problem string
	// Quotes is the number of the packet the message quotes, 0 if it is
	// not one of the diagram's: AddICMP sets it.
	Quotes int
}

// AddICMP draws message m on a row of its own at its time, after the rows
// of the same instant: an arrow to m.To, from the other lifeline if the
// other host sent it, else from the middle of the path. Beneath it, the
// segment it quotes: the latest packet m.To sent with the quoted sequence
// number at or before m.At, by its number, and the sequence number as the
// diagram shows numbers (relative to the ISN when it is relative).
func (d *Diagram) AddICMP(m ICMP) {
	r := d.icmpRow(m)
	k := sort.Search(len(d.Rows), func(i int) bool { return d.Rows[i].At > m.At })
	if k > 0 {
		r.State = d.Rows[k-1].State
	} else {
		r.State = [2]string{d.Hosts[Left].Initial, d.Hosts[Right].Initial}
	}
	d.Rows = append(d.Rows, Row{})
	copy(d.Rows[k+1:], d.Rows[k:])
	d.Rows[k] = r
}

// icmpRow adds m to d.ICMP and returns its row, its State not yet set.
func (d *Diagram) icmpRow(m ICMP) Row {
	m.Quotes = 0
	var quote string
	if m.HasSeq {
		// The latest such packet sent before the message arrived; one sent
		// at that very instant only if there is none (a resend the message
		// itself caused comes at its instant too).
		for _, strict := range [...]bool{true, false} {
			for i := len(d.Packets) - 1; i >= 0 && m.Quotes == 0; i-- {
				p := &d.Packets[i]
				early := p.Sent < m.At || (!strict && p.Sent == m.At) || !p.SendSeen
				if p.From == m.To && p.Seg.Seq == m.Seq && early && p.N != m.N {
					m.Quotes = p.N
				}
			}
		}
		s := m.Seq.String()
		if h := d.Hosts[m.To]; d.Relative() && h.HasISN {
			s = fmt.Sprint(uint32(m.Seq.Size(h.ISN)))
		}
		l := d.opt.Lang
		switch {
		case m.Quotes > 0:
			quote = l.Trf("quotes #%d (seq=%s)", m.Quotes, s)
		case m.N > 0: // a capture's message
			quote = l.Trf("quotes the segment with seq=%s, not in the capture", s)
		default:
			quote = l.Trf("quotes the segment with seq=%s", s)
		}
	}
	d.ICMP = append(d.ICMP, m)
	r := Row{At: m.At, Kind: RowICMP, Side: m.To, Packet: -1, ICMP: len(d.ICMP) - 1, Text: m.Text}
	if quote != "" {
		r.Markers = append(r.Markers, Marker{MarkQuote, quote})
	}
	if m.Problem != "" {
		r.Markers = append(r.Markers, Marker{MarkMalformed, m.Problem})
	}
	return r
}

// icmpOf returns the message of row r, or nil.
func (d *Diagram) icmpOf(r *Row) *ICMP {
	if r.Kind != RowICMP || r.ICMP < 0 || r.ICMP >= len(d.ICMP) {
		return nil
	}
	return &d.ICMP[r.ICMP]
}

// icmpTitle is the line of an ICMP row: its number, what it is, and its
// sender when that is a router.
func icmpTitle(m *ICMP) string {
	s := m.Text
	if m.N > 0 { // a simulated run's messages are not numbered
		s = fmt.Sprintf("#%d %s", m.N, m.Text)
	}
	if !m.FromPeer && m.From.IsValid() {
		s += " from " + m.From.String()
	}
	return s
}
