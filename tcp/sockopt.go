package tcp

import (
	"errors"
	"strconv"
	"time"

	"github.com/gosynack/synack/clock"
)

// Socket options a user may change on a live connection, like setsockopt on
// a kernel socket. Each takes effect from the next event on.

// SetNoDelay turns Nagle's algorithm off (true) or on (false), like
// TCP_NODELAY.
func (c *Conn) SetNoDelay(on bool) { c.noDelay = on }

// SetQuickACK is like TCP_QUICKACK on Linux. Off, the connection pauses
// its quick-ACK mode (Config.QuickACKs), so that the next segments' ACKs
// are delayed as usual (Linux's pingpong mode); on resumes it, and an ACK
// the delayed-ACK timer holds goes with the next output, at once. RFC 9293
// §3.8.6.3 leaves the delay to the implementation, below 0.5 s.
func (c *Conn) SetQuickACK(on bool) {
	c.quickOff = !on
	if on && c.delackAt != clock.Never && c.state.Synchronized() {
		c.ackNow = true
	}
}

// NoDelay reports whether Nagle's algorithm is off.
func (c *Conn) NoDelay() bool { return c.noDelay }

// SetKeepAlive turns keepalive on with the given idle time, probe interval
// and probe count (zero interval or count keep their current values), or
// off when idle is zero, like SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL
// and TCP_KEEPCNT.
func (c *Conn) SetKeepAlive(now clock.Time, idle, interval time.Duration, count int) {
	cfg := c.ownConfig()
	cfg.KeepAliveIdle = max(idle, 0)
	if interval > 0 {
		cfg.KeepAliveInterval = interval
	}
	if count > 0 {
		cfg.KeepAliveCount = count
	}
	c.armKeepAlive(now)
}

// SetUserTimeout sets the RFC 5482 user timeout (zero: none), like
// TCP_USER_TIMEOUT.
func (c *Conn) SetUserTimeout(d time.Duration) { c.ownConfig().UserTimeout = max(d, 0) }

// SetSendBuffer sets the send buffer size in bytes, like SO_SNDBUF, and
// turns send-buffer autotuning off. It is clamped to [1, MaxBuffer]; data
// already buffered is kept.
func (c *Conn) SetSendBuffer(n int) {
	c.sndBuf = int32(min(max(n, 1), MaxBuffer))
	c.sndBufLocked = true
}

// SetRecvBuffer sets the receive buffer size in bytes, like SO_RCVBUF, and
// turns autotuning off for this connection (as Linux does when SO_RCVBUF is
// set). It is clamped to [1, MaxBuffer]; the window already offered is
// never withdrawn (RFC 9293 §3.8.6.2.2). The window scale is the one chosen
// when the connection was made, from Config.RecvBufferMax (RFC 7323 §2.2:
// it is fixed by the SYN): a larger buffer is offered only up to 65535
// shifted by that scale.
func (c *Conn) SetRecvBuffer(n int) {
	n = min(max(n, 1), MaxBuffer)
	c.rcvBuf, c.rcvBufMax = int32(n), int32(n)
}

// SendBuffer returns the current send buffer size (grown by autotuning
// unless SetSendBuffer fixed it).
func (c *Conn) SendBuffer() int { return c.sendBufSize() }

// RecvBuffer returns the current receive buffer size (grown by autotuning).
func (c *Conn) RecvBuffer() int { return int(c.rcvBuf) }

// ownConfig returns the connection's settings to change, copying the
// shared policy first if the connection does not have its own.
func (c *Conn) ownConfig() *Config {
	if !c.ownPolicy {
		p := &Policy{cfg: c.pol.cfg, chal: c.pol.chal, mem: c.pol.mem}
		c.pol, c.ownPolicy = p, true
	}
	return &c.pol.cfg
}

// MaxSegment returns the largest payload a segment of the connection
// carries, like getsockopt TCP_MAXSEG on Linux: the send MSS (RFC 9293
// §3.7.1: the smaller of the peer's MSS option and our own) less the
// options every segment carries (12 bytes with timestamps), once the
// connection is synchronized; before that, the MSS an unknown peer is
// assumed to accept (536, RFC 9293 §3.7.1), or the value SetMaxSegment
// gave.
func (c *Conn) MaxSegment() int {
	if c.state.Synchronized() {
		return c.effMSS()
	}
	if c.pol.cfg.userMSS {
		return int(c.pol.cfg.MSS)
	}
	return 536
}

// MinMaxSegment is the smallest value SetMaxSegment accepts (Linux's
// TCP_MIN_MSS).
const MinMaxSegment = 88

// SetMaxSegment lowers the MSS the connection announces in its SYN or
// SYN-ACK and the largest segment it sends, like setsockopt TCP_MAXSEG: it
// takes effect for a connection whose handshake has not reached the
// peer's SYN yet, and never raises the MSS above the configured one. It
// fails for a value below MinMaxSegment or above 65535, as Linux does
// (EINVAL).
func (c *Conn) SetMaxSegment(n int) error {
	if n < MinMaxSegment || n > 65535 {
		return errors.New("tcp: TCP_MAXSEG " + strconv.Itoa(n) + " is outside [88, 65535]")
	}
	cfg := c.ownConfig()
	cfg.MSS = uint16(min(n, int(cfg.MSS)))
	cfg.userMSS = true
	return nil
}
