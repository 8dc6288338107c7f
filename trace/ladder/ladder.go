// Package ladder turns trace events into a ladder (sequence) diagram of one
// TCP connection: two columns, one per host, with time running down the page,
// each packet an arrow from its sender to its receiver, and each side's TCP
// state printed where it changes.
//
// Build makes a Diagram, a model with no layout in it (rows, packets,
// markers); renderers draw it. WriteText draws it for a terminal. Build is a
// pure function of its input: no clock, no I/O, and the same events always
// give the same diagram.
//
// Sequence numbers are shown as Wireshark shows them: seq relative to the
// sender's ISN and ack relative to the receiver's, where a side's ISN is the
// sequence number of the first SYN it sent. A number whose ISN has not been
// seen yet is printed absolute and flagged. The window is shown scaled, as
// Wireshark's calculated window size, with "×?" when the scale is unknown.
package ladder

import (
	"net/netip"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/wire"
)

// Options choose what a diagram shows. The zero value draws the connection
// of the first SYN, sender on the left, with relative sequence numbers.
type Options struct {
	// Left and Right name the hosts of the two columns: a host name from
	// the events ("client"), or the address of a host that recorded no
	// events of its own ("198.18.0.1:80"). Either may be empty: by default
	// the host that sends the first SYN is on the left and its peer on the
	// right.
	Left, Right string
	// Conn picks one of the connections between the chosen hosts (between
	// any hosts if Left and Right are empty), counting from 1 in order of
	// first appearance. Zero picks the first connection that opens with a
	// SYN, or else the first one.
	Conn int
	// Number, if set, numbers the packet that events[i] (of the events
	// given to Build) is the first to show, instead of counting packets in
	// order of sending: a capture's frame numbers. A number of 0 or less
	// falls back to the count. The numbers must differ from packet to
	// packet.
	Number func(i int) int
	// Absolute prints sequence numbers and the window as they are on the
	// wire: the window field, unscaled.
	Absolute bool
	// Timers adds rows for timers set, fired and stopped.
	Timers bool
	// Notes adds rows for the hosts' notes (challenge ACKs, refusals, RTO
	// changes...) and for the segments their connections drop.
	Notes bool
	// ASCII draws with plain characters (-->, <--, X) instead of Unicode
	// box drawing.
	ASCII bool
	// NoLegend leaves the legend out of the text.
	NoLegend bool
	// Color draws the text with ANSI colours, for a terminal: each side's
	// packets in its own colour, retransmissions yellow, RSTs and losses
	// red, link-made copies magenta, states bold.
	Color bool
	// Lang is the language of the text the diagram adds to the events'
	// own (legend, header, numbering, markers, timers, notes): English by
	// default. States stay in RFC spelling and segments in their
	// canonical line in every language.
	Lang i18n.Lang
}

// Side is a column of the diagram.
type Side uint8

const (
	Left Side = iota
	Right
)

// Other returns the opposite side.
func (s Side) Other() Side { return 1 - s&1 }

func (s Side) String() string {
	if s == Left {
		return "left"
	}
	return "right"
}

// Host is one column.
type Host struct {
	Name string
	// Addr is the host's end of the connection; it is invalid when the
	// events carry no addresses.
	Addr netip.AddrPort
	// Traced reports whether the host recorded events itself; if not, its
	// states are unknown and only what the link or its peer saw is drawn.
	Traced bool
	// Initial is the state before the first row, "" if unknown. A traced
	// host that recorded no state change and sent only RSTs had no
	// connection: it is CLOSED (RFC 9293 §3.3.2: CLOSED "represents no
	// connection state at all").
	Initial string
	// ISN is the sequence number of the first SYN the host sent, if HasISN.
	ISN    seq.Value
	HasISN bool
	// FirstSeen: no SYN of the host was seen, and ISN is instead the
	// first sequence number it was seen sending (see SetBase).
	FirstSeen bool
}

// Fate is what became of a packet.
type Fate uint8

const (
	// InFlight: no arrival or loss was recorded (the trace ends first, or
	// there are no link events and the receiver recorded nothing).
	InFlight Fate = iota
	// Delivered: the packet reached the receiver at Arrived.
	Delivered
	// Lost: the link dropped it; LostCause says why.
	Lost
)

// Packet is one arrow.
type Packet struct {
	// N numbers the packet in the diagram (#1, #2...): in order of
	// sending, or as Options.Number says.
	N    int
	From Side
	// Seg is the header; Payload is nil and PayloadLen keeps the length.
	Seg        wire.Segment
	PayloadLen int
	// Label is the canonical segment line (wire.Segment.Compact, or
	// String with Options.Absolute), its win= the advertised Window (the
	// field itself with Options.Absolute, "N×?" when WindowUnknown).
	Label string
	// Window is the window the segment advertises, in bytes: the header's
	// field shifted by its sender's window scale (RFC 7323 §2.2), as
	// Wireshark's tcp.window_size. The scale is the shift the sender's SYN
	// announced if both SYNs announced one, else 0 (§2.2: both or
	// neither); a SYN's own window is never scaled (§2.2). WindowUnknown:
	// the SYNs were not both seen, so the scale is not known and Window is
	// the field.
	Window        int
	WindowUnknown bool
	// AbsSeq and AbsAck report a field printed absolute in a relative
	// diagram because the ISN it is relative to was not known yet.
	AbsSeq, AbsAck bool
	// Sent is when the packet left; SendSeen is false when only its
	// arrival was recorded (an untraced sender and no link events).
	Sent     clock.Time
	SendSeen bool
	Fate     Fate
	// Arrived is when the packet reached the receiver (Fate Delivered).
	Arrived clock.Time
	// LostCause is why the link dropped the packet (Fate Lost), and
	// LostReason the words for it with their detail ("rule: drop 1st S").
	LostCause  trace.LinkDropCause
	LostReason string
	// Retransmit marks a segment sent again; Reason says why ("RTO") or,
	// for other segments, anything the sender said about it ("challenge
	// ACK"). RetransmitOf is the number of the earlier packet with the same
	// sequence number, 0 if none was seen.
	Retransmit   bool
	Reason       string
	RetransmitOf int
	// CopyOf is the number of the packet this one is a link-made copy of.
	CopyOf int
	// Held and Corrupted record what the link did to the packet.
	Held       bool
	HoldReason string
	Corrupted  bool
	// Dropped: the receiver discarded the packet on arrival, DropReason says
	// why ("bad checksum").
	Dropped    bool
	DropReason string
}

// RowKind says what a row shows.
type RowKind uint8

const (
	// RowSend: Packet leaves Side.
	RowSend RowKind = iota + 1
	// RowArrive: Packet reaches Side. If the send was not recorded the row
	// carries the whole arrow.
	RowArrive
	// RowLost: the link dropped Packet (sent from Side) later than it was
	// sent; a loss at the time of sending is a MarkLost on the send row.
	RowLost
	// RowLink: the link duplicated, held or corrupted Packet (sent from
	// Side) later than it was sent; Text says what.
	RowLink
	// RowDrop: Side discarded a segment that is on no arrow; Text says
	// what and why.
	RowDrop
	// RowTimerSet, RowTimerFired, RowTimerStop: Side's timer, in Text.
	RowTimerSet
	RowTimerFired
	RowTimerStop
	// RowNote: Side noted Text.
	RowNote
	// RowState: only a state change of Side.
	RowState
	// RowICMP: the ICMP or ICMPv6 message Diagram.ICMP[Row.ICMP] reached
	// Side, sent by a router on the path or by the other host (AddICMP);
	// Text says what it is.
	RowICMP
)

// MarkerKind says what a marker flags.
type MarkerKind uint8

const (
	// MarkRetransmit: the packet is a retransmission.
	MarkRetransmit MarkerKind = iota + 1
	// MarkReason: the sender's reason for a segment that is not a
	// retransmission ("challenge ACK").
	MarkReason
	// MarkReset: the packet carries RST.
	MarkReset
	// MarkLost: the link dropped the packet as it was sent.
	MarkLost
	// MarkDuplicated, MarkHeld, MarkCorrupted: what the link did to the
	// packet as it was sent.
	MarkDuplicated
	MarkHeld
	MarkCorrupted
	// MarkDropped: the receiver discarded the packet on arrival.
	MarkDropped
	// MarkQuote: the segment an ICMP message quotes.
	MarkQuote
	// MarkMalformed: what is wrong with an ICMP message.
	MarkMalformed
)

// Marker flags something about a row, in words a student can read.
type Marker struct {
	Kind MarkerKind
	Text string
}

// Row is one instant of the diagram.
type Row struct {
	At   clock.Time
	Kind RowKind
	// Side is the column the row is drawn from: the sender for RowSend,
	// RowLost and RowLink, the receiver for RowArrive, otherwise the host.
	Side Side
	// Packet indexes Diagram.Packets, or is -1.
	Packet int
	// ICMP indexes Diagram.ICMP on a RowICMP.
	ICMP    int
	Text    string
	Markers []Marker
	// State is each side's state after the row ("" if unknown); Changed
	// reports that it changed on this row.
	State   [2]string
	Changed [2]bool
}

// Diagram is a ladder diagram of one connection, ready to render.
type Diagram struct {
	Hosts   [2]Host
	Packets []Packet
	Rows    []Row
	// ICMP are the ICMP and ICMPv6 messages about the connection, in the
	// order AddICMP was given them.
	ICMP []ICMP
	// Notes tell the reader what the diagram leaves out or had to guess:
	// other hosts and connections, odd input.
	Notes []string
	// Links reports that the events include the link's view of packets;
	// without it, arrival times are only known where the receiver recorded
	// them.
	Links bool
	opt   Options
}

// Options returns the options the diagram was built with.
func (d *Diagram) Options() Options { return d.opt }

// Packet returns the packet of row r, or nil.
func (d *Diagram) Packet(r *Row) *Packet {
	if r.Packet < 0 || r.Packet >= len(d.Packets) {
		return nil
	}
	return &d.Packets[r.Packet]
}

// Relative reports whether sequence numbers are shown relative to the ISNs:
// not asked for absolute, and at least one ISN known.
func (d *Diagram) Relative() bool {
	return !d.opt.Absolute && (d.Hosts[Left].HasISN || d.Hosts[Right].HasISN)
}
