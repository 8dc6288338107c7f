package tcp

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the
// SYN-ACK's sequence number carries the connection's state instead of a
// TCB, and the ACK that completes the handshake brings it back.
//
// The ISS is a keyed MAC of 30 bits over the 4-tuple, the peer's ISN, a
// coarse counter (the time in units of CookiePeriod, 64 s as Linux's
// COUNTER_TRIES period) and the MSS index, followed by the 2-bit index into
// cookieMSS (Linux's msstab for IPv4). An ACK is accepted with the current
// counter or the one before it, so a cookie lives between 64 and 128 s.
// The MAC is SHA-256 over the stack's ISNKey and the fields, truncated, as
// the ISNs of RFC 6528 are: every message has the same length, so
// SHA-256's length extension does not apply.
//
// When the SYN carried timestamps, the SYN-ACK's TSval carries the options
// the peer asked for in its low 6 bits, as Linux does (cookie_init_timestamp):
// bits 0–3 the peer's window scale (15: none), bit 4 SACK-permitted, bit 5
// reserved (Linux's ECN). The peer echoes them in TSecr. Without timestamps
// a connection made from a cookie has no window scaling and no SACK (as
// Linux's): RFC 4987 §3.6 names this cost.

// CookiePeriod is the unit of the cookie counter.
const CookiePeriod = 64 * time.Second

// cookieMSS are the MSS values a cookie can carry (Linux's msstab).
var cookieMSS = [4]uint16{536, 1300, 1440, 1460}

const (
	cookieTSBits   = 6
	cookieTSMask   = 1<<cookieTSBits - 1
	cookieNoWScale = 0xf
	cookieSACK     = 1 << 4
)

// Errors of CookieConn: why a cookie did not validate.
var (
	ErrCookieNotACK = errors.New("syn cookie: segment is not a bare ACK")
	ErrCookieMAC    = errors.New("syn cookie: MAC does not match this tuple, ISN and the last two counters")
	ErrCookieTS     = errors.New("syn cookie: TSecr's option bits are invalid")
)

func cookieCounter(now clock.Time) uint32 { return uint32(int64(now) / int64(CookiePeriod)) }

// cookieMAC is the 30-bit MAC of a cookie.
func cookieMAC(key ISNKey, t Tuple, peerISN seq.Value, count uint32, idx uint32) uint32 {
	var buf [1 + 16 + 2*(16+2) + 4 + 4 + 1]byte
	buf[0] = 'C' // not an ISN's input
	n := 1 + copy(buf[1:], key[:])
	for _, ap := range [2]netip.AddrPort{t.Local, t.Remote} {
		a := ap.Addr().As16()
		n += copy(buf[n:], a[:])
		binary.BigEndian.PutUint16(buf[n:], ap.Port())
		n += 2
	}
	binary.BigEndian.PutUint32(buf[n:], uint32(peerISN))
	binary.BigEndian.PutUint32(buf[n+4:], count)
	buf[n+8] = byte(idx)
	h := sha256.Sum256(buf[:n+9])
	return binary.BigEndian.Uint32(h[:4]) >> 2
}

// cookieISS is the ISS of a cookie SYN-ACK.
func cookieISS(key ISNKey, t Tuple, peerISN seq.Value, now clock.Time, idx uint32) seq.Value {
	return seq.Value(cookieMAC(key, t, peerISN, cookieCounter(now), idx)<<2 | idx)
}

// cookieMSSIndex is the largest table entry the peer's MSS allows (536
// without the option, RFC 9293 §3.7.1).
func cookieMSSIndex(o *wire.Options) uint32 {
	mss := uint16(536)
	if o.HasMSS && o.MSS > 0 {
		mss = o.MSS
	}
	idx := uint32(0)
	for i, m := range cookieMSS {
		if m <= mss {
			idx = uint32(i)
		}
	}
	return idx
}

// CookieSYNACK answers syn, which arrived on tuple t, statelessly: the
// SYN-ACK a connection of p would send, with a cookie as its ISS. mssCap is
// what the stack would hand SetMSSCap (0: none).
func (p *Policy) CookieSYNACK(key ISNKey, t Tuple, syn *wire.Segment, mssCap int, now clock.Time) wire.Segment {
	cfg := &p.cfg
	idx := cookieMSSIndex(&syn.Options)
	iss := cookieISS(key, t, syn.Seq, now, idx)
	out := wire.Segment{SrcPort: t.Local.Port(), DstPort: t.Remote.Port(), Seq: iss, Ack: syn.Seq.Add(1),
		Flags: wire.SYN | wire.ACK, Window: uint16(min(cfg.RecvBuffer, 65535))}
	o := &out.Options
	mss := int(cfg.MSS)
	if mssCap != 0 {
		mss = min(mss, max(mssCap, 64))
	}
	o.HasMSS, o.MSS = true, uint16(mss)
	in := &syn.Options
	ws := in.HasWScale && !cfg.NoWindowScale
	sack := in.SACKPermitted && !cfg.NoSACK
	if in.HasTimestamps && !cfg.NoTimestamps {
		if ws {
			o.HasWScale, o.WScale = true, rcvShiftFor(cfg.RecvBufferMax)
		}
		o.SACKPermitted = sack
		bits := uint32(cookieNoWScale)
		if ws {
			bits = uint32(min(in.WScale, maxWScale))
		}
		if sack {
			bits |= cookieSACK
		}
		// Our timestamp clock as the connection will run it (tsNow, with
		// the offset of the address pair), its low bits replaced; never
		// ahead of that clock, so that the connection's next TSval is not
		// older (RFC 7323 §5.4).
		ts := uint32(int64(now)/int64(time.Millisecond)) + TSOffset(key, t.Local.Addr(), t.Remote.Addr())
		v := ts&^cookieTSMask | bits
		if int32(v-ts) > 0 {
			v -= 1 << cookieTSBits
		}
		o.HasTimestamps, o.TSVal, o.TSEcr = true, v, in.TSVal
	}
	return out
}

// rcvShiftFor is wantShift for a receive buffer that may reach max bytes.
func rcvShiftFor(max int) uint8 {
	var s uint8
	for s < maxWScale && max>>s > 65535 {
		s++
	}
	return s
}

// CookieConn checks that ack, a bare ACK for a listener on tuple t with no
// connection, completes a handshake whose SYN-ACK CookieSYNACK sent, and
// returns the connection it makes: ESTABLISHED, with the options the peer's
// SYN asked for as far as the cookie carries them. The ACK's text, if any,
// is processed as the connection's. A nil Conn comes with the reason.
func (p *Policy) CookieConn(key ISNKey, t Tuple, ack *wire.Segment, mssCap int, now clock.Time) (*Conn, error) {
	if ack.Flags&(wire.SYN|wire.RST|wire.ACK) != wire.ACK {
		return nil, ErrCookieNotACK
	}
	iss := ack.Ack - 1
	peerISN := ack.Seq - 1
	idx := uint32(iss) & 3
	count := cookieCounter(now)
	mac := uint32(iss) >> 2
	if cookieMAC(key, t, peerISN, count, idx) != mac && (count == 0 || cookieMAC(key, t, peerISN, count-1, idx) != mac) {
		return nil, ErrCookieMAC
	}
	// The SYN, as far as the cookie remembers it.
	syn := wire.Segment{SrcPort: t.Remote.Port(), DstPort: t.Local.Port(), Seq: peerISN, Flags: wire.SYN, Window: ack.Window}
	o := &syn.Options
	o.HasMSS, o.MSS = true, cookieMSS[idx]
	if ack.Options.HasTimestamps && !p.cfg.NoTimestamps {
		bits := ack.Options.TSEcr & cookieTSMask
		if bits&^(cookieSACK|0xf) != 0 {
			return nil, ErrCookieTS
		}
		if w := bits & 0xf; w != cookieNoWScale {
			if w > maxWScale {
				return nil, ErrCookieTS
			}
			o.HasWScale, o.WScale = true, uint8(w)
		}
		o.SACKPermitted = bits&cookieSACK != 0
		o.HasTimestamps, o.TSVal = true, ack.Options.TSVal
	}
	c := p.NewPassive(t, iss)
	c.SetTSOffset(TSOffset(key, t.Local.Addr(), t.Remote.Addr()))
	if mssCap != 0 {
		c.SetMSSCap(mssCap)
	}
	c.inputListen(now, &syn)
	if !c.wsOK {
		c.rcvShift = 0
	}
	// The SYN-ACK went: what sendSYN and transmit would have recorded,
	// except the RTT timing (we do not know when it was sent).
	c.advertise(true)
	c.synSent = true
	c.synSends = 1
	c.sndNxt = iss.Add(1)
	c.note(now, "connection from a SYN cookie")
	c.Input(now, ack)
	if c.state != Established && c.state != CloseWait {
		return nil, ErrCookieMAC
	}
	return c, nil
}
