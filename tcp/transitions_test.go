package tcp

// Every transition of RFC 9293 §3.3.2 Figure 5, with exact segments at exact
// virtual times. Each test quotes the sentence of RFC 9293 it checks.

import (
	"testing"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// CLOSED -> SYN-SENT.
func TestActiveOpen(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		// §3.10.1 OPEN: "A SYN segment of the form <SEQ=ISS><CTL=SYN> is
		// sent. Set SND.UNA to ISS, SND.NXT to ISS+1, enter SYN-SENT state,
		// and return."
		f := newFixture(true, []option{isn})
		f.wantState(t, SynSent)
		f.wantDeadline(t, clock.Never)
		f.want(t, "the SYN", seg{Flags: wire.SYN, MSS: 1460})
		in := f.c.Info()
		if in.SndUna != f.isn.local || in.SndNxt != f.isn.local.Add(1) {
			t.Fatalf("SND.UNA=%v SND.NXT=%v, want ISS=%v and ISS+1", in.SndUna, in.SndNxt, f.isn.local)
		}
		f.wantDeadline(t, sec(1)) // InitialRTO
		f.wantNothing(t)
	})
}

// LISTEN -> SYN-RECEIVED.
func TestListenSynToSynReceived(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newListen(t, isn)
		// §3.10.7.2: "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ ... ISS
		// should be selected and a SYN segment sent of the form:
		// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. SND.NXT is set to ISS+1 and
		// SND.UNA to ISS. The connection state should be changed to
		// SYN-RECEIVED."
		f.send(t, ms(5), seg{Flags: wire.SYN, Win: 8000, MSS: 1000})
		f.wantState(t, SynReceived)
		f.want(t, "SYN-ACK", seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460})
		in := f.c.Info()
		if in.IRS != f.isn.remote || in.RcvNxt != f.isn.remote.Add(1) || in.SndUna != f.isn.local ||
			in.SndNxt != f.isn.local.Add(1) || in.MSS != 1000 || in.SndWnd != 8000 {
			t.Fatalf("TCB after SYN: %+v", in)
		}
		f.wantDeadline(t, ms(1005))
		if !f.c.passive || f.c.Done() {
			t.Fatalf("passive=%v Done()=%v", f.c.passive, f.c.Done())
		}
	})
}

// SYN-SENT -> SYN-RECEIVED -> ESTABLISHED (simultaneous open, Figure 7).
func TestSimultaneousOpen(t *testing.T) {
	for _, last := range []struct {
		name string
		seg  seg
	}{
		// Figure 7 line 6: "ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>".
		{"peer's SYN-ACK", seg{Flags: wire.SYN | wire.ACK, Ack: 1}},
		// The peer may instead acknowledge our SYN-ACK with a bare ACK.
		{"peer's ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1}},
	} {
		t.Run(last.name, func(t *testing.T) {
			forISNs(t, func(t *testing.T, isn option) {
				f := newSynSent(t, isn)
				// §3.10.7.3: "Otherwise, enter SYN-RECEIVED, form a SYN,ACK
				// segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it."
				f.send(t, ms(50), seg{Flags: wire.SYN, MSS: 1460})
				f.wantState(t, SynReceived)
				f.want(t, "our SYN-ACK repeats our SYN's sequence number",
					seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460})
				f.wantDeadline(t, ms(1050))
				f.send(t, ms(80), last.seg)
				f.wantState(t, Established)
				f.wantNothing(t)
				f.wantDeadline(t, clock.Never)
				if f.c.passive {
					t.Fatal("a simultaneous open is not passive")
				}
				// The connection works: data flows.
				f.write(t, sec(1), []byte("hi"))
				f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: []byte("hi")})
			})
		})
	}
}

// SYN-SENT -> ESTABLISHED.
func TestSynSentSynAck(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newSynSent(t, isn)
		// §3.10.7.3: "If SND.UNA > ISS (our SYN has been ACKed), change the
		// connection state to ESTABLISHED, form an ACK segment
		// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it."
		f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1, Win: 30000, MSS: 1200})
		f.wantState(t, Established)
		f.want(t, "ACK of the SYN-ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
		f.wantDeadline(t, clock.Never)
		in := f.c.Info()
		if in.SndUna != f.isn.local.Add(1) || in.IRS != f.isn.remote || in.SndWnd != 30000 || in.MSS != 1200 {
			t.Fatalf("TCB after SYN-ACK: %+v", in)
		}
	})
}

// §3.10.7.3: "If there are other controls or text in the segment, then
// continue processing at the sixth step under Section 3.10.7.4": text and a
// FIN on the SYN-ACK are taken.
func TestSynSentSynAckWithData(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newSynSent(t, isn)
		f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK | wire.PSH, Ack: 1, MSS: 1460, Data: []byte("hello")})
		f.wantState(t, Established)
		f.want(t, "one ACK for the SYN and the data", seg{Flags: wire.ACK, Seq: 1, Ack: 6, Win: defWin - 5})
		f.wantRead(t, ms(100), []byte("hello"))
	})
	t.Run("with FIN", func(t *testing.T) {
		f := newSynSent(t)
		f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK | wire.FIN, Ack: 1, MSS: 1460})
		f.wantState(t, CloseWait)
		f.want(t, "ACK of SYN and FIN", seg{Flags: wire.ACK, Seq: 1, Ack: 2, Win: defWin - 1})
	})
}

// The window our SYN offered counts from the peer's ISN, unknown when the
// SYN was sent. With an IRS near 0 (here 999) the ACK of the SYN-ACK must
// still offer the whole buffer, and a window update after a read must move
// the right edge as for any other IRS.
func TestSynSentWindowForAnyIRS(t *testing.T) {
	for _, p := range []isnPair{{"IRS=999", 1000, 999}, {"IRS=0", 1000, 0}, wrapISNs} {
		t.Run(p.name, func(t *testing.T) {
			f := newEstablished(t, withISNs(p)) // wants win=65535 on the ACK
			// The peer fills 2000 bytes of the window; the right edge stays.
			f.send(t, sec(1), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('a', 1000)})
			f.want(t, "ack", seg{Flags: wire.ACK, Seq: 1, Ack: 1001, Win: defWin - 1000})
			f.send(t, ms(1001), seg{Flags: wire.PSH | wire.ACK, Seq: 1001, Ack: 1, Data: data('b', 1000)})
			f.want(t, "ack", seg{Flags: wire.ACK, Seq: 1, Ack: 2001, Win: defWin - 2000})
			// Reading both lets the right edge move by 2000 >= MSS; the
			// window offered is still over half the buffer, so the next ACK
			// carries the move rather than a window update of its own.
			f.wantRead(t, ms(1002), append(data('a', 1000), data('b', 1000)...))
			f.wantNothing(t)
			f.send(t, ms(1003), seg{Flags: wire.PSH | wire.ACK, Seq: 2001, Ack: 1, Data: data('c', 1000)})
			f.want(t, "the edge moved", seg{Flags: wire.ACK, Seq: 1, Ack: 3001, Win: defWin - 1000})
		})
	}
}

// SYN-RECEIVED -> ESTABLISHED.
func TestSynReceivedAckOfSyn(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newSynReceived(t, isn)
		// §3.10.7.4 fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT,
		// then enter ESTABLISHED state and continue processing with the
		// variables below set to: SND.WND <- SEG.WND ..."
		f.send(t, ms(100), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 20000})
		f.wantState(t, Established)
		f.wantNothing(t)
		f.wantDeadline(t, clock.Never)
		in := f.c.Info()
		if in.SndUna != f.isn.local.Add(1) || in.SndWnd != 20000 {
			t.Fatalf("TCB: %+v", in)
		}
	})
}

// The ACK that completes a passive open may carry data and a FIN: "Note
// that any other incoming control or data (combined with SYN) will be
// processed in the SYN-RECEIVED state" and the text and FIN steps follow.
func TestSynReceivedAckWithDataAndFin(t *testing.T) {
	f := newSynReceived(t)
	f.send(t, ms(100), seg{Flags: wire.FIN | wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: []byte("GET /")})
	f.wantState(t, CloseWait)
	f.want(t, "data and FIN acknowledged", seg{Flags: wire.ACK, Seq: 1, Ack: 7, Win: defWin - 5 - 1})
	f.wantRead(t, ms(100), []byte("GET /"))
	if !f.c.ReadClosed() {
		t.Fatal("ReadClosed() after the FIN = false")
	}
}

// SYN-RECEIVED -> LISTEN on RST (passive open).
func TestSynReceivedRstReturnsToListen(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newSynReceived(t, isn)
		// §3.10.7.4 second, SYN-RECEIVED: "If this connection was initiated
		// with a passive OPEN (i.e., came from the LISTEN state), then return
		// this connection to LISTEN state and return. The user need not be
		// informed."
		f.send(t, ms(50), seg{Flags: wire.RST, Seq: 1})
		f.wantState(t, Listen)
		f.wantNothing(t)
		if !f.c.Done() || f.c.Err() != nil {
			t.Fatalf("Done()=%v Err()=%v, want true, nil", f.c.Done(), f.c.Err())
		}
		f.wantDeadline(t, clock.Never)
	})
}

// SYN-RECEIVED -> LISTEN on a new SYN (passive open).
func TestSynReceivedSynInWindowReturnsToListen(t *testing.T) {
	f := newSynReceived(t)
	// §3.10.7.4 fourth, SYN-RECEIVED: "If the connection was initiated with
	// a passive OPEN, then return this connection to the LISTEN state and
	// return."
	f.send(t, ms(50), seg{Flags: wire.SYN, Seq: 10})
	f.wantState(t, Listen)
	f.wantNothing(t)
	if !f.c.Done() {
		t.Fatal("not Done")
	}
}

// SYN-RECEIVED (active, after a simultaneous open) -> CLOSED on RST.
func TestSimultaneousOpenRstRefused(t *testing.T) {
	f := newSynSent(t)
	f.send(t, ms(50), seg{Flags: wire.SYN})
	f.want(t, "SYN-ACK", seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460})
	// "If this connection was initiated with an active OPEN (i.e., came from
	// SYN-SENT state), then the connection was refused; signal the user
	// "connection refused"."
	f.send(t, ms(60), seg{Flags: wire.RST, Seq: 1})
	f.wantNothing(t)
	f.wantEnded(t, ErrConnRefused)
}

// SYN-RECEIVED -> FIN-WAIT-1 on CLOSE.
func TestSynReceivedClose(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newSynReceived(t, isn)
		// §3.10.4 CLOSE, SYN-RECEIVED: "If no SENDs have been issued and
		// there is no pending data to send, then form a FIN segment and send
		// it, and enter FIN-WAIT-1 state; otherwise, queue for processing
		// after entering ESTABLISHED state." synack always queues: the FIN
		// follows the handshake, so it never precedes the ACK of our SYN.
		f.close(t, ms(50))
		f.wantState(t, SynReceived)
		f.wantNothing(t)
		if _, err := f.c.Write(f.now, []byte("x")); err != ErrClosing {
			t.Fatalf("Write after CLOSE: %v, want ErrClosing", err)
		}
		f.send(t, ms(100), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
		f.wantState(t, FinWait1)
		f.want(t, "the queued FIN", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1})
		f.wantDeadline(t, ms(400)) // RTO 300 ms from the 100 ms sample
		f.send(t, ms(200), seg{Flags: wire.ACK, Seq: 1, Ack: 2})
		f.wantState(t, FinWait2)
		f.wantNothing(t)
	})
}

// CLOSE in SYN-RECEIVED after a SEND: data, then FIN, once established.
func TestSynReceivedWriteThenClose(t *testing.T) {
	f := newSynReceived(t)
	f.write(t, ms(10), []byte("hello"))
	f.close(t, ms(20))
	f.wantNothing(t)
	f.send(t, ms(100), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	f.wantState(t, FinWait1)
	f.want(t, "data with the FIN", seg{Flags: wire.FIN | wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: []byte("hello")})
}

// ESTABLISHED -> FIN-WAIT-1 on CLOSE; the FIN rides on an ACK.
func TestEstablishedClose(t *testing.T) {
	t.Run("nothing pending", func(t *testing.T) {
		forISNs(t, func(t *testing.T, isn option) {
			f := newEstablished(t, isn)
			// §3.10.4 CLOSE, ESTABLISHED: "Queue this until all preceding
			// SENDs have been segmentized, then form a FIN segment and send
			// it. In any case, enter FIN-WAIT-1 state."
			f.close(t, sec(1))
			f.wantState(t, FinWait1)
			f.want(t, "one FIN+ACK", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1})
			f.wantDeadline(t, ms(1300))
			if err := f.c.Close(f.now); err != ErrClosing {
				t.Fatalf("second CLOSE: %v, want ErrClosing", err)
			}
			if _, err := f.c.Write(f.now, []byte("x")); err != ErrClosing {
				t.Fatalf("Write after CLOSE: %v, want ErrClosing", err)
			}
		})
	})
	t.Run("after queued data", func(t *testing.T) {
		f := newEstablished(t)
		f.write(t, sec(1), data('d', 100))
		f.close(t, sec(1))
		f.want(t, "the FIN follows the data in the same segment",
			seg{Flags: wire.FIN | wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('d', 100)})
	})
	t.Run("with an ACK owed", func(t *testing.T) {
		f := newEstablished(t)
		f.send(t, sec(1), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('p', 10)})
		f.close(t, sec(1))
		f.want(t, "the FIN carries the owed ACK; no separate ACK",
			seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 11, Win: defWin - 10})
	})
}

// ESTABLISHED -> CLOSE-WAIT on FIN.
func TestEstablishedFin(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newEstablished(t, isn)
		// §3.10.7.4 eighth: "advance RCV.NXT over the FIN, and send an
		// acknowledgment for the FIN ... ESTABLISHED STATE: Enter the
		// CLOSE-WAIT state."
		f.send(t, sec(1), seg{Flags: wire.FIN | wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: []byte("bye")})
		f.wantState(t, CloseWait)
		f.want(t, "ACK of data and FIN", seg{Flags: wire.ACK, Seq: 1, Ack: 5, Win: defWin - 4})
		f.wantRead(t, sec(1), []byte("bye"))
		if !f.c.ReadClosed() {
			t.Fatal("ReadClosed() = false after the FIN")
		}
		f.wantNothing(t)
	})
}

// FIN-WAIT-1 -> FIN-WAIT-2 on the ACK of our FIN.
func TestFinWait1AckOfFin(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newFinWait1(t, isn)
		// §3.10.7.4 fifth, FIN-WAIT-1: "if the FIN segment is now
		// acknowledged, then enter FIN-WAIT-2 and continue processing in
		// that state."
		f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 2})
		f.wantState(t, FinWait2)
		f.wantNothing(t)
		f.wantDeadline(t, clock.Never)
	})
}

// An ACK that does not cover the FIN leaves FIN-WAIT-1 as it is.
func TestFinWait1PartialAck(t *testing.T) {
	f := newEstablished(t)
	f.write(t, sec(1), data('x', 10))
	f.close(t, sec(1))
	f.want(t, "data+FIN", seg{Flags: wire.FIN | wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('x', 10)})
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 11})
	f.wantState(t, FinWait1)
	f.wantNothing(t)
	// (5.3) restarted on new data acked, with the RTO the 100 ms sample
	// of the data gives (RFC 6298 (2.3): RTTVAR 37.5 ms, SRTT 100 ms; the
	// variance term is floored at MinRTO: RTO 300 ms).
	f.wantDeadline(t, ms(1400))
	f.send(t, ms(1150), seg{Flags: wire.ACK, Seq: 1, Ack: 12})
	f.wantState(t, FinWait2)
}

// FIN-WAIT-1 -> CLOSING on FIN.
func TestFinWait1FinToClosing(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newFinWait1(t, isn)
		// §3.10.7.4 eighth, FIN-WAIT-1: "If our FIN has been ACKed (perhaps
		// in this segment), then enter TIME-WAIT ...; otherwise, enter the
		// CLOSING state."
		f.send(t, ms(1100), seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1})
		f.wantState(t, Closing)
		f.want(t, "ACK of the peer's FIN", seg{Flags: wire.ACK, Seq: 2, Ack: 2, Win: defWin - 1})
		f.wantDeadline(t, ms(1300)) // our FIN is still timed
	})
}

// FIN-WAIT-1 -> TIME-WAIT on FIN with the ACK of our FIN.
func TestFinWait1FinAckToTimeWait(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newFinWait1(t, isn)
		// "If our FIN has been ACKed (perhaps in this segment), then enter
		// TIME-WAIT, start the time-wait timer, turn off the other timers".
		f.send(t, ms(1100), seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 2})
		f.wantState(t, TimeWait)
		f.want(t, "ACK of the peer's FIN", seg{Flags: wire.ACK, Seq: 2, Ack: 2, Win: defWin - 1})
		f.wantDeadline(t, ms(61100))
	})
}

// FIN-WAIT-2 -> TIME-WAIT on FIN.
func TestFinWait2Fin(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newFinWait2(t, isn)
		// §3.10.7.4 eighth, FIN-WAIT-2: "Enter the TIME-WAIT state. Start the
		// time-wait timer, turn off the other timers."
		f.send(t, ms(1200), seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 2})
		f.wantState(t, TimeWait)
		f.want(t, "ACK of the peer's FIN", seg{Flags: wire.ACK, Seq: 2, Ack: 2, Win: defWin - 1})
		f.wantDeadline(t, ms(61200))
	})
}

// CLOSE-WAIT -> LAST-ACK on CLOSE.
func TestCloseWaitClose(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newCloseWait(t, isn)
		// §3.10.4 CLOSE, CLOSE-WAIT: "Queue this request until all preceding
		// SENDs have been segmentized; then send a FIN segment, enter
		// LAST-ACK state."
		f.close(t, ms(1100))
		f.wantState(t, LastAck)
		f.want(t, "FIN", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 2, Win: defWin - 1})
		f.wantDeadline(t, ms(1400))
	})
}

// CLOSING -> TIME-WAIT on the ACK of our FIN.
func TestClosingAckOfFin(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newClosing(t, isn)
		// §3.10.7.4 fifth, CLOSING: "if the ACK acknowledges our FIN, then
		// enter the TIME-WAIT state; otherwise, ignore the segment."
		f.send(t, ms(1150), seg{Flags: wire.ACK, Seq: 2, Ack: 1})
		f.wantState(t, Closing)
		f.wantNothing(t)
		f.send(t, ms(1200), seg{Flags: wire.ACK, Seq: 2, Ack: 2})
		f.wantState(t, TimeWait)
		f.wantNothing(t)
		f.wantDeadline(t, ms(61200))
	})
}

// LAST-ACK -> CLOSED on the ACK of our FIN.
func TestLastAckAckOfFin(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newLastAck(t, isn)
		// §3.10.7.4 fifth, LAST-ACK: "The only thing that can arrive in this
		// state is an acknowledgment of our FIN. If our FIN is now
		// acknowledged, delete the TCB, enter the CLOSED state, and return."
		f.send(t, ms(1200), seg{Flags: wire.ACK, Seq: 2, Ack: 2})
		f.wantNothing(t)
		f.wantEnded(t, nil)
	})
}

// TIME-WAIT -> CLOSED after 2·MSL.
func TestTimeWaitTimeout(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newTimeWait(t, isn) // entered at 1.2 s
		// §3.10.8: "If the time-wait timeout expires on a connection, delete
		// the TCB, enter the CLOSED state, and return." 2·MSL = 60 s.
		f.wantDeadline(t, ms(61200))
		f.c.HandleTimeout(ms(61200) - 1)
		f.wantState(t, TimeWait)
		f.advance(t, ms(61200))
		f.wantNothing(t)
		f.wantEnded(t, nil)
	})
}

// TIME-WAIT with a custom MSL lasts 2·MSL of it.
func TestTimeWaitCustomMSL(t *testing.T) {
	f := newTimeWait(t, withConfig(Config{MSL: 2 * 1e9}))
	f.advance(t, ms(5200))
	f.wantEnded(t, nil)
}

// TIME-WAIT: a retransmitted FIN is acknowledged and 2·MSL restarts.
func TestTimeWaitRetransmittedFin(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newTimeWait(t, isn)
		// §3.10.7.4 fifth, TIME-WAIT: "The only thing that can arrive in this
		// state is a retransmission of the remote FIN. Acknowledge it, and
		// restart the 2 MSL timeout."
		f.send(t, sec(30), seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 2})
		f.want(t, "re-ACK of the FIN", seg{Flags: wire.ACK, Seq: 2, Ack: 2, Win: defWin - 1})
		f.wantState(t, TimeWait)
		f.wantDeadline(t, sec(90))
		// A plain ACK does not restart it.
		f.send(t, sec(40), seg{Flags: wire.ACK, Seq: 2, Ack: 2})
		f.wantNothing(t)
		f.wantDeadline(t, sec(90))
		f.advance(t, sec(90))
		f.wantEnded(t, nil)
	})
}

// SYN-SENT -> CLOSED on CLOSE.
func TestSynSentClose(t *testing.T) {
	f := newSynSent(t)
	// §3.10.4 CLOSE, SYN-SENT: "Delete the TCB and return "error: closing"
	// responses to any queued SENDs, or RECEIVEs."
	f.close(t, ms(500))
	f.wantNothing(t)
	f.wantEnded(t, nil)
	// A SYN-ACK that arrives now finds no connection (the stack answers it).
	f.send(t, ms(600), seg{Flags: wire.SYN | wire.ACK, Ack: 1})
	f.wantNothing(t)
	if err := f.c.Close(f.now); err != ErrClosed {
		t.Fatalf("CLOSE on CLOSED: %v, want ErrClosed", err)
	}
}

// SYN-SENT -> CLOSED on RST with an acceptable ACK.
func TestSynSentRstRefused(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newSynSent(t, isn)
		// §3.10.7.3: "If the ACK was acceptable, then signal to the user
		// "error: connection reset", drop the segment, enter CLOSED state,
		// delete TCB, and return. Otherwise (no ACK), drop the segment and
		// return."
		f.send(t, ms(40), seg{Flags: wire.RST, Seq: 0})
		f.wantState(t, SynSent)
		f.wantNothing(t)
		f.send(t, ms(50), seg{Flags: wire.RST | wire.ACK, Ack: 1})
		f.wantNothing(t)
		f.wantEnded(t, ErrConnRefused)
		if n, err := f.c.Write(f.now, []byte("x")); n != 0 || err != ErrConnRefused {
			t.Fatalf("Write after refusal: %d, %v", n, err)
		}
	})
}

// SYN-SENT -> CLOSED when the SYN retransmissions are exhausted.
func TestSynSentTimeout(t *testing.T) {
	f := newSynSent(t)
	// RFC 6298 (5.5) doubles the RTO on each expiry: retransmissions at 1,
	// 3, 7, 15, 31 and 63 s; after the sixth (SynRetries) the next expiry,
	// at 127 s, gives up.
	for _, at := range []int64{1, 3, 7, 15, 31, 63} {
		f.advance(t, sec(at))
		f.want(t, "SYN retransmission", seg{Flags: wire.SYN, MSS: 1460, Rtx: true})
	}
	f.advance(t, sec(127))
	f.wantNothing(t)
	f.wantEnded(t, ErrTimeout)
	if got := f.c.Stats().Retransmits; got != 6 {
		t.Fatalf("Retransmits = %d, want 6", got)
	}
}

// LISTEN -> CLOSED on CLOSE.
func TestListenClose(t *testing.T) {
	f := newListen(t)
	// §3.10.4 CLOSE, LISTEN: "Any outstanding RECEIVEs are returned with
	// "error: closing" responses. Delete TCB, enter CLOSED state, and
	// return."
	f.close(t, ms(10))
	f.wantNothing(t)
	f.wantEnded(t, nil)
}

// Half-close: the CLOSE-WAIT side keeps sending; the FIN-WAIT-2 side keeps
// receiving. §3.10.4: "the user who CLOSEs may continue to RECEIVE until the
// TCP receiver is told that the remote side has CLOSED also."
func TestHalfClose(t *testing.T) {
	t.Run("CLOSE-WAIT sends", func(t *testing.T) {
		forISNs(t, func(t *testing.T, isn option) {
			f := newCloseWait(t, isn)
			f.write(t, sec(2), data('h', 2000))
			f.want(t, "data after the peer's FIN",
				seg{Flags: wire.ACK, Seq: 1, Ack: 2, Win: defWin - 1, Data: data('h', 1460)},
				seg{Flags: wire.PSH | wire.ACK, Seq: 1461, Ack: 2, Win: defWin - 1, Data: data('h', 2000)[1460:]})
			f.wantDeadline(t, ms(2300))
			f.send(t, ms(2100), seg{Flags: wire.ACK, Seq: 2, Ack: 2001})
			f.wantNothing(t)
			f.wantDeadline(t, clock.Never)
			if in := f.c.Info(); in.Unacked != 0 || in.Unsent != 0 || in.SndUna != f.isn.local.Add(2001) {
				t.Fatalf("after the ACK: %+v", in)
			}
			f.close(t, ms(2200))
			f.want(t, "FIN after the data", seg{Flags: wire.FIN | wire.ACK, Seq: 2001, Ack: 2, Win: defWin - 1})
			f.send(t, ms(2300), seg{Flags: wire.ACK, Seq: 2, Ack: 2002})
			f.wantEnded(t, nil)
		})
	})
	t.Run("FIN-WAIT-2 receives", func(t *testing.T) {
		forISNs(t, func(t *testing.T, isn option) {
			f := newFinWait2(t, isn)
			f.send(t, ms(1500), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 2, Data: data('r', 300)})
			f.want(t, "data acknowledged", seg{Flags: wire.ACK, Seq: 2, Ack: 301, Win: defWin - 300})
			f.wantRead(t, ms(1600), data('r', 300))
			f.wantNothing(t) // 300 < MSS: no window update
			f.send(t, ms(1700), seg{Flags: wire.FIN | wire.ACK, Seq: 301, Ack: 2})
			f.want(t, "FIN acknowledged", seg{Flags: wire.ACK, Seq: 2, Ack: 302, Win: defWin - 301})
			f.wantState(t, TimeWait)
		})
	})
	t.Run("FIN-WAIT-1 receives", func(t *testing.T) {
		f := newFinWait1(t)
		f.send(t, ms(1050), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('q', 10)})
		f.want(t, "data acknowledged", seg{Flags: wire.ACK, Seq: 2, Ack: 11, Win: defWin - 10})
		f.wantState(t, FinWait1)
		f.wantRead(t, ms(1060), data('q', 10))
	})
}
