package tcp

// Retransmission (RFC 6298), its give-up limits, Karn's rule and the
// zero-window persist timer, at exact virtual times.

import (
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// wantRTT checks the RFC 6298 estimator's variables.
func (f *fixture) wantRTT(t *testing.T, srtt, rttvar, rto time.Duration) {
	t.Helper()
	in := f.c.Info()
	if in.SRTT != srtt || in.RTTVar != rttvar || in.RTO != rto {
		t.Fatalf("at %v: SRTT=%v RTTVAR=%v RTO=%v, want %v %v %v", f.now, in.SRTT, in.RTTVar, in.RTO, srtt, rttvar, rto)
	}
}

// SYN-RECEIVED: the SYN-ACK is retransmitted with backoff; a passive
// half-open connection that never completes returns to LISTEN, Done.
func TestSynAckRetransmitGiveUp(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newSynReceived(t, isn)
		// RFC 6298 (5.4)-(5.6): retransmit, double the RTO, restart the
		// timer: 1, 3, 7, 15, 31 s; after SynAckRetries (5), give up at 63 s.
		for _, at := range []int64{1, 3, 7, 15, 31} {
			f.advance(t, sec(at))
			f.want(t, "SYN-ACK retransmission", seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460, Rtx: true})
			f.wantState(t, SynReceived)
		}
		f.advance(t, sec(63))
		f.wantNothing(t)
		f.wantState(t, Listen)
		if !f.c.Done() || f.c.Err() != nil {
			t.Fatalf("Done()=%v Err()=%v, want true, nil", f.c.Done(), f.c.Err())
		}
		f.wantDeadline(t, clock.Never)
	})
}

// A retransmitted SYN in SYN-RECEIVED means our SYN-ACK was lost: it is
// sent again at once, without waiting for the timer.
func TestSynReceivedDuplicateSyn(t *testing.T) {
	f := newSynReceived(t)
	f.send(t, ms(500), seg{Flags: wire.SYN, MSS: 1460})
	f.want(t, "SYN-ACK again", seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460, Rtx: true})
	f.wantState(t, SynReceived)
	f.wantDeadline(t, sec(1))
	f.send(t, ms(600), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	f.wantState(t, Established)
}

// RFC 6298 (5.4)-(5.6) and Karn's rule for data.
func TestDataRetransmitBackoffKarn(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newEstablished(t, isn)
		// (2.2) from the handshake's 100 ms: SRTT 100 ms, RTTVAR 50 ms,
		// RTO = SRTT + 4·RTTVAR = 300 ms.
		f.wantRTT(t, 100*time.Millisecond, 50*time.Millisecond, 300*time.Millisecond)
		d := data('k', 100)
		f.write(t, sec(1), d)
		f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d})
		// (5.1) "start it running so that it will expire after RTO seconds"
		f.wantDeadline(t, ms(1300))
		// (5.4) "Retransmit the earliest segment that has not been
		// acknowledged"; (5.5) "RTO <- RTO * 2"; (5.6) restart the timer.
		f.advance(t, ms(1300))
		f.want(t, "first retransmission", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d, Rtx: true})
		f.wantDeadline(t, ms(1900))
		f.advance(t, ms(1900))
		f.want(t, "second retransmission", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d, Rtx: true})
		f.wantDeadline(t, ms(3100))
		// The ACK at 2 s is ambiguous (1 s after the first send, 100 ms after
		// the last): Karn's rule takes no sample, and the backed-off RTO
		// stays until a new sample (RFC 6298 §5, note after (5.7)).
		f.send(t, sec(2), seg{Flags: wire.ACK, Seq: 1, Ack: 101})
		f.wantNothing(t)
		// (5.2) "When all outstanding data has been acknowledged, turn off
		// the retransmission timer."
		f.wantDeadline(t, clock.Never)
		f.wantRTT(t, 100*time.Millisecond, 50*time.Millisecond, 1200*time.Millisecond)
		// New data is timed: a 200 ms sample. (2.3) RTTVAR = 3/4·50 +
		// 1/4·|100-200| = 62.5 ms; SRTT = 7/8·100 + 1/8·200 = 112.5 ms; RTO =
		// 112.5 + 4·62.5 = 362.5 ms.
		f.write(t, sec(3), d)
		f.want(t, "new data", seg{Flags: wire.PSH | wire.ACK, Seq: 101, Ack: 1, Data: d})
		f.wantDeadline(t, ms(4200))
		f.send(t, ms(3200), seg{Flags: wire.ACK, Seq: 1, Ack: 201})
		f.wantRTT(t, 112500*time.Microsecond, 62500*time.Microsecond, 362500*time.Microsecond)
		if s := f.c.Stats(); s.Retransmits != 2 || s.BytesOut != 200 {
			t.Fatalf("Retransmits=%d BytesOut=%d, want 2, 200", s.Retransmits, s.BytesOut)
		}
	})
}

// After an RTO every unacknowledged segment is lost (RFC 8985 §6.3: "mark
// all the unacknowledged segments lost") and is sent again as the window
// allows: one segment (cwnd = 1 MSS, RFC 5681 §3.1), then the rest as the
// window reopens; all of it marked as retransmission.
func TestDataRetransmitAfterRTO(t *testing.T) {
	f := newEstablished(t)
	d := data('g', 3000)
	f.write(t, sec(1), d)
	f.want(t, "three segments",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1460]},
		seg{Flags: wire.ACK, Seq: 1461, Ack: 1, Data: d[1460:2920]},
		seg{Flags: wire.PSH | wire.ACK, Seq: 2921, Ack: 1, Data: d[2920:]})
	f.advance(t, ms(1300))
	f.want(t, "the earliest segment only", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1460], Rtx: true})
	f.wantDeadline(t, ms(1900))
	f.send(t, ms(1500), seg{Flags: wire.ACK, Seq: 1, Ack: 1461})
	f.want(t, "the rest",
		seg{Flags: wire.ACK, Seq: 1461, Ack: 1, Data: d[1460:2920], Rtx: true},
		seg{Flags: wire.PSH | wire.ACK, Seq: 2921, Ack: 1, Data: d[2920:], Rtx: true})
	// (5.3) restarted at the ACK with the backed-off RTO of 600 ms.
	f.wantDeadline(t, ms(2100))
	f.send(t, ms(1600), seg{Flags: wire.ACK, Seq: 1, Ack: 3001})
	f.wantNothing(t)
	f.wantDeadline(t, clock.Never)
	if in := f.c.Info(); in.Unacked != 0 || in.Unsent != 0 {
		t.Fatalf("after the final ACK: %+v", in)
	}
}

// While the retransmissions after an RTO are held by the congestion window,
// a bare ACK carries SND.NXT, the next new sequence number (§3.10.7.4:
// "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>"), not the sequence number of the
// retransmission due: a receiver that got everything has RCV.NXT there and
// would find a lower number unacceptable ("RCV.NXT =< SEG.SEQ") and drop
// the ACK.
func TestAckAfterRTOCarriesSndNxt(t *testing.T) {
	f := newEstablished(t)
	d := data('g', 3000)
	f.write(t, sec(1), d)
	f.want(t, "three segments",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1460]},
		seg{Flags: wire.ACK, Seq: 1461, Ack: 1, Data: d[1460:2920]},
		seg{Flags: wire.PSH | wire.ACK, Seq: 2921, Ack: 1, Data: d[2920:]})
	f.advance(t, ms(1300))
	f.want(t, "the earliest segment only", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1460], Rtx: true})
	// The peer's data crosses the retransmission; cwnd (1 MSS) is full.
	f.send(t, ms(1350), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: []byte("hi")})
	f.want(t, "bare ACK at SND.NXT", seg{Flags: wire.ACK, Seq: 3001, Ack: 3, Win: defWin - 2})
	// A challenge ACK likewise.
	f.send(t, ms(1360), seg{Flags: wire.RST, Seq: 10})
	f.want(t, "challenge ACK at SND.NXT", seg{Flags: wire.ACK, Seq: 3001, Ack: 3, Win: defWin - 2})
}

// RFC 6298 (2.2) and (2.3) from exact samples, and the MinRTO floor.
func TestRTOEstimation(t *testing.T) {
	t.Run("samples", func(t *testing.T) {
		f := newEstablished(t)
		// (2.2) "SRTT <- R, RTTVAR <- R/2, RTO <- SRTT + max (G, K*RTTVAR)"
		f.wantRTT(t, 100*time.Millisecond, 50*time.Millisecond, 300*time.Millisecond)
		samples := []struct {
			sentMS, ackedMS   int64
			srtt, rttvar, rto time.Duration
		}{
			// (2.3) "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|,
			// SRTT <- (1 - alpha) * SRTT + alpha * R'", alpha 1/8, beta 1/4.
			{1000, 1200, 112500 * time.Microsecond, 62500 * time.Microsecond, 362500 * time.Microsecond},
			// R' = 50: RTTVAR = (3·62.5 + 62.5)/4 = 62.5; SRTT = (7·112.5 +
			// 50)/8 = 104.6875; RTO = 104.6875 + 250.
			{2000, 2050, 104687500, 62500 * time.Microsecond, 354687500},
		}
		var sq uint32 = 1
		for _, s := range samples {
			f.write(t, ms(s.sentMS), data('s', 10))
			f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: sq, Ack: 1, Data: data('s', 10)})
			sq += 10
			f.send(t, ms(s.ackedMS), seg{Flags: wire.ACK, Seq: 1, Ack: sq})
			f.wantRTT(t, s.srtt, s.rttvar, s.rto)
		}
		f.write(t, sec(3), data('s', 10))
		f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: sq, Ack: 1, Data: data('s', 10)})
		f.wantDeadline(t, sec(3)+354687500)
	})
	t.Run("floor", func(t *testing.T) {
		f := newSynReceived(t)
		f.send(t, ms(10), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
		// R = 10 ms gives 4·RTTVAR = 20 ms; MinRTO raises that term to
		// 200 ms: RTO = SRTT + max(4·RTTVAR, MinRTO) = 210 ms.
		f.wantRTT(t, 10*time.Millisecond, 5*time.Millisecond, 210*time.Millisecond)
	})
}

// RFC 6298 (5.7): "If the timer expires awaiting the ACK of a SYN segment
// and the TCP implementation is using an RTO less than 3 seconds, the RTO
// MUST be re-initialized to 3 seconds when data transmission begins".
func TestRTOAfterSynRetransmit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rtxAt   []int64 // SYN retransmissions, in seconds
		synAck  clock.Time
		rtoWant time.Duration
	}{
		{"one SYN retransmission", []int64{1}, ms(1500), 3 * time.Second},
		{"two SYN retransmissions", []int64{1, 3}, ms(3500), 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSynSent(t)
			for _, at := range tc.rtxAt {
				f.advance(t, sec(at))
				f.want(t, "SYN retransmission", seg{Flags: wire.SYN, MSS: 1460, Rtx: true})
			}
			f.send(t, tc.synAck, seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460})
			f.want(t, "ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
			// Karn: the SYN-ACK answers a retransmitted SYN; no sample.
			f.wantRTT(t, 0, 0, tc.rtoWant)
			f.write(t, sec(4), []byte("x"))
			f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: []byte("x")})
			f.wantDeadline(t, sec(4).Add(tc.rtoWant))
		})
	}
	t.Run("passive", func(t *testing.T) {
		f := newSynReceived(t)
		f.advance(t, sec(1))
		f.want(t, "SYN-ACK retransmission", seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460, Rtx: true})
		f.send(t, ms(1200), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
		f.wantRTT(t, 0, 0, 3*time.Second)
	})
}

// Data unacknowledged through DataRetries (15) retransmissions: ErrTimeout.
func TestDataRetransmitGiveUp(t *testing.T) {
	f := newEstablished(t)
	d := data('z', 10)
	f.write(t, sec(1), d)
	f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d})
	// RTO 0.3 s doubling, capped at MaxRTO (120 s) from the ninth.
	for _, at := range []int64{1300, 1900, 3100, 5500, 10300, 19900, 39100, 77500, 154300,
		274300, 394300, 514300, 634300, 754300, 874300} {
		f.advance(t, ms(at))
		f.want(t, "retransmission", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d, Rtx: true})
		f.wantState(t, Established)
	}
	f.advance(t, ms(994300))
	f.wantNothing(t)
	f.wantEnded(t, ErrTimeout)
	if got := f.c.Stats().Retransmits; got != 15 {
		t.Fatalf("Retransmits = %d, want 15", got)
	}
}

// The FIN is retransmitted like data.
func TestFinRetransmit(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newFinWait1(t, isn)
		f.advance(t, ms(1300))
		f.want(t, "FIN again", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1, Rtx: true})
		f.advance(t, ms(1900))
		f.want(t, "FIN again", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1, Rtx: true})
		f.wantDeadline(t, ms(3100))
		f.send(t, sec(2), seg{Flags: wire.ACK, Seq: 1, Ack: 2})
		f.wantState(t, FinWait2)
		f.wantDeadline(t, clock.Never)
	})
	t.Run("LAST-ACK gives up", func(t *testing.T) {
		f := newLastAck(t, withConfig(Config{DataRetries: 2}))
		f.advance(t, ms(1400))
		f.want(t, "FIN again", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 2, Win: defWin - 1, Rtx: true})
		f.advance(t, ms(2000))
		f.want(t, "FIN again", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 2, Win: defWin - 1, Rtx: true})
		f.advance(t, ms(3200))
		f.wantNothing(t)
		f.wantEnded(t, ErrTimeout)
	})
}

// RFC 9293 §3.8.6.1: "The sending TCP peer must regularly transmit at least
// one octet of new data (if available), or retransmit to the receiving TCP
// peer even if the send window is zero, in order to "probe" the window."
// synack probes as Linux does, with an ACK at SND.UNA-1 that the receiver
// must answer with its window, backing off like the RTO.
func TestZeroWindowProbe(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newEstablished(t, isn)
		f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: zeroWin})
		f.wantNothing(t)
		d := data('w', 100)
		f.write(t, sec(1), d)
		f.wantNothing(t)
		f.wantDeadline(t, ms(1300)) // persist timer, one RTO
		probe := seg{Flags: wire.ACK, Seq: 0, Ack: 1}
		f.advance(t, ms(1300))
		f.want(t, "first probe", probe)
		f.wantDeadline(t, ms(1900))
		f.send(t, ms(1350), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: zeroWin})
		f.wantNothing(t)
		f.advance(t, ms(1900))
		f.want(t, "second probe", probe)
		f.wantDeadline(t, ms(3100))
		f.advance(t, ms(3100))
		f.want(t, "third probe", probe)
		f.wantDeadline(t, ms(5500))
		// The window opens: the data goes at once, the persist timer stops
		// and the retransmission timer runs.
		f.send(t, sec(5), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 1000})
		f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d})
		f.wantDeadline(t, ms(5300))
		if got := f.c.Stats().Retransmits; got != 0 {
			t.Fatalf("probes counted as retransmissions: %d", got)
		}
	})
	t.Run("backoff capped at MaxRTO", func(t *testing.T) {
		f := newEstablished(t, withConfig(Config{MaxRTO: time.Second}))
		f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: zeroWin})
		f.write(t, sec(1), []byte("x"))
		f.wantNothing(t)
		for _, at := range []int64{1300, 1900, 2900, 3900} {
			f.advance(t, ms(at))
			f.want(t, "probe", seg{Flags: wire.ACK, Seq: 0, Ack: 1})
		}
		f.wantDeadline(t, ms(4900))
		f.wantState(t, Established)
	})
	// §3.8.6.1: "As long as the receiving TCP peer continues to send
	// acknowledgments in response to the probe segments, the sending TCP
	// peer MUST allow the connection to stay open (MUST-37)." This holds
	// when all that is left is the FIN: it takes a unit of window like a
	// byte of data (a receiver with a zero window drops it, RFC 9293 table
	// 6: length > 0, window 0, "not acceptable"), so it waits for the
	// window under the persist timer instead of exhausting DataRetries.
	t.Run("FIN waits for the window", func(t *testing.T) {
		f := newEstablished(t)
		f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: zeroWin})
		f.close(t, sec(1))
		f.wantState(t, FinWait1)
		f.wantNothing(t)
		at := ms(1300)
		delay := 600 * time.Millisecond
		probe := seg{Flags: wire.ACK, Seq: 0, Ack: 1}
		for range 30 { // twice DataRetries; some 45 minutes of probes
			f.advance(t, at)
			f.want(t, "probe", probe)
			f.send(t, at.Add(time.Millisecond), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: zeroWin})
			f.wantNothing(t)
			at = at.Add(delay)
			delay = min(2*delay, 120*time.Second)
		}
		f.wantState(t, FinWait1)
		f.send(t, at-1, seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 100})
		f.want(t, "the FIN once the window opens", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1})
		f.send(t, at, seg{Flags: wire.ACK, Seq: 1, Ack: 2, Win: 100})
		f.wantState(t, FinWait2)
	})
	t.Run("window closes with data in flight", func(t *testing.T) {
		f := newEstablished(t)
		f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 100})
		d := data('f', 300)
		f.write(t, sec(1), d)
		f.want(t, "what the window allows", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:100]})
		f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 101, Win: zeroWin})
		f.wantNothing(t)
		// The 100 ms sample made the RTO 300 ms (SRTT 100 ms + max(4·37.5,
		// MinRTO 200) ms): the persist timer runs one RTO from the closed
		// window.
		f.wantDeadline(t, ms(1400))
		f.advance(t, ms(1400))
		f.want(t, "probe", seg{Flags: wire.ACK, Seq: 100, Ack: 1})
		f.send(t, ms(1500), seg{Flags: wire.ACK, Seq: 1, Ack: 101, Win: 500})
		f.want(t, "the rest", seg{Flags: wire.PSH | wire.ACK, Seq: 101, Ack: 1, Data: d[100:]})
	})
}
