package netsim

import (
	"errors"
	"math/bits"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

var (
	synOnly = Match{Flags: wire.SYN, NotFlags: wire.ACK}
	synAck  = Match{Flags: wire.SYN | wire.ACK}
)

func TestRuleDropsNthMatch(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 1, log)
	addRule(t, n, "server", "client", Rule{Match: synAck, Nth: 2, Action: Drop})
	n.Send(ms(0), "server", s2c(wire.SYN|wire.ACK, 1, 0))
	n.Send(ms(0), "server", s2c(wire.ACK, 9, 0)) // does not match, is not counted
	n.Send(ms(1), "server", s2c(wire.SYN|wire.ACK, 2, 0))
	n.Send(ms(2), "server", s2c(wire.SYN|wire.ACK, 3, 0))
	wantDeliveries(t, drain(n, clock.Never),
		"0.000000s client seq=1",
		"0.000000s client seq=9",
		"0.002000s client seq=3",
	)
	wantLines(t, "drops", eventStrings(log, trace.LinkDrop),
		"0.001000s server->client link-drop #3 198.18.0.1:80>198.18.0.2:40000 SA seq=2 ack=1 win=65535 len=0 (rule: drop 2nd SA)")
	for _, e := range log.Events {
		if e.Kind == trace.LinkDrop && (e.LinkCause != trace.LinkRule || e.Reason != "drop 2nd SA") {
			t.Errorf("drop %s: cause %v, detail %q, want a rule, the rule", e.String(), e.LinkCause, e.Reason)
		}
	}
	if s := n.Stats("server", "client"); s != (PathStats{Sent: 4, Delivered: 3, RuleDrops: 1}) {
		t.Errorf("stats %v", s)
	}
}

func TestRuleHoldsFor(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 1, log)
	setPath(t, n, "client", "server", Impairment{Latency: 10 * time.Millisecond})
	addRule(t, n, "client", "server", Rule{Match: synOnly, Nth: 1, Action: Hold, HoldFor: 3 * time.Second})
	n.Send(0, "client", c2s(wire.SYN, 1, 0))
	n.Send(ms(1000), "client", c2s(wire.SYN, 2, 0)) // the retransmitted SYN overtakes
	wantDeliveries(t, drain(n, clock.Never),
		"1.010000s server seq=2",
		"3.010000s server seq=1",
	)
	wantLines(t, "holds", eventStrings(log, trace.LinkHold),
		"0.000000s client->server link-hold #1 198.18.0.2:40000>198.18.0.1:80 S seq=1 ack=- win=65535 len=0 (rule: hold 1st S !A for 3s: until 3.010000s)")
	if s := n.Stats("client", "server"); s != (PathStats{Sent: 2, Delivered: 2, Held: 1}) {
		t.Errorf("stats %v", s)
	}
}

func TestRuleHoldsUntilRelease(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 1, log)
	setPath(t, n, "client", "server", Impairment{Latency: 10 * time.Millisecond})
	addRule(t, n, "client", "server", Rule{Name: "syn", Match: synOnly, Nth: 1, Action: Hold})
	n.Send(0, "client", c2s(wire.SYN, 1, 0))
	if got := n.NextDeadline(); got != clock.Never {
		t.Errorf("NextDeadline = %v with only a held packet, want never", got)
	}
	if n.Held() != 1 {
		t.Errorf("Held() = %d, want 1", n.Held())
	}
	n.Send(ms(1), "client", c2s(wire.ACK, 2, 0))
	wantDeliveries(t, drain(n, ms(1999)), "0.011000s server seq=2")
	if got := n.Release(ms(2000), "nope"); got != 0 {
		t.Errorf("Release of an unknown rule = %d", got)
	}
	if got := n.Release(ms(2000), "syn"); got != 1 {
		t.Errorf("Release = %d, want 1", got)
	}
	if n.Held() != 0 {
		t.Errorf("Held() = %d after Release", n.Held())
	}
	wantDeliveries(t, drain(n, clock.Never), "2.000000s server seq=1")
	if got := n.Release(ms(3000), "syn"); got != 0 {
		t.Errorf("second Release = %d, want 0", got)
	}
	wantLines(t, "holds", eventStrings(log, trace.LinkHold),
		"0.000000s client->server link-hold #1 198.18.0.2:40000>198.18.0.1:80 S seq=1 ack=- win=65535 len=0 (rule: hold 1st S !A until released)")
}

// A packet released before it would have arrived keeps its arrival time:
// Release adds no latency and takes none away.
func TestReleaseBeforeArrival(t *testing.T) {
	n := newNet(t, 1, nil)
	setPath(t, n, "client", "server", Impairment{Latency: 10 * time.Millisecond})
	setPath(t, n, "other", "server", Impairment{Latency: 30 * time.Millisecond})
	// The same rule name on two paths, every matching packet: one Release
	// lets them all go.
	hold := Rule{Name: "syns", Match: synOnly, Action: Hold}
	addRule(t, n, "client", "server", hold)
	addRule(t, n, "other", "server", hold)
	n.Send(0, "client", c2s(wire.SYN, 1, 0))
	n.Send(0, "other", seg(otherAddr, serverAddr, wire.SYN, 2, 0))
	n.Send(ms(1), "client", c2s(wire.SYN, 3, 0))
	if got := n.Release(ms(20), "syns"); got != 3 {
		t.Errorf("Release = %d, want 3", got)
	}
	wantDeliveries(t, drain(n, clock.Never),
		"0.020000s server seq=1",
		"0.020000s server seq=3",
		"0.030000s server seq=2",
	)
}

func TestRuleEveryMatch(t *testing.T) {
	n := newNet(t, 1, nil)
	addRule(t, n, "client", "server", Rule{Match: Match{Payload: WithPayload}, Action: Drop})
	for i := range uint32(10) {
		n.Send(ms(float64(i)), "client", c2s(wire.ACK, i, int(i%2)*100))
	}
	var got []uint32
	for _, d := range drain(n, clock.Never) {
		got = append(got, d.sn)
	}
	if want := []uint32{0, 2, 4, 6, 8}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	if s := n.Stats("client", "server"); s.RuleDrops != 5 {
		t.Errorf("stats %v, want 5 rule drops", s)
	}
}

func TestRuleCountersArePerPath(t *testing.T) {
	n := newNet(t, 1, nil)
	r := Rule{Match: synOnly, Nth: 1, Action: Drop}
	addRule(t, n, "client", "server", r)
	addRule(t, n, "other", "server", r)
	n.Send(ms(0), "client", c2s(wire.SYN, 1, 0))
	n.Send(ms(1), "other", seg(otherAddr, serverAddr, wire.SYN, 2, 0))
	n.Send(ms(2), "client", c2s(wire.SYN, 3, 0))
	n.Send(ms(3), "other", seg(otherAddr, serverAddr, wire.SYN, 4, 0))
	n.Send(ms(4), "client", seg(clientAddr, otherAddr, wire.SYN, 5, 0)) // no rule on client->other
	wantDeliveries(t, drain(n, clock.Never),
		"0.002000s server seq=3",
		"0.003000s server seq=4",
		"0.004000s other seq=5",
	)
}

// Rules are tried in order; a packet one rule drops is not seen by the next.
func TestRuleOrder(t *testing.T) {
	n := newNet(t, 1, nil)
	addRule(t, n, "client", "server", Rule{Match: synOnly, Nth: 1, Action: Drop})
	addRule(t, n, "client", "server", Rule{Match: synOnly, Nth: 1, Action: Hold, HoldFor: time.Second})
	n.Send(ms(0), "client", c2s(wire.SYN, 1, 0))
	n.Send(ms(1), "client", c2s(wire.SYN, 2, 0))
	n.Send(ms(2), "client", c2s(wire.SYN, 3, 0))
	wantDeliveries(t, drain(n, clock.Never),
		"0.002000s server seq=3",
		"1.001000s server seq=2",
	)
}

func TestRuleDuplicate(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 1, log)
	setPath(t, n, "server", "client", Impairment{Latency: 10 * time.Millisecond})
	addRule(t, n, "server", "client", Rule{Match: synAck, Nth: 1, Action: Duplicate})
	n.Send(0, "server", s2c(wire.SYN|wire.ACK, 7, 0))
	got := drain(n, clock.Never)
	wantDeliveries(t, got, "0.010000s client seq=7", "0.010000s client seq=7")
	wantLines(t, "events", eventStrings(log),
		"0.000000s server->client link-send #1 198.18.0.1:80>198.18.0.2:40000 SA seq=7 ack=1 win=65535 len=0",
		"0.000000s server->client link-dup #1 198.18.0.1:80>198.18.0.2:40000 SA seq=7 ack=1 win=65535 len=0 (rule: duplicate 1st SA)",
		"0.010000s server->client link-deliver #1 198.18.0.1:80>198.18.0.2:40000 SA seq=7 ack=1 win=65535 len=0",
		"0.010000s server->client link-deliver #2 198.18.0.1:80>198.18.0.2:40000 SA seq=7 ack=1 win=65535 len=0 (dup of #1)",
	)
	if d := log.Events[1]; d.PacketID != 1 || d.Dup != 2 {
		t.Errorf("link-dup PacketID=%d Dup=%d, want 1 and 2", d.PacketID, d.Dup)
	}
	if s := n.Stats("server", "client"); s != (PathStats{Sent: 1, Delivered: 2, Duplicated: 1}) {
		t.Errorf("stats %v", s)
	}
	// The next packet's id follows the copy's.
	if id := n.Send(ms(20), "server", s2c(wire.SYN|wire.ACK, 8, 0)); id != 3 {
		t.Errorf("next PacketID %d, want 3", id)
	}
}

func TestRuleCorrupt(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 1, log)
	addRule(t, n, "client", "server", Rule{Match: Match{Payload: WithPayload}, Nth: 1, Action: Corrupt})
	sent := c2s(wire.ACK|wire.PSH, 1, 100)
	n.Send(0, "client", sent)
	got := drain(n, clock.Never)
	if len(got) != 1 {
		t.Fatalf("got %v", got)
	}
	if d := bitDiff(sent, got[0].data); d != 1 {
		t.Errorf("%d bits differ, want 1", d)
	}
	if _, err := wire.ParsePacket(got[0].data); err == nil {
		t.Error("the receiver parsed a corrupted packet")
	}
	c := eventStrings(log, trace.LinkCorrupt)
	if len(c) != 1 || !strings.Contains(c[0], "(rule: corrupt 1st data: flipped bit 0x") {
		t.Errorf("link-corrupt events %q", c)
	}
	wantLines(t, "delivery", eventStrings(log, trace.LinkDeliver),
		"0.000000s client->server link-deliver #1 198.18.0.2:40000>198.18.0.1:80 PA seq=1 ack=1 win=65535 len=100 (corrupted)")
}

func bitDiff(a, b []byte) int {
	if len(a) != len(b) {
		return -1
	}
	d := 0
	for i := range a {
		d += bits.OnesCount8(a[i] ^ b[i])
	}
	return d
}

func TestAddRuleValidates(t *testing.T) {
	n := newNet(t, 1, nil)
	for _, c := range []struct {
		r    Rule
		want string
	}{
		{Rule{Nth: -1}, "Nth is -1"},
		{Rule{Action: Drop, HoldFor: time.Second}, "HoldFor is set but Action is drop"},
		{Rule{Action: Hold, HoldFor: -1}, "HoldFor is -1ns"},
		{Rule{Action: Hold, Match: synOnly, Nth: 1}, `"hold 1st S !A until released" holds until released, so it needs a Name`},
		{Rule{Action: 9}, "unknown Action 9"},
		{Rule{Match: Match{Flags: wire.SYN, NotFlags: wire.SYN | wire.ACK}}, `match "S !S !A" can never match: S both required and forbidden`},
		{Rule{Match: Match{Payload: 7}}, "unknown Payload 7"},
	} {
		err := n.AddRule("client", "server", c.r)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("AddRule(%+v) = %v, want %q", c.r, err, c.want)
		}
	}
}

func TestMatchString(t *testing.T) {
	for _, c := range []struct {
		m    Match
		want string
	}{
		{Match{}, "any"},
		{synOnly, "S !A"},
		{synAck, "SA"},
		{Match{Flags: wire.FIN}, "F"},
		{Match{Payload: WithPayload}, "data"},
		{Match{Flags: wire.ACK, Payload: NoPayload}, "A nodata"},
		{Match{NotFlags: wire.SYN | wire.FIN | wire.RST}, "!S !F !R"},
	} {
		if got := c.m.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.m, got, c.want)
		}
		back, err := ParseMatch(c.want)
		if err != nil || back != c.m {
			t.Errorf("ParseMatch(%q) = %+v, %v; want %+v", c.want, back, err, c.m)
		}
	}
	if m, err := ParseMatch("A !SF data"); err != nil || m != (Match{Flags: wire.ACK, NotFlags: wire.SYN | wire.FIN, Payload: WithPayload}) {
		t.Errorf("ParseMatch(\"A !SF data\") = %+v, %v", m, err)
	}
	for _, bad := range []string{"", "X", "!", "!Q", "data nodata", "S !S"} {
		if _, err := ParseMatch(bad); err == nil {
			t.Errorf("ParseMatch(%q) succeeded", bad)
		}
	}
}

func TestMatches(t *testing.T) {
	syn := &wire.Segment{Flags: wire.SYN}
	sa := &wire.Segment{Flags: wire.SYN | wire.ACK}
	data := &wire.Segment{Flags: wire.ACK | wire.PSH, Payload: []byte("x")}
	for _, c := range []struct {
		m    Match
		seg  *wire.Segment
		want bool
	}{
		{Match{}, syn, true},
		{Match{Flags: wire.SYN}, sa, true},
		{synOnly, sa, false},
		{synOnly, syn, true},
		{Match{Payload: WithPayload}, data, true},
		{Match{Payload: WithPayload}, sa, false},
		{Match{Payload: NoPayload}, data, false},
		{Match{Flags: wire.ACK, Payload: NoPayload}, sa, true},
	} {
		if got := c.m.Matches(c.seg); got != c.want {
			t.Errorf("%v matches %v: %v, want %v", c.m, c.seg, got, c.want)
		}
	}
}

func TestRuleString(t *testing.T) {
	for _, c := range []struct {
		r    Rule
		want string
	}{
		{Rule{Match: synOnly, Nth: 1}, "drop 1st S !A"},
		{Rule{Match: synAck, Nth: 2}, "drop 2nd SA"},
		{Rule{Match: Match{Flags: wire.FIN}, Nth: 3, Action: Duplicate}, "duplicate 3rd F"},
		{Rule{Match: Match{Payload: WithPayload}, Action: Corrupt}, "corrupt every data"},
		{Rule{Nth: 11}, "drop 11th packet"},
		{Rule{Nth: 22, Match: Match{Flags: wire.ACK}}, "drop 22nd A"},
		{Rule{Match: synOnly, Nth: 1, Action: Hold, HoldFor: 3 * time.Second}, "hold 1st S !A for 3s"},
		{Rule{Name: "x", Match: Match{Flags: wire.SYN}, Nth: 1, Action: Hold}, "hold 1st S until released"},
		{Rule{Nth: 113}, "drop 113th packet"},
		{Rule{Nth: 101}, "drop 101st packet"},
	} {
		if got := c.r.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
	if got := Action(9).String(); got != "action(9)" {
		t.Errorf("Action(9) = %q", got)
	}
}

// Errors from a bad Impairment wrap the Validate error.
func TestSetPathWrapsValidate(t *testing.T) {
	n := newNet(t, 1, nil)
	err := n.SetPath("client", "server", Impairment{Jitter: -1})
	if err == nil || !strings.HasPrefix(err.Error(), "sim: path client->server: ") || errors.Unwrap(err) == nil {
		t.Errorf("SetPath: %v", err)
	}
}
