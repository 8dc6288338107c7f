package tcp

import (
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Output emits every segment that is due: a pending RST, the SYN or SYN-ACK,
// retransmissions and new data the windows allow, a probe, and an ACK if one
// is owed and nothing else carried it. emit must copy what it keeps: the
// segment and its payload are only valid during the call.
func (c *Conn) Output(now clock.Time, emit func(seg *wire.Segment, retransmit bool)) {
	if c.rstPending {
		c.rstPending = false
		s := c.newSeg(c.rstSeq, c.rstAck, c.rstFlags)
		c.fill(now, s)
		if c.rstTS {
			s.Options.HasTimestamps = true
			s.Options.TSVal, s.Options.TSEcr = c.tsNow(now), c.tsRecent
		}
		c.transmit(now, s, 0, emit)
	}
	switch c.state {
	case Closed, Listen:
		return
	case SynSent:
		if !c.synSent {
			// RFC 9293 §3.10.1: "A SYN segment of the form <SEQ=ISS><CTL=SYN>
			// is sent."
			c.sendSYN(now, wire.SYN, emit)
		}
	case SynReceived:
		if !c.synSent {
			// §3.10.7.2: "<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>"
			c.sendSYN(now, wire.SYN|wire.ACK, emit)
		}
	default:
		if c.probeDue {
			// A zero-window probe or a keepalive: an old sequence number
			// (SND.NXT-1) that the peer must answer with an ACK (RFC 9293
			// §3.8.4: "containing no data"; §3.8.6.1).
			c.probeDue = false
			s := c.newSeg(c.sndNxt-1, c.rcvNxt, wire.ACK)
			c.transmit(now, s, 0, emit)
		}
		c.sendData(now, emit)
	}
	// "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>". Out-of-order segments get a
	// duplicate ACK each, even when several arrived since the last
	// Output (RFC 5681 §4.2: "an immediate duplicate ACK when an
	// out-of-order segment arrives"): a sender without SACK counts them
	// to detect loss.
	n := c.oooAcks
	if c.ackNow && n == 0 {
		n = 1
	}
	c.oooAcks = 0
	for ; n > 0 && c.state != Closed; n-- {
		s := c.newSeg(c.sndNxt, c.rcvNxt, wire.ACK)
		c.transmit(now, s, 0, emit)
	}
}

func (c *Conn) sendSYN(now clock.Time, flags wire.Flags, emit func(seg *wire.Segment, retransmit bool)) {
	s := c.newSeg(c.iss, 0, flags)
	if flags&wire.ACK != 0 {
		s.Ack = c.rcvNxt
	}
	c.synOptions(now, &s.Options, flags&wire.ACK != 0)
	c.synSent = true
	var why trace.RetransmitReason
	if c.synSends > 0 {
		why = trace.RetransmitRTO
	}
	c.transmit(now, s, why, emit)
}

// effMSS is the payload a segment may carry: the send MSS less the
// options every segment carries (RFC 9293 §3.7.1).
func (c *Conn) effMSS() int {
	return int(max(c.sndMSS-c.optLen, 1))
}

// sendData sends retransmissions of segments deemed lost and new data, as
// the congestion window (against RFC 6675's pipe), the peer's window,
// Nagle's algorithm and sender SWS avoidance allow, then the FIN once all
// data before it is sent. Every such segment carries an ACK.
func (c *Conn) sendData(now clock.Time, emit func(seg *wire.Segment, retransmit bool)) {
	if c.state == SynReceived || c.state == SynSent {
		return
	}
	mss := c.effMSS()
	tlp := c.tlpDue
	c.tlpDue = false
	if tlp {
		// RFC 8985 §7.3: "After attempting to send a loss probe, regardless
		// of whether a loss probe was sent, the sender MUST re-arm the RTO
		// timer, not the PTO timer, if the FlightSize is not zero."
		defer func() {
			if c.sndUna != c.sndNxt {
				c.startTimer(now, &c.rtoAt, c.rtoDelay(now), "retransmit")
			}
		}()
	}
	sentNew := false
	for {
		if !tlp && c.paceHeld(now) {
			break // pacing.go: the next segment waits for timers.paceAt
		}
		// RFC 6675 §5 (C): "If cwnd - pipe >= 1 SMSS, the sender SHOULD
		// transmit one or more segments". A tail loss probe is sent
		// whatever the congestion window says (RFC 8985 §7.3).
		room := c.cc.Window() - c.pipe()
		if i := c.nextLost(); i >= 0 {
			t := &c.tx[i]
			// RFC 6675 §5 (4.3): on entering recovery "retransmit the first
			// data segment presumed dropped" whatever pipe says; later
			// retransmissions wait for room (C). The FIN takes a sequence
			// number but no room in the network: a full segment with the
			// FIN must fit a one-segment window.
			need := t.len()
			if t.fin {
				need--
			}
			if room < need && !tlp && !c.fastRexmitDue && !c.probeResend(t) {
				break
			}
			c.fastRexmitDue = false
			c.retransmit(now, i, trace.RetransmitLost, emit)
			if tlp {
				c.tlpSent(false)
				tlp = false
			}
			continue
		}
		room += c.limitedTransmit(mss)
		if !tlp && c.maybeProbe(now, mss, room, emit) { // plpmtud.go
			sentNew = true
			continue
		}
		if room < min(mss, c.queuedUnsent()) && !tlp {
			break
		}
		if c.sendNew(now, mss, room, tlp, emit) {
			sentNew = true
			if tlp {
				c.tlpSent(false)
				tlp = false
			}
			continue
		}
		if tlp {
			// No new data may go: probe with the last segment again.
			if len(c.txq()) > 0 {
				c.retransmit(now, len(c.tx)-1, trace.RetransmitTLP, emit)
				c.tlpSent(true)
			}
			tlp = false
			continue
		}
		break
	}
	if c.sndUna != c.sndNxt && c.rtoAt == clock.Never && c.state.Synchronized() {
		// Data is outstanding: whatever held the sending back, the
		// retransmission timer must run, or nothing would ever resend it.
		c.startTimer(now, &c.rtoAt, c.rtoDelay(now), "retransmit")
	}
	if sentNew {
		// RFC 8985 §7.2: the PTO is (re)started "after transmitting new
		// data" (and on an ACK of new data, see afterAck), not whenever
		// Output runs.
		c.armTLP(now)
	}
}

// limitedTransmit is the room Limited Transmit adds for new data (RFC
// 3042 §2; RFC 5681 §3.2 step 1): "On the first and second duplicate ACKs
// received at a sender, a TCP SHOULD send a segment of previously unsent
// data ... provided that the receiver's advertised window allows, the
// total FlightSize would remain less than or equal to cwnd plus 2*SMSS".
// One segment beyond the window per duplicate ACK, and cwnd unchanged.
// With SACK, RFC 6675's pipe gives the same: each duplicate ACK SACKs a
// segment, which leaves the pipe.
func (c *Conn) limitedTransmit(mss int) int {
	if c.sackOK || c.inRecovery || c.dupAcks <= 0 || c.dupAcks >= dupThresh {
		return 0
	}
	return int(c.dupAcks) * mss
}

func (c *Conn) tlpSent(retrans bool) {
	c.tlpEndSet, c.tlpEnd, c.tlpRetrans = true, c.sndNxt, retrans
	c.tlpNoSample = true
}

// queuedUnsent is how much written data has not been sent yet.
func (c *Conn) queuedUnsent() int {
	end := c.sndBufSeq.Add(seq.Size(c.sndLen()))
	if c.sndNxt.GreaterThanEq(end) {
		return 0
	}
	return int(end.Size(c.sndNxt))
}

// sendNew sends one new segment at SND.NXT if the windows and Nagle allow,
// and reports whether it did.
func (c *Conn) sendNew(now clock.Time, mss, room int, tlp bool, emit func(seg *wire.Segment, retransmit bool)) bool {
	dataEnd := c.sndBufSeq.Add(seq.Size(c.sndLen()))
	// The peer's window: we may send up to SND.UNA + SND.WND.
	wndRight := c.sndUna.Add(c.sndWnd)
	usable := 0
	if wndRight.GreaterThan(c.sndNxt) {
		usable = int(wndRight.Size(c.sndNxt))
	}
	inFlight := c.sndNxt != c.sndUna
	s := c.newSeg(c.sndNxt, c.rcvNxt, wire.ACK)
	switch {
	case c.sndNxt.LessThan(dataEnd):
		queued := int(dataEnd.Size(c.sndNxt))
		limit := usable
		if !tlp {
			limit = min(limit, room)
		}
		n := min(queued, c.superMSS(mss, tlp), limit)
		if n <= 0 || c.txFull() { // txFull: limits.go
			c.maybePersist(now, inFlight)
			return false
		}
		if n > mss {
			// A super-segment (SegmentOffload): whole MSS-sized pieces,
			// as the loop below would send them one by one. A shorter
			// last piece goes only where it would go alone: at the end
			// of the queued data (SWS avoidance holds a short piece
			// before more data) and when Nagle would not hold it.
			if tail := n % mss; tail != 0 && (n < queued || c.nagleHolds()) {
				n -= tail
			}
			s.GSOSize = uint16(mss)
		}
		if n < mss && n < queued {
			// Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a segment smaller
			// than both the MSS and what is queued goes only if it is at
			// least half the largest window the peer offered, or if
			// nothing is in flight (so the ACK that opens the window will
			// never come: the RFC's override timeout, taken at once).
			if n < int(c.maxSndWnd)/2 && inFlight && !tlp {
				return false
			}
		}
		if n < mss && n == queued && !tlp && c.nagleHolds() {
			// Nagle (RFC 896; RFC 9293 §3.7.4), in Minshall's form as Linux
			// uses it: a short segment waits while an earlier short segment
			// is unacknowledged.
			c.stats.NagleDelays++
			return false
		}
		off := int(c.sndNxt.Size(c.sndBufSeq))
		s.Payload = c.sndBytes(off, n)
		if c.sndNxt.Add(seq.Size(n)) == dataEnd {
			s.Flags |= wire.PSH
			if c.finQueued && dataEnd == c.finSeq && usable > n {
				s.Flags |= wire.FIN
			}
		}
		if n%mss != 0 {
			c.smallEndSet, c.smallEnd = true, c.sndNxt.Add(seq.Size(n))
		}
	case c.finQueued && c.sndNxt == c.finSeq:
		if usable <= 0 {
			// The FIN takes a unit of window like a byte of data: a
			// receiver with a zero window drops it (RFC 9293 §3.10.7.4,
			// "not acceptable"). It waits, probed like data (MUST-37).
			c.maybePersist(now, inFlight)
			return false
		}
		s.Flags |= wire.FIN
	default:
		return false
	}
	if !inFlight && c.lastSendAt > 0 && now.Sub(c.lastSendAt) > c.rto && c.cc != nil {
		// RFC 5681 §4.1: "if the TCP has not sent data in an interval
		// exceeding the retransmission timeout", restart from the
		// restart window.
		c.cc.OnIdle(now)
		c.metrics(now, "idle restart")
	}
	c.transmit(now, s, 0, emit)
	return true
}

// nagleHolds reports that Nagle's algorithm (RFC 896; RFC 9293 §3.7.4),
// in Minshall's form as Linux uses it, holds back a short segment at the
// end of the queued data: an earlier short segment is unacknowledged.
func (c *Conn) nagleHolds() bool {
	return !c.noDelay && !c.finQueued && c.smallEndSet && c.smallEnd.GreaterThan(c.sndUna)
}

// superMSS is the most new data one segment may carry: the MSS, or with
// segmentation offload (Config.SegmentOffload) as many whole MSS-sized
// pieces as the link's largest segment holds, and at most as many as the
// retransmission queue has records left for (one per piece, limits.go).
// With pacing, a super-segment is at most about a millisecond's worth at
// the pacing rate (two pieces at least), as Linux sizes its TSO bursts
// (tcp_tso_autosize), so that pacing still spreads the window. A tail
// loss probe carries one MSS (RFC 8985 §7.3: "a new, previously unsent
// segment").
func (c *Conn) superMSS(mss int, tlp bool) int {
	g := c.pol.cfg.SegmentOffload
	if g == 0 || tlp {
		return mss
	}
	// The TCP header with the most options it may carry (SACK blocks
	// come and go) must fit too.
	k := (g - 60) / mss
	k = min(k, max(c.sendBufSize()/minPeerMSS, 64)-len(c.txq()))
	if c.pol.cfg.Pacing && c.srtt > 0 && c.cc != nil {
		perMs := int(int64(paceCARatio) * int64(c.cc.Window()) * int64(time.Millisecond) / (100 * int64(c.srtt)))
		k = min(k, max(perMs/mss, 2))
	}
	if k < 2 {
		return mss
	}
	return k * mss
}

// sendUnit is the most new data one segment carries when nothing else
// limits it: the MSS, or with segmentation offload the largest
// super-segment superMSS makes (cc.Ack.Unit: slow start's limit counts
// these).
func (c *Conn) sendUnit() int {
	mss := c.effMSS()
	if g := c.pol.cfg.SegmentOffload; g > 0 {
		if k := (g - 60) / mss; k >= 2 {
			return k * mss
		}
	}
	return mss
}

// maybePersist arms the persist timer when the peer's window is closed and
// nothing is in flight to bring a window update (RFC 9293 §3.8.6.1).
func (c *Conn) maybePersist(now clock.Time, inFlight bool) {
	if c.sndWnd == 0 && !inFlight && c.persistAt == clock.Never {
		c.startTimer(now, &c.persistAt, c.persistDelay(), "persist")
	}
}

// retransmit sends segment t again.
func (c *Conn) retransmit(now clock.Time, i int, why trace.RetransmitReason, emit func(seg *wire.Segment, retransmit bool)) {
	t := &c.tx[i]
	s := c.newSeg(t.start, c.rcvNxt, wire.ACK)
	end := t.end
	if t.fin {
		end = end - 1
		s.Flags |= wire.FIN
	}
	if end.GreaterThan(t.start) {
		off := int(t.start.Size(c.sndBufSeq))
		n := int(end.Size(t.start))
		s.Payload = c.sndBytes(off, n)
		if end == c.sndBufSeq.Add(seq.Size(c.sndLen())) {
			s.Flags |= wire.PSH
		}
	}
	c.markRetransmitted(t)
	t.xmits++
	t.sentAt = now
	c.tsUnlink(i)
	if !t.sacked {
		c.tsLink(i) // now the newest transmission
	}
	c.undoRetrans++
	c.episodeRexmits++
	if c.rtoRecovery {
		why = trace.RetransmitRTO
	}
	c.transmit(now, s, why, emit)
}

// newSeg returns the connection's outgoing segment, reset to the given
// fields: one per Conn, reused for every segment, since emit copies what
// it keeps (a segment built on the stack would escape through emit and be
// allocated each time).
func (c *Conn) newSeg(sq, ack seq.Value, flags wire.Flags) *wire.Segment {
	out := &c.pol.out
	*out = wire.Segment{Seq: sq, Ack: ack, Flags: flags}
	return out
}

// fill completes an outgoing segment with ports, window and options.
func (c *Conn) fill(now clock.Time, s *wire.Segment) {
	s.SrcPort = c.lport
	s.DstPort = c.rport
	if s.Flags&wire.RST == 0 {
		s.Window = c.advertise(s.Flags&wire.SYN != 0)
		if s.Flags&wire.SYN == 0 {
			c.stampOptions(now, s)
		}
	}
}

// transmit stamps s, records new data in the retransmission queue, arms the
// retransmission timer, records the event and hands s to emit. why is set
// for retransmissions, zero for a first transmission.
func (c *Conn) transmit(now clock.Time, s *wire.Segment, why trace.RetransmitReason, emit func(seg *wire.Segment, retransmit bool)) {
	if s.Flags&wire.RST == 0 {
		c.fill(now, s)
	}
	retrans := why != 0
	pieces := uint64(1) // the segments the peer receives
	c.paceSent(now, len(s.Payload))
	if l := s.SeqLen(); l > 0 {
		end := s.Seq.Add(l)
		if s.Flags&wire.SYN != 0 {
			// A SYN-ACK answering a simultaneous open reuses our SYN's
			// sequence number but is its state's first SYN.
			retrans = c.synSends > 0
			c.synSends++
			if retrans {
				c.rttTiming = false // Karn
			} else if !c.rttTiming {
				c.rttTiming, c.rttSeq, c.rttStart = true, end, now
			}
		} else if !retrans {
			if c.tx == nil {
				c.tx = c.pol.getTx()
			}
			recs := 1
			if g := int(s.GSOSize); g > 0 {
				recs = (int(l) + g - 1) / g
			}
			c.reserveTx(recs)
			// One record per MSS-sized piece of a super-segment, as the
			// peer receives them (after the link cut it): SACK blocks,
			// RACK and retransmissions then work on what the network
			// carries, and a lost piece is resent alone.
			start := s.Seq
			if g := seq.Size(s.GSOSize); g > 0 {
				for ; end.Size(start) > g; start = start.Add(g) {
					c.tx = append(c.tx, txSeg{start: start, end: start.Add(g),
						firstSent: now, sentAt: now, xmits: 1})
					c.tsLink(len(c.tx) - 1)
					pieces++
				}
			}
			c.tx = append(c.tx, txSeg{start: start, end: end, fin: s.Flags&wire.FIN != 0,
				firstSent: now, sentAt: now, xmits: 1})
			c.tsLink(len(c.tx) - 1)
			c.stats.BytesOut += uint64(len(s.Payload))
		}
		if retrans {
			c.stats.Retransmits++
		}
		if end.GreaterThan(c.sndNxt) {
			c.sndNxt = end
		}
		if c.rtoAt == clock.Never {
			// RFC 6298 (5.1): "Every time a packet containing data is sent
			// (including a retransmission), if the timer is not running,
			// start it running so that it will expire after RTO seconds."
			c.startTimer(now, &c.rtoAt, c.rtoDelay(now), "retransmit")
		}
		c.lastSendAt = now
	}
	if s.Flags&wire.ACK != 0 {
		c.ackNow = false
		c.rcvUnacked = 0
		c.stopTimer(now, &c.delackAt, "delayed-ack")
	}
	c.stats.SegsOut += pieces
	if c.pol.cfg.Recorder != nil {
		e := trace.Event{At: now, Kind: trace.SegmentOut, Retransmit: retrans, RetransmitReason: why}
		e.SetSegment(s)
		c.record(&e)
	}
	emit(s, retrans)
}
