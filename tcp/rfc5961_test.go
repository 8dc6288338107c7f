package tcp

// RFC 5961 (as folded into RFC 9293 §3.10.7.4): RST and SYN challenge ACKs,
// their rate limit, and ACK acceptability; and the sequence test's reply to
// unacceptable segments.

import (
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// synchronized lists the fixtures past the handshake with their sequence
// variables relative to the ISNs, and the window their ACKs offer.
var synchronized = []struct {
	state          State
	build          func(testing.TB, ...option) *fixture
	sndNxt, rcvNxt uint32
	win            int
}{
	{SynReceived, newSynReceived, 1, 1, defWin},
	{Established, newEstablished, 1, 1, defWin},
	{FinWait1, newFinWait1, 2, 1, defWin},
	{FinWait2, newFinWait2, 2, 1, defWin},
	{CloseWait, newCloseWait, 1, 2, defWin - 1},
	{Closing, newClosing, 2, 2, defWin - 1},
	{LastAck, newLastAck, 2, 2, defWin - 1},
	{TimeWait, newTimeWait, 2, 2, defWin - 1},
}

// soon is 10 ms after the fixture's last event, before any of its timers.
func (f *fixture) soon() clock.Time { return f.now.Add(10 * time.Millisecond) }

// RFC 5961 §3.2: "If the RST bit is set and the sequence number exactly
// matches the next expected sequence value, the TCP MUST reset the
// connection."
func TestRstAtRcvNxt(t *testing.T) {
	ends := map[State]error{
		Established: ErrConnReset, FinWait1: ErrConnReset, FinWait2: ErrConnReset, CloseWait: ErrConnReset,
		// "CLOSING, LAST-ACK, TIME-WAIT: If the RST bit is set, then enter
		// the CLOSED state, delete the TCB, and return."
		Closing: nil, LastAck: nil, TimeWait: nil,
	}
	for _, fx := range synchronized {
		if fx.state == SynReceived {
			continue // TestSynReceivedRstReturnsToListen
		}
		t.Run(fx.state.String(), func(t *testing.T) {
			forISNs(t, func(t *testing.T, isn option) {
				f := fx.build(t, isn)
				f.send(t, f.soon(), seg{Flags: wire.RST, Seq: fx.rcvNxt})
				f.wantNothing(t)
				f.wantEnded(t, ends[fx.state])
			})
		})
	}
}

// RFC 5961 §3.2: "If the RST bit is set and the sequence number does not
// exactly match the next expected sequence value, yet is within the current
// receive window, TCP MUST send an acknowledgment (challenge ACK):
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>".
func TestRstInWindowChallengeACK(t *testing.T) {
	for _, fx := range synchronized {
		t.Run(fx.state.String(), func(t *testing.T) {
			forISNs(t, func(t *testing.T, isn option) {
				f := fx.build(t, isn)
				for i, off := range []uint32{1, 1000, 65534} {
					f.send(t, f.soon(), seg{Flags: wire.RST, Seq: fx.rcvNxt + off})
					f.want(t, "challenge ACK", seg{Flags: wire.ACK, Seq: fx.sndNxt, Ack: fx.rcvNxt, Win: fx.win})
					f.wantState(t, fx.state)
					if got := f.c.Stats().ChallengeACKs; got != uint64(i+1) {
						t.Fatalf("ChallengeACKs = %d, want %d", got, i+1)
					}
				}
				// With ACK set too, the same.
				f.send(t, f.soon(), seg{Flags: wire.RST | wire.ACK, Seq: fx.rcvNxt + 1, Ack: fx.sndNxt})
				f.want(t, "challenge ACK", seg{Flags: wire.ACK, Seq: fx.sndNxt, Ack: fx.rcvNxt, Win: fx.win})
			})
		})
	}
}

// RFC 5961 §3.2: "If the RST bit is set and the sequence number is outside
// the current receive window, silently drop the segment."
func TestRstOutsideWindowDropped(t *testing.T) {
	for _, fx := range synchronized {
		t.Run(fx.state.String(), func(t *testing.T) {
			forISNs(t, func(t *testing.T, isn option) {
				f := fx.build(t, isn)
				for i, off := range []uint32{65535, 100000, 1<<32 - 1, 1<<31 + 5} {
					f.send(t, f.soon(), seg{Flags: wire.RST | wire.ACK, Seq: fx.rcvNxt + off, Ack: fx.sndNxt})
					f.wantNothing(t)
					f.wantState(t, fx.state)
					if s := f.c.Stats(); s.Dropped != uint64(i+1) || s.ChallengeACKs != 0 {
						t.Fatalf("Dropped=%d ChallengeACKs=%d after %d RSTs", s.Dropped, s.ChallengeACKs, i+1)
					}
				}
			})
		})
	}
}

// RFC 5961 §4.2: "If the SYN bit is set, irrespective of the sequence
// number, TCP MUST send an ACK (also referred to as challenge ACK) to the
// remote peer: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. After sending the
// acknowledgment, TCP MUST drop the unacceptable segment and stop
// processing further."
func TestSynInSynchronizedStateChallengeACK(t *testing.T) {
	for _, fx := range synchronized {
		if fx.state == SynReceived {
			continue // passive: back to LISTEN (TestSynReceivedSynInWindowReturnsToListen)
		}
		t.Run(fx.state.String(), func(t *testing.T) {
			forISNs(t, func(t *testing.T, isn option) {
				f := fx.build(t, isn)
				f.send(t, f.soon(), seg{Flags: wire.SYN, Seq: fx.rcvNxt + 10, Data: []byte("junk")})
				f.want(t, "challenge ACK", seg{Flags: wire.ACK, Seq: fx.sndNxt, Ack: fx.rcvNxt, Win: fx.win})
				f.wantState(t, fx.state)
				if s := f.c.Stats(); s.ChallengeACKs != 1 || f.c.Readable() != 0 {
					t.Fatalf("ChallengeACKs=%d Readable=%d", s.ChallengeACKs, f.c.Readable())
				}
				// RFC 9293: "If the SYN is not in the window, this step would
				// not be reached and an ACK would have been sent in the first
				// step (sequence number check)"; RFC 5961 §4.2 sends the
				// challenge ACK "irrespective of the sequence number", so the
				// ACK is a challenge ACK, counted and limited (§7). The
				// peer's retransmitted SYN-ACK (our ACK was lost) is such a
				// SYN.
				g := fx.build(t, isn)
				g.send(t, g.soon(), seg{Flags: wire.SYN | wire.ACK, Seq: 0, Ack: 1, MSS: 1460})
				g.want(t, "ACK", seg{Flags: wire.ACK, Seq: fx.sndNxt, Ack: fx.rcvNxt, Win: fx.win})
				g.wantState(t, fx.state)
				if s := g.c.Stats(); s.ChallengeACKs != 1 {
					t.Fatalf("ChallengeACKs=%d for a SYN outside the window", s.ChallengeACKs)
				}
			})
		})
	}
}

// RFC 5961 §7: "in any 5 second window, no more than 10 challenge ACKs
// should be sent" (Config defaults ChallengeACKs 10, ChallengeACKPeriod 5 s).
// The interval between ACKs to invalid segments, which SYNs also obey, is
// off here (TestInvalidACKInterval).
func TestChallengeACKRateLimit(t *testing.T) {
	f := newEstablished(t, withConfig(Config{InvalidACKInterval: -1}))
	challenge := seg{Flags: wire.ACK, Seq: 1, Ack: 1}
	// Ten at 1.0, 1.1, ... 1.9 s, alternating RSTs and SYNs: one budget.
	for i := int64(0); i < 10; i++ {
		flags := wire.RST
		if i%2 == 1 {
			flags = wire.SYN
		}
		f.send(t, ms(1000+100*i), seg{Flags: flags, Seq: 5})
		f.want(t, "challenge ACK", challenge)
	}
	// The 11th within the period is suppressed, and so is one just before
	// the period ends at 6 s.
	f.send(t, sec(2), seg{Flags: wire.RST, Seq: 5})
	f.wantNothing(t)
	f.send(t, sec(6)-1, seg{Flags: wire.SYN, Seq: 5})
	f.wantNothing(t)
	// 5 s after the first of the period, a new period begins.
	f.send(t, sec(6), seg{Flags: wire.RST, Seq: 5})
	f.want(t, "challenge ACK in the next period", challenge)
	f.wantState(t, Established)
	if s := f.c.Stats(); s.ChallengeACKs != 11 || s.ChallengeACKsLimited != 2 {
		t.Fatalf("ChallengeACKs=%d Limited=%d, want 11, 2", s.ChallengeACKs, s.ChallengeACKsLimited)
	}
	// Ordinary ACKs of unacceptable segments are not limited by the
	// challenge-ACK budget.
	for i := int64(0); i < 12; i++ {
		f.send(t, sec(7)+clock.Time(i), seg{Flags: wire.ACK, Seq: 100000, Ack: 1})
		f.want(t, "ACK of an unacceptable segment", challenge)
	}
}

// A custom limit and period.
func TestChallengeACKRateLimitConfig(t *testing.T) {
	f := newEstablished(t, withConfig(Config{ChallengeACKs: 2, ChallengeACKPeriod: time.Second}))
	f.send(t, sec(1), seg{Flags: wire.RST, Seq: 5})
	f.want(t, "1st", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	f.send(t, ms(1500), seg{Flags: wire.RST, Seq: 5})
	f.want(t, "2nd", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	f.send(t, ms(1999), seg{Flags: wire.RST, Seq: 5})
	f.wantNothing(t)
	f.send(t, sec(2), seg{Flags: wire.RST, Seq: 5})
	f.want(t, "next period", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
}

// RFC 5961 §5.2: "the ACK value is considered acceptable only if it is in
// the range of ((SND.UNA - MAX.SND.WND) <= SEG.ACK <= SND.NXT). All incoming
// segments whose ACK value doesn't satisfy the above condition MUST be
// discarded and an ACK sent back."
func TestAckAcceptability(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newEstablished(t, isn) // SND.UNA = SND.NXT = 1, MAX.SND.WND = 65535
		f.write(t, sec(1), data('o', 100))
		f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('o', 100)})
		var una, nxt, maxWnd uint32 = 1, 101, 65535
		reply := seg{Flags: wire.ACK, Seq: nxt, Ack: 1}
		// Ahead: SEG.ACK = SND.NXT+1. "If the ACK acks something not yet
		// sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment, and
		// return."
		f.send(t, ms(1010), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: nxt + 1, Data: []byte("a")})
		f.want(t, "ACK, segment dropped", reply)
		// Too old: SEG.ACK = SND.UNA - MAX.SND.WND - 1.
		f.send(t, ms(1020), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: una - maxWnd - 1, Data: []byte("b")})
		f.want(t, "ACK, segment dropped", reply)
		if f.c.Readable() != 0 || f.c.Info().SndUna != f.isn.local.Add(seq.Size(una)) {
			t.Fatalf("a dropped segment changed the TCB: %+v", f.c.Info())
		}
		if got := f.c.Stats().Dropped; got != 2 {
			t.Fatalf("Dropped = %d, want 2", got)
		}
		// The oldest acceptable value: the data is taken, SND.UNA stays.
		f.send(t, ms(1030), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: una - maxWnd, Data: []byte("c")})
		f.want(t, "data taken", seg{Flags: wire.ACK, Seq: nxt, Ack: 2, Win: defWin - 1})
		// The newest acceptable value: SEG.ACK = SND.NXT.
		f.send(t, ms(1040), seg{Flags: wire.PSH | wire.ACK, Seq: 2, Ack: nxt, Data: []byte("d")})
		f.want(t, "data taken", seg{Flags: wire.ACK, Seq: nxt, Ack: 3, Win: defWin - 2})
		f.wantRead(t, ms(1050), []byte("cd"))
		if in := f.c.Info(); in.SndUna != f.isn.local.Add(seq.Size(nxt)) || in.Unacked != 0 {
			t.Fatalf("after ACK of everything: %+v", in)
		}
	})
}

// §3.10.7.4 first: "If an incoming segment is not acceptable, an
// acknowledgment should be sent in reply (unless the RST bit is set, if so
// drop the segment and return): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. After
// sending the acknowledgment, drop the unacceptable segment and return."
func TestUnacceptableSegment(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		// Every reply at once: no interval between ACKs to invalid
		// segments (TestInvalidACKInterval).
		f := newEstablished(t, isn, withConfig(Config{InvalidACKInterval: -1}))
		f.write(t, sec(1), data('u', 50))
		f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('u', 50)})
		reply := seg{Flags: wire.ACK, Seq: 51, Ack: 1}
		for _, s := range []seg{
			{Flags: wire.PSH | wire.ACK, Seq: 1 + 65535, Ack: 51, Data: []byte("beyond the window")},
			{Flags: wire.ACK, Seq: 1 + 65535, Ack: 51},
			{Flags: wire.ACK, Seq: 0, Ack: 51},                                         // left of RCV.NXT
			{Flags: wire.PSH | wire.ACK, Seq: 1<<32 - 9, Ack: 51, Data: data('x', 10)}, // entirely old
			{Flags: wire.FIN | wire.ACK, Seq: 1 + 70000, Ack: 51},
		} {
			f.send(t, ms(1010), s)
			f.want(t, "ACK with SND.NXT and RCV.NXT", reply)
			f.wantState(t, Established)
		}
		// None of them acknowledged our data (they were dropped first).
		if in := f.c.Info(); in.Unacked != 50 || in.Unread != 0 {
			t.Fatalf("TCB changed by unacceptable segments: %+v", in)
		}
		// "If a segment's contents straddle the boundary between old and
		// new, only the new parts are processed."
		f.send(t, ms(1020), seg{Flags: wire.PSH | wire.ACK, Seq: 1<<32 - 2, Ack: 51, Data: []byte("oldNEW")})
		f.want(t, "the new part acknowledged", seg{Flags: wire.ACK, Seq: 51, Ack: 4, Win: defWin - 3})
		f.wantRead(t, ms(1030), []byte("NEW"))
	})
}
