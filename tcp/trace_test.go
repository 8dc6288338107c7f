package tcp

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// drops lists the Drop events in log as "cause: words", and fails on a
// drop note (a drop must be typed).
func drops(t *testing.T, log *trace.Log) []string {
	t.Helper()
	var got []string
	for i := range log.Events {
		e := &log.Events[i]
		switch {
		case e.Kind == trace.Drop:
			if !e.Cause.Connection() {
				t.Errorf("drop %v: not a connection's cause", e.String())
			}
			got = append(got, strconv.Itoa(int(e.Cause))+": "+e.Why())
		case e.Kind == trace.Note && strings.HasPrefix(e.Reason, "dropped"):
			t.Errorf("a drop recorded as a note: %q", e.Reason)
		}
	}
	return got
}

// A connection's drops are Drop events with a typed cause, printed in the
// words they always had; the challenge ACK that RFC 5961 §7's limit
// suppresses is one too.
func TestTraceDrops(t *testing.T) {
	var log trace.Log
	f := newEstablished(t, withConfig(Config{Recorder: &log, ChallengeACKs: 1}))
	f.send(t, sec(1), seg{Flags: wire.RST, Seq: 5})
	f.want(t, "challenge ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	f.send(t, ms(1100), seg{Flags: wire.SYN, Seq: 5})
	f.wantNothing(t)
	f.send(t, ms(1200), seg{Flags: wire.RST, Seq: 5})
	f.wantNothing(t)
	f.send(t, ms(1300), seg{Flags: wire.RST, Seq: 1 << 30})
	f.wantNothing(t)
	f.send(t, ms(1400), seg{Flags: wire.ACK, Seq: 1 << 30, Ack: 1})
	f.want(t, "ACK of an unacceptable segment", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	f.send(t, ms(1500), seg{Flags: wire.PSH, Seq: 1, Data: []byte("x")})
	f.wantNothing(t)
	want := []string{
		strconv.Itoa(int(trace.DropChallengeSYNLimited)) + ": SYN in a synchronized state; challenge ACK rate-limited",
		strconv.Itoa(int(trace.DropChallengeRSTLimited)) + ": RST in window but not at RCV.NXT; challenge ACK rate-limited",
		strconv.Itoa(int(trace.DropResetOutsideWindow)) + ": RST outside the window",
		strconv.Itoa(int(trace.DropUnacceptableSeq)) + ": unacceptable sequence number",
		strconv.Itoa(int(trace.DropNoACK)) + ": no ACK",
	}
	if got := drops(t, &log); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("drops (-want +got):\n%s", diffLines(want, got))
	}
	notes := 0
	for _, e := range log.Events {
		if e.Kind == trace.Note && e.Reason == "challenge ACK: RST in window but not at RCV.NXT" {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("%d notes of the challenge ACK sent, want 1", notes)
	}
}

// RFC 7323's drops: PAWS shows the timestamps beside its cause.
func TestTraceDropsTimestamps(t *testing.T) {
	var log trace.Log
	cfg := modernCfg()
	cfg.Recorder = &log
	f := newModern(t, cfg, true)
	old := wire.Options{HasTimestamps: true, TSVal: f.peerRecent - 1, TSEcr: f.lastOurTS}
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: []byte("old"), Opt: old})
	f.want(t, "ACK for the PAWS drop", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768})
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: []byte("nots"), NoTS: true})
	f.wantNothing(t)
	want := []string{
		strconv.Itoa(int(trace.DropPAWS)) + ": PAWS: timestamp " + strconv.FormatUint(uint64(old.TSVal), 10) + " older than TS.Recent " + strconv.FormatUint(uint64(f.peerRecent), 10),
		strconv.Itoa(int(trace.DropNoTimestamp)) + ": no timestamp on a connection that negotiated timestamps (RFC 7323 §3.2)",
	}
	if got := drops(t, &log); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("drops (-want +got):\n%s", diffLines(want, got))
	}
}

// A retransmission's reason is typed: the RTO's, here.
func TestTraceRetransmitReason(t *testing.T) {
	var log trace.Log
	f := newEstablished(t, withConfig(Config{Recorder: &log}))
	f.write(t, sec(1), []byte("abc"))
	f.want(t, "data", seg{Flags: wire.ACK | wire.PSH, Seq: 1, Ack: 1, Data: []byte("abc")})
	f.advance(t, ms(1300))
	f.want(t, "data again", seg{Flags: wire.ACK | wire.PSH, Seq: 1, Ack: 1, Data: []byte("abc"), Rtx: true})
	var got []string
	for _, e := range log.Events {
		if e.Kind == trace.SegmentOut && e.Retransmit {
			if e.RetransmitReason != trace.RetransmitRTO || e.Reason != "" {
				t.Errorf("retransmission %v: reason %d, %q", e.String(), e.RetransmitReason, e.Reason)
			}
			got = append(got, e.Why())
		}
	}
	if strings.Join(got, ",") != "RTO" {
		t.Errorf("retransmissions say %q, want one RTO", got)
	}
}

// Every change of SRTT and RTO is a Metrics event (README): an RTT sample
// (RFC 6298 §2) of an ACK of data is one, with the sample in its Reason
// and the new SRTT and RTO in its fields.
func TestRTTSampleIsAMetricsEvent(t *testing.T) {
	var log trace.Log
	f := newEstablished(t, withConfig(Config{Recorder: &log}))
	f.write(t, sec(1), []byte("hello"))
	f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: []byte("hello")})
	n := len(log.Events)
	f.send(t, ms(1050), seg{Flags: wire.ACK, Seq: 1, Ack: 6})
	var got []trace.Event
	for _, e := range log.Events[n:] {
		if e.Kind == trace.Metrics || e.Kind == trace.Note && strings.HasPrefix(e.Reason, "rtt ") {
			got = append(got, e)
		}
	}
	// RFC 6298 (2.3): SRTT 100 ms, RTTVAR 50 ms from the handshake; the
	// 50 ms sample gives RTTVAR 3/4·50+1/4·50 = 50 ms, SRTT 7/8·100+1/8·50.
	srtt := 93750 * time.Microsecond
	rto := srtt + 200*time.Millisecond
	if len(got) != 1 || got[0].Kind != trace.Metrics || got[0].SRTT != srtt || got[0].RTO != rto ||
		got[0].Reason != "rtt 50ms srtt "+srtt.String()+" rto "+rto.String() {
		t.Fatalf("events of the sample: %+v; want one Metrics event with srtt %v rto %v", got, srtt, rto)
	}
	if i := f.c.Info(); i.SRTT != srtt || i.RTO != rto {
		t.Fatalf("Info: srtt %v rto %v", i.SRTT, i.RTO)
	}
}
