package trace

import "strconv"

// DropCause is why a host discarded a packet or segment it received: the
// Cause of a Drop event.
type DropCause uint8

const (
	// A packet the stack could not parse; the event's Reason is the
	// parser's error, which names the fault and the field.
	DropChecksum  DropCause = iota + 1 // a checksum did not verify
	DropTruncated                      // shorter than its length fields say
	DropFragment                       // an IP fragment that reassembly dropped (stack/frag.go)
	DropMalformed                      // any other parse error

	// The stack's drops of a parsed segment.
	DropNotAddressed // not for this host's address
	DropBacklogFull  // a SYN for a listener whose backlog is full
	// RFC 9293 §3.10.7.2 fourth: a segment for a listener with neither
	// SYN, ACK (answered with a RST) nor RST.
	DropListenNoSYN
	// §3.10.7.1 and §3.10.7.2 first: a RST for no connection is discarded.
	DropResetNoConn

	// A connection's drops of a segment it was handed (RFC 9293 §3.10.7).
	DropSynSentBadACK      // §3.10.7.3 first: SEG.ACK =< ISS or SEG.ACK > SND.NXT
	DropSynSentResetNoACK  // §3.10.7.3 second: a RST without an acceptable ACK
	DropSynSentNoSYN       // §3.10.7.3 fifth: neither SYN nor RST
	DropResetOutsideWindow // §3.10.7.4 first, RFC 5961 §3.2: a RST outside the window
	DropUnacceptableSeq    // §3.10.7.4 first: the segment is not in the window
	DropNoACK              // §3.10.7.4 fifth: "if the ACK bit is off, drop the segment"
	DropSynReceivedBadACK  // §3.10.7.4 fifth, SYN-RECEIVED: the ACK is not acceptable
	DropBadACK             // RFC 5961 §5.2: SEG.ACK outside (SND.UNA - MAX.SND.WND) .. SND.NXT
	DropNoTimestamp        // RFC 7323 §3.2: no TSopt on a connection that negotiated it
	DropPAWS               // RFC 7323 §5.3 R1: an old timestamp; Reason gives the values
	// RFC 5961 §7: the challenge ACK for a RST (or a SYN) was not sent
	// because the connection reached its limit, and the segment is dropped.
	DropChallengeRSTLimited
	DropChallengeSYNLimited
	// RFC 5927 §4.1: an ICMP or ICMPv6 error quoting a sequence number
	// outside SND.UNA..SND.NXT; Reason gives the message and the values.
	DropICMPBadQuote
	// A segment beyond RCV.NXT that would have made more ranges of data
	// held out of order than the connection keeps (tcp's maxOOORanges).
	DropOutOfOrderRanges
	// A SYN for a listener whose SYN queue (half-open connections) is full
	// while SYN cookies are off (RFC 4987 §3.3).
	DropSynQueueFull
	// RFC 1812 §5.3.7 martians, RFC 1122 §4.2.3.10: a segment from a
	// broadcast, multicast, unspecified or (off a loopback link) loopback
	// source; to a multicast or broadcast destination; from one of the
	// host's own addresses or to its own source (LAND).
	DropMartianSource
	DropMartianDestination
	DropLAND
	// SYN together with FIN or RST.
	DropBadFlags
	// A SYN or cookie ACK for a listener while the stack holds as many
	// connections as it may (stack.Config.MaxConns).
	DropConnLimit
	// Data the stack's buffer budget has no room for (tcp.Config.MemLimit;
	// out-of-order data from MemPressure on).
	DropMemory
)

const (
	rstChallenged = "RST in window but not at RCV.NXT"
	synChallenged = "SYN in a synchronized state"
	limited       = "; challenge ACK rate-limited"
)

var dropWords = [...]string{
	DropChecksum:            "bad checksum",
	DropTruncated:           "truncated",
	DropFragment:            "IP fragment",
	DropMalformed:           "malformed packet",
	DropNotAddressed:        "not addressed to this host",
	DropBacklogFull:         "listen backlog full",
	DropListenNoSYN:         "no ACK or SYN for a listener",
	DropResetNoConn:         "RST for no connection",
	DropSynSentBadACK:       "unacceptable ACK in SYN-SENT",
	DropSynSentResetNoACK:   "RST without acceptable ACK in SYN-SENT",
	DropSynSentNoSYN:        "no SYN in SYN-SENT",
	DropResetOutsideWindow:  "RST outside the window",
	DropUnacceptableSeq:     "unacceptable sequence number",
	DropNoACK:               "no ACK",
	DropSynReceivedBadACK:   "unacceptable ACK in SYN-RECEIVED",
	DropBadACK:              "unacceptable ACK",
	DropNoTimestamp:         "no timestamp on a connection that negotiated timestamps (RFC 7323 §3.2)",
	DropPAWS:                "PAWS",
	DropChallengeRSTLimited: rstChallenged + limited,
	DropChallengeSYNLimited: synChallenged + limited,
	DropICMPBadQuote:        "ICMP error quoting a sequence number outside SND.UNA..SND.NXT",
	DropOutOfOrderRanges:    "out-of-order queue full",
	DropSynQueueFull:        "SYN queue full",
	DropMartianSource:       "martian source",
	DropMartianDestination:  "broadcast or multicast destination",
	DropLAND:                "source is our own address (LAND)",
	DropBadFlags:            "SYN with FIN or RST",
	DropConnLimit:           "connection limit reached",
	DropMemory:              "buffer memory limit",
}

// String returns the words a trace prints for the cause ("unacceptable
// ACK").
func (c DropCause) String() string {
	if int(c) < len(dropWords) && dropWords[c] != "" {
		return dropWords[c]
	}
	return "DropCause(" + strconv.Itoa(int(c)) + ")"
}

// ParseError reports a cause for a packet the stack could not parse.
func (c DropCause) ParseError() bool { return c >= DropChecksum && c <= DropMalformed }

// Connection reports a drop by a connection (package tcp) of a segment it
// was handed, rather than by the stack of a packet it could not parse or
// deliver to one.
func (c DropCause) Connection() bool {
	return c >= DropSynSentBadACK && int(c) < len(dropWords)
}

// text is what a Drop event with this cause and detail prints.
func (c DropCause) text(detail string) string {
	switch {
	case c == 0:
		return detail
	case detail == "":
		return c.String()
	case c.ParseError():
		return detail
	}
	return c.String() + ": " + detail
}

// Challenge is what a challenge ACK answers (RFC 5961).
type Challenge uint8

const (
	ChallengeRST Challenge = iota + 1 // §3.2: a RST in the window but not at RCV.NXT
	ChallengeSYN                      // §4.2: a SYN in a synchronized state
)

// String returns the words a trace prints for what was challenged.
func (c Challenge) String() string {
	switch c {
	case ChallengeRST:
		return rstChallenged
	case ChallengeSYN:
		return synChallenged
	}
	return "Challenge(" + strconv.Itoa(int(c)) + ")"
}

// Limited is the cause of the drop when the challenge ACK is not sent
// because of RFC 5961 §7's limit.
func (c Challenge) Limited() DropCause {
	if c == ChallengeSYN {
		return DropChallengeSYNLimited
	}
	return DropChallengeRSTLimited
}

// RetransmitReason is why a connection sent sequence space again: the
// RetransmitReason of a SegmentOut event with Retransmit set.
type RetransmitReason uint8

const (
	// RetransmitRTO: the retransmission timer expired (RFC 6298 §5), or a
	// SYN or SYN-ACK is sent again (RFC 9293 §3.8.1).
	RetransmitRTO RetransmitReason = iota + 1
	// RetransmitLost: loss detection marked the segment lost (RFC 6675 §5,
	// RFC 8985 §6).
	RetransmitLost
	// RetransmitTLP: a tail loss probe that sends the last segment again
	// (RFC 8985 §7.3).
	RetransmitTLP
)

var retransmitWords = [...]string{
	RetransmitRTO:  "RTO",
	RetransmitLost: "lost",
	RetransmitTLP:  "TLP",
}

// String returns the words a trace prints for the reason ("RTO").
func (r RetransmitReason) String() string {
	if int(r) < len(retransmitWords) && retransmitWords[r] != "" {
		return retransmitWords[r]
	}
	return "RetransmitReason(" + strconv.Itoa(int(r)) + ")"
}

// LinkDropCause is why a link dropped a packet: the LinkCause of a
// LinkDrop event.
type LinkDropCause uint8

const (
	// LinkLoss: the link's random loss.
	LinkLoss LinkDropCause = iota + 1
	// LinkQueueFull: a tail drop at a bottleneck whose queue is full.
	LinkQueueFull
	// LinkRule: a Drop rule fired; Reason names the rule ("drop 1st S").
	LinkRule
	// LinkMalformed: the packet did not parse as TCP over IPv4; Reason is
	// the parser's error.
	LinkMalformed
	// LinkNoRoute: no host owns the destination address, which Reason
	// gives.
	LinkNoRoute
	// LinkUnknownSender and LinkUnknownReceiver: the link has no host of
	// the name Reason gives (quoted).
	LinkUnknownSender
	LinkUnknownReceiver
	// LinkNeverReceived: a capture shows the packet sent and never
	// received, while later packets of the same sender were.
	LinkNeverReceived
	// LinkTooBig: the packet is larger than the path's MTU; Reason gives
	// the sizes and whether the router answered with ICMP.
	LinkTooBig
)

// linkDropWords are each cause's words and what separates them from the
// event's detail.
var linkDropWords = [...]struct{ words, sep string }{
	LinkLoss:            {"loss", ": "},
	LinkQueueFull:       {"queue full", ": "},
	LinkRule:            {"rule", ": "},
	LinkMalformed:       {"malformed", ": "},
	LinkNoRoute:         {"no route to", " "},
	LinkUnknownSender:   {"unknown sender", " "},
	LinkUnknownReceiver: {"unknown receiver", " "},
	LinkNeverReceived:   {"never received", ": "},
	LinkTooBig:          {"too big", ": "},
}

// String returns the words a trace prints for the cause ("queue full").
func (c LinkDropCause) String() string {
	if int(c) < len(linkDropWords) && linkDropWords[c].words != "" {
		return linkDropWords[c].words
	}
	return "LinkDropCause(" + strconv.Itoa(int(c)) + ")"
}

// text is what a LinkDrop event with this cause and detail prints.
func (c LinkDropCause) text(detail string) string {
	switch {
	case c == 0:
		return detail
	case detail == "":
		return c.String()
	}
	sep := ": "
	if int(c) < len(linkDropWords) {
		sep = linkDropWords[c].sep
	}
	return c.String() + sep + detail
}
