package tcp

import (
	"strconv"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Options negotiated in the handshake: window scaling and timestamps (RFC
// 7323) and SACK (RFC 2018). Each is used only when both SYNs carry it.

// maxWScale is the largest shift RFC 7323 §2.3 allows: "If a Window Scale
// option is received with a shift.cnt value larger than 14, the TCP SHOULD
// log the error but MUST use 14 instead of the specified value."
const maxWScale = 14

// wantShift is the window scale we offer: the smallest shift that lets the
// largest receive buffer autotuning may reach be advertised in 16 bits.
func (c *Conn) wantShift() uint8 {
	var s uint8
	for s < maxWScale && int(c.rcvBufMax)>>s > 65535 {
		s++
	}
	return s
}

// synOptions fills the options of our SYN or SYN-ACK. A SYN offers every
// option enabled; a SYN-ACK answers only those the peer's SYN offered
// (RFC 7323 §2.2: a SYN-ACK carries Window Scale only "if it received a
// Window Scale option in the initial <SYN>"; §3.2 likewise for timestamps;
// RFC 2018 §2 for SACK-permitted).
func (c *Conn) synOptions(now clock.Time, o *wire.Options, synAck bool) {
	o.HasMSS, o.MSS = true, uint16(c.ourMSS())
	if !c.pol.cfg.NoWindowScale && (!synAck || c.wsOK) {
		o.HasWScale, o.WScale = true, c.rcvShift
	}
	if !c.pol.cfg.NoSACK && (!synAck || c.sackOK) {
		o.SACKPermitted = true
	}
	if !c.pol.cfg.NoTimestamps && (!synAck || c.tsOK) {
		o.HasTimestamps, o.TSVal = true, c.tsNow(now)
		if synAck {
			o.TSEcr = c.tsRecent
		}
	}
}

// takeSynOptions records what the peer's SYN (or SYN-ACK) offered. For an
// active open the options we sent decide; for a passive one, the SYN-ACK
// we are about to send answers with the same set.
func (c *Conn) takeSynOptions(now clock.Time, s *wire.Segment) {
	// RFC 9293 §3.7.1: "If an MSS Option is not received at connection
	// setup, TCP implementations MUST assume a default send MSS of 536".
	mss := 536
	if s.Options.HasMSS && s.Options.MSS > 0 {
		mss = int(s.Options.MSS)
	}
	c.sndMSS = int32(min(peerMSS(mss), c.ourMSS()))
	c.applyPathMSS(now) // plpmtud.go
	o := &s.Options
	c.wsOK = o.HasWScale && !c.pol.cfg.NoWindowScale
	if c.wsOK {
		c.sndShift = min(o.WScale, maxWScale)
		if o.WScale > maxWScale {
			c.note(now, "peer's window scale "+strconv.Itoa(int(o.WScale))+" above 14; using 14 (RFC 7323 §2.3)")
		}
	} else {
		// RFC 7323 §2.2: without the option on both SYNs, "the window
		// scaling function is disabled in both directions": we may not
		// offer more than 65535 bytes.
		c.sndShift, c.rcvShift = 0, 0
	}
	c.sackOK = o.SACKPermitted && !c.pol.cfg.NoSACK
	c.tsOK = o.HasTimestamps && !c.pol.cfg.NoTimestamps
	if c.tsOK {
		c.tsRecent, c.tsRecentAt = o.TSVal, now
	}
	if c.tsOK {
		// RFC 7323 §3.2: timestamps take 12 bytes of every segment, which
		// the sender must leave room for (the "effective send MSS" of
		// RFC 9293 §3.7.1 is reduced by the options' size).
		c.optLen = 12
	}
}

// tsNow is our timestamp clock: milliseconds (RFC 7323 §5.4: "between 1 ms
// and 1 sec per tick"), plus the connection's offset (Snd.TSoffset: by
// default from the ISS, which is already a keyed hash of the connection's
// addresses (RFC 6528); a stack sets one per address pair, TSOffset).
func (c *Conn) tsNow(now clock.Time) uint32 {
	return uint32(int64(now)/int64(time.Millisecond)) + c.tsOff
}

// pawsAgeLimit is how long TS.Recent stays valid without a segment (RFC
// 7323 §5.5: "If a connection remains idle for more than 24 days, then
// TS.Recent ... MUST be invalidated").
const pawsAgeLimit = 24 * 24 * time.Hour

// paws applies RFC 7323 §5.3 to a synchronized connection's segment; false
// means it was dropped. The peer's timestamp clock may wrap, so values are
// compared modulo 2^32.
func (c *Conn) paws(now clock.Time, s *wire.Segment) bool {
	if !c.tsOK {
		return true
	}
	o := &s.Options
	if !o.HasTimestamps {
		// RFC 7323 §3.2: "If a non-<RST> segment is received without a
		// TSopt, a TCP SHOULD silently drop the segment."
		if s.Flags&wire.RST != 0 {
			return true
		}
		c.drop(now, trace.DropNoTimestamp)
		return false
	}
	// R1: "If there is a Timestamps option in the arriving segment,
	// SEG.TSval < TS.Recent, TS.Recent is valid (see later discussion), and
	// if the RST bit is not set, then treat the arriving segment as not
	// acceptable: Send an acknowledgment in reply as specified in Section
	// 3.10.7.4 of [RFC9293] and drop the segment."
	if s.Flags&wire.RST == 0 && int32(o.TSVal-c.tsRecent) < 0 && now.Sub(c.tsRecentAt) < pawsAgeLimit {
		c.stats.PAWSDrops++
		if n := len(s.Payload); n > 0 && s.Seq.LessThan(c.rcvNxt) {
			// A duplicate (an original that a retransmission
			// overtook carries the older TSval): RFC 2883 §4, "the
			// first block of the SACK option should be a D-SACK block
			// specifying the sequence numbers for the duplicate
			// segment that triggers the acknowledgement", for the part
			// we already have, as Linux's tcp_send_dupack does for the
			// segments PAWS rejects.
			end := s.Seq.Add(seq.Size(n))
			if end.GreaterThan(c.rcvNxt) {
				end = c.rcvNxt
			}
			c.stats.DupBytesIn += uint64(end.Size(s.Seq))
			c.setDSACK(s.Seq, end)
		}
		c.ackInvalid(now, s)
		detail := ""
		if c.tracing() {
			detail = "timestamp " + strconv.FormatUint(uint64(o.TSVal), 10) + " older than TS.Recent " + strconv.FormatUint(uint64(c.tsRecent), 10)
		}
		c.dropDetail(now, trace.DropPAWS, detail)
		return false
	}
	return true
}

// takeTimestamp updates TS.Recent (RFC 7323 §4.3 (2)): "If SEG.TSval >=
// TS.Recent and SEG.SEQ =< Last.ACK.sent, then SEG.TSval is copied to
// TS.Recent". Called for acceptable segments after PAWS.
func (c *Conn) takeTimestamp(now clock.Time, s *wire.Segment) {
	if !c.tsOK || !s.Options.HasTimestamps {
		return
	}
	if int32(s.Options.TSVal-c.tsRecent) >= 0 && s.Seq.LessThanEq(c.lastAckSent) {
		c.tsRecent, c.tsRecentAt = s.Options.TSVal, now
	}
}

// stampOptions puts the per-segment options on an outgoing non-SYN segment:
// timestamps (RFC 7323 §3.2: "Once TSopt has been successfully negotiated
// ... the TSopt MUST be sent in every non-<RST> segment") and SACK blocks
// (RFC 2018) on ACKs.
func (c *Conn) stampOptions(now clock.Time, s *wire.Segment) {
	if c.tsOK {
		s.Options.HasTimestamps = true
		s.Options.TSVal = c.tsNow(now)
		s.Options.TSEcr = c.tsRecent
	}
	if c.sackOK && s.Flags&wire.ACK != 0 {
		c.fillSACK(&s.Options)
	}
	if s.Flags&wire.ACK != 0 {
		c.lastAckSent = s.Ack
	}
}

// scaledWindow converts an arriving segment's window field to bytes (RFC
// 7323 §2.3: "the Window field in a segment where the SYN bit is set ...
// MUST NOT be scaled").
func (c *Conn) scaledWindow(s *wire.Segment) seq.Size {
	if s.Flags&wire.SYN != 0 {
		return seq.Size(s.Window)
	}
	return seq.Size(s.Window) << c.sndShift
}
