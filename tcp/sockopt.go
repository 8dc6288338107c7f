package tcp

import (
	"time"

	"github.com/gosynack/synack/clock"
)

// Socket options a user may change on a live connection, like setsockopt on
// a kernel socket. Each takes effect from the next event on.

// SetNoDelay turns Nagle's algorithm off (true) or on (false), like
// TCP_NODELAY.
func (c *Conn) SetNoDelay(on bool) { c.cfg.NoDelay = on }

// NoDelay reports whether Nagle's algorithm is off.
func (c *Conn) NoDelay() bool { return c.cfg.NoDelay }

// SetKeepAlive turns keepalive on with the given idle time, probe interval
// and probe count (zero interval or count keep their current values), or
// off when idle is zero, like SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL
// and TCP_KEEPCNT.
func (c *Conn) SetKeepAlive(now clock.Time, idle, interval time.Duration, count int) {
	c.cfg.KeepAliveIdle = max(idle, 0)
	if interval > 0 {
		c.cfg.KeepAliveInterval = interval
	}
	if count > 0 {
		c.cfg.KeepAliveCount = count
	}
	c.armKeepAlive(now)
}

// SetUserTimeout sets the RFC 5482 user timeout (zero: none), like
// TCP_USER_TIMEOUT.
func (c *Conn) SetUserTimeout(d time.Duration) { c.cfg.UserTimeout = max(d, 0) }

// SetSendBuffer sets the send buffer size in bytes, like SO_SNDBUF. It is
// clamped to [1, MaxBuffer]; data already buffered is kept.
func (c *Conn) SetSendBuffer(n int) { c.cfg.SendBuffer = min(max(n, 1), MaxBuffer) }

// SetRecvBuffer sets the receive buffer size in bytes, like SO_RCVBUF, and
// turns autotuning off for this connection (as Linux does when SO_RCVBUF is
// set). It is clamped to [1, MaxBuffer]; the window already offered is
// never withdrawn (RFC 9293 §3.8.6.2.2). Set before the SYN is sent, it
// also decides the window scale we offer.
func (c *Conn) SetRecvBuffer(n int) {
	n = min(max(n, 1), MaxBuffer)
	c.cfg.RecvBuffer, c.cfg.RecvBufferMax = n, n
}

// SendBuffer and RecvBuffer return the current buffer sizes.
func (c *Conn) SendBuffer() int { return c.cfg.SendBuffer }

// RecvBuffer returns the current receive buffer size (grown by autotuning).
func (c *Conn) RecvBuffer() int { return c.cfg.RecvBuffer }
