// Package trace defines the events synack records: every segment a host sends
// or receives, every state change, every timer, and what the simulated link
// did to each packet. A nil Recorder records nothing. Events carry the time
// their producer was handed; the core never reads a clock.
package trace

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp/state"
	"github.com/gosynack/synack/wire"
)

// Kind says what an Event is.
type Kind uint8

const (
	// SegmentOut: Host sent Seg on the connection Local<->Remote.
	// Retransmit marks a segment sent again; RetransmitReason says why.
	SegmentOut Kind = iota + 1
	// SegmentIn: Host received Seg and handed it to TCP.
	SegmentIn
	// State: the connection Local<->Remote on Host moved From -> To.
	State
	// TimerSet: Host armed Timer to fire at Deadline.
	TimerSet
	// TimerFired: Host's Timer expired.
	TimerFired
	// TimerStop: Host cancelled Timer.
	TimerStop
	// LinkSend: the link Host (a link name) accepted packet PacketID from
	// Local for Remote; Seg is its parsed segment.
	LinkSend
	// LinkDeliver: the link delivered packet PacketID to Remote.
	LinkDeliver
	// LinkDrop: the link dropped packet PacketID; LinkCause says why
	// (loss, a full queue, a rule) and Reason adds the detail (the rule).
	LinkDrop
	// LinkDuplicate: the link made a copy of PacketID; the copy is
	// packet Dup.
	LinkDuplicate
	// LinkCorrupt: the link flipped bits in PacketID.
	LinkCorrupt
	// LinkHold: the link holds PacketID back (Reason says until when).
	LinkHold
	// Drop: Host discarded a received packet or segment; Cause says why
	// (a bad checksum, an unacceptable segment, no listener...).
	Drop
	// Note: anything else worth telling, in Reason (a challenge ACK sent,
	// a connection refused).
	Note
	// Metrics: Host's connection changed its congestion window, slow-start
	// threshold, smoothed RTT or RTO; Cwnd, Ssthresh, SRTT and RTO hold
	// the new values and Reason says what changed them ("ack", "RTO",
	// "recovery end", "fast recovery: RACK", ...).
	Metrics
	// ICMPIn: Host received an ICMP or ICMPv6 error about the connection
	// Local<->Remote from ICMPFrom (a router on the path, or the peer);
	// Reason says what the message is ("ICMPv6 Packet Too Big mtu=1280")
	// and Seg.Seq is the sequence number of the segment it quotes. What
	// TCP made of it follows as a Drop (RFC 5927 validation failed), a
	// Note or a State event.
	ICMPIn
)

var kindNames = [...]string{
	SegmentOut: "out", SegmentIn: "in", State: "state", TimerSet: "timer-set",
	TimerFired: "timer-fired", TimerStop: "timer-stop", LinkSend: "link-send",
	LinkDeliver: "link-deliver", LinkDrop: "link-drop", LinkDuplicate: "link-dup",
	LinkCorrupt: "link-corrupt", LinkHold: "link-hold", Drop: "drop", Note: "note",
	Metrics: "metrics", ICMPIn: "icmp-in",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Event is one thing that happened. Fields that do not apply to a Kind are
// zero.
type Event struct {
	At   clock.Time
	Kind Kind
	// Host is the name of the host (or, for Link* events, of the link) that
	// recorded the event.
	Host string
	// Local and Remote name the connection from Host's side; for Link*
	// events, the sending and receiving endpoints of the packet.
	Local, Remote netip.AddrPort
	// Seg is the segment for SegmentOut, SegmentIn and Link* events, and
	// for a Drop by the stack of a packet it parsed (a connection's drop
	// carries none). Its Payload is nil: PayloadLen keeps the length.
	Seg        wire.Segment
	PayloadLen int
	// PacketID identifies a packet on a link; Dup is a duplicate's id.
	PacketID, Dup uint64
	// From and To are the states before and after a State event.
	// FromUnknown says the state before is not known (the first change of
	// a side inferred from a capture that began mid-connection); From is
	// then zero.
	From, To    state.State
	FromUnknown bool
	// Timer names the timer ("retransmit", "time-wait", ...) and Deadline
	// is when it fires.
	Timer    string
	Deadline clock.Time
	// Retransmit marks a SegmentOut that sends sequence space again;
	// RetransmitReason says why, when the sender said (a segment read
	// from a capture has none).
	Retransmit       bool
	RetransmitReason RetransmitReason
	// Cause is why a Drop event's packet or segment was discarded.
	Cause DropCause
	// LinkCause is why a LinkDrop event's packet was dropped.
	LinkCause LinkDropCause
	// Reason is free text: why a State change happened, what a Note or
	// Metrics event says, what a Link* event did; on a SegmentOut read
	// from a capture, the Wireshark-style marks; on a Drop, a detail its
	// Cause is shown with (PAWS's timestamps; for a packet that did not
	// parse, the parser's error); on a LinkDrop, a detail its LinkCause
	// is shown with (the rule). Why gives the words to print.
	Reason string
	// Cwnd and Ssthresh (bytes; Ssthresh is math.MaxInt32 until the first
	// loss), SRTT and RTO for Metrics events.
	Cwnd, Ssthresh int
	SRTT, RTO      time.Duration
	// ICMPFrom is the sender of an ICMPIn event's message.
	ICMPFrom netip.Addr
}

// SetSegment stores a copy of seg's header in e without keeping its payload.
func (e *Event) SetSegment(seg *wire.Segment) {
	e.Seg = *seg
	e.PayloadLen = len(seg.Payload)
	e.Seg.Payload = nil
}

// Why returns the words that say why the event happened, as renderers
// print them: for a Drop, its Cause's words with Reason's detail (or the
// parser's error alone); for a LinkDrop, its LinkCause's words with
// Reason's detail; for a retransmission, its RetransmitReason's words,
// with Reason after them if it has one; otherwise Reason.
func (e *Event) Why() string {
	switch {
	case e.Kind == Drop:
		return e.Cause.text(e.Reason)
	case e.Kind == LinkDrop:
		return e.LinkCause.text(e.Reason)
	case e.Kind == SegmentOut && e.RetransmitReason != 0:
		if e.Reason == "" {
			return e.RetransmitReason.String()
		}
		return e.RetransmitReason.String() + ": " + e.Reason
	}
	return e.Reason
}

// hasSeg reports whether e carries a segment header.
func (e *Event) hasSeg() bool {
	s := &e.Seg
	return s.Flags != 0 || s.Seq != 0 || s.Ack != 0 || s.SrcPort != 0 || s.DstPort != 0
}

// String prints the event on one line, for logs and test failures.
func (e *Event) String() string {
	head := fmt.Sprintf("%v %s %s", e.At, e.Host, e.Kind)
	if e.Kind == Drop && e.Cause.Connection() && !e.hasSeg() {
		return fmt.Sprintf("%s %s>%s %s", head, e.Local, e.Remote, e.Why())
	}
	switch e.Kind {
	case SegmentOut, SegmentIn, Drop, LinkSend, LinkDeliver, LinkDrop, LinkDuplicate, LinkCorrupt, LinkHold:
		s := e.Seg
		s.Payload = make([]byte, e.PayloadLen)
		line := head
		if e.PacketID != 0 {
			line += fmt.Sprintf(" #%d", e.PacketID)
		}
		line += " " + e.Local.String() + ">" + e.Remote.String() + " " + s.String()
		if e.Retransmit {
			line += " [retransmit]"
		}
		if w := e.Why(); w != "" {
			line += " (" + w + ")"
		}
		return line
	case State:
		from := e.From.String()
		if e.FromUnknown {
			from = ""
		}
		return fmt.Sprintf("%s %s>%s %s -> %s", head, e.Local, e.Remote, from, e.To)
	case TimerSet:
		return fmt.Sprintf("%s %s at %v", head, e.Timer, e.Deadline)
	case TimerFired, TimerStop:
		return head + " " + e.Timer
	case Metrics:
		ss := "inf"
		if e.Ssthresh < math.MaxInt32 {
			ss = fmt.Sprint(e.Ssthresh)
		}
		return fmt.Sprintf("%s %s>%s cwnd=%d ssthresh=%s srtt=%v rto=%v (%s)", head, e.Local, e.Remote, e.Cwnd, ss, e.SRTT, e.RTO, e.Reason)
	case ICMPIn:
		return fmt.Sprintf("%s %s>%s %s from %v, quoting seq=%d", head, e.Local, e.Remote, e.Reason, e.ICMPFrom, uint32(e.Seg.Seq))
	default:
		return head + " " + e.Reason
	}
}

// Recorder receives events. Implementations must copy what they keep: the
// caller may reuse the Event after Record returns.
type Recorder interface {
	Record(e *Event)
}

// Log is a Recorder that keeps every event in order.
type Log struct {
	Events []Event
}

// Record appends a copy of e.
func (l *Log) Record(e *Event) { l.Events = append(l.Events, *e) }

// Func adapts a function to a Recorder.
type Func func(e *Event)

// Record calls f(e).
func (f Func) Record(e *Event) { f(e) }

// Tee returns a Recorder that records to each non-nil recorder in turn, or
// nil if there are none.
func Tee(rs ...Recorder) Recorder {
	var out multi
	for _, r := range rs {
		if r != nil {
			out = append(out, r)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

type multi []Recorder

func (m multi) Record(e *Event) {
	for _, r := range m {
		r.Record(e)
	}
}
