package tcp

import (
	"errors"
	"strconv"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
)

// ICMP and ICMPv6 errors about a connection's segments (RFC 1122 §4.2.3.9,
// RFC 5461, RFC 5927), and the path MTU they lower (RFC 1191, RFC 8201).
// The stack reads the message, finds the connection from the quoted header
// and hands it an ICMPError; what the message means for TCP is decided here.

// Errors a connection ends with because of an ICMP error. The Go API maps
// them onto EHOSTUNREACH and ENETUNREACH.
var (
	// ErrHostUnreachable: an ICMP Destination Unreachable (host
	// unreachable, administratively prohibited), Time Exceeded or the
	// ICMPv6 equivalents said the peer cannot be reached.
	ErrHostUnreachable = errors.New("no route to host")
	// ErrNetUnreachable: an ICMP net unreachable, or ICMPv6's "no route to
	// destination".
	ErrNetUnreachable = errors.New("network is unreachable")
)

// ICMPError is an ICMP or ICMPv6 error message about one of the
// connection's segments, as the stack read it from the message and its
// quote.
type ICMPError struct {
	// Err is what the message means to the user: ErrConnRefused (port or
	// protocol unreachable), ErrHostUnreachable or ErrNetUnreachable. Nil
	// for a Fragmentation Needed or Packet Too Big, which is no error.
	Err error
	// Hard is RFC 1122 §4.2.3.9's "hard error condition": "Destination
	// Unreachable -- codes 2-4 ... TCP SHOULD abort the connection"
	// (protocol and port unreachable; code 4 is path MTU discovery's now),
	// with the administratively prohibited codes and ICMPv6's port
	// unreachable and prohibited codes, as RFC 5461 §2 lists them.
	Hard bool
	// MSS, for a Fragmentation Needed (RFC 1191) or Packet Too Big (RFC
	// 8201), is the SendMSS the path allows: its MTU, already floored by
	// the stack, less the IP and TCP headers. 0 otherwise.
	MSS int
	// Seq is the sequence number of the quoted segment.
	Seq seq.Value
	// What names the message for the trace ("ICMP port-unreachable").
	What string
}

// ICMPResult is what a connection did with an ICMPError.
type ICMPResult uint8

const (
	// ICMPInvalid: the quoted sequence number is not in SND.UNA..SND.NXT;
	// nothing changed.
	ICMPInvalid ICMPResult = iota + 1
	// ICMPSoftError: the error was noted, to be reported if the
	// connection times out.
	ICMPSoftError
	// ICMPAborted: a hard error ended the connection in SYN-SENT.
	ICMPAborted
	// ICMPMSSLowered: the send MSS went down; segments that no longer fit
	// were re-cut and are resent at the next Output.
	ICMPMSSLowered
	// ICMPNoChange: a path MTU message that would not lower the MSS.
	ICMPNoChange
)

// softTimeouts are what Err returns for a connection that timed out after
// an ICMP soft error, by the error's index in connErrors: "it could merely
// note the message and report it to the application only when and if the
// TCP connection times out" (RFC 1122 §4.2.3.9), as Linux reports
// sk_err_soft instead of ETIMEDOUT.
var softTimeouts = func() [len(connErrors)]error {
	var t [len(connErrors)]error
	for i, e := range connErrors {
		if e != nil {
			t[i] = &softTimeout{soft: e}
		}
	}
	return t
}()

// softTimeout is ErrTimeout with the ICMP soft error that preceded it:
// errors.Is holds for both.
type softTimeout struct{ soft error }

func (e *softTimeout) Error() string {
	return ErrTimeout.Error() + " (last ICMP error: " + e.soft.Error() + ")"
}
func (e *softTimeout) Is(target error) bool { return target == ErrTimeout }
func (e *softTimeout) Unwrap() error        { return e.soft }

// SoftError returns the last ICMP soft error the connection noted, or nil.
func (c *Conn) SoftError() error { return connErrors[c.softErr] }

// ourMSS is the MSS we announce and the most SendMSS may be: the policy's,
// bounded by the link and path MTU (SetMSSCap, HandleICMP).
func (c *Conn) ourMSS() int {
	m := int(c.pol.cfg.MSS)
	if c.mssCap != 0 {
		m = min(m, int(c.mssCap))
	}
	return m
}

// SetMSSCap bounds the connection's MSS below the policy's before its SYN
// (or SYN-ACK) goes: the stack sets it from the MTU of the link for the
// connection's family (40 bytes of IPv6 header instead of 20) and from the
// path MTU it knows for the destination, so that "the MSS option ... value
// [is] the IP MTU minus the IP and TCP headers" of RFC 9293 §3.7.1 for
// either family. A value below 64 is taken as 64.
func (c *Conn) SetMSSCap(mss int) {
	c.mssCap = uint16(min(max(mss, 64), 65535))
}

// HandleICMP acts on an ICMP error message quoting one of the connection's
// segments.
//
// Every message is first checked against the quoted sequence number: RFC
// 5927 §4.1, "TCP SHOULD check that the TCP sequence number contained in
// the payload of the ICMP error message is within the range SND.UNA =<
// SEG.SEQ < SND.NXT", so that a blind attacker, who must guess it as for a
// RST (RFC 5961), can neither reset nor shrink the connection. A message
// that fails is dropped and changes nothing.
//
// Then: a Fragmentation Needed or Packet Too Big lowers the send MSS to
// what the path allows (never raises it: RFC 8201 §4, "A node MUST NOT
// increase its estimate of the Path MTU in response to the contents of a
// Packet Too Big message"), and the segments in flight that no longer fit
// are re-cut and resent at once, not left to the retransmission timer (as
// Linux's tcp_simple_retransmit, without touching the congestion window:
// the data in the network did not grow, only its units shrank). A hard
// error aborts a connection in SYN-SENT (RFC 1122 §4.2.3.9, RFC 5461 §4.1).
// In the synchronized states a hard error is taken as a soft one, as RFC
// 5461 §4 and Linux do, since aborting an established connection on an
// ICMP message is the attack RFC 5927 describes. A soft error "TCP MUST NOT
// abort the connection, and it SHOULD make the information available to
// the application" (RFC 1122 §4.2.3.9): it is noted and reported by Err if
// the connection times out.
func (c *Conn) HandleICMP(now clock.Time, m *ICMPError) ICMPResult {
	if c.state == Closed || c.state == Listen ||
		!(c.sndUna.LessThanEq(m.Seq) && m.Seq.LessThan(c.sndNxt)) {
		if c.tracing() {
			c.record(&trace.Event{At: now, Kind: trace.Drop, Cause: trace.DropICMPBadQuote,
				Reason: m.What + " quoting seq=" + strconv.FormatUint(uint64(m.Seq), 10) +
					", SND.UNA=" + strconv.FormatUint(uint64(c.sndUna), 10) +
					" SND.NXT=" + strconv.FormatUint(uint64(c.sndNxt), 10)})
		}
		return ICMPInvalid
	}
	if m.MSS > 0 {
		return c.lowerMSS(now, m, true)
	}
	if m.Hard && c.state == SynSent {
		c.close(now, m.Err, m.What+": connection attempt aborted (RFC 1122 §4.2.3.9)")
		return ICMPAborted
	}
	for i, e := range connErrors {
		if e != nil && e == m.Err {
			c.softErr = uint8(i)
		}
	}
	if c.tracing() {
		c.note(now, m.What+": soft error noted, reported on a timeout")
	}
	return ICMPSoftError
}

// lowerMSS takes a path MTU message; resend is false for a decrease
// learnt from another connection's (PathMTUDecreased).
func (c *Conn) lowerMSS(now clock.Time, m *ICMPError, resend bool) ICMPResult {
	mss := min(max(m.MSS, 64), 65535)
	if s := c.search(); s != nil && int32(mss) < s.high {
		// Most likely about a probe (plpmtud.go): the path MTU lies below
		// it, and the search below the message's.
		s.high = max(int32(mss), s.low)
		if s.high-s.low < ProbeThreshold {
			c.searchResult(now)
		}
	}
	if mss >= c.ourMSS() && mss >= int(c.sndMSS) {
		return ICMPNoChange
	}
	if mss < c.ourMSS() {
		c.mssCap = uint16(mss)
	}
	if !c.state.Synchronized() {
		// The handshake has not set SendMSS yet, or set it from the SYN
		// alone: the cap applies to it.
		c.sndMSS = min(c.sndMSS, int32(mss))
		return ICMPMSSLowered
	}
	if mss >= int(c.sndMSS) {
		return ICMPNoChange
	}
	old := c.sndMSS
	c.sndMSS = int32(mss)
	// RFC 1191 §3: "An attempt to detect an increase (by sending a
	// datagram larger than the current estimate) MUST NOT be done less
	// than 5 minutes after a Datagram Too Big message has been received
	// ... We recommend setting these timers at twice their minimum
	// values" (RFC 8201 §4 likewise): the search upward (plpmtud.go)
	// starts ProbeInterval from now.
	c.startSearch(int32(mss), old, now.Add(ProbeInterval))
	n := c.cut(resend, resend)
	if c.tracing() {
		how := " and resent"
		if !resend {
			how = ", none resent"
		}
		c.note(now, m.What+": send MSS "+strconv.Itoa(int(old))+" -> "+strconv.Itoa(mss)+
			", "+strconv.Itoa(n)+" segments re-cut"+how)
	}
	return ICMPMSSLowered
}

// PathMTUDecreased tells a synchronized connection that the stack's path
// MTU estimate for its destination went down, to one that allows a
// SendMSS of mss, because of a message or black hole about another
// connection (or a UDP datagram): RFC 1191 §6.2, "Any packetization layer
// instance (for example, a TCP connection) that is actively using the path
// must be notified if the PMTU estimate is decreased" (RFC 8201 says the
// same for IPv6). SendMSS falls to mss as for the connection's own Fragmentation
// Needed or Packet Too Big (HandleICMP), and so does the search upward
// (not before ProbeInterval). Nothing is resent: RFC 1191 §6.2,
// "Retransmission should be done for only for those packets that are
// known to be dropped, as indicated by a Datagram Too Big message", and
// RFC 8201 §5.4 has an immediate retransmission "only for the specific
// connection specified by the Packet Too Big message". The segments in
// flight that no longer fit are re-cut all the same, keeping what the
// scoreboard knows of them, so that whatever resends them later (the
// connection's own loss detection, its retransmission timer) sends pieces
// the path carries. It reports whether SendMSS went down; a connection not
// yet synchronized is left alone (false): its handshake's SendMSS is
// bounded by SetPathMSS's value, and the caller tells it again once it is;
// so is one whose SendMSS is not above mss.
func (c *Conn) PathMTUDecreased(now clock.Time, mss int) bool {
	if !c.state.Synchronized() || c.state == TimeWait || mss >= int(c.sndMSS) {
		// Not above the path's (the connection that made the decrease,
		// among others): its search upward, if any, is left alone.
		return false
	}
	return c.lowerMSS(now, &ICMPError{MSS: mss, What: "path MTU to the destination decreased"}, false) == ICMPMSSLowered
}

// recut splits every segment in flight, not SACKed, that is longer than
// the effective MSS into segments that fit, marks them lost so that the
// next Output resends them, and returns how many segments it made. The
// scoreboard's counts and the time-ordered list are rebuilt, which costs a
// walk of the queue: a path MTU change is rare.
func (c *Conn) recut() int { return c.cut(true, false) }

// cut is recut; with lost false the pieces keep their segment's state
// (lost, retransmitted or neither) and nothing is resent because of it.
// With join, records waiting to be resent join the one before them first
// (joinable): a path MTU message's re-cut.
func (c *Conn) cut(lost, join bool) int {
	mss := c.effMSS()
	q := c.txq()
	need := false
	for i := range q {
		if !q[i].sacked && c.dataLen(&q[i]) > mss {
			need = true
			break
		}
	}
	if !need {
		return 0
	}
	nt := c.pol.getTx()
	made := 0
	lastMade := false // nt's last record is a piece made here
	for _, t := range q {
		t.prev, t.next, t.linked = 0, 0, false
		if join && t.pending() && len(nt) > 0 && joinable(&nt[len(nt)-1], &t) {
			// A piece an earlier re-cut made, not resent yet, joins the
			// one before it, so that messages lowering the MSS again and
			// again before an Output do not cut the data into ever smaller
			// pieces (each would leave its remainder behind).
			p := nt[len(nt)-1]
			nt = nt[:len(nt)-1]
			if lastMade {
				made--
			}
			p.end, p.fin = t.end, t.fin
			t = p
		}
		lastMade = false
		if t.sacked || c.dataLen(&t) <= mss {
			nt = append(nt, t)
			continue
		}
		lastMade = true
		dataEnd := t.end
		if t.fin {
			dataEnd--
		}
		for s := t.start; s.LessThan(dataEnd); {
			p := t
			p.start = s
			p.end = s.Add(seq.Size(min(mss, int(dataEnd.Size(s)))))
			s = p.end
			p.fin = false
			if s == dataEnd && t.fin {
				p.fin, p.end = true, p.end.Add(1)
			}
			if lost {
				p.lost, p.rexmitted = true, false
			}
			nt = append(nt, p)
			made++
		}
	}
	clear(c.tx)
	c.pol.putTx(c.tx[:0])
	c.tx, c.txHead, c.tsHead, c.tsTail = nt, 0, 0, 0
	c.sackedBytes, c.lostBytes, c.rexmitBytes, c.pendingSegs, c.sackedSegs = 0, 0, 0, 0, 0
	for i := range c.tx {
		t := &c.tx[i]
		n := int32(t.len())
		if t.sacked {
			c.sackedBytes += n
			c.sackedSegs++
		}
		if t.lost {
			c.lostBytes += n
		}
		if t.rexmitted {
			c.rexmitBytes += n
		}
		if t.pending() {
			c.pendingSegs++
		}
		if !t.sacked && !t.pending() {
			c.tsLink(i)
		}
	}
	// The first resend goes whatever the congestion window says, as the
	// first retransmission of a recovery does (RFC 6675 §5 (4.3)): the
	// segments it replaces never arrived.
	c.fastRexmitDue = c.fastRexmitDue || lost
	return made
}

// joinable reports whether t, waiting to be resent, may join p, just
// before it, into one record: both waiting, contiguous, sent as often and
// at the same times, neither SACKed or D-SACKed, p without the FIN.
func joinable(p, t *txSeg) bool {
	return p.pending() && !p.sacked && !p.fin && !p.dsacked && !t.sacked && !t.dsacked &&
		p.end == t.start && p.xmits == t.xmits && p.sentAt == t.sentAt && p.firstSent == t.firstSent
}

// dataLen is how many bytes of data t carries (its FIN is no byte).
func (c *Conn) dataLen(t *txSeg) int {
	n := t.len()
	if t.fin {
		n--
	}
	return n
}
