package tcp

import (
	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Output emits every segment that is due: a pending RST, the SYN or SYN-ACK,
// data and FIN the windows allow, and an ACK if one is owed and nothing else
// carried it. emit must copy what it keeps: the segment and its payload are
// only valid during the call.
func (c *Conn) Output(now clock.Time, emit func(seg *wire.Segment, retransmit bool)) {
	if c.rstPending {
		c.rstPending = false
		s := c.rstSeg
		c.fill(&s)
		c.transmit(now, &s, emit)
	}
	switch c.state {
	case Closed, Listen:
		return
	case SynSent:
		if c.sndNxt == c.iss {
			// RFC 9293 §3.10.1: "A SYN segment of the form <SEQ=ISS><CTL=SYN>
			// is sent."
			c.sendSYN(now, wire.SYN, emit)
		}
	case SynReceived:
		if c.sndNxt == c.iss {
			// §3.10.7.2: "<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>"
			c.sendSYN(now, wire.SYN|wire.ACK, emit)
		}
	default:
		if c.probeDue {
			c.probeDue = false
			s := wire.Segment{Seq: c.sndUna - 1, Ack: c.rcvNxt, Flags: wire.ACK}
			c.transmit(now, &s, emit)
		}
		c.sendData(now, emit)
	}
	if c.ackNow && c.state != Closed {
		// "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>", where SND.NXT is the
		// highest sequence number sent (sndMax), not the send pointer an
		// RTO rewound: a peer that received everything would find a lower
		// sequence number unacceptable (§3.10.7.4, "RCV.NXT =< SEG.SEQ")
		// and drop the ACK.
		s := wire.Segment{Seq: c.sndMax, Ack: c.rcvNxt, Flags: wire.ACK}
		c.transmit(now, &s, emit)
	}
}

func (c *Conn) sendSYN(now clock.Time, flags wire.Flags, emit func(seg *wire.Segment, retransmit bool)) {
	s := wire.Segment{Seq: c.iss, Flags: flags}
	if flags&wire.ACK != 0 {
		s.Ack = c.rcvNxt
	}
	s.Options.HasMSS = true
	s.Options.MSS = c.cfg.MSS
	c.transmit(now, &s, emit)
}

// sendData sends as much queued data as the peer's window and the congestion
// window allow, in segments of at most the send MSS, and the FIN once all
// data before it is sent. Every such segment carries an ACK.
func (c *Conn) sendData(now clock.Time, emit func(seg *wire.Segment, retransmit bool)) {
	if c.state == SynReceived || c.state == SynSent {
		return
	}
	for {
		dataEnd := c.sndBufSeq.Add(seq.Size(len(c.snd)))
		wnd := min(int(c.sndWnd), c.cwnd)
		inFlight := int(c.sndNxt.Size(c.sndUna))
		usable := wnd - inFlight
		s := wire.Segment{Seq: c.sndNxt, Ack: c.rcvNxt, Flags: wire.ACK}
		if c.sndNxt.LessThan(dataEnd) {
			n := min(int(dataEnd.Size(c.sndNxt)), c.sndMSS, usable)
			if n <= 0 {
				if c.sndWnd == 0 && inFlight == 0 && c.persistAt == clock.Never {
					// RFC 9293 §3.8.6.1: a zero window must be probed.
					c.startTimer(now, &c.persistAt, c.persistDelay(), "persist")
				}
				return
			}
			off := int(c.sndNxt.Size(c.sndBufSeq))
			s.Payload = c.snd[off : off+n]
			if c.sndNxt.Add(seq.Size(n)) == dataEnd {
				s.Flags |= wire.PSH
				if c.finQueued && dataEnd == c.finSeq {
					s.Flags |= wire.FIN
				}
			}
		} else if c.finQueued && c.sndNxt == c.finSeq {
			if usable <= 0 {
				// The FIN takes a unit of window like a byte of data: a
				// receiver with a zero window drops it (RFC 9293 §3.10.7.4,
				// "not acceptable"). Sent anyway it would be retransmitted
				// on RTO until DataRetries ran out, closing a connection
				// whose peer answers every probe, which §3.8.6.1 forbids
				// (MUST-37). So it waits, probed like data (as Linux does).
				if c.sndWnd == 0 && inFlight == 0 && c.persistAt == clock.Never {
					c.startTimer(now, &c.persistAt, c.persistDelay(), "persist")
				}
				return
			}
			s.Flags |= wire.FIN
		} else {
			return
		}
		c.transmit(now, &s, emit)
		if s.Flags&wire.FIN != 0 {
			return
		}
	}
}

// fill completes an outgoing segment with ports, window and, when the segment
// acknowledges, the acknowledgment number's companions.
func (c *Conn) fill(s *wire.Segment) {
	s.SrcPort = c.tuple.Local.Port()
	s.DstPort = c.tuple.Remote.Port()
	if s.Flags&wire.RST == 0 {
		s.Window = c.advertise()
	}
}

// transmit stamps s with ports and window, advances the send sequence, arms
// the retransmission timer, records the event and hands s to emit.
func (c *Conn) transmit(now clock.Time, s *wire.Segment, emit func(seg *wire.Segment, retransmit bool)) {
	if s.Flags&wire.RST == 0 {
		c.fill(s)
	}
	retrans := false
	if l := s.SeqLen(); l > 0 {
		end := s.Seq.Add(l)
		retrans = s.Seq.LessThan(c.sndMax)
		if s.Flags&wire.SYN != 0 {
			// A SYN-ACK answering a simultaneous open reuses our SYN's
			// sequence number but is its state's first SYN.
			retrans = c.synSends > 0
			c.synSends++
		}
		if retrans {
			c.stats.Retransmits++
			if c.rttTiming && c.rttSeq.GreaterThan(s.Seq) {
				// Karn: an RTT sample spanning a retransmission is ambiguous.
				c.rttTiming = false
			}
		} else {
			c.stats.BytesOut += uint64(len(s.Payload))
			if !c.rttTiming {
				c.rttTiming, c.rttSeq, c.rttStart = true, end, now
			}
		}
		if end.GreaterThan(c.sndNxt) {
			c.sndNxt = end
		}
		if end.GreaterThan(c.sndMax) {
			c.sndMax = end
		}
		if c.rtoAt == clock.Never {
			// RFC 6298 (5.1): "Every time a packet containing data is sent
			// (including a retransmission), if the timer is not running,
			// start it running so that it will expire after RTO seconds."
			c.startTimer(now, &c.rtoAt, c.rto, "retransmit")
		}
	}
	if s.Flags&wire.ACK != 0 {
		c.ackNow = false
	}
	c.stats.SegsOut++
	if c.cfg.Recorder != nil {
		e := trace.Event{At: now, Kind: trace.SegmentOut, Retransmit: retrans}
		if retrans {
			e.Reason = "RTO"
		}
		e.SetSegment(s)
		c.record(&e)
	}
	emit(s, retrans)
}
