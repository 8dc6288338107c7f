package synack

import (
	"io"
	"math"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/gosynack/synack/tcp"
)

// Conn is a TCP connection of a Stack. It implements net.Conn and has
// these methods of *net.TCPConn: CloseRead, CloseWrite, SetLinger,
// SetNoDelay, SetKeepAlive and friends, SetReadBuffer and SetWriteBuffer
// (not ReadFrom, WriteTo, File or SyscallConn: there is no file
// descriptor). Info shows its TCB like `ss -ti`.
//
// An idle Conn holds no channel: a blocked call borrows one from the Stack
// for as long as it waits, Close wakes blocked calls through their waiters,
// and a deadline makes its channel only when it is set.
type Conn struct {
	s      *shard // the shard tc lives in: its mu guards what s.mu guards below
	tc     *tcp.Conn
	rd, wd deadline
	rw, ww waiter     // blocked Read (or Dial), blocked Write; guarded by s.mu
	wmu    sync.Mutex // one Write at a time, so each is atomic

	// Guarded by s.mu.
	kaIdle, kaIntvl             time.Duration
	linger                      int32
	kaCount                     int32
	closed, readShut, writeShut bool
	dialing                     bool
	keepAlive                   bool
}

var _ net.Conn = (*Conn)(nil)

// newConnLocked wraps tc. Like the net package, it turns Nagle's algorithm
// off (SetNoDelay(true)).
func (s *shard) newConnLocked(tc *tcp.Conn) *Conn {
	tc.SetNoDelay(true)
	c := &Conn{
		s: s, tc: tc,
		linger: -1,
		kaIdle: 15 * time.Second, kaIntvl: 15 * time.Second, kaCount: 9,
	}
	c.rw = waiter{kind: waitRead, c: c}
	c.ww = waiter{kind: waitWrite, c: c}
	return c
}

func (c *Conn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.laddr(), Addr: c.raddr(), Err: err}
}

// LocalAddr returns the local address (a *net.TCPAddr).
func (c *Conn) LocalAddr() net.Addr { return c.laddr() }

// RemoteAddr returns the remote address (a *net.TCPAddr).
func (c *Conn) RemoteAddr() net.Addr { return c.raddr() }

// laddr and raddr make the addresses when asked (the tuple never changes)
// rather than holding two *net.TCPAddr in every idle connection.
func (c *Conn) laddr() *net.TCPAddr { return tcpAddr(c.tc.Tuple().Local) }
func (c *Conn) raddr() *net.TCPAddr { return tcpAddr(c.tc.Tuple().Remote) }

// Read reads received data. If data is there it returns it (n > 0 and a
// nil error); otherwise it blocks until data arrives, the peer has closed
// its side (0, io.EOF), the connection fails (ECONNRESET or ETIMEDOUT),
// the read deadline passes (os.ErrDeadlineExceeded) or Close is called
// (net.ErrClosed). Data that arrived before a FIN or a failure is read
// first. Three cases come before data: net.ErrClosed after Close, io.EOF
// after CloseRead, os.ErrDeadlineExceeded once the read deadline has
// passed. Short of those, a zero-length b returns 0, nil at once, even
// after the peer's FIN.
func (c *Conn) Read(b []byte) (int, error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case c.closed || s.closed:
			return 0, c.opErr("read", net.ErrClosed)
		case c.readShut:
			return 0, io.EOF
		case c.rd.expired():
			return 0, c.opErr("read", errDeadline)
		case len(b) == 0:
			return 0, nil
		case c.tc.Readable() > 0:
			now := s.clk.Now()
			n := s.st.Read(now, c.tc, b)
			s.stepLocked(now)
			return n, nil
		case c.tc.ReadClosed():
			if err := c.tc.Err(); err != nil {
				return 0, c.opErr("read", mapErr("read", err))
			}
			return 0, io.EOF
		}
		s.blockConn(c, &c.rw, c.rd.peek())
	}
}

// Write queues b for sending and returns once all of it is in the send
// buffer (not when it is acknowledged), or with the number of bytes queued
// and an error: the write deadline passed, the connection failed, Close or
// CloseWrite was called (EPIPE after CloseWrite, as on Linux).
func (c *Conn) Write(b []byte) (int, error) {
	// A Write waiting here for another to finish is woken by whatever ends
	// that one: Close, the write deadline, the stack's end, or room.
	c.wmu.Lock()
	defer c.wmu.Unlock()
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for {
		switch {
		case c.closed || s.closed:
			return n, c.opErr("write", net.ErrClosed)
		case c.writeShut:
			return n, c.opErr("write", mapErr("write", syscall.EPIPE))
		case c.wd.expired():
			return n, c.opErr("write", errDeadline)
		case n == len(b):
			return n, nil
		}
		now := s.clk.Now()
		k, err := s.st.Write(now, c.tc, b[n:])
		n += k
		if err != nil {
			if e := c.tc.Err(); e != nil {
				err = e
			}
			return n, c.opErr("write", mapErr("write", err))
		}
		if k > 0 {
			s.stepLocked(now)
			continue
		}
		s.blockConn(c, &c.ww, c.wd.peek())
	}
}

// Close closes the connection. Unsent data is still sent, followed by a
// FIN, unless SetLinger(0) was called: then the connection is aborted with
// a RST. As on Linux, closing with received data not yet read resets the
// connection (a RST instead of the FIN), and so does data arriving after
// Close: RFC 1122 §4.2.2.13, "to show that data was lost" (data dropped by
// CloseRead does not count). Blocked Reads and Writes return
// net.ErrClosed, and so does a second Close.
func (c *Conn) Close() error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closed {
		return c.opErr("close", net.ErrClosed)
	}
	c.closed = true
	c.rw.broadcast()
	c.ww.broadcast()
	c.rd.set(time.Time{})
	c.wd.set(time.Time{})
	if s.closed {
		return nil
	}
	now := s.clk.Now()
	if c.linger == 0 {
		s.st.Abort(now, c.tc)
	} else {
		// Both halves closed: the full close of RFC 1122 §4.2.2.13. After
		// CloseWrite, CloseRead itself resets a connection with unread
		// data.
		c.tc.CloseRead(now)
		if !c.writeShut {
			s.st.Close(now, c.tc) // an error means it is already closing or gone
		}
	}
	// The connection changed even when no stack call above reached it
	// (CloseWrite came first): its RST must go out at this step.
	s.st.Update(c.tc)
	if !c.tc.Done() {
		s.discard[c.tc] = struct{}{}
	}
	s.stepLocked(now)
	return nil
}

// CloseWrite shuts down the sending side: a FIN follows the queued data
// (half-close). Reading goes on.
func (c *Conn) CloseWrite() error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closed || s.closed {
		return c.opErr("close", net.ErrClosed)
	}
	if !c.writeShut {
		c.writeShut = true
		now := s.clk.Now()
		if err := s.st.Close(now, c.tc); err != nil && c.tc.State() == tcp.Closed {
			return c.opErr("close", mapErr("shutdown", tcp.ErrNotConnected))
		}
		s.stepLocked(now)
	}
	return nil
}

// CloseRead shuts down the receiving side: Read returns io.EOF from now on,
// and data not yet read or arriving later is acknowledged and dropped.
func (c *Conn) CloseRead() error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closed || s.closed {
		return c.opErr("close", net.ErrClosed)
	}
	c.readShut = true
	now := s.clk.Now()
	if !c.tc.Done() {
		// The data there is dropped now, and what arrives later at each
		// step: dropped data is not "pending" when Close comes (RFC 1122
		// §4.2.2.13), so Close after CloseRead sends a FIN, as
		// shutdown(SHUT_RD) and close() do on Linux when nothing arrived
		// in between.
		for c.tc.Readable() > 0 {
			s.st.Read(now, c.tc, s.scratch)
		}
		c.tc.CloseRead(now)
		s.discard[c.tc] = struct{}{}
		s.st.Update(c.tc)
	}
	s.stepLocked(now)
	return nil
}

// SetDeadline sets the read and write deadlines; the zero time means
// none.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets when pending and future Reads time out; the zero
// time means never.
func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.setDeadline(&c.rd, &c.rw, t)
}

// SetWriteDeadline sets when pending and future Writes time out; the zero
// time means never.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	return c.setDeadline(&c.wd, &c.ww, t)
}

// setDeadline sets d, and wakes a call blocked on w so that it waits again
// on d's new channel (a call that blocked before any deadline was set
// waits on none).
func (c *Conn) setDeadline(d *deadline, w *waiter, t time.Time) error {
	s := c.s
	s.mu.Lock()
	closed := c.closed
	s.mu.Unlock()
	if closed {
		return c.opErr("set", net.ErrClosed)
	}
	d.set(t)
	s.mu.Lock()
	w.broadcast()
	s.mu.Unlock()
	return nil
}

// setopt runs f, a socket option change, under the stack's lock.
func (c *Conn) setopt(f func()) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closed || s.closed {
		return c.opErr("set", net.ErrClosed)
	}
	f()
	s.st.Update(c.tc)
	s.stepLocked(s.clk.Now())
	return nil
}

// SetLinger sets what Close does with unsent data: sec < 0 (the default)
// and sec > 0 send it in the background; sec == 0 discards it and aborts
// the connection with a RST.
func (c *Conn) SetLinger(sec int) error {
	return c.setopt(func() { c.linger = int32(min(max(sec, math.MinInt32), math.MaxInt32)) })
}

// SetNoDelay turns Nagle's algorithm off (true, the default, as in the net
// package) or on (false).
func (c *Conn) SetNoDelay(noDelay bool) error {
	return c.setopt(func() { c.tc.SetNoDelay(noDelay) })
}

// SetKeepAlive turns keepalive probes on or off (idle time and interval
// 15 s and 9 probes unless set otherwise, as the net package's defaults).
func (c *Conn) SetKeepAlive(on bool) error {
	return c.setopt(func() {
		c.keepAlive = on
		c.applyKeepAlive()
	})
}

// SetKeepAlivePeriod sets the idle time before the first probe and the
// interval between probes; d <= 0 keeps them.
func (c *Conn) SetKeepAlivePeriod(d time.Duration) error {
	return c.setopt(func() {
		if d > 0 {
			c.kaIdle, c.kaIntvl = d, d
		}
		c.applyKeepAlive()
	})
}

// SetKeepAliveConfig sets keepalive like (*net.TCPConn).SetKeepAliveConfig:
// zero fields take the defaults (15 s, 15 s, 9), negative ones keep the
// current value.
func (c *Conn) SetKeepAliveConfig(cfg net.KeepAliveConfig) error {
	return c.setopt(func() {
		c.keepAlive = cfg.Enable
		pick := func(v, def time.Duration, cur *time.Duration) {
			switch {
			case v == 0:
				*cur = def
			case v > 0:
				*cur = v
			}
		}
		pick(cfg.Idle, 15*time.Second, &c.kaIdle)
		pick(cfg.Interval, 15*time.Second, &c.kaIntvl)
		switch {
		case cfg.Count == 0:
			c.kaCount = 9
		case cfg.Count > 0:
			c.kaCount = int32(min(cfg.Count, math.MaxInt32))
		}
		c.applyKeepAlive()
	})
}

func (c *Conn) applyKeepAlive() {
	now := c.s.clk.Now()
	if c.keepAlive {
		c.tc.SetKeepAlive(now, c.kaIdle, c.kaIntvl, int(c.kaCount))
	} else {
		c.tc.SetKeepAlive(now, 0, 0, 0)
	}
}

// SetReadBuffer sets the receive buffer (and so the largest window
// offered), like SO_RCVBUF.
func (c *Conn) SetReadBuffer(bytes int) error {
	if bytes <= 0 {
		return c.opErr("set", syscall.EINVAL)
	}
	return c.setopt(func() { c.tc.SetRecvBuffer(bytes) })
}

// SetWriteBuffer sets the send buffer, like SO_SNDBUF.
func (c *Conn) SetWriteBuffer(bytes int) error {
	if bytes <= 0 {
		return c.opErr("set", syscall.EINVAL)
	}
	return c.setopt(func() { c.tc.SetSendBuffer(bytes) })
}

// SetUserTimeout sets the RFC 5482 user timeout (TCP_USER_TIMEOUT): the
// connection fails with ETIMEDOUT when sent data stays unacknowledged this
// long. Zero turns it off.
func (c *Conn) SetUserTimeout(d time.Duration) error {
	return c.setopt(func() { c.tc.SetUserTimeout(d) })
}

// Options reports the socket options in force, as the connection sees them.
type Options struct {
	NoDelay                bool
	KeepAlive              bool
	KeepAliveIdle          time.Duration
	KeepAliveInterval      time.Duration
	KeepAliveCount         int
	SendBuffer, RecvBuffer int
	Linger                 int
}

// Options returns the socket options in force.
func (c *Conn) Options() Options {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return Options{
		NoDelay: c.tc.NoDelay(), KeepAlive: c.keepAlive,
		KeepAliveIdle: c.kaIdle, KeepAliveInterval: c.kaIntvl, KeepAliveCount: int(c.kaCount),
		SendBuffer: c.tc.SendBuffer(), RecvBuffer: c.tc.RecvBuffer(), Linger: int(c.linger),
	}
}

// Info returns a snapshot of the connection's TCB: state, windows, cwnd,
// RTT estimates, retransmissions (what `ss -ti` shows).
func (c *Conn) Info() tcp.Info {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.tc.Info()
}

// State returns the connection's TCP state.
func (c *Conn) State() tcp.State {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.tc.State()
}
