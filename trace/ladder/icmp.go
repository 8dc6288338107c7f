package ladder

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace/i18n"
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
// sender if a router sent it, in the diagram's language.
func (d *Diagram) icmpTitle(m *ICMP) string {
	l := d.opt.Lang
	s := icmpWordsIn(l, m.Text)
	if m.N > 0 { // a simulated run's messages are not numbered
		s = fmt.Sprintf("#%d %s", m.N, s)
	}
	if !m.FromPeer && m.From.IsValid() {
		s += l.Trf(" from %s", m.From.String())
	}
	return s
}

// icmpWords are the names of ICMP and ICMPv6 types and codes, as package
// wire writes them (a simulated run's) and as package capture's Words
// does (a capture's): icmpWordsIn translates each where it is found, the
// longer first. Each is in the catalogue.
var icmpWords = []string{
	// capture.Message.Words (RFC 792, RFC 1122, RFC 1812, RFC 4443)
	"Fragmentation Needed (next-hop mtu not given)",
	"Destination Unreachable", "Fragmentation Needed", "Packet Too Big", "Time Exceeded",
	"Parameter Problem", "Echo Request", "Echo Reply", "Source Quench", "Redirect",
	" (net unreachable)", " (host unreachable)", " (protocol unreachable)", " (port unreachable)",
	" (administratively prohibited)", " (no route to destination)", " (address unreachable)",
	" (TTL exceeded in transit)", " (hop limit exceeded in transit)", " (fragment reassembly time exceeded)",
	// wire.ICMPv4.String and wire.ICMPv6.String
	"dest-unreachable", "fragmentation-needed", "packet-too-big", "time-exceeded", "parameter-problem",
	"echo-request", "echo-reply", "net-unreachable", "host-unreachable", "protocol-unreachable",
	"port-unreachable", "admin-prohibited", "no-route", "address-unreachable", "ttl-exceeded",
	"hop-limit-exceeded", "reassembly-time-exceeded",
	// and the quote, in a capture's list
	" quoting ",
}

var icmpReplacer = func() *strings.Replacer {
	words := append([]string(nil), icmpWords...)
	sort.SliceStable(words, func(i, j int) bool { return len(words[i]) > len(words[j]) })
	var pairs []string
	for _, w := range words {
		pairs = append(pairs, w, i18n.Chinese.Tr(w))
	}
	return strings.NewReplacer(pairs...)
}()

// ICMPWordsIn is a line that names ICMP messages (ICMP.Text, a capture's
// list of them) in language l: the types' and codes' names translated.
func ICMPWordsIn(l i18n.Lang, s string) string { return icmpWordsIn(l, s) }

// icmpWordsIn is an ICMP message's words (ICMP.Text) in language l.
func icmpWordsIn(l i18n.Lang, s string) string {
	if l != i18n.Chinese {
		return s
	}
	return icmpReplacer.Replace(s)
}
