package sim

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
)

// Step is one instruction of a host's program. Steps run in order; a step
// that waits (for a connection, for bytes, for a state, for time) holds the
// program until its condition holds. Programs always read what arrives, as
// an application blocked in read() would, unless told to stop.
type Step struct {
	op    op
	port  uint16
	peer  string
	rport uint16
	data  []byte
	n     int
	d     time.Duration
	state tcp.State
}

type op uint8

const (
	opListen op = iota + 1
	opAccept
	opConnect
	opConnectFrom
	opWaitEstablished
	opWrite
	opReadN
	opReadUntil
	opReadEOF
	opClose
	opAbort
	opSleep
	opWaitState
	opStopReading
	opStartReading
	opAt
	opWaitClosed
	opNoDelay
)

// Listen opens a listener on port.
func Listen(port uint16) Step { return Step{op: opListen, port: port} }

// Accept waits for a connection on the listener and takes it.
func Accept() Step { return Step{op: opAccept} }

// Connect opens a connection to host peer's port, from an ephemeral port.
func Connect(peer string, port uint16) Step { return Step{op: opConnect, peer: peer, rport: port} }

// ConnectRetry is Connect by an application that, when every ephemeral
// port is taken (EADDRNOTAVAIL: stack.ErrNoPorts), tries again every
// retry; the failed attempts are counted (Host.ConnectFailures).
func ConnectRetry(peer string, port uint16, retry time.Duration) Step {
	return Step{op: opConnect, peer: peer, rport: port, d: retry}
}

// ConnectFrom opens a connection from a fixed local port (simultaneous
// open).
func ConnectFrom(local uint16, peer string, port uint16) Step {
	return Step{op: opConnectFrom, port: local, peer: peer, rport: port}
}

// WaitEstablished waits until the connection is ESTABLISHED (or further).
func WaitEstablished() Step { return Step{op: opWaitEstablished} }

// Write queues data, waiting for send-buffer room as needed.
func Write(data string) Step { return Step{op: opWrite, data: []byte(data)} }

// WriteBytes queues n bytes of a fixed pattern.
func WriteBytes(n int) Step { return Step{op: opWrite, data: Pattern(n)} }

// ReadN waits until n bytes in total have been read on the connection.
func ReadN(n int) Step { return Step{op: opReadN, n: n} }

// ReadUntil waits until what has been read ends with (or contains) marker.
func ReadUntil(marker string) Step { return Step{op: opReadUntil, data: []byte(marker)} }

// ReadEOF waits for the peer's FIN: every byte read and the stream closed.
func ReadEOF() Step { return Step{op: opReadEOF} }

// Close is CLOSE: a FIN follows the queued data.
func Close() Step { return Step{op: opClose} }

// Abort is ABORT: a RST, the connection deleted.
func Abort() Step { return Step{op: opAbort} }

// Sleep waits for d of virtual time.
func Sleep(d time.Duration) Step { return Step{op: opSleep, d: d} }

// At waits until the virtual time is t (measured from the start of the
// run).
func At(t time.Duration) Step { return Step{op: opAt, d: t} }

// WaitClosed waits until the connection is CLOSED, whatever ended it; the
// error it ended with (Conn().Err()) is for the scenario to judge.
func WaitClosed() Step { return Step{op: opWaitClosed} }

// NoDelay turns Nagle's algorithm off on the connection (TCP_NODELAY).
func NoDelay() Step { return Step{op: opNoDelay} }

// WaitState waits until the connection reaches s.
func WaitState(s tcp.State) Step { return Step{op: opWaitState, state: s} }

// StopReading makes the program leave arrived data unread (its window
// fills); StartReading resumes.
func StopReading() Step  { return Step{op: opStopReading} }
func StartReading() Step { return Step{op: opStartReading} }

// Pattern returns n bytes of a repeating, recognisable pattern.
func Pattern(n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[i%len(alphabet)]
	}
	return b
}

func (s Step) String() string {
	switch s.op {
	case opListen:
		return fmt.Sprintf("listen :%d", s.port)
	case opAccept:
		return "accept"
	case opConnect:
		if s.d > 0 {
			return fmt.Sprintf("connect %s:%d (retry every %v)", s.peer, s.rport, s.d)
		}
		return fmt.Sprintf("connect %s:%d", s.peer, s.rport)
	case opConnectFrom:
		return fmt.Sprintf("connect :%d -> %s:%d", s.port, s.peer, s.rport)
	case opWaitEstablished:
		return "wait established"
	case opWrite:
		return fmt.Sprintf("write %d bytes", len(s.data))
	case opReadN:
		return fmt.Sprintf("read %d bytes", s.n)
	case opReadUntil:
		return fmt.Sprintf("read until %q", s.data)
	case opReadEOF:
		return "read to EOF"
	case opClose:
		return "close"
	case opAbort:
		return "abort"
	case opSleep:
		return "sleep " + s.d.String()
	case opWaitState:
		return "wait " + s.state.String()
	case opAt:
		return "at " + s.d.String()
	case opWaitClosed:
		return "wait CLOSED"
	case opNoDelay:
		return "set TCP_NODELAY"
	case opStopReading:
		return "stop reading"
	case opStartReading:
		return "start reading"
	}
	return "?"
}

type program struct {
	w        *World
	h        *Host
	steps    []Step
	pc       int
	listener *stack.Listener
	conn     *tcp.Conn
	received []byte
	written  int // bytes of the current write step queued
	noRead   bool
	sleepEnd clock.Time
	sleeping bool
	wakeAt   clock.Time
	err      error
	// retryAt is when a ConnectRetry that found no port tries again;
	// noPorts are the times of the attempts that found none.
	retryAt clock.Time
	noPorts []clock.Time
}

// advance runs steps until one must wait; it reports whether anything
// changed.
func (p *program) advance(now clock.Time) bool {
	progressed := p.read(now)
	p.wakeAt = clock.Never
	for p.err == nil && p.pc < len(p.steps) {
		written := p.written
		done, err := p.exec(now, &p.steps[p.pc])
		if err != nil {
			p.err = fmt.Errorf("%s: step %d (%s) at %v: %w", p.h.Name, p.pc+1, p.steps[p.pc], now, err)
			return true
		}
		if !done {
			// A write that queued part of its data has progressed: the
			// stack has something new to send.
			return progressed || p.written != written
		}
		p.pc++
		p.written = 0
		progressed = true
		if p.read(now) {
			progressed = true
		}
	}
	return progressed
}

func (p *program) read(now clock.Time) bool {
	if p.conn == nil || p.noRead {
		return false
	}
	any := false
	var buf [4096]byte
	for {
		n := p.h.Stack.Read(now, p.conn, buf[:])
		if n == 0 {
			return any
		}
		p.received = append(p.received, buf[:n]...)
		any = true
	}
}

// exec tries step s and reports whether it is complete.
func (p *program) exec(now clock.Time, s *Step) (bool, error) {
	switch s.op {
	case opListen:
		l, err := p.h.Stack.Listen(s.port, 0)
		p.listener = l
		return err == nil, err
	case opAccept:
		return p.accept()
	case opConnect, opConnectFrom:
		return p.connect(now, s)
	case opWaitEstablished:
		return p.waitEstablished()
	case opWrite:
		return p.write(now, s.data)
	case opReadN:
		if len(p.received) >= s.n {
			return true, nil
		}
		return false, p.eofErr()
	case opReadUntil:
		if bytes.Contains(p.received, s.data) {
			return true, nil
		}
		return false, p.eofErr()
	case opReadEOF:
		return p.readEOF()
	case opClose:
		if err := p.needConn(); err != nil {
			return false, err
		}
		return true, p.h.Stack.Close(now, p.conn)
	case opAbort:
		if err := p.needConn(); err != nil {
			return false, err
		}
		p.h.Stack.Abort(now, p.conn)
		return true, nil
	case opSleep:
		return p.sleep(now, s.d), nil
	case opWaitState:
		return p.waitState(s.state)
	case opAt:
		if at := clock.Time(s.d); now < at {
			p.wakeAt = at
			return false, nil
		}
		return true, nil
	case opWaitClosed:
		if err := p.needConn(); err != nil {
			return false, err
		}
		return p.conn.State() == tcp.Closed, nil
	case opNoDelay:
		if err := p.needConn(); err != nil {
			return false, err
		}
		p.conn.SetNoDelay(true)
		return true, nil
	case opStopReading:
		p.noRead = true
		return true, nil
	case opStartReading:
		p.noRead = false
		return true, nil
	}
	return false, fmt.Errorf("unknown step")
}

// accept takes a connection off the listener once one is established.
func (p *program) accept() (bool, error) {
	if p.listener == nil {
		return false, fmt.Errorf("accept without listen")
	}
	c := p.listener.Accept()
	if c == nil {
		return false, nil
	}
	p.conn, p.received = c, nil
	return true, nil
}

// connect opens the connection of a Connect or ConnectFrom step; it is
// complete once the stack has opened it (WaitEstablished waits for the
// handshake).
func (p *program) connect(now clock.Time, s *Step) (bool, error) {
	peer := p.w.Host(s.peer)
	if peer == nil {
		return false, fmt.Errorf("no host named %q", s.peer)
	}
	// The peer's IPv4 address if both have one, else its IPv6 address.
	addr := peer.Stack.Addr()
	if !addr.IsValid() || !p.h.Stack.Addr().IsValid() {
		addr = peer.Stack.Addr6()
	}
	remote := netip.AddrPortFrom(addr, s.rport)
	var c *tcp.Conn
	var err error
	if s.op == opConnect {
		if now < p.retryAt {
			p.wakeAt = p.retryAt
			return false, nil
		}
		c, err = p.h.Stack.Connect(now, remote)
		if err != nil && s.d > 0 && errors.Is(err, stack.ErrNoPorts) {
			p.noPorts = append(p.noPorts, now)
			p.retryAt = now.Add(s.d)
			p.wakeAt = p.retryAt
			return false, nil
		}
	} else {
		c, err = p.h.Stack.ConnectFrom(now, s.port, remote)
	}
	if err != nil {
		return false, err
	}
	p.conn, p.received = c, nil
	return true, nil
}

// waitEstablished is complete when the connection is ESTABLISHED or
// further, and fails if it closes first.
func (p *program) waitEstablished() (bool, error) {
	if err := p.needConn(); err != nil {
		return false, err
	}
	if p.conn.State() == tcp.Closed {
		return false, p.connErr("connection closed before it was established")
	}
	return p.conn.State() >= tcp.Established, nil
}

// waitState is complete when the connection is in state want, and fails
// if it closes first.
func (p *program) waitState(want tcp.State) (bool, error) {
	if err := p.needConn(); err != nil {
		return false, err
	}
	if p.conn.State() == want {
		return true, nil
	}
	if p.conn.State() == tcp.Closed {
		return false, p.connErr("connection closed while waiting for " + want.String())
	}
	return false, nil
}

// write queues what is left of data (p.written bytes are queued already)
// as far as the send buffer takes it; it is complete when all is queued.
func (p *program) write(now clock.Time, data []byte) (bool, error) {
	if err := p.needConn(); err != nil {
		return false, err
	}
	for p.written < len(data) {
		n, err := p.h.Stack.Write(now, p.conn, data[p.written:])
		if err != nil {
			return false, err
		}
		if n == 0 {
			return false, nil
		}
		p.written += n
	}
	return true, nil
}

// readEOF is complete when every byte has been read and the stream is
// closed, unless the connection ended in error: then it fails.
func (p *program) readEOF() (bool, error) {
	if err := p.needConn(); err != nil {
		return false, err
	}
	if p.conn.Readable() == 0 && p.conn.ReadClosed() {
		if e := p.conn.Err(); e != nil {
			return false, e
		}
		return true, nil
	}
	return false, nil
}

// sleep is complete d after the step first ran; until then the program
// wakes at the end.
func (p *program) sleep(now clock.Time, d time.Duration) bool {
	if !p.sleeping {
		p.sleeping, p.sleepEnd = true, now.Add(d)
	}
	if now >= p.sleepEnd {
		p.sleeping = false
		return true
	}
	p.wakeAt = p.sleepEnd
	return false
}

func (p *program) needConn() error {
	if p.conn == nil {
		return fmt.Errorf("no connection (connect or accept first)")
	}
	return nil
}

func (p *program) connErr(what string) error {
	if e := p.conn.Err(); e != nil {
		return e
	}
	return fmt.Errorf("%s", what)
}

// eofErr fails a read that can no longer be satisfied.
func (p *program) eofErr() error {
	if p.conn != nil && p.conn.ReadClosed() && p.conn.Readable() == 0 {
		if e := p.conn.Err(); e != nil {
			return e
		}
		return fmt.Errorf("end of stream after %d bytes", len(p.received))
	}
	return nil
}
