package tcp

import (
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// ReopenOK reports whether s, a SYN arriving for this connection in
// TIME-WAIT, shows that it belongs to a new incarnation, so that the
// listener may take it (the stack frees the TIME-WAIT connection first).
//
// RFC 1122 §4.2.2.13: a TCP "MAY accept a new SYN from the remote TCP to
// reopen the connection directly from TIME-WAIT state, if it: (1) assigns
// its initial sequence number for the new connection to be larger than the
// largest sequence number it used on the previous connection incarnation,
// and (2) returns to TIME-WAIT state if the SYN turns out to be an old
// duplicate." RFC 6191 §2 decides "new" by timestamps when the new
// incarnation would use them: a SYN whose TSval is greater than the last
// one seen (TS.Recent), or equal with a sequence number above RCV.NXT, is
// new; without timestamps, a sequence number above RCV.NXT (the RFC 1122
// rule). Any other SYN leaves the connection in TIME-WAIT, which answers it
// as before (RFC 9293 §3.10.7.4).
func (c *Conn) ReopenOK(s *wire.Segment) bool {
	if c.state != TimeWait || s.Flags&(wire.SYN|wire.ACK|wire.RST|wire.FIN) != wire.SYN {
		return false
	}
	if c.tsOK && s.Options.HasTimestamps {
		d := int32(s.Options.TSVal - c.tsRecent)
		return d > 0 || d == 0 && s.Seq.GreaterThan(c.rcvNxt)
	}
	return s.Seq.GreaterThan(c.rcvNxt)
}

// SndNxt returns SND.NXT: after TIME-WAIT, the floor of the next
// incarnation's ISS (RFC 1122 §4.2.2.13 (1)).
func (c *Conn) SndNxt() seq.Value { return c.sndNxt }

// ReopenISS is the ISS for the incarnation that replaces this one: iss if
// it is above SND.NXT, else SND.NXT plus 2^16+2 (as Linux's tw_snd_nxt +
// 65535 + 2), so that it is "larger than the largest sequence number it
// used on the previous connection incarnation" (RFC 1122 §4.2.2.13).
func (c *Conn) ReopenISS(iss seq.Value) seq.Value {
	if iss.GreaterThan(c.sndNxt) {
		return iss
	}
	return c.sndNxt.Add(65535 + 2)
}
