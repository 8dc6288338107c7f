package tcp

// RFC behaviours found missing or wrong by running unseen packetdrill
// scripts (issue 16) and by a hostile peer (issue 15): exact segments at
// exact virtual times, each quoting the RFC sentence it checks.

import (
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// sendKeepRecent sends s, whose timestamp the connection must not take as
// TS.Recent: the fixture's model of TS.Recent (which follows RFC 7323
// §4.3's sequence test only) is restored after it.
func (f *fixture) sendKeepRecent(t *testing.T, s seg) {
	t.Helper()
	recent := f.peerRecent
	f.send(t, f.soon(), s)
	f.peerRecent = recent
}

// RFC 5961 §5.2: "All incoming segments whose ACK value doesn't satisfy
// the above condition MUST be discarded and an ACK sent back." A segment
// discarded changes nothing, TS.Recent included: RFC 7323 §7 warns that
// "a timestamp that is in the future would cause valid segments to be
// dropped due to PAWS checks", and its Appendix D records SEG.TSval only
// after the segment passed the checks. Here a FIN that acknowledges data
// never sent carries a TSval far ahead; valid data after it is accepted.
func TestUnacceptableACKDoesNotUpdateTSRecent(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	bad := seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 9999, NoTS: true,
		Opt: wire.Options{HasTimestamps: true, TSVal: f.peerTS(ms(110)) + 1<<30, TSEcr: f.lastOurTS}}
	f.sendKeepRecent(t, bad)
	f.want(t, "an ACK in reply, echoing the old TS.Recent", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768})
	f.wantState(t, Established)
	if s := f.c.Stats(); s.Dropped != 1 || s.PAWSDrops != 0 {
		t.Fatalf("Dropped=%d PAWSDrops=%d, want 1, 0", s.Dropped, s.PAWSDrops)
	}
	// The peer's next segment, with its own clock's TSval, is valid data.
	f.send(t, ms(200), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('v', 100)})
	f.wantNothing(t) // a delayed ACK
	f.advance(t, ms(240))
	f.want(t, "the data is acknowledged", seg{Flags: wire.ACK, Seq: 1, Ack: 101, Win: (65536 - 100) / 2})
	f.wantRead(t, ms(250), data('v', 100))
	if s := f.c.Stats(); s.PAWSDrops != 0 {
		t.Fatalf("PAWSDrops=%d after valid data", s.PAWSDrops)
	}
}

// RFC 7323 §5.2: "When an <RST> segment is received, it MUST NOT be
// subjected to the PAWS check by verifying an acceptable value in
// SEG.TSval, and information from the Timestamps option MUST NOT be used
// to update connection state information." An in-window RST that is not
// at RCV.NXT draws a challenge ACK (RFC 5961 §3.2) and leaves TS.Recent
// alone; so does a SYN (RFC 5961 §4.2).
func TestResetAndSYNDoNotUpdateTSRecent(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	future := f.peerTS(ms(110)) + 1<<30
	f.sendKeepRecent(t, seg{Flags: wire.RST, Seq: 5, NoTS: true, Opt: wire.Options{HasTimestamps: true, TSVal: future}})
	f.want(t, "challenge ACK for the RST", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768})
	f.sendKeepRecent(t, seg{Flags: wire.SYN, Seq: 1, NoTS: true, Opt: wire.Options{HasTimestamps: true, TSVal: future}})
	f.want(t, "challenge ACK for the SYN", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768})
	f.send(t, ms(200), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('w', 10)})
	f.advance(t, ms(240))
	f.want(t, "the data is acknowledged", seg{Flags: wire.ACK, Seq: 1, Ack: 11, Win: (65536 - 10) / 2})
}

// RFC 7323 §5.2: "If an <RST> is being generated because of a user abort,
// and Snd.TS.OK is set, then a Timestamps option SHOULD be included in the
// <RST>." It carries our clock and TS.Recent, as on any other segment.
func TestAbortResetCarriesTimestamps(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	f.setTime(t, sec(1))
	f.c.Abort(f.now)
	f.want(t, "RST with timestamps", seg{Flags: wire.RST | wire.ACK, Seq: 1, Ack: 1,
		Opt: wire.Options{HasTimestamps: true, TSVal: f.ourTS(sec(1)), TSEcr: f.peerRecent}})
	f.wantEnded(t, ErrAborted)
	// Without timestamps negotiated, the RST has no options.
	g := newEstablished(t)
	g.setTime(t, sec(1))
	g.c.Abort(g.now)
	g.want(t, "RST without options", seg{Flags: wire.RST | wire.ACK, Seq: 1, Ack: 1})
}

// RFC 9293 §3.8.3 counts retransmissions "for the same segment" against
// R2. In a simultaneous open the SYN-ACK is a new segment of a new state
// (§3.10.7.3: "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment
// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it"): it gets
// SynAckRetries retransmissions of its own, whatever the SYN used up.
func TestSimultaneousOpenRetriesAreTheSynAcks(t *testing.T) {
	f := newSynSent(t, withConfig(Config{SynRetries: 3, SynAckRetries: 2}))
	syn := seg{Flags: wire.SYN, MSS: 1460, Rtx: true}
	for _, at := range []int64{1, 3, 7} { // RTO 1 s, backed off
		f.advance(t, sec(at))
		f.want(t, "the SYN again", syn)
	}
	f.send(t, sec(8), seg{Flags: wire.SYN, MSS: 1460})
	f.want(t, "the SYN-ACK", seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460})
	f.wantState(t, SynReceived)
	synAck := seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460, Rtx: true}
	f.advance(t, sec(16)) // the RTO, 8 s after the SYN's backoff
	f.want(t, "the first retransmission of the SYN-ACK", synAck)
	f.advance(t, sec(32))
	f.want(t, "the second", synAck)
	f.wantState(t, SynReceived)
	f.advance(t, sec(64))
	f.wantNothing(t)
	f.wantEnded(t, ErrTimeout)
}

// TCP_MAXSEG reports the segment size the connection sends with: RFC 9293
// §3.7.1's "effective send MSS", the send MSS less "the size of the IP
// and TCP options", as Linux's getsockopt does (mss_cache): the peer's
// MSS 1100 without timestamps, 1460 less 12 with them.
func TestMaxSegmentIsTheEffectiveSendMSS(t *testing.T) {
	f := newFixture(true, nil)
	if got := f.c.MaxSegment(); got != 536 {
		t.Fatalf("before the handshake: MaxSegment = %d, want 536", got)
	}
	f.want(t, "SYN", seg{Flags: wire.SYN, MSS: 1460})
	f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1100})
	f.want(t, "ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	if got := f.c.MaxSegment(); got != 1100 {
		t.Fatalf("peer MSS 1100, no timestamps: MaxSegment = %d, want 1100", got)
	}
	g := newModern(t, modernCfg(), true)
	if got := g.c.MaxSegment(); got != mss {
		t.Fatalf("MSS 1460 with timestamps: MaxSegment = %d, want %d", got, mss)
	}
}

// setsockopt TCP_MAXSEG before connect lowers the MSS announced in the SYN
// (RFC 9293 §3.7.1: the MSS option says what we "can receive") and the
// segments sent; values below 88 or above 65535 are refused.
func TestSetMaxSegment(t *testing.T) {
	f := newFixture(true, nil)
	for _, bad := range []int{87, 65536, -1} {
		if err := f.c.SetMaxSegment(bad); err == nil {
			t.Fatalf("SetMaxSegment(%d) accepted", bad)
		}
	}
	if err := f.c.SetMaxSegment(1000); err != nil {
		t.Fatal(err)
	}
	if got := f.c.MaxSegment(); got != 1000 {
		t.Fatalf("MaxSegment = %d after SetMaxSegment(1000)", got)
	}
	f.want(t, "SYN announcing 1000", seg{Flags: wire.SYN, MSS: 1000})
	f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460})
	f.want(t, "ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	f.write(t, ms(200), data('m', 1500))
	f.want(t, "segments of 1000 bytes", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: data('m', 1500)[:1000]},
		seg{Flags: wire.PSH | wire.ACK, Seq: 1001, Ack: 1, Data: data('m', 1500)[1000:]})
	if got := f.c.MaxSegment(); got != 1000 {
		t.Fatalf("MaxSegment = %d, want 1000", got)
	}
}

// RFC 1122 §4.2.2.13: "A host MAY implement a "half-duplex" TCP close
// sequence, so that an application that has called CLOSE cannot continue
// to read data from the connection. If such a host issues a CLOSE call
// while received data is still pending in TCP, or if new data is received
// after CLOSE is called, its TCP SHOULD send a RST to show that data was
// lost." (RFC 9293 §3.6, SHLD-3.) CloseRead with Close is that close.
func TestCloseWithUnreadDataResets(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		// The peer's data and FIN, unread: CLOSE-WAIT.
		f := newEstablished(t, isn)
		f.send(t, sec(1), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('u', 100)})
		f.want(t, "ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 101, Win: defWin - 100})
		f.send(t, ms(1100), seg{Flags: wire.FIN | wire.ACK, Seq: 101, Ack: 1})
		f.want(t, "ACK of the FIN", seg{Flags: wire.ACK, Seq: 1, Ack: 102, Win: defWin - 101})
		f.setTime(t, ms(1200))
		f.c.CloseRead(f.now)
		f.wantNothing(t) // shutdown(SHUT_RD) alone sends nothing
		f.close(t, ms(1200))
		f.want(t, "a RST instead of a FIN", seg{Flags: wire.RST | wire.ACK, Seq: 1, Ack: 102})
		f.wantEnded(t, ErrAborted)

		// Close first, then CloseRead: the same, from FIN-WAIT-1.
		g := newEstablished(t, isn)
		g.send(t, sec(1), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('u', 10)})
		g.want(t, "ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 11, Win: defWin - 10})
		g.close(t, ms(1100))
		g.want(t, "the FIN (a half-close)", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 11, Win: defWin - 10})
		g.setTime(t, ms(1150))
		g.c.CloseRead(g.now)
		g.want(t, "RST, SEQ=SND.NXT past the FIN", seg{Flags: wire.RST | wire.ACK, Seq: 2, Ack: 11})
		g.wantEnded(t, ErrAborted)
	})
}

// "... or if new data is received after CLOSE is called, its TCP SHOULD
// send a RST": after the full close, in FIN-WAIT-1 and FIN-WAIT-2. The
// RST answers the segment (<SEQ=SEG.ACK><CTL=RST>, RFC 9293 §3.10.7.1's
// form), as Linux's does. A half-close (Close alone) still receives.
func TestDataAfterFullCloseResets(t *testing.T) {
	for _, st := range []State{FinWait1, FinWait2} {
		t.Run(st.String(), func(t *testing.T) {
			forISNs(t, func(t *testing.T, isn option) {
				f := newFinWait1(t, isn)
				ack := uint32(1)
				if st == FinWait2 {
					f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 2})
					f.wantNothing(t)
					ack = 2
				}
				f.setTime(t, ms(1150))
				f.c.CloseRead(f.now)
				f.wantNothing(t)
				// A bare ACK is no data: nothing happens.
				f.send(t, ms(1160), seg{Flags: wire.ACK, Seq: 1, Ack: ack})
				f.wantNothing(t)
				f.wantState(t, st)
				f.send(t, ms(1170), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: ack, Data: []byte("late")})
				f.want(t, "RST", seg{Flags: wire.RST, Seq: ack})
				f.wantEnded(t, ErrAborted)
			})
		})
	}
	t.Run("half-close", func(t *testing.T) {
		f := newFinWait2(t)
		f.send(t, ms(1200), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 2, Data: []byte("late")})
		f.want(t, "data taken and acknowledged", seg{Flags: wire.ACK, Seq: 2, Ack: 5, Win: defWin - 4})
		f.wantRead(t, ms(1210), []byte("late"))
	})
}

// RFC 3042 §2 (RFC 5681 §3.2 step 1): "a TCP sender SHOULD send a new
// data segment in response to each of the first two duplicate
// acknowledgments that arrive at the sender" if "(a) the receiver's
// advertised window allows the transmission of the segment, (b) the
// amount of outstanding data would remain less than or equal to the
// congestion window plus 2 segments", and "MUST NOT" change cwnd for
// them. Without SACK: a full initial window of ten segments, two
// duplicate ACKs, two new segments; the third starts fast retransmit.
func TestLimitedTransmit(t *testing.T) {
	const m = 1460
	f := newEstablished(t)
	in := data('l', 20*m)
	part := func(k int) []byte { return in[k*m : (k+1)*m] }
	f.write(t, sec(1), in)
	var first []seg
	for k := range 10 {
		first = append(first, seg{Flags: wire.ACK, Seq: uint32(1 + k*m), Ack: 1, Data: part(k)})
	}
	f.want(t, "the initial window, ten segments (RFC 6928)", first...)
	cwnd := f.c.Info().Cwnd
	dup := seg{Flags: wire.ACK, Seq: 1, Ack: 1}
	f.send(t, ms(1100), dup)
	f.want(t, "the first duplicate ACK sends segment 11", seg{Flags: wire.ACK, Seq: 1 + 10*m, Ack: 1, Data: part(10)})
	f.send(t, ms(1101), dup)
	f.want(t, "the second sends segment 12", seg{Flags: wire.ACK, Seq: 1 + 11*m, Ack: 1, Data: part(11)})
	if i := f.c.Info(); i.Cwnd != cwnd || i.InRecovery {
		t.Fatalf("after two duplicate ACKs: cwnd %d (was %d), in recovery %v", i.Cwnd, cwnd, i.InRecovery)
	}
	f.send(t, ms(1102), dup)
	f.want(t, "the third: fast retransmit", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: part(0), Rtx: true})
	if !f.c.Info().InRecovery {
		t.Fatal("not in recovery after the third duplicate ACK")
	}
}

// With SACK, the same: each of the first two duplicate ACKs, reporting a
// segment received, lets one new segment go (RFC 3042 §2, and RFC 6675's
// pipe, which the SACKed segment leaves), before loss recovery starts.
func TestLimitedTransmitSACK(t *testing.T) {
	f := newModern(t, Config{RecvBuffer: 1 << 20, RecvBufferMax: 1 << 20}, true)
	in := data('s', 20*mss)
	part := func(k int) []byte { return in[k*mss : (k+1)*mss] }
	f.write(t, sec(1), in)
	var first []seg
	for k := range 10 {
		first = append(first, seg{Flags: wire.ACK, Seq: uint32(1 + k*mss), Ack: 1, Data: part(k), Win: f.c.RecvBuffer() >> f.c.wantShift()})
	}
	f.want(t, "the initial window", first...)
	cwnd := f.c.Info().Cwnd
	win := f.c.RecvBuffer() >> f.c.wantShift()
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 1, SACK: []uint32{1 + mss, 1 + 2*mss}})
	f.want(t, "the first duplicate ACK sends segment 11", seg{Flags: wire.ACK, Seq: 1 + 10*mss, Ack: 1, Data: part(10), Win: win})
	f.send(t, ms(1101), seg{Flags: wire.ACK, Seq: 1, Ack: 1, SACK: []uint32{1 + mss, 1 + 3*mss}})
	f.want(t, "the second sends segment 12", seg{Flags: wire.ACK, Seq: 1 + 11*mss, Ack: 1, Data: part(11), Win: win})
	if i := f.c.Info(); i.Cwnd != cwnd || i.InRecovery {
		t.Fatalf("after two duplicate ACKs: cwnd %d (was %d), in recovery %v", i.Cwnd, cwnd, i.InRecovery)
	}
}

// Spoofed segments must not draw a stream of reflected ACKs (issue 15):
// the ACKs answering unacceptable segments without data go at most once
// per InvalidACKInterval (500 ms, Linux's tcp_invalid_ratelimit) when the
// segment is out of the window (RFC 9293 §3.10.7.4: "an acknowledgment
// should be sent in reply"). Segments with data are always answered: the
// ACK may end a spurious retransmission. A segment in the window that
// acknowledges what was never sent is answered too (RFC 5961 §5.2:
// "discarded and an ACK sent back"): a blind attacker must guess the
// window to send one.
func TestInvalidACKInterval(t *testing.T) {
	f := newEstablished(t)
	reply := seg{Flags: wire.ACK, Seq: 1, Ack: 1}
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 100000, Ack: 1})
	f.want(t, "the first ACK of an out-of-window segment", reply)
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 0, Ack: 1})
	f.wantNothing(t)
	f.send(t, ms(1200), seg{Flags: wire.PSH | wire.ACK, Seq: 100000, Ack: 1, Data: []byte("data")})
	f.want(t, "data beyond the window is answered", reply)
	f.send(t, ms(1499), seg{Flags: wire.ACK, Seq: 100000, Ack: 1})
	f.wantNothing(t)
	f.send(t, ms(1500), seg{Flags: wire.ACK, Seq: 100000, Ack: 1})
	f.want(t, "500 ms after the first", reply)
	f.send(t, ms(1600), seg{Flags: wire.ACK, Seq: 1, Ack: 5000})
	f.want(t, "an ACK of data never sent", reply)
	f.send(t, ms(1700), seg{Flags: wire.ACK, Seq: 100000, Ack: 1})
	f.wantNothing(t)
	f.send(t, ms(2000), seg{Flags: wire.ACK, Seq: 100000, Ack: 1})
	f.want(t, "500 ms after the last such ACK", reply)
	if s := f.c.Stats(); s.Dropped != 8 || s.ChallengeACKs != 0 {
		t.Fatalf("Dropped=%d ChallengeACKs=%d, want 8, 0", s.Dropped, s.ChallengeACKs)
	}
	// The window's own data is unaffected.
	f.send(t, ms(2010), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: []byte("ok")})
	f.want(t, "data in order", seg{Flags: wire.ACK, Seq: 1, Ack: 3, Win: defWin - 2})
}

// RFC 5961 §4.2: "If the SYN bit is set, irrespective of the sequence
// number, TCP MUST send an ACK (also referred to as challenge ACK)"; §7:
// "An implementation SHOULD include an ACK throttling mechanism". A SYN
// outside the window gets the challenge ACK, counted against its limit,
// and SYNs also keep InvalidACKInterval between their ACKs.
func TestSynOutsideWindowChallengeACK(t *testing.T) {
	f := newEstablished(t)
	challenge := seg{Flags: wire.ACK, Seq: 1, Ack: 1}
	f.send(t, sec(1), seg{Flags: wire.SYN, Seq: 1 << 20})
	f.want(t, "challenge ACK", challenge)
	f.send(t, ms(1100), seg{Flags: wire.SYN, Seq: 1 << 30})
	f.wantNothing(t)
	f.send(t, ms(1500), seg{Flags: wire.SYN, Seq: 5}) // in the window
	f.want(t, "challenge ACK 500 ms later", challenge)
	f.wantState(t, Established)
	if s := f.c.Stats(); s.ChallengeACKs != 2 || s.ChallengeACKsLimited != 1 {
		t.Fatalf("ChallengeACKs=%d Limited=%d, want 2, 1", s.ChallengeACKs, s.ChallengeACKsLimited)
	}
}

// constRand returns the same value every time.
type constRand uint64

func (r constRand) Uint64() uint64 { return uint64(r) }

// The per-connection limit has a random part when the driver hands in
// randomness: each period's budget lies between half RFC 5961 §7's limit
// and the limit, so that an attacker cannot count it out (CVE-2016-5696).
// Drawing 3 of 10 leaves 7.
func TestChallengeACKRandomBudget(t *testing.T) {
	f := newEstablished(t, withConfig(Config{Rand: constRand(3)}))
	for i := range int64(7) {
		f.send(t, ms(1000+10*i), seg{Flags: wire.RST, Seq: 5})
		f.want(t, "challenge ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	}
	f.send(t, ms(1100), seg{Flags: wire.RST, Seq: 5})
	f.wantNothing(t)
	if s := f.c.Stats(); s.ChallengeACKs != 7 || s.ChallengeACKsLimited != 1 {
		t.Fatalf("ChallengeACKs=%d Limited=%d, want 7, 1", s.ChallengeACKs, s.ChallengeACKsLimited)
	}
}

// The connections of one Policy (one stack) share a budget of challenge
// ACKs per second (StackChallengeACKs, Linux's tcp_challenge_ack_limit),
// drawn as "half + get_random_u32_below(ack_limit)" with randomness.
func TestStackChallengeACKLimit(t *testing.T) {
	cfg := Config{StackChallengeACKs: 3}
	a, b := newEstablished(t, withConfig(cfg)), newEstablished(t, withConfig(cfg))
	b.c.pol = a.c.pol
	challenge := seg{Flags: wire.ACK, Seq: 1, Ack: 1}
	a.send(t, sec(1), seg{Flags: wire.RST, Seq: 5})
	a.want(t, "a: 1st", challenge)
	b.send(t, ms(1100), seg{Flags: wire.RST, Seq: 5})
	b.want(t, "b: 2nd", challenge)
	a.send(t, ms(1200), seg{Flags: wire.RST, Seq: 5})
	a.want(t, "a: 3rd", challenge)
	b.send(t, ms(1300), seg{Flags: wire.RST, Seq: 5})
	b.wantNothing(t)
	b.send(t, sec(2), seg{Flags: wire.RST, Seq: 5})
	b.want(t, "the next second", challenge)
	if s := b.c.Stats(); s.ChallengeACKsLimited != 1 {
		t.Fatalf("b: ChallengeACKsLimited=%d, want 1", s.ChallengeACKsLimited)
	}
	// With randomness: 2 + 7%3 = 3 in a second.
	p := NewPolicy(Config{StackChallengeACKs: 3, Rand: constRand(7)})
	n := 0
	for p.stackChallengeOK(sec(5)) {
		n++
	}
	if n != 3 {
		t.Fatalf("random stack budget %d, want 3", n)
	}
}

// newSACKNoTS returns an ESTABLISHED client with SACK and window scaling
// but no timestamps (so that Karn's rule leaves retransmissions without
// an RTT sample), whose handshake's RTT sample is rtt.
func newSACKNoTS(t *testing.T, cfg Config, rtt clock.Time) *fixture {
	t.Helper()
	cfg.NoTimestamps = true
	cfg.RecvBuffer, cfg.RecvBufferMax = 65536, 65536
	f := newFixture(true, []option{withConfig(cfg), modern})
	f.want(t, "SYN", seg{Flags: wire.SYN, Win: 65535, MSS: 1460,
		Opt: wire.Options{HasWScale: true, WScale: f.c.wantShift(), SACKPermitted: true}})
	f.send(t, rtt, seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460, Opt: peerSynOpts(true)})
	f.want(t, "ACK of the SYN-ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768})
	return f
}

// RFC 8985 §7.2 lets an implementation choose the PTO beyond 2*SRTT
// ("The actual value of TLP.max_ack_delay is implementation specific");
// like Linux (tcp_schedule_loss_probe), synack never schedules a probe
// sooner than 10 ms, so that on a path of a few hundred microseconds a
// peer's ACK that is merely late (its ACK of a FIN) draws no probe.
func TestTLPFloor(t *testing.T) {
	f := newSACKNoTS(t, Config{}, ms(2)) // SRTT 2 ms: 2*SRTT is 4 ms
	f.write(t, sec(1), data('f', 2*1460))
	f.want(t, "two segments", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: data('f', 2*1460)[:1460], Win: 32768},
		seg{Flags: wire.PSH | wire.ACK, Seq: 1461, Ack: 1, Data: data('f', 2*1460)[1460:], Win: 32768})
	f.wantDeadline(t, ms(1010))
	f.advance(t, ms(1010))
	f.want(t, "the probe: the last segment again", seg{Flags: wire.PSH | wire.ACK, Seq: 1461, Ack: 1,
		Data: data('f', 2*1460)[1460:], Win: 32768, Rtx: true})
}

// RFC 8985 §7.3: "When the PTO timer expires, the sender MUST check
// whether both of the following conditions are met before sending a loss
// probe: ... Second, the sender has obtained an RTT measurement since the
// last loss probe transmission ... If either one of these two conditions
// is not met, then the sender MUST skip sending a loss probe and MUST
// proceed to re-arm the RTO timer". A probe's ACK gives no sample without
// timestamps (Karn's rule), so the next PTO sends nothing.
func TestTLPNeedsAnRTTSampleSinceTheLastProbe(t *testing.T) {
	f := newSACKNoTS(t, Config{MinRTO: time.Second}, ms(10)) // SRTT 10 ms, RTO 1.01 s
	f.write(t, sec(1), data('a', 100))
	f.want(t, "A", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('a', 100), Win: 32768})
	f.advance(t, ms(1220)) // PTO: 2*SRTT + 200 ms for a single segment
	f.want(t, "the probe", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('a', 100), Win: 32768, Rtx: true})
	f.send(t, ms(1230), seg{Flags: wire.ACK, Seq: 1, Ack: 101})
	f.wantNothing(t)
	f.write(t, ms(1300), data('b', 100))
	f.want(t, "B", seg{Flags: wire.PSH | wire.ACK, Seq: 101, Ack: 1, Data: data('b', 100), Win: 32768})
	f.advance(t, ms(1520))
	f.wantNothing(t)
	f.wantDeadline(t, ms(2530)) // the RTO, re-armed
	if s := f.c.Stats(); s.TLPs != 1 {
		t.Fatalf("TLPs = %d, want 1", s.TLPs)
	}
}

// RFC 8985 §7.2: the PTO is (re)started "unless it is already in fast
// recovery, RTO recovery, or segments have been SACKed (i.e.,
// RACK.segs_sacked is not zero)": once the peer SACKs a segment, the
// reordering timer and the RTO take over.
func TestNoTLPOnceSegmentsAreSACKed(t *testing.T) {
	f := newSACKNoTS(t, Config{}, ms(10))
	in := data('s', 3*1460)
	f.write(t, sec(1), in)
	f.output(t)
	if f.c.tlpAt == clock.Never {
		t.Fatal("no PTO after sending three segments")
	}
	f.send(t, ms(1005), seg{Flags: wire.ACK, Seq: 1, Ack: 1, SACK: []uint32{1 + 2*1460, 1 + 3*1460}})
	f.output(t)
	if f.c.tlpAt != clock.Never {
		t.Fatalf("PTO still armed (at %v) with a segment SACKed", f.c.tlpAt)
	}
}

// RFC 9293 §3.10.7.2, LISTEN, the SYN bit: "Set RCV.NXT to SEG.SEQ+1, IRS
// is set to SEG.SEQ, and any other control or text should be queued for
// processing later." The SYN-ACK acknowledges the SYN only; once the ACK
// of our SYN makes the connection ESTABLISHED ("enter ESTABLISHED state
// and continue processing", §3.10.7.4), the queued text is processed:
// RCV.NXT passes it, it is acknowledged at once and the application reads
// it, and the peer need not send it again.
func TestSYNTextQueuedUntilEstablished(t *testing.T) {
	f := newListen(t)
	f.send(t, 0, seg{Flags: wire.SYN, MSS: 1460, Data: data('s', 10)})
	f.want(t, "the SYN-ACK acknowledges the SYN, not its text",
		seg{Flags: wire.SYN | wire.ACK, Ack: 1, Win: f.recvWin(), MSS: 1460})
	f.wantState(t, SynReceived)
	if n := f.c.Readable(); n != 0 {
		t.Fatalf("%d bytes readable in SYN-RECEIVED, want 0", n)
	}
	f.send(t, ms(100), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	f.wantState(t, Established)
	f.want(t, "the queued text is acknowledged", seg{Flags: wire.ACK, Seq: 1, Ack: 11, Win: f.recvWin() - 10})
	f.wantRead(t, ms(200), data('s', 10))
	// Data after the handshake follows the SYN's text.
	f.send(t, ms(300), seg{Flags: wire.PSH | wire.ACK, Seq: 11, Ack: 1, Data: data('d', 5)})
	f.wantRead(t, ms(300), data('d', 5))
}
