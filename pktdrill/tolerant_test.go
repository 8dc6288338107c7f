package pktdrill

import (
	"strings"
	"testing"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

const tolerantServer = "0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n" +
	"0.000 bind(3, ..., ...) = 0\n0.000 listen(3, 1) = 0\n" +
	"0.100 < S 0:0(0) win 65535 <mss 1460>\n0.100 > S. 0:0(0) ack 1 <...>\n" +
	"0.200 < . 1:1(0) ack 1 win 65535\n0.200 accept(3, ..., ...) = 4\n"

// runBoth runs src tolerant and strict under the linux profile.
func runBoth(t *testing.T, name, src string) (tolerant, strict *Result) {
	t.Helper()
	s, err := Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return Run(s, Options{Profile: "linux"}), Run(s, Options{Profile: "linux", Strict: true})
}

// Tolerant matching takes the ACK the RFCs require in answer to a segment
// they say to drop, where a script written for a stack that dropped it
// silently has none: RFC 9293 §3.10.7.4, "If the ACK acks something not
// yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment, and
// return". Strict matching does not.
func TestTolerantOwedACK(t *testing.T) {
	src := tolerantServer +
		"0.300 < P. 1:11(10) ack 5000 win 65535\n" + // acknowledges data never sent
		"0.300 < P. 1:11(10) ack 1 win 65535\n" +
		"0.300~0.400 > . 1:1(0) ack 11\n"
	tol, strict := runBoth(t, "owed.pkt", src)
	if !tol.Pass {
		t.Errorf("tolerant: %s", tol.Summary())
	}
	if strict.Pass || !strings.Contains(strict.Failure.Msg, "ack: expected 11, got 1") {
		t.Errorf("strict: %s; want the ACK of the dropped segment at the script's line", strict.Summary())
	}
	if !strings.Contains(strings.Join(tol.Notes, "\n"), "owed.pkt:10: tolerant: took > . 1:1(0) ack 1") {
		t.Errorf("tolerant run does not note the ACK it took: %q", tol.Notes)
	}

	// Only an owed ACK, and only one that repeats the last
	// acknowledgment at SND.NXT.
	r := &runner{haveISN: true, haveSndNxt: true, sndNxtRel: 1, haveLastAck: true, lastAckSent: 1}
	dup := outPkt{seg: wire.Segment{Flags: wire.ACK, Seq: 1, Ack: 1}}
	if r.owedACK(dup) {
		t.Error("a duplicate ACK nothing owed was taken as owed")
	}
	r.owedACKs = 1
	if !r.owedACK(dup) {
		t.Error("the owed duplicate ACK was not taken")
	}
	for _, s := range []wire.Segment{
		{Flags: wire.ACK, Seq: 1, Ack: 11},                               // acknowledges new data
		{Flags: wire.ACK | wire.PSH, Seq: 1, Ack: 1, Payload: []byte{1}}, // carries data
		{Flags: wire.ACK | wire.FIN, Seq: 1, Ack: 1},                     // a FIN
		{Flags: wire.ACK, Seq: 0, Ack: 1},                                // a probe, not at SND.NXT
	} {
		if r.owedACK(outPkt{seg: s}) {
			t.Errorf("%v taken as the owed ACK", &s)
		}
	}
}

// A zero-window probe of either form RFC 9293 §3.8.6.1 allows ("transmit
// at least one octet of new data (if available), or retransmit") matches
// a script's probe in tolerant mode, at the stack's own persist intervals
// (RFC 9293 §3.8.6.1 leaves them to it; each at least the previous and at
// most double, RFC 6298 §5.5), the script's later absolute times moving
// with the stack's timer so that the peer answers each probe. The script's
// probes carry one new octet every 5 s (FreeBSD's minimum persist
// interval); synack's, SEQ=SND.UNA-1 and no data, from 300 ms doubling.
func TestTolerantProbeFormAndTimerShift(t *testing.T) {
	src := tolerantServer +
		"0.200 < . 1:1(0) ack 1 win 0\n" +
		"0.200 write(4, ..., 100) = 100\n" +
		"5.200 > . 1:2(1) ack 1\n5.200 < . 1:1(0) ack 1 win 0\n" +
		"10.200 > . 1:2(1) ack 1\n10.200 < . 1:1(0) ack 1 win 0\n" +
		"15.200 > . 1:2(1) ack 1\n15.200 < . 1:1(0) ack 1 win 65535\n" +
		"15.200 > P. 1:101(100) ack 1\n15.300 < . 1:1(0) ack 101 win 65535\n"
	tol, strict := runBoth(t, "probe.pkt", src)
	if !tol.Pass {
		t.Errorf("tolerant: %s", tol.Summary())
	}
	if strict.Pass {
		t.Error("strict mode passed another probe form at other times")
	}

	// Not where the peer's window is open: a segment of new data is
	// data, which an ACK does not replace.
	r := &runner{haveSndNxt: true, sndNxtRel: 1, haveSndUna: true, sndUnaRel: 1, peerWnd0: true}
	p := &Packet{Dir: Outbound, Flags: ".", Start: 1, End: 2, Len: 1, Ack: 1}
	probe := outPkt{seg: wire.Segment{Flags: wire.ACK, Seq: seq.Value(0), Ack: 1}, timer: true}
	if !r.probeForm(p, probe) {
		t.Error("the SND.UNA-1 probe was not taken for the script's one-octet probe")
	}
	r.peerWnd0 = false
	if r.probeForm(p, probe) {
		t.Error("an ACK was taken for one octet of new data into an open window")
	}
	r.peerWnd0 = true
	p.Len, p.End = 2, 3
	if r.probeForm(p, probe) {
		t.Error("an ACK was taken for two octets of new data")
	}
}
