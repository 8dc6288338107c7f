package trace

import (
	"net/netip"
	"testing"

	"github.com/gosynack/synack/tcp/state"
	"github.com/gosynack/synack/wire"
)

// Each cause prints the words its drop was recorded with before causes were
// typed: captures and ladders show them.
func TestDropCauseWords(t *testing.T) {
	words := map[DropCause]string{
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
		DropChallengeRSTLimited: "RST in window but not at RCV.NXT; challenge ACK rate-limited",
		DropChallengeSYNLimited: "SYN in a synchronized state; challenge ACK rate-limited",
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
	for c := DropCause(1); int(c) < len(dropWords); c++ {
		w, ok := words[c]
		if !ok {
			t.Errorf("cause %d (%v) is not in the test", c, c)
			continue
		}
		if got := c.String(); got != w {
			t.Errorf("cause %d: %q, want %q", c, got, w)
		}
		if c.Connection() == (c < DropSynSentBadACK) {
			t.Errorf("%v: Connection() = %v", c, c.Connection())
		}
		if c.ParseError() != (c <= DropMalformed) {
			t.Errorf("%v: ParseError() = %v", c, c.ParseError())
		}
	}
	if len(words) != len(dropWords)-1 {
		t.Errorf("the test has %d causes, the table %d", len(words), len(dropWords)-1)
	}
	for _, c := range []DropCause{0, DropCause(len(dropWords)), 255} {
		if c.Connection() || c.ParseError() {
			t.Errorf("%v is no cause, yet Connection %v, ParseError %v", c, c.Connection(), c.ParseError())
		}
	}
	if got := DropCause(255).String(); got != "DropCause(255)" {
		t.Errorf("DropCause(255) prints %q", got)
	}
	for c, want := range map[Challenge]DropCause{ChallengeRST: DropChallengeRSTLimited, ChallengeSYN: DropChallengeSYNLimited} {
		if c.Limited() != want {
			t.Errorf("%v.Limited() = %v", c, c.Limited())
		}
	}
	if ChallengeRST.String() != "RST in window but not at RCV.NXT" || ChallengeSYN.String() != "SYN in a synchronized state" {
		t.Errorf("challenges print %q, %q", ChallengeRST, ChallengeSYN)
	}
}

func TestWhy(t *testing.T) {
	for _, c := range []struct {
		e    Event
		want string
	}{
		{Event{Kind: Drop, Cause: DropResetNoConn}, "RST for no connection"},
		{Event{Kind: Drop, Cause: DropPAWS, Reason: "timestamp 1 older than TS.Recent 2"}, "PAWS: timestamp 1 older than TS.Recent 2"},
		// The parser's error names the fault itself.
		{Event{Kind: Drop, Cause: DropChecksum, Reason: "tcp: checksum at offset 16: bad checksum 0x1, want 0x2"}, "tcp: checksum at offset 16: bad checksum 0x1, want 0x2"},
		{Event{Kind: Drop, Reason: "a driver's own words"}, "a driver's own words"},
		{Event{Kind: SegmentOut, Retransmit: true, RetransmitReason: RetransmitTLP}, "TLP"},
		{Event{Kind: SegmentOut, Retransmit: true, Reason: "spurious: already acknowledged"}, "spurious: already acknowledged"},
		{Event{Kind: SegmentOut}, ""},
		{Event{Kind: Note, Cause: DropPAWS, Reason: "hello"}, "hello"},
		// A link's drop: its cause's words, with the detail after them.
		{Event{Kind: LinkDrop, LinkCause: LinkLoss}, "loss"},
		{Event{Kind: LinkDrop, LinkCause: LinkQueueFull}, "queue full"},
		{Event{Kind: LinkDrop, LinkCause: LinkRule, Reason: "drop 1st S"}, "rule: drop 1st S"},
		{Event{Kind: LinkDrop, LinkCause: LinkMalformed, Reason: "ipv4: version at offset 0: 6, want 4"}, "malformed: ipv4: version at offset 0: 6, want 4"},
		{Event{Kind: LinkDrop, LinkCause: LinkNoRoute, Reason: "198.18.0.9"}, "no route to 198.18.0.9"},
		{Event{Kind: LinkDrop, LinkCause: LinkUnknownSender, Reason: `"mallory"`}, `unknown sender "mallory"`},
		{Event{Kind: LinkDrop, LinkCause: LinkUnknownReceiver, Reason: `"mallory"`}, `unknown receiver "mallory"`},
		{Event{Kind: LinkDrop, LinkCause: LinkNeverReceived}, "never received"},
		{Event{Kind: LinkDrop, Reason: "a driver's own words"}, "a driver's own words"},
	} {
		if got := c.e.Why(); got != c.want {
			t.Errorf("%+v: Why() = %q, want %q", c.e, got, c.want)
		}
	}
	if got := LinkDropCause(200).String(); got != "LinkDropCause(200)" {
		t.Errorf("LinkDropCause(200) prints %q", got)
	}
	for r, want := range map[RetransmitReason]string{RetransmitRTO: "RTO", RetransmitLost: "lost", RetransmitTLP: "TLP", 9: "RetransmitReason(9)"} {
		if r.String() != want {
			t.Errorf("RetransmitReason %d prints %q, want %q", r, r.String(), want)
		}
	}
}

func TestEventString(t *testing.T) {
	a, b := netip.MustParseAddrPort("198.18.0.1:80"), netip.MustParseAddrPort("198.18.0.2:5000")
	seg := wire.Segment{SrcPort: 5000, DstPort: 80, Flags: wire.RST, Seq: 7}
	stackDrop := Event{At: 5, Host: "server", Kind: Drop, Local: a, Remote: b, Cause: DropResetNoConn}
	stackDrop.SetSegment(&seg)
	for _, c := range []struct {
		e    Event
		want string
	}{
		{Event{At: 5, Host: "server", Kind: State, Local: a, Remote: b, From: state.SynReceived, To: state.Established},
			"0.000000s server state 198.18.0.1:80>198.18.0.2:5000 SYN-RECEIVED -> ESTABLISHED"},
		{Event{At: 5, Host: "server", Kind: State, Local: a, Remote: b, FromUnknown: true, To: state.CloseWait},
			"0.000000s server state 198.18.0.1:80>198.18.0.2:5000  -> CLOSE-WAIT"},
		{Event{At: 5, Host: "server", Kind: Drop, Local: a, Remote: b, Cause: DropNoACK},
			"0.000000s server drop 198.18.0.1:80>198.18.0.2:5000 no ACK"},
		{stackDrop, "0.000000s server drop 198.18.0.1:80>198.18.0.2:5000 " + seg.String() + " (RST for no connection)"},
		{Event{At: 5, Host: "client", Kind: SegmentOut, Local: b, Remote: a, Seg: seg, Retransmit: true, RetransmitReason: RetransmitRTO},
			"0.000000s client out 198.18.0.2:5000>198.18.0.1:80 " + seg.String() + " [retransmit] (RTO)"},
	} {
		if got := c.e.String(); got != c.want {
			t.Errorf("String() = %q\nwant       %q", got, c.want)
		}
	}
}
