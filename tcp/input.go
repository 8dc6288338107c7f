package tcp

import (
	"math"
	"math/bits"
	"strconv"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// ResetFor returns the reset to send for a segment that arrives for no
// connection (RFC 9293 §3.10.7.1, CLOSED): "If the ACK bit is off, sequence
// number zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. If the ACK
// bit is on, <SEQ=SEG.ACK><CTL=RST>." An incoming RST gets no reply. The
// ports are swapped; the window is zero.
func ResetFor(in *wire.Segment) (wire.Segment, bool) {
	if in.Flags&wire.RST != 0 {
		return wire.Segment{}, false
	}
	out := wire.Segment{SrcPort: in.DstPort, DstPort: in.SrcPort, Flags: wire.RST}
	if in.Flags&wire.ACK != 0 {
		out.Seq = in.Ack
	} else {
		out.Ack = in.Seq.Add(in.SeqLen())
		out.Flags |= wire.ACK
	}
	return out, true
}

// Input processes one arriving segment (RFC 9293 §3.10.7). The segment's
// payload is copied if kept.
func (c *Conn) Input(now clock.Time, s *wire.Segment) {
	c.stats.SegsIn++
	if c.done {
		// The TCB is deleted (CLOSED, or a half-open passive connection
		// returned to LISTEN); the stack removes it at its next Output and
		// answers for the tuple. A SYN that arrives before then must not
		// revive it: RFC 9293's LISTEN in SYN-RECEIVED's "return this
		// connection to LISTEN state" is the listener's, and a Conn that
		// took the SYN here would SYN-ACK it and then be deleted.
		return
	}
	switch c.state {
	case Closed:
		// A TCB in CLOSED is about to be deleted; the stack answers for it.
		return
	case Listen:
		c.inputListen(now, s)
	case SynSent:
		c.inputSynSent(now, s)
	default:
		c.inputSynchronized(now, s)
	}
}

// inputListen is §3.10.7.2, for the one SYN a passive Conn is made for.
func (c *Conn) inputListen(now clock.Time, s *wire.Segment) {
	switch {
	case s.Flags&wire.RST != 0:
		// "An incoming RST segment could not be valid ... ignore it."
		c.done = true
	case s.Flags&wire.ACK != 0:
		// "Any acknowledgment is bad if it arrives on a connection still in
		// the LISTEN state. An acceptable reset segment should be formed
		// for any arriving ACK-bearing segment. The RST should be formatted
		// as follows: <SEQ=SEG.ACK><CTL=RST>"
		c.queueRST(wire.Segment{Seq: s.Ack, Flags: wire.RST})
		c.done = true
	case s.Flags&wire.SYN != 0:
		// "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ, and any other
		// control or text should be queued for processing later. ISS should
		// be selected and a SYN segment sent of the form:
		// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. SND.NXT is set to ISS+1 and
		// SND.UNA to ISS. The connection state should be changed to
		// SYN-RECEIVED." The SYN's text, as much as fits the window, is
		// held at RCV.NXT without being acknowledged (the SYN-ACK
		// acknowledges the SYN only) and taken once the handshake
		// completes (checkACK).
		c.irs = s.Seq
		c.rcvNxt = s.Seq.Add(1)
		c.takeSynOptions(now, s)
		if text := s.Payload; len(text) > 0 {
			text = text[:min(len(text), int(c.rcvWnd()))]
			if len(text) > 0 {
				c.holdOutOfOrder(c.rcvNxt, text)
			}
		}
		c.lastAckSent = c.rcvNxt
		c.sndWnd = seq.Size(s.Window)
		c.maxSndWnd = c.sndWnd
		c.setState(now, SynReceived, "SYN received")
	default:
		// "Any other control or text-bearing segment (not containing SYN)
		// must have an ACK and thus would have been discarded by the ACK
		// processing. An incoming RST segment could not be valid." Drop.
		c.done = true
	}
}

// inputSynSent is §3.10.7.3.
func (c *Conn) inputSynSent(now clock.Time, s *wire.Segment) {
	// First, check the ACK bit.
	ackOK := false
	if s.Flags&wire.ACK != 0 {
		// "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the
		// RST bit is set, if so drop the segment and return)
		// <SEQ=SEG.ACK><CTL=RST> and discard the segment."
		if s.Ack.LessThanEq(c.iss) || s.Ack.GreaterThan(c.sndNxt) {
			if s.Flags&wire.RST == 0 {
				c.queueRST(wire.Segment{Seq: s.Ack, Flags: wire.RST})
			}
			c.drop(now, trace.DropSynSentBadACK)
			return
		}
		// "If SND.UNA < SEG.ACK =< SND.NXT, then the ACK is acceptable."
		ackOK = s.Ack.GreaterThan(c.sndUna)
	}
	// Second, check the RST bit.
	if s.Flags&wire.RST != 0 {
		// RFC 5961 §3.2: in SYN-SENT a RST is valid only if it acknowledges
		// the SYN. "If the ACK was acceptable, then signal to the user
		// 'error: connection reset', drop the segment, enter CLOSED state,
		// delete TCB, and return. Otherwise (no ACK), drop the segment."
		if ackOK {
			c.close(now, ErrConnRefused, "RST received")
			return
		}
		c.drop(now, trace.DropSynSentResetNoACK)
		return
	}
	// Fourth, check the SYN bit.
	if s.Flags&wire.SYN == 0 {
		// "If neither of the SYN or RST bits is set, then drop the segment
		// and return."
		c.drop(now, trace.DropSynSentNoSYN)
		return
	}
	// "RCV.NXT is set to SEG.SEQ+1, IRS is set to SEG.SEQ. SND.UNA should be
	// advanced to equal SEG.ACK (if there is an ACK)".
	c.irs = s.Seq
	c.rcvNxt = s.Seq.Add(1)
	// The window our SYN offered starts at the peer's first data byte,
	// which we learn only now: the right edge it advertised is RCV.NXT plus
	// that window, not the value computed from an unknown RCV.NXT of zero
	// (which would make SWS avoidance clamp or overstate the window).
	c.takeSynOptions(now, s)
	c.lastAckSent = c.rcvNxt
	c.rcvAdvRight = c.rcvNxt.Add(min(c.rcvWnd(), 65535))
	if ackOK {
		var r ackResult
		c.ackedUpTo(now, s.Ack, &r)
	}
	if c.sndUna.GreaterThan(c.iss) {
		// "If SND.UNA > ISS (our SYN has been ACKed), change the connection
		// state to ESTABLISHED, form an ACK segment
		// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it."
		c.sndWnd, c.sndWL1, c.sndWL2 = seq.Size(s.Window), s.Seq, s.Ack
		c.maxSndWnd = c.sndWnd
		c.establish(now, "SYN-ACK received")
		c.ackNow = true
		// "If there are other controls or text in the segment, then
		// continue processing at the sixth step".
		c.processText(now, s)
		return
	}
	// "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment
	// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it." (simultaneous open)
	c.sndWnd, c.sndWL1, c.sndWL2 = seq.Size(s.Window), s.Seq, s.Ack
	c.maxSndWnd = c.sndWnd
	c.setState(now, SynReceived, "SYN received (simultaneous open)")
	c.synSent = false // the SYN-ACK takes our SYN's sequence number again
	// The SYN-ACK is a new segment: its retransmissions are counted from
	// zero against SynAckRetries (RFC 9293 §3.8.3 counts them "for the
	// same segment"), not after those of our SYN.
	c.synSends, c.retries = 0, 0
	c.stopTimer(now, &c.rtoAt, "retransmit")
}

// establish enters ESTABLISHED and sets the initial congestion window.
func (c *Conn) establish(now clock.Time, why string) {
	c.setState(now, Established, why)
	// RFC 6298 (5.7): "If the timer expires awaiting the ACK of a SYN
	// segment and the TCP implementation is using an RTO less than 3
	// seconds, the RTO MUST be re-initialized to 3 seconds when data
	// transmission begins". "Using an RTO less than 3 seconds" is the
	// initial RTO (Appendix A: 1 s instead of RFC 2988's 3 s); the backed-off
	// RTO of the SYN is not kept (it may be 4 s or 64 s): it is reset to 3 s,
	// as Linux does (TCP_TIMEOUT_FALLBACK). Karn's rule left no sample.
	if c.synRetransmitted && !c.hasRTT && c.pol.cfg.InitialRTO < 3*time.Second {
		c.rto = min(max(3*time.Second, c.pol.cfg.MinRTO), c.pol.cfg.MaxRTO)
	}
	// The congestion controller starts from RFC 6928's initial window,
	// min(10*MSS, max(2*MSS, 14600)).
	c.quickAcks = int32(min(c.pol.cfg.QuickACKs, math.MaxInt32))
	c.cc = c.newController()
	c.cc.SetMSS(c.effMSS())
	c.metrics(now, "established")
	c.lastRecvAt = now
	c.armKeepAlive(now)
}

// acceptable is the sequence test of §3.10.7.4, first step: the four cases
// of SEG.LEN and RCV.WND.
func (c *Conn) acceptable(s *wire.Segment) bool {
	wnd := c.rcvWndForCheck()
	l := s.SeqLen()
	switch {
	case l == 0 && wnd == 0:
		return s.Seq == c.rcvNxt
	case l == 0:
		return s.Seq.InWindow(c.rcvNxt, wnd)
	case wnd == 0:
		return false
	default:
		return s.Seq.InWindow(c.rcvNxt, wnd) || s.Seq.Add(l-1).InWindow(c.rcvNxt, wnd)
	}
}

// rcvWndForCheck is the window segments are tested against: what we
// advertised, since the peer may send up to that right edge.
func (c *Conn) rcvWndForCheck() seq.Size {
	w := c.rcvWnd()
	if adv := c.rcvAdvRight; adv.GreaterThan(c.rcvNxt) && adv.Size(c.rcvNxt) > w {
		w = adv.Size(c.rcvNxt)
	}
	return w
}

// inputSynchronized is §3.10.7.4: SYN-RECEIVED and every later state, in
// the RFC's steps.
func (c *Conn) inputSynchronized(now clock.Time, s *wire.Segment) {
	if c.takenBeforeSequenceCheck(now, s) {
		return
	}
	// RFC 7323 §5.3 R1, before the sequence test: PAWS.
	if !c.paws(now, s) {
		return
	}
	if !c.checkSequenceNumber(now, s) {
		return
	}
	c.lastRecvAt = now
	c.keepProbes = 0
	if !c.checkRST(now, s) {
		return
	}
	// "Third, check security": the TCB keeps no security/compartment to
	// match (RFC 9293 Appendix A.1: IP security options "have become
	// outdated", and a reset on a mismatch "has been recognized as a
	// possible attack vector").
	if !c.checkSYN(now, s) {
		return
	}
	if !c.checkACK(now, s) {
		return
	}
	// "Sixth, check the URG bit" is not supported: the urgent pointer is
	// ignored, as RFC 6093 recommends for new applications.
	c.processText(now, s)
}

// takenBeforeSequenceCheck takes the segments that the sequence test would
// reject although the state expects them, and reports whether it did.
func (c *Conn) takenBeforeSequenceCheck(now clock.Time, s *wire.Segment) bool {
	// TIME-WAIT: "The only thing that can arrive in this state is a
	// retransmission of the remote FIN. Acknowledge it, and restart the 2
	// MSL timeout." The retransmitted FIN lies just left of RCV.NXT.
	if c.state == TimeWait && s.Flags&wire.FIN != 0 && s.Flags&wire.RST == 0 &&
		s.Seq.Add(s.SeqLen()) == c.rcvNxt {
		c.ackNow = true
		c.startTimer(now, &c.timeWaitAt, 2*c.pol.cfg.MSL, "time-wait")
		c.note(now, "retransmitted FIN re-acknowledged; 2·MSL restarted")
		return true
	}
	// SYN-RECEIVED: a retransmission of the SYN that opened us means our
	// SYN-ACK was lost; answer it with the SYN-ACK again rather than with
	// the bare ACK the sequence test would send.
	if c.state == SynReceived && s.Flags&(wire.SYN|wire.RST|wire.ACK) == wire.SYN && s.Seq == c.irs {
		c.synSent = false
		return true
	}
	// Simultaneous open, RFC 9293 Figure 7, line 6: in SYN-RECEIVED reached
	// from SYN-SENT, the peer's SYN-ACK repeats the SYN we already have and
	// acknowledges ours: "ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>".
	// The sequence test alone would reject it as old, so it is taken here
	// (Linux makes the same exception).
	if c.state == SynReceived && !c.passive && s.Flags&(wire.SYN|wire.ACK|wire.RST) == wire.SYN|wire.ACK &&
		s.Seq == c.irs && s.Ack.GreaterThan(c.sndUna) && s.Ack.LessThanEq(c.sndNxt) {
		var r ackResult
		c.ackedUpTo(now, s.Ack, &r)
		c.sndWnd, c.sndWL1, c.sndWL2 = seq.Size(s.Window), s.Seq, s.Ack
		c.maxSndWnd = max(c.maxSndWnd, c.sndWnd)
		c.establish(now, "SYN-ACK received (simultaneous open)")
		if c.finQueued {
			c.setState(now, FinWait1, "close pending")
		}
		return true
	}
	return false
}

// checkSequenceNumber is §3.10.7.4's "First, check sequence number"; it
// reports whether the segment is acceptable.
func (c *Conn) checkSequenceNumber(now clock.Time, s *wire.Segment) bool {
	if c.acceptable(s) {
		return true
	}
	if s.Flags&wire.RST != 0 {
		// RFC 5961 §3.2: "If the RST bit is set and the sequence number is
		// outside the current receive window, silently drop the segment."
		c.drop(now, trace.DropResetOutsideWindow)
		return false
	}
	// "If the RCV.WND is zero, no segments will be acceptable, but special
	// allowance should be made to accept valid ACKs, URGs, and RSTs": a
	// segment at RCV.NXT goes on, for its ACK (its text is trimmed to the
	// window in the seventh step).
	if c.rcvWndForCheck() == 0 && s.Seq == c.rcvNxt {
		return true
	}
	// "If an incoming segment is not acceptable, an acknowledgment
	// should be sent in reply ... <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
	// After sending the acknowledgment, drop the unacceptable segment
	// and return."
	if s.Flags&wire.SYN != 0 {
		// RFC 5961 §4.2: "If the SYN bit is set, irrespective of the
		// sequence number, TCP MUST send an ACK (also referred to as
		// challenge ACK)": outside the window too, a SYN gets the
		// rate-limited challenge ACK (§7), not a plain one, so that
		// spoofed SYNs do not draw an ACK each.
		c.challengeACK(now, trace.ChallengeSYN, s)
		return false
	}
	if n := len(s.Payload); n > 0 && s.Seq.Add(seq.Size(n)).LessThanEq(c.rcvNxt) {
		// Data we already have: RFC 2883 §4, report the duplicate
		// in a D-SACK.
		c.stats.DupBytesIn += uint64(n)
		c.setDSACK(s.Seq, s.Seq.Add(seq.Size(n)))
	}
	c.ackInvalid(now, s)
	c.drop(now, trace.DropUnacceptableSeq)
	return false
}

// checkRST is §3.10.7.4's "Second, check the RST bit", with RFC 5961 §3.2;
// it reports whether processing goes on (the RST bit is off).
func (c *Conn) checkRST(now clock.Time, s *wire.Segment) bool {
	if s.Flags&wire.RST == 0 {
		return true
	}
	if s.Seq != c.rcvNxt {
		// "If the RST bit is set and the sequence number does not
		// exactly match the next expected sequence value, yet is within
		// the current receive window, TCP MUST send an acknowledgment
		// (challenge ACK)".
		c.challengeACK(now, trace.ChallengeRST, s)
		return false
	}
	switch c.state {
	case SynReceived:
		if c.passive {
			// "If this connection was initiated with a passive OPEN
			// (i.e., came from the LISTEN state), then return this
			// connection to LISTEN state and return. The user need not
			// be informed."
			c.backToListen(now, "RST received")
			return false
		}
		// "If this connection was initiated with an active OPEN (i.e.,
		// came from SYN-SENT state), then the connection was refused;
		// signal the user 'connection refused'."
		c.close(now, ErrConnRefused, "RST received")
	case Established, FinWait1, FinWait2, CloseWait:
		// "any outstanding RECEIVEs and SEND should receive 'reset'
		// responses ... Enter the CLOSED state, delete the TCB".
		c.close(now, ErrConnReset, "RST received")
	default:
		// CLOSING, LAST-ACK, TIME-WAIT: "enter the CLOSED state, delete
		// the TCB, and return."
		c.close(now, nil, "RST received")
	}
	return false
}

// checkSYN is §3.10.7.4's "Fourth, check the SYN bit", with RFC 5961 §4.2;
// it reports whether processing goes on (the SYN bit is off).
func (c *Conn) checkSYN(now clock.Time, s *wire.Segment) bool {
	if s.Flags&wire.SYN == 0 {
		return true
	}
	if c.state == SynReceived && c.passive {
		// "In SYN-RECEIVED state, if the connection was initiated with a
		// passive OPEN, then return this connection to the LISTEN state
		// and return."
		c.backToListen(now, "SYN in window")
		return false
	}
	// RFC 5961 §4.2: "If the SYN bit is set, irrespective of the
	// sequence number, TCP MUST send an ACK (also referred to as
	// challenge ACK) to the remote peer".
	c.challengeACK(now, trace.ChallengeSYN, s)
	return false
}

// checkACK is §3.10.7.4's "Fifth, check the ACK field", with RFC 5961
// §5.2; it reports whether processing goes on to the segment text.
func (c *Conn) checkACK(now clock.Time, s *wire.Segment) bool {
	if s.Flags&wire.ACK == 0 {
		// "if the ACK bit is off, drop the segment and return"
		c.drop(now, trace.DropNoACK)
		return false
	}
	if c.state == SynReceived {
		// "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state and
		// continue processing ... If the segment acknowledgment is not
		// acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST> and send
		// it."
		if !(s.Ack.GreaterThan(c.sndUna) && s.Ack.LessThanEq(c.sndNxt)) {
			c.queueRST(wire.Segment{Seq: s.Ack, Flags: wire.RST})
			c.drop(now, trace.DropSynReceivedBadACK)
			return false
		}
		c.sndWnd, c.sndWL1, c.sndWL2 = c.scaledWindow(s), s.Seq, s.Ack
		c.maxSndWnd = max(c.maxSndWnd, c.sndWnd)
		c.establish(now, "ACK of SYN received")
		if c.ooo != nil && c.ooo.len() > 0 && !c.ooo.node(c.ooo.first()).start.GreaterThan(c.rcvNxt) {
			// RFC 9293 §3.10.7.2: the text of the SYN was "queued for
			// processing later"; ESTABLISHED, it is processed now, as
			// in-order text is: RCV.NXT passes it and it is
			// acknowledged.
			n := c.pullInOrder()
			c.stats.BytesIn += uint64(n)
			c.rcvUnacked += int32(n)
			c.ackNow = true
		}
		if c.finQueued {
			// CLOSE was called in SYN-RECEIVED; the FIN now follows.
			c.setState(now, FinWait1, "close pending")
		}
	}
	// RFC 5961 §5.2: "(SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT" or the
	// ACK is unacceptable: "send an ACK, drop the segment, and return".
	if s.Ack.GreaterThan(c.sndNxt) || s.Ack.LessThan(c.sndUna-seq.Value(c.maxSndWnd)) {
		// Not held back by InvalidACKInterval: a blind attacker must
		// guess a sequence number in the window to get here.
		c.ackNow = true
		c.drop(now, trace.DropBadACK)
		return false
	}
	// RFC 7323 §5.3 R3: "An arriving segment that passes R1 and R2 is
	// processed normally: If SEG.TSval >= TS.Recent and SEG.SEQ =<
	// Last.ACK.sent, then record its timestamp in TS.Recent". Only once the
	// RST, SYN and ACK checks have passed too: a segment they discard (RFC
	// 5961 §5.2: "MUST be discarded") must not move TS.Recent, or one
	// spoofed segment with a TSval in the future would make PAWS drop every
	// valid segment after it (RFC 7323 §7); an RST's timestamp "MUST NOT be
	// used to update connection state information" (§5.2).
	c.takeTimestamp(now, s)
	c.processACK(now, s)
	return c.ackOfOurFIN(now)
}

// processACK is the fifth step in ESTABLISHED, which every later state
// shares: the acknowledgment moves SND.UNA and updates the send window,
// and feeds RTT estimation, SACK, loss recovery and the congestion
// controller.
func (c *Conn) processACK(now clock.Time, s *wire.Segment) {
	flightBefore := int(c.sndNxt.Size(c.sndUna))
	dup := c.isDupAck(s)
	var r ackResult
	if c.tsOK && s.Options.HasTimestamps && s.Options.TSEcr != 0 {
		// RFC 7323 §4.1: "RTTM ... the RTT of any segment can be measured"
		// from the timestamp it echoes, retransmissions included, which
		// Karn's rule would otherwise leave without a sample.
		if d := c.tsNow(now) - s.Options.TSEcr; d > 0 && d < 1<<31 {
			r.tsRTT = time.Duration(d) * time.Millisecond
		}
	}
	if s.Ack.GreaterThan(c.sndUna) {
		// "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any
		// segments on the retransmission queue that are thereby entirely
		// acknowledged are removed."
		c.ackedUpTo(now, s.Ack, &r)
	}
	if c.sackOK && s.Options.NumSACK > 0 {
		c.takeSACK(now, s, &r)
	}
	if r.rtt > 0 && !r.sampled {
		c.sampleRTT(now, r.rtt) // from a SACKed segment
	}
	// "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated.
	// If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)),
	// set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <-
	// SEG.ACK."
	if s.Ack.GreaterThanEq(c.sndUna) &&
		(c.sndWL1.LessThan(s.Seq) || (c.sndWL1 == s.Seq && c.sndWL2.LessThanEq(s.Ack))) {
		c.sndWnd, c.sndWL1, c.sndWL2 = c.scaledWindow(s), s.Seq, s.Ack
		c.maxSndWnd = max(c.maxSndWnd, c.sndWnd)
		if c.sndWnd > 0 {
			c.stopTimer(now, &c.persistAt, "persist")
			c.persistBackoff = 0
		}
	}
	if c.cc != nil {
		c.afterAck(now, s, &r, flightBefore, dup)
	}
}

// ackOfOurFIN is the rest of the fifth step in the states after our CLOSE:
// what an acknowledgment of our FIN does. It reports whether processing
// goes on to the segment text.
func (c *Conn) ackOfOurFIN(now clock.Time) bool {
	finAcked := c.finQueued && c.sndUna.GreaterThan(c.finSeq)
	switch c.state {
	case FinWait1:
		// "In addition to the processing for the ESTABLISHED state, if the
		// FIN segment is now acknowledged, then enter FIN-WAIT-2".
		if finAcked {
			c.setState(now, FinWait2, "ACK of FIN received")
			c.orphanFinWait2(now)
		}
	case Closing:
		// "if the ACK acknowledges our FIN, then enter the TIME-WAIT state;
		// otherwise, ignore the segment."
		if finAcked {
			c.enterTimeWait(now, "ACK of FIN received")
		}
		return false
	case LastAck:
		// "The only thing that can arrive in this state is an
		// acknowledgment of our FIN. If our FIN is now acknowledged, delete
		// the TCB, enter the CLOSED state, and return."
		if finAcked {
			c.close(now, nil, "ACK of FIN received")
		}
		return false
	case TimeWait:
		return false
	}
	return true
}

// processText is §3.10.7.4's "Seventh, process the segment text" and,
// through checkFIN, "Eighth, check the FIN bit": take the text that
// continues the byte stream, hold text beyond RCV.NXT for reassembly,
// decide when to acknowledge, and process a FIN once everything before it
// has arrived.
func (c *Conn) processText(now clock.Time, s *wire.Segment) {
	if c.rcvShut && c.finQueued && (c.state == FinWait1 || c.state == FinWait2) &&
		len(s.Payload) > 0 && s.Seq.Add(seq.Size(len(s.Payload))).GreaterThan(c.rcvNxt) {
		// RFC 1122 §4.2.2.13: "if new data is received after CLOSE is
		// called, its TCP SHOULD send a RST to show that data was lost."
		// The reset answers the segment, <SEQ=SEG.ACK><CTL=RST>, as
		// Linux's does (its tcp_rcv_state_process, TCPAbortOnData).
		c.queueRST(wire.Segment{Seq: s.Ack, Flags: wire.RST})
		if c.tracing() {
			c.note(now, "data after close: reset (RFC 1122 §4.2.2.13)")
		}
		c.close(now, ErrAborted, "data after close")
		return
	}
	start, payload, fin, ok := c.newText(s)
	if !ok {
		return
	}
	if len(payload) > 0 && !c.rcvRoom(start, len(payload)) {
		c.drop(now, trace.DropMemory)
		return
	}
	if start != c.rcvNxt {
		c.holdText(start, payload, fin)
		return
	}
	if len(payload) > 0 {
		fin = c.takeText(now, payload) || fin
	} else if fin && c.oooFin {
		c.oooFin = false
	}
	if fin {
		c.checkFIN(now)
	}
}

// newText returns what the segment brings that we do not have yet and that
// fits the window: the text from start, and whether it ends with the FIN.
// ok is false when nothing more is to be done with the segment.
func (c *Conn) newText(s *wire.Segment) (start seq.Value, payload []byte, fin, ok bool) {
	start = s.Seq
	if s.Flags&wire.SYN != 0 {
		start = start.Add(1)
	}
	payload = s.Payload
	fin = s.Flags&wire.FIN != 0
	if len(payload) > int(c.rcvMSS) {
		c.rcvMSS = int32(min(len(payload), int(c.pol.cfg.MSS)))
	}
	// Trim what we already have: a duplicate (RFC 2883: report it in a
	// D-SACK) that is acknowledged at once.
	if start.LessThan(c.rcvNxt) {
		skip := int(c.rcvNxt.Size(start))
		if skip > len(payload) || skip == len(payload) && !fin {
			if len(payload) > 0 {
				c.stats.DupBytesIn += uint64(len(payload))
				c.setDSACK(start, start.Add(seq.Size(len(payload))))
			}
			// Also a retransmitted FIN already processed.
			c.ackNow = true
			return start, nil, false, false
		}
		c.stats.DupBytesIn += uint64(skip)
		c.setDSACK(start, c.rcvNxt)
		c.ackNow = true
		payload = payload[skip:]
		start = c.rcvNxt
	}
	switch c.state {
	case Established, FinWait1, FinWait2:
		// "Once in the ESTABLISHED state, it is possible to deliver segment
		// data to user RECEIVE buffers."
	default:
		// CLOSE-WAIT, CLOSING, LAST-ACK: "This should not occur since a FIN
		// has been received from the remote side. Ignore the segment text."
		payload = nil
		if c.finRcvd {
			fin = false
		}
	}
	if c.finRcvd {
		return start, nil, false, false
	}
	// Text beyond the window's right edge is not taken (§3.10.7.4: "Segments
	// with higher beginning sequence numbers may be held ... trimmed to
	// the window").
	right := c.rcvNxt.Add(c.rcvWndForCheck())
	if end := start.Add(seq.Size(len(payload))); end.GreaterThan(right) {
		if start.GreaterThanEq(right) {
			payload = nil
		} else {
			payload = payload[:right.Size(start)]
		}
		fin = false // the FIN lies beyond what we took
		// What did not fit is, in part, an unacceptable segment: "an
		// acknowledgment should be sent in reply".
		c.ackNow = true
	}
	return start, payload, fin, true
}

// holdText keeps text that starts beyond RCV.NXT for reassembly (reasm.go),
// and a FIN that follows it. RFC 5681 §4.2: "A TCP receiver SHOULD send an
// immediate duplicate ACK when an out-of-order segment arrives."
func (c *Conn) holdText(start seq.Value, payload []byte, fin bool) {
	if len(payload) > 0 {
		c.stats.OutOfOrderIn++
		if !c.holdOutOfOrder(start, payload) {
			c.stats.DupBytesIn += uint64(len(payload))
		}
	}
	if fin {
		c.oooFin, c.oooFinSeq = true, start.Add(seq.Size(len(payload)))
	}
	if len(payload) > 0 || fin {
		c.ackNow = true
		c.oooAcks++
	}
}

// takeText appends text at RCV.NXT to the receive buffer, with the data
// held out of order it reaches, and decides when to acknowledge it. It
// reports whether RCV.NXT reached a FIN that had arrived out of order.
func (c *Conn) takeText(now clock.Time, payload []byte) bool {
	gap := c.ooo.len() > 0
	c.appendRcv(payload)
	c.rcvNxt = c.rcvNxt.Add(seq.Size(len(payload)))
	n := len(payload) + c.pullInOrder()
	c.stats.BytesIn += uint64(n)
	c.rcvUnacked += int32(n)
	switch {
	case gap:
		// RFC 5681 §4.2: "a TCP receiver SHOULD send an immediate ACK
		// when the incoming segment fills in all or part of a gap in
		// the sequence space."
		c.ackNow = true
	case c.quickAcks > 0 && !c.quickOff:
		c.quickAcks--
		c.ackNow = true
	case c.pol.cfg.DelayedACK < 0 || c.rcvUnacked > c.rcvMSS:
		// RFC 9293 §3.8.6.3: "an ACK SHOULD be generated for at least
		// every second full-sized segment"; more than one segment's
		// worth unacknowledged means this is at least the second.
		c.ackNow = true
	case c.delackAt == clock.Never:
		// "A TCP endpoint SHOULD implement a delayed ACK (SHLD-18), but
		// an ACK should not be excessively delayed; in particular, the
		// delay MUST be less than 0.5 seconds (MUST-40)" (RFC 9293
		// §3.8.6.3).
		c.startTimer(now, &c.delackAt, c.pol.cfg.DelayedACK, "delayed-ack")
	}
	c.autotune(now)
	if c.oooFin && c.oooFinSeq == c.rcvNxt {
		c.oooFin = false
		return true
	}
	return false
}

// checkFIN is §3.10.7.4's "Eighth, check the FIN bit", for a FIN that
// RCV.NXT has reached: "advance RCV.NXT over the FIN, and send an
// acknowledgment for the FIN."
func (c *Conn) checkFIN(now clock.Time) {
	c.finRcvd = true
	c.dropOOO()
	if c.pol.cfg.FINClearsSACK {
		c.dsackPending = false
	}
	c.rcvNxt = c.rcvNxt.Add(1)
	c.ackNow = true
	switch c.state {
	case SynReceived, Established:
		c.setState(now, CloseWait, "FIN received")
	case FinWait1:
		// "If our FIN has been ACKed (perhaps in this segment), then enter
		// TIME-WAIT, start the time-wait timer, turn off the other timers;
		// otherwise, enter the CLOSING state."
		if c.finQueued && c.sndUna.GreaterThan(c.finSeq) {
			c.enterTimeWait(now, "FIN received")
		} else {
			c.setState(now, Closing, "FIN received")
		}
	case FinWait2:
		c.enterTimeWait(now, "FIN received")
	}
}

// autotune grows the receive buffer when the application reads, within one
// round trip, at least half of it: the window, not the reader, would limit
// the transfer (Linux's dynamic right-sizing, simplified). The buffer at
// most doubles per round trip, up to RecvBufferMax.
func (c *Conn) autotune(now clock.Time) {
	ceiling := c.autotuneCeiling()
	if int(c.rcvBuf) >= ceiling || !c.hasRTT || c.pol.mem.pressure(&c.pol.cfg) {
		return
	}
	if c.rcvSpaceAt == 0 {
		c.rcvSpaceAt, c.rcvSpaceSeq = now, c.rcvNxt.Add(-seq.Size(c.rcvLen()))
		return
	}
	rtt := max(c.minRTT, time.Millisecond)
	if now.Sub(c.rcvSpaceAt) < rtt {
		return
	}
	got := int(c.rcvNxt.Size(c.rcvSpaceSeq)) - c.rcvLen()
	if 2*got >= int(c.rcvBuf) {
		grown := min(ceiling, 2*int(c.rcvBuf))
		if c.tracing() {
			c.note(now, "receive buffer autotuned "+strconv.Itoa(int(c.rcvBuf))+" -> "+strconv.Itoa(grown))
		}
		c.rcvBuf = int32(grown)
	}
	c.rcvSpaceAt, c.rcvSpaceSeq = now, c.rcvNxt.Add(-seq.Size(c.rcvLen()))
}

// rcvRingMax is the size of the receive ring the largest buffer takes:
// RecvBufferMax (or RCV.BUFF, if larger) rounded up to a power of two.
func (c *Conn) rcvRingMax() int {
	n := max(int(c.rcvBufMax), int(c.rcvBuf), minBuffer)
	return 1 << bits.Len(uint(n-1))
}

// autotuneCeiling is the most autotuning grows the receive buffer to:
// RecvBufferMax, less the scaled window's rounding. advertise rounds the
// window field up rather than pull the advertised edge back (RFC 7323
// §2.4), so the peer may send up to 2^Rcv.Wind.Shift - 1 bytes beyond
// the buffer; with the ceiling that much lower, a full window still fits
// the ring RecvBufferMax takes (4 MiB for 4 MiB, where 127 bytes more
// took 8).
func (c *Conn) autotuneCeiling() int {
	m := int(c.rcvBufMax)
	if s := 1 << c.rcvShift; s > 1 && m > 2*s {
		m -= s - 1
	}
	return m
}

func (c *Conn) enterTimeWait(now clock.Time, why string) {
	c.setState(now, TimeWait, why)
	c.stopTimer(now, &c.rtoAt, "retransmit")
	c.stopTimer(now, &c.persistAt, "persist")
	c.startTimer(now, &c.timeWaitAt, 2*c.pol.cfg.MSL, "time-wait")
}

// challengeACK sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> unless a limit
// holds it back: RFC 5961 §7's per connection in the current period
// (with a random share of it used up at the period's start, when the
// driver hands in randomness), the stack's per second (StackChallengeACKs),
// and for a SYN the interval between ACKs to invalid segments
// (InvalidACKInterval).
func (c *Conn) challengeACK(now clock.Time, why trace.Challenge, s *wire.Segment) {
	cfg := &c.pol.cfg
	ms := msStamp(now)
	if c.chalCount == 0 || time.Duration(ms-c.chalStart)*time.Millisecond >= cfg.ChallengeACKPeriod {
		c.chalStart, c.chalCount = ms, 0
		if cfg.Rand != nil && cfg.ChallengeACKs > 1 {
			// A budget between half the limit and the limit.
			c.chalCount = int32(cfg.Rand.Uint64() % uint64(cfg.ChallengeACKs/2+1))
		}
	}
	if int(c.chalCount) >= cfg.ChallengeACKs ||
		s.Flags&wire.SYN != 0 && c.oowLimited(now, s) || !c.pol.stackChallengeOK(now) {
		c.stats.ChallengeACKsLimited++
		c.drop(now, why.Limited())
		return
	}
	c.chalCount++
	c.stats.ChallengeACKs++
	c.ackNow = true
	if c.tracing() {
		c.note(now, "challenge ACK: "+why.String())
	}
}

// msStamp is now in milliseconds modulo 2^32, never 0 (which marks "not
// set").
func msStamp(now clock.Time) uint32 {
	ms := uint32(int64(now) / int64(time.Millisecond))
	if ms == 0 {
		ms = 1
	}
	return ms
}

// oowLimited reports whether the ACK owed to s, an unacceptable segment,
// must be held back: less than InvalidACKInterval after the previous such
// ACK, for a segment without data or FIN, or with a SYN (Linux's
// tcp_oow_rate_limited, tcp_invalid_ratelimit). An ACK it lets go starts
// the interval again.
func (c *Conn) oowLimited(now clock.Time, s *wire.Segment) bool {
	iv := c.pol.cfg.InvalidACKInterval
	if iv < 0 || s.Flags&wire.SYN == 0 && (len(s.Payload) > 0 || s.Flags&wire.FIN != 0) {
		return false
	}
	ms := msStamp(now)
	if c.oowAt != 0 {
		if el := int32(ms - c.oowAt); el >= 0 && time.Duration(el)*time.Millisecond < iv {
			if c.tracing() {
				c.note(now, "ACK to an invalid segment held back (one per "+iv.String()+")")
			}
			return true
		}
	}
	c.oowAt = ms
	return false
}

// ackInvalid owes the ACK that an unacceptable segment s is answered with
// (RFC 9293 §3.10.7.4, RFC 7323 §5.3 R1), unless oowLimited holds it
// back.
func (c *Conn) ackInvalid(now clock.Time, s *wire.Segment) {
	if !c.oowLimited(now, s) {
		c.ackNow = true
	}
}

// drop counts a segment discarded as unacceptable and records why.
func (c *Conn) drop(now clock.Time, why trace.DropCause) { c.dropDetail(now, why, "") }

// dropDetail is drop with a value the cause is shown with.
func (c *Conn) dropDetail(now clock.Time, why trace.DropCause, detail string) {
	c.stats.Dropped++
	if c.tracing() {
		c.record(&trace.Event{At: now, Kind: trace.Drop, Cause: why, Reason: detail})
	}
}
