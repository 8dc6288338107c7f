package tcp

import (
	"strconv"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
)

// HalfOpen is a passive connection in SYN-RECEIVED kept in what it needs
// between two calls, as Linux keeps a half-open connection in a
// tcp_request_sock rather than a socket: the 4-tuple, ISS and IRS, what
// the peer's SYN offered (MSS, window, window scale, SACK-permitted,
// timestamps and TS.Recent), and the SYN-ACK's sends, retransmission count
// and deadline. It is about a tenth of a Conn (TestHalfOpenSize): a
// listener's SYN queue holds these (issue 15: "a SYN-queue entry need not
// be a whole TCB").
//
// A HalfOpen does nothing itself: a driver makes the Conn again (Thaw)
// for every segment, timer or call, lets the Conn do what it does, and
// keeps it as a HalfOpen again (Freeze) when it is still only half-open.
// What the connection sends and when is therefore the Conn's by
// construction: the SYN-ACK and its retransmissions on RFC 6298's backoff,
// a duplicate SYN answered (RFC 9293 §3.10.7.4, takenBeforeSequenceCheck),
// a RST or a SYN in the window returning it to LISTEN, and the final ACK
// that must acknowledge ISS+1 ("If SND.UNA < SEG.ACK =< SND.NXT, then
// enter ESTABLISHED state"). Thaw(Freeze(c)) is c, field for field
// (TestHalfOpenRoundTrip).
//
// Freeze refuses a connection that holds more than a HalfOpen has room
// for: text that came with the SYN (RFC 9293 §3.10.7.2: "queued for
// processing later"), a challenge ACK's or an ICMP error's trace, a RST
// pending, a connection with socket options of its own. Such a connection
// stays whole; the SYN queue's bound still bounds it.
type HalfOpen struct {
	// rare is the Conn's (the addresses of an IPv6 connection), or nil.
	rare       *connRare
	tsRecentAt clock.Time // when TS.Recent was set: the SYN's arrival, with timestamps
	rttStart   clock.Time // when the first SYN-ACK went (RFC 6298 §3: timing it)
	sentAt     clock.Time // when the last SYN-ACK went
	rtoAt      clock.Time // the SYN-ACK's retransmission deadline
	key        Key        // the addresses of an IPv4 connection
	iss, irs   seq.Value
	rcvAdv     seq.Value // the right edge the SYN-ACK offered
	tsOff      uint32    // Snd.TSoffset
	tsRecent   uint32    // TS.Recent (RFC 7323 §4.3): the SYN's TSval
	sndWnd     uint16    // the SYN's window (never scaled: RFC 7323 §2.2)
	sndMSS     uint16    // SendMSS (RFC 9293 §3.7.1) from the SYN's MSS option
	mssCap     uint16
	segsIn     uint16 // segments received: the SYN and its retransmissions
	synSends   uint16 // SYN-ACKs sent
	retries    uint8  // RTO expirations (RFC 9293 §3.8.3)
	sndShift   uint8  // Snd.Wind.Shift, when halfWS
	flags      uint8
}

// HalfOpen's flags.
const (
	halfWS        = 1 << iota // the SYN offered window scaling (and we do)
	halfSACK                  // SACK-permitted on both sides
	halfTS                    // timestamps on both sides
	halfRTTTiming             // the first SYN-ACK is being timed (Karn: not after a retransmission)
)

// Freeze returns c as a HalfOpen, and false if c is not a passive
// connection in SYN-RECEIVED whose SYN-ACK is out, with nothing else a
// HalfOpen would lose. c must not be used after a Freeze that succeeded.
func (c *Conn) Freeze() (HalfOpen, bool) {
	if !c.freezable() {
		return HalfOpen{}, false
	}
	h := HalfOpen{
		tsRecentAt: c.tsRecentAt,
		rttStart:   c.rttStart,
		sentAt:     c.lastSendAt,
		rtoAt:      c.rtoAt,
		iss:        c.iss,
		irs:        c.irs,
		rcvAdv:     c.rcvAdvRight,
		tsOff:      c.tsOff,
		tsRecent:   c.tsRecent,
		sndWnd:     uint16(c.sndWnd),
		sndMSS:     uint16(c.sndMSS),
		mssCap:     c.mssCap,
		segsIn:     uint16(c.stats.SegsIn),
		synSends:   uint16(c.synSends),
		retries:    uint8(c.retries),
		sndShift:   c.sndShift,
	}
	if c.rare != nil {
		h.rare = c.rare
	} else {
		h.key = c.Key()
	}
	if c.wsOK {
		h.flags |= halfWS
	}
	if c.sackOK {
		h.flags |= halfSACK
	}
	if c.tsOK {
		h.flags |= halfTS
	}
	if c.rttTiming {
		h.flags |= halfRTTTiming
	}
	return h, true
}

// freezable reports whether Thaw can make c again from its HalfOpen:
// every variable a HalfOpen does not keep has the value Thaw gives it.
func (c *Conn) freezable() bool {
	p := c.pol
	cfg := &p.cfg
	switch {
	case c.state != SynReceived || !c.passive || c.done || !c.synSent || c.ownPolicy:
		return false
	case c.rare != nil && (!c.rare.tuple6 || c.rare.mtu != mtuSearch{} || c.rare.path != pathVars{}):
		return false
	case c.cc != nil || c.errCode != 0 || c.rcvShut || c.finQueued || c.rstPending || c.rstTS || c.probeDue:
		return false
	case c.rstSeq != 0 || c.rstAck != 0 || c.rstFlags != 0 || c.softErr != 0:
		return false
	case c.stats != Stats{SegsIn: c.stats.SegsIn, SegsOut: uint64(c.synSends), Retransmits: uint64(c.synSends - 1)}:
		return false
	case c.stats.SegsIn > 0xffff || c.synSends < 1 || c.retries < 0 || c.retries > 0xff:
		return false
	case c.sndWnd > 0xffff || c.maxSndWnd != c.sndWnd || c.sndMSS < 0 || c.sndMSS > 0xffff:
		return false
	}
	// The send side: the SYN-ACK is all that was sent.
	s := &c.sendVars
	if s.snd.mem != nil || s.snd.scratch != nil || s.snd.n != 0 || s.snd.head != 0 ||
		s.sndUna != s.iss || s.sndNxt != s.iss.Add(1) || s.sndWL1 != 0 || s.sndWL2 != 0 ||
		s.sndBufSeq != s.iss.Add(1) || s.finSeq != 0 || s.smallEnd != s.iss || s.smallEndSet ||
		s.sndBuf != int32(cfg.SendBuffer) || s.sndBufLocked || s.noDelay != cfg.NoDelay {
		return false
	}
	// The receive side: the SYN, and no text.
	r := &c.recvVars
	if r.rcv.mem != nil || r.rcv.n != 0 || r.rcv.head != 0 || r.ooo != nil || r.lastRecvAt != 0 || r.rcvSpaceAt != 0 ||
		r.rcvNxt != r.irs.Add(1) || r.oooFinSeq != 0 || r.rcvSpaceSeq != 0 || r.dsack != (dsackZero) ||
		r.rcvBuf != int32(cfg.RecvBuffer) || r.rcvBufMax != int32(cfg.RecvBufferMax) || r.oooBytes != 0 ||
		r.rcvMSS != 536 || r.rcvUnacked != 0 || r.quickAcks != 0 || r.oooAcks != 0 || r.chalCount != 0 ||
		r.chalStart != 0 || r.oowAt != 0 || r.finRcvd || r.oooFin || r.ackNow || r.dsackPending ||
		c.quickOff {
		return false
	}
	// The RTT estimator: no sample, the RTO backed off once per expiry.
	t := &c.rttVars
	if t.srtt != 0 || t.rttvar != 0 || t.minRTT != 0 || t.hasRTT || t.rto != halfOpenRTO(cfg, int(c.retries)) ||
		t.rttSeq != c.iss.Add(1) ||
		t.synRetransmitted != (c.retries > 0) {
		return false
	}
	// The other groups as newConn made them.
	if c.rackVars != (rackVars{rackXmit: -1, rackEnd: c.iss, rackFack: c.iss, dsackRound: c.iss, reoWndMult: 1}) ||
		c.recoveryVars != (recoveryVars{recoveryPoint: c.iss, recover: c.iss}) ||
		c.tlpVars != (tlpVars{}) ||
		c.probeVars != (probeVars{}) ||
		c.tx != nil || c.txHead != 0 || c.tsHead != 0 || c.tsTail != 0 || c.sackedBytes != 0 || c.lostBytes != 0 ||
		c.rexmitBytes != 0 || c.pendingSegs != 0 || c.sackedSegs != 0 {
		return false
	}
	tm := c.timers
	tm.rtoAt = clock.Never
	if tm != (timers{clock.Never, clock.Never, clock.Never, clock.Never, clock.Never, clock.Never, clock.Never, clock.Never}) {
		return false
	}
	// The options: as takeSynOptions left them.
	o := &c.optionVars
	optLen, rcvShift := int32(0), uint8(0)
	if o.tsOK {
		optLen = 12
	} else if o.tsRecent != 0 || o.tsRecentAt != 0 {
		return false
	}
	if o.wsOK {
		rcvShift = c.wantShift()
	} else if o.sndShift != 0 {
		return false
	}
	return o.lastAckSent == c.rcvNxt && o.optLen == optLen && o.rcvShift == rcvShift &&
		o.wsOK == (o.wsOK && !cfg.NoWindowScale) && o.sackOK == (o.sackOK && !cfg.NoSACK) && o.tsOK == (o.tsOK && !cfg.NoTimestamps)
}

var dsackZero = recvVars{}.dsack

// halfOpenRTO is the RTO after n expiries of the SYN-ACK's timer (RFC
// 6298 (5.5): doubled each time, at most MaxRTO).
func halfOpenRTO(cfg *Config, n int) time.Duration {
	rto := cfg.InitialRTO
	for range n {
		rto = min(rto*2, cfg.MaxRTO)
	}
	return rto
}

// Thaw makes the Conn that Freeze kept as h, a connection of p, in into
// if it is not nil (a Conn that was frozen, which nothing else holds), else
// in a new one.
func (p *Policy) Thaw(h *HalfOpen, into *Conn) *Conn {
	c := into
	if c == nil {
		c = new(Conn)
	}
	p.initConn(c, h.Tuple(), h.iss, h.rare)
	c.state, c.passive = SynReceived, true
	c.tsOff, c.mssCap = h.tsOff, h.mssCap
	c.irs, c.rcvNxt = h.irs, h.irs.Add(1)
	c.lastAckSent = c.rcvNxt
	c.rcvAdvRight = h.rcvAdv
	c.sndMSS = int32(h.sndMSS)
	c.wsOK = h.flags&halfWS != 0
	if c.wsOK {
		c.sndShift = h.sndShift
	} else {
		c.rcvShift = 0
	}
	c.sackOK = h.flags&halfSACK != 0
	c.tsOK = h.flags&halfTS != 0
	if c.tsOK {
		c.tsRecent, c.tsRecentAt, c.optLen = h.tsRecent, h.tsRecentAt, 12
	}
	c.sndWnd = seq.Size(h.sndWnd)
	c.maxSndWnd = c.sndWnd
	c.sndNxt = h.iss.Add(1)
	c.synSent = true
	c.synSends, c.retries = int16(h.synSends), int16(h.retries)
	c.rto = halfOpenRTO(&p.cfg, int(h.retries))
	c.synRetransmitted = h.retries > 0
	c.rttTiming, c.rttSeq, c.rttStart = h.flags&halfRTTTiming != 0, c.sndNxt, h.rttStart
	c.lastSendAt = h.sentAt
	c.rtoAt = h.rtoAt
	c.stats = Stats{SegsIn: uint64(h.segsIn), SegsOut: uint64(h.synSends), Retransmits: uint64(h.synSends - 1)}
	return c
}

// Key returns the HalfOpen's addresses in compact form (the zero Key for
// IPv6), as Conn.Key does.
func (h *HalfOpen) Key() Key { return h.key }

// Tuple returns the HalfOpen's addresses.
func (h *HalfOpen) Tuple() Tuple {
	if h.rare != nil {
		return h.rare.tuple
	}
	return h.key.tuple()
}

// NextDeadline is the Conn's NextDeadline: the SYN-ACK's retransmission
// timer.
func (h *HalfOpen) NextDeadline() clock.Time { return h.rtoAt }

// Retransmits returns how many times the SYN-ACK's timer expired.
func (h *HalfOpen) Retransmits() int { return int(h.retries) }

// SynAckRetries is how many times a half-open connection of p
// retransmits its SYN-ACK before it is given up (Config.SynAckRetries).
func (p *Policy) SynAckRetries() int { return p.cfg.SynAckRetries }

// PruneHalfOpen gives c up, silently as after its last SYN-ACK, if it is a
// passive connection in SYN-RECEIVED whose SYN-ACK's timer expired n
// times or more: it returns to LISTEN (RFC 9293 §3.10.7.4: "return this
// connection to LISTEN state") and is Done. A listener whose SYN queue is
// filling prunes its old half-open connections so (stack/halfopen.go), as
// Linux's reqsk_timer_handler does. It reports whether it did.
func (c *Conn) PruneHalfOpen(now clock.Time, n int) bool {
	if c.state != SynReceived || !c.passive || c.done || int(c.retries) < n {
		return false
	}
	if c.tracing() {
		c.note(now, "SYN queue more than half full: given up after "+strconv.Itoa(int(c.retries))+" SYN-ACK retransmissions (Linux's pruning of old half-open connections)")
	}
	c.backToListen(now, "SYN queue pruned")
	return true
}
