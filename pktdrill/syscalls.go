package pktdrill

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
)

// errnos are Linux's numbers and texts, as packetdrill prints them.
var errnos = map[string]struct {
	n    int
	text string
}{
	"EPIPE":           {32, "Broken pipe"},
	"EAGAIN":          {11, "Resource temporarily unavailable"},
	"EBADF":           {9, "Bad file descriptor"},
	"EINVAL":          {22, "Invalid argument"},
	"EPROTONOSUPPORT": {93, "Protocol not supported"},
	"ENOPROTOOPT":     {92, "Protocol not available"},
	"EOPNOTSUPP":      {95, "Operation not supported"},
	"EADDRINUSE":      {98, "Address already in use"},
	"ECONNRESET":      {104, "Connection reset by peer"},
	"EISCONN":         {106, "Transport endpoint is already connected"},
	"ENOTCONN":        {107, "Transport endpoint is not connected"},
	"ETIMEDOUT":       {110, "Connection timed out"},
	"ECONNREFUSED":    {111, "Connection refused"},
	"EALREADY":        {114, "Operation already in progress"},
	"EINPROGRESS":     {115, "Operation now in progress"},
}

// symbols are the values of the constants scripts use as numbers.
var symbols = map[string]int64{
	"O_RDONLY": 0, "O_WRONLY": 1, "O_RDWR": 2, "O_NONBLOCK": 0x800,
	"POLLIN": 0x1, "POLLPRI": 0x2, "POLLOUT": 0x4, "POLLERR": 0x8, "POLLHUP": 0x10, "POLLNVAL": 0x20,
	"POLLRDNORM": 0x40, "POLLWRNORM": 0x100, "POLLRDHUP": 0x2000,
	"SHUT_RD": 0, "SHUT_WR": 1, "SHUT_RDWR": 2,
}

type sock struct {
	nonblock bool
	bound    bool
	l        *stack.Listener
	c        *tcp.Conn
	shutRD   bool
	shutWR   bool
	errTaken bool      // the connection's error was returned once
	ka       keepalive // SO_KEEPALIVE and TCP_KEEP* (sockopt.go)
	linger0  bool      // SO_LINGER {onoff=1, linger=0}: close aborts
	opts     []sockOpt // options set, applied to a connection made later
}

type callResult struct {
	ret      int64
	errno    string
	mismatch string // an out-argument differs from the script
}

func ok(n int64) callResult      { return callResult{ret: n} }
func errno(e string) callResult  { return callResult{ret: -1, errno: e} }
func argBad(m string) callResult { return callResult{mismatch: m} }

type attemptFn func() (done bool, res callResult)

type pendingCall struct {
	ev      *Event
	end     clock.Time
	attempt attemptFn
}

func errnoOf(err error) string {
	switch {
	case errors.Is(err, tcp.ErrConnRefused):
		return "ECONNREFUSED"
	case errors.Is(err, tcp.ErrConnReset):
		return "ECONNRESET"
	case errors.Is(err, tcp.ErrTimeout):
		return "ETIMEDOUT"
	}
	return "EPIPE"
}

func (r *runner) intArg(e Expr) (int64, bool) {
	switch v := e.(type) {
	case Int:
		return v.V, true
	case Word:
		n, ok := symbols[v.Name]
		return n, ok
	case Or:
		var n int64
		for _, t := range v.Terms {
			x, ok := r.intArg(t)
			if !ok {
				return 0, false
			}
			n |= x
		}
		return n, true
	}
	return 0, false
}

// syscall starts a call; a call that cannot complete becomes pending.
func (r *runner) syscall(ev *Event, t, tend clock.Time) *Failure {
	sc := ev.Syscall
	r.logf("call    %s (line %d)", sc.Name, ev.Line)
	attempt, f := r.prepare(ev)
	if f != nil {
		return f
	}
	done, res := attempt()
	r.flush(false)
	if done {
		return r.verify(ev, res, tend)
	}
	if !sc.Blocking {
		return r.fail(ev.Line, "%s blocked, but the script expects it to return at once (write start...end for a blocking call)", sc.Name)
	}
	r.pending = &pendingCall{ev: ev, end: tend, attempt: attempt}
	return nil
}

func (r *runner) checkPending() {
	p := r.pending
	if p == nil {
		return
	}
	done, res := p.attempt()
	if !done {
		return
	}
	r.pending = nil
	r.flush(false)
	if f := r.verify(p.ev, res, p.end); f != nil && r.pendingErr == nil {
		r.pendingErr = f
	}
}

// finishPending waits for a pending blocking call to return, up to its end
// time plus the tolerance.
func (r *runner) finishPending(line int) *Failure {
	if p := r.pending; p != nil {
		deadline := p.end.Add(r.tolAt(p.end))
		if r.k != nil {
			r.kwait(deadline, func() bool { return r.pending == nil })
		}
		for i := 0; r.k == nil && r.pending != nil && i < 1_000_000; i++ {
			d := r.st.NextDeadline()
			if d > deadline {
				r.advance(deadline)
				break
			}
			r.advance(max(d, r.now))
		}
		if r.pending != nil {
			r.pending = nil
			return r.fail(p.ev.Line, "blocking %s did not return by %ss (expected to return at %ss)",
				p.ev.Syscall.Name, fmtSecs(time.Duration(deadline)), fmtSecs(time.Duration(p.end)))
		}
	}
	return r.pendingErr
}

func (r *runner) verify(ev *Event, res callResult, end clock.Time) *Failure {
	sc := ev.Syscall
	if res.mismatch != "" {
		return r.fail(ev.Line, "%s: %s", sc.Name, res.mismatch)
	}
	got := fmt.Sprintf("%d", res.ret)
	if res.errno != "" {
		if e, known := errnos[res.errno]; known {
			got = fmt.Sprintf("-1 with errno %d (%s) [%s]", e.n, e.text, res.errno)
		} else {
			got = fmt.Sprintf("-1 with errno %s", res.errno)
		}
	}
	if _, any := sc.Result.(Ellipsis); !any {
		want, okv := r.intArg(sc.Result)
		if !okv {
			return r.fail(ev.Line, "%s: cannot evaluate the expected result %s", sc.Name, sc.Result)
		}
		fdCall := sc.Name == "socket" || sc.Name == "accept"
		switch {
		case fdCall && want >= 0 && res.ret < 0:
			return &Failure{File: r.s.Name, Line: ev.Line, At: time.Duration(r.now),
				Msg: fmt.Sprintf("runtime error in %s call: Expected non-negative result but got %s", sc.Name, got)}
		case !(fdCall && want >= 0) && want != res.ret:
			return &Failure{File: r.s.Name, Line: ev.Line, At: time.Duration(r.now),
				Msg: fmt.Sprintf("runtime error in %s call: Expected result %d but got %s", sc.Name, want, got)}
		}
	}
	if sc.Errno != "" && sc.Errno != res.errno {
		return r.fail(ev.Line, "runtime error in %s call: Expected errno %s but got %s", sc.Name, sc.Errno, got)
	}
	if sc.Blocking {
		if tol := r.tolAt(end); r.now < end-clock.Time(tol) || r.now > end.Add(tol) {
			return r.fail(ev.Line, "timing error: expected blocking %s to return at %ss but it returned at %ss (tolerance %ss)",
				sc.Name, fmtSecs(time.Duration(end)), fmtSecs(time.Duration(r.now)), fmtSecs(tol))
		}
	}
	return nil
}

func done(res callResult) attemptFn { return func() (bool, callResult) { return true, res } }

// fdCall is a call whose first argument is a file descriptor: the event,
// its arguments, the descriptor and the socket it names.
type fdCall struct {
	ev   *Event
	args []Expr
	fd   int64
	s    *sock
}

// prepare checks a call's arguments and returns the attempt that performs
// it. socket and poll name no descriptor first; any other call on a
// descriptor the script has not opened is EBADF, before its name or its
// other arguments are looked at.
func (r *runner) prepare(ev *Event) (attemptFn, *Failure) {
	if r.k != nil {
		return r.k.prepare(r, ev)
	}
	switch ev.Syscall.Name {
	case "socket":
		return r.sysSocket(ev)
	case "poll":
		return r.poll(ev)
	}
	call, f := r.resolveFD(ev)
	if f != nil {
		return nil, f
	}
	if call.s == nil {
		return done(errno("EBADF")), nil
	}
	switch ev.Syscall.Name {
	case "bind":
		return r.sysBind(call)
	case "listen":
		return r.sysListen(call)
	case "accept":
		return r.sysAccept(call)
	case "connect":
		return r.sysConnect(call)
	case "write", "send", "writev":
		return r.sysWrite(call)
	case "read", "recv", "readv":
		return r.sysRead(call)
	case "close":
		return r.sysClose(call)
	case "shutdown":
		return r.sysShutdown(call)
	case "fcntl":
		return r.sysFcntl(call)
	case "setsockopt":
		return r.sysSetsockopt(call)
	case "getsockopt":
		return r.sysGetsockopt(call)
	case "ioctl":
		return r.sysIoctl(call)
	}
	return nil, r.unsupported(ev.Line, "system call %s is not supported by the runner", ev.Syscall.Name)
}

// resolveFD reads a call's first argument as a file descriptor; the
// returned call's socket is nil if the script has no such descriptor open.
func (r *runner) resolveFD(ev *Event) (*fdCall, *Failure) {
	sc := ev.Syscall
	if len(sc.Args) == 0 {
		return nil, r.fail(ev.Line, "%s needs a file descriptor argument", sc.Name)
	}
	fd, isInt := r.intArg(sc.Args[0])
	if !isInt {
		return nil, r.fail(ev.Line, "%s: expected a file descriptor as first argument, found %s", sc.Name, sc.Args[0])
	}
	r.codeFD = fd
	return &fdCall{ev: ev, args: sc.Args, fd: fd, s: r.socks[fd]}, nil
}

// needArgs checks that a call has exactly n arguments.
func (r *runner) needArgs(ev *Event, n int) *Failure {
	sc := ev.Syscall
	if len(sc.Args) != n {
		return r.fail(ev.Line, "%s takes %d arguments, the script gives %d", sc.Name, n, len(sc.Args))
	}
	return nil
}

// byteCount reads argument i of a call as a byte count of at most 16 MiB.
func (r *runner) byteCount(ev *Event, i int) (int, *Failure) {
	sc := ev.Syscall
	if len(sc.Args) <= i {
		return 0, r.fail(ev.Line, "%s: missing a byte count argument", sc.Name)
	}
	n, okv := r.intArg(sc.Args[i])
	if !okv || n < 0 || n > 1<<24 {
		return 0, r.fail(ev.Line, "%s: expected a byte count (0 to 16777216), found %s", sc.Name, sc.Args[i])
	}
	return int(n), nil
}

// iovSize is the total length of the iovec array [{..., n}, ...] in
// argument 1 of a call.
func (r *runner) iovSize(ev *Event) (int, *Failure) {
	sc := ev.Syscall
	arr, okv := sc.Args[1].(Array)
	if !okv {
		return 0, r.fail(ev.Line, "%s: expected an iovec array [{..., n}, ...], found %s", sc.Name, sc.Args[1])
	}
	total := 0
	for _, e := range arr.Elems {
		st, okv := e.(Struct)
		if !okv || len(st.Elems) != 2 {
			return 0, r.fail(ev.Line, "%s: expected an iovec {..., n}, found %s", sc.Name, e)
		}
		n, okv := r.intArg(st.Elems[1])
		if !okv || n < 0 || n > 1<<24 {
			return 0, r.fail(ev.Line, "%s: expected an iovec length, found %s", sc.Name, st.Elems[1])
		}
		total += int(n)
	}
	return total, nil
}

// transferSize is the byte count of a write, send, writev, read, recv or
// readv: the iovec total for writev and readv, the third argument for the
// others. The runner supports no flags on send and recv.
func (r *runner) transferSize(ev *Event) (int, *Failure) {
	sc := ev.Syscall
	var n int
	var f *Failure
	if sc.Name == "writev" || sc.Name == "readv" {
		n, f = r.iovSize(ev)
	} else {
		n, f = r.byteCount(ev, 2)
	}
	if f != nil {
		return 0, f
	}
	if (sc.Name == "send" || sc.Name == "recv") && len(sc.Args) > 3 {
		if fl, _ := r.intArg(sc.Args[3]); fl != 0 {
			return 0, r.unsupported(ev.Line, "%s: flags %s are not supported by the runner", sc.Name, sc.Args[3])
		}
	}
	return n, nil
}

// newFD installs s at descriptor want or, if want is negative, at the
// descriptor after the highest one given so far, and returns the
// descriptor.
func (r *runner) newFD(want int64, s *sock) int64 {
	fd := want
	if fd < 0 {
		fd = r.nextFD
	}
	r.socks[fd] = s
	r.codeFD = fd
	r.nextFD = max(r.nextFD, fd+1)
	return fd
}

// sysSocket performs socket(..., SOCK_STREAM, IPPROTO_TCP); any other
// type or protocol is EPROTONOSUPPORT. The socket gets the descriptor
// the script expects as the result (newFD).
func (r *runner) sysSocket(ev *Event) (attemptFn, *Failure) {
	sc := ev.Syscall
	if f := r.needArgs(ev, 3); f != nil {
		return nil, f
	}
	typ, proto := sc.Args[1].String(), sc.Args[2].String()
	if (typ != "SOCK_STREAM" && typ != "...") || (proto != "IPPROTO_TCP" && proto != "0" && proto != "...") {
		return done(errno("EPROTONOSUPPORT")), nil
	}
	want, _ := r.intArg(sc.Result)
	return func() (bool, callResult) { return true, ok(r.newFD(want, &sock{})) }, nil
}

// sysBind performs bind: the socket's later connect is from ServerPort.
func (r *runner) sysBind(call *fdCall) (attemptFn, *Failure) {
	s := call.s
	return func() (bool, callResult) { s.bound = true; return true, ok(0) }, nil
}

// sysListen performs listen(fd, backlog) on ServerPort. The socket options
// set on the listening socket, before listen or after, shape each
// connection the listener makes, from its SYN on (stack.Listener's
// SetConnInit), as a Linux listener's are inherited by the sockets it
// accepts: SO_RCVBUF the SYN-ACK's window, TCP_MAXSEG its MSS, and
// TCP_NODELAY, keepalive, the user timeout and SO_LINGER the accepted
// socket.
func (r *runner) sysListen(call *fdCall) (attemptFn, *Failure) {
	s, args := call.s, call.args
	backlog := int64(0)
	if len(args) > 1 {
		backlog, _ = r.intArg(args[1])
	}
	return func() (bool, callResult) {
		l, err := r.st.Listen(ServerPort, int(backlog))
		if err != nil {
			return true, errno("EADDRINUSE")
		}
		s.l = l
		l.SetConnInit(func(c *tcp.Conn) {
			for _, o := range s.opts {
				r.setOpt(s, c, o.name, o.v)
			}
		})
		return true, ok(0)
	}, nil
}

// sysAccept performs accept: it takes an established connection off the
// listener's queue, waiting for one unless the socket is non-blocking.
// The connection gets the descriptor the script expects as the result
// (newFD).
func (r *runner) sysAccept(call *fdCall) (attemptFn, *Failure) {
	s := call.s
	if s.l == nil {
		return done(errno("EINVAL")), nil
	}
	want, _ := r.intArg(call.ev.Syscall.Result)
	return func() (bool, callResult) {
		c := s.l.Accept()
		if c == nil {
			if s.nonblock {
				return true, errno("EAGAIN")
			}
			return false, callResult{}
		}
		// The listener's options were applied when its SYN came
		// (sysListen); the accepted socket reports them.
		ns := &sock{c: c, linger0: s.linger0, ka: s.ka, opts: append([]sockOpt(nil), s.opts...)}
		return true, ok(r.newFD(want, ns))
	}, nil
}

// sysConnect performs connect to RemoteAddr:ServerPort, from ServerPort
// if the socket is bound. A blocking connect returns when the connection
// is synchronized or closed, a non-blocking one at once with EINPROGRESS.
func (r *runner) sysConnect(call *fdCall) (attemptFn, *Failure) {
	s := call.s
	if s.c != nil {
		if s.c.State().Synchronized() {
			return done(errno("EISCONN")), nil
		}
		return done(errno("EALREADY")), nil
	}
	remote := netip.AddrPortFrom(r.sockAddr(r.remoteAddr), ServerPort)
	var c *tcp.Conn
	var err error
	if s.bound {
		c, err = r.st.ConnectFrom(r.now, ServerPort, remote)
	} else {
		c, err = r.st.Connect(r.now, remote)
	}
	if err != nil {
		return done(errno("EADDRINUSE")), nil
	}
	s.c = c
	r.applyOpts(s)
	r.activePort = c.Tuple().Local.Port()
	if s.nonblock {
		return done(errno("EINPROGRESS")), nil
	}
	return func() (bool, callResult) {
		switch {
		case c.State().Synchronized():
			return true, ok(0)
		case c.State() == tcp.Closed:
			s.errTaken = true
			return true, errno(errnoOf(c.Err()))
		}
		return false, callResult{}
	}, nil
}

// sysWrite performs write, send and writev of the call's byte count. A
// blocking call returns when all of it is queued; a non-blocking one
// returns what it queued, or EAGAIN if nothing. A connection closed by an
// error other than its own abort reports that error once, then EPIPE.
func (r *runner) sysWrite(call *fdCall) (attemptFn, *Failure) {
	s := call.s
	n, f := r.transferSize(call.ev)
	if f != nil {
		return nil, f
	}
	written := 0
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = 'x'
	}
	return func() (bool, callResult) {
		if s.c == nil {
			return true, errno("EPIPE")
		}
		if s.shutWR {
			return true, errno("EPIPE")
		}
		if s.c.State() == tcp.Closed {
			if !s.errTaken && s.c.Err() != nil && !errors.Is(s.c.Err(), tcp.ErrAborted) {
				s.errTaken = true
				return true, errno(errnoOf(s.c.Err()))
			}
			return true, errno("EPIPE")
		}
		m, err := r.st.Write(r.now, s.c, buf[written:])
		written += m
		if err != nil && written == 0 {
			return true, errno("EPIPE")
		}
		if written == n || (s.nonblock && written > 0) {
			return true, ok(int64(written))
		}
		if s.nonblock {
			return true, errno("EAGAIN")
		}
		return false, callResult{}
	}, nil
}

// sysRead performs read, recv and readv of up to the call's byte count.
// It returns 0 at end of stream or after shutdown(SHUT_RD), a failed
// connection's error once, and otherwise waits for data unless the socket
// is non-blocking.
func (r *runner) sysRead(call *fdCall) (attemptFn, *Failure) {
	s := call.s
	n, f := r.transferSize(call.ev)
	if f != nil {
		return nil, f
	}
	buf := make([]byte, n)
	return func() (bool, callResult) {
		if s.c == nil {
			return true, errno("ENOTCONN")
		}
		if m := r.st.Read(r.now, s.c, buf); m > 0 {
			return true, ok(int64(m))
		}
		if n == 0 || s.shutRD {
			return true, ok(0)
		}
		if s.c.State() == tcp.Closed && !s.errTaken && s.c.Err() != nil && !errors.Is(s.c.Err(), tcp.ErrAborted) {
			s.errTaken = true
			return true, errno(errnoOf(s.c.Err()))
		}
		if s.c.ReadClosed() {
			return true, ok(0)
		}
		if s.nonblock {
			return true, errno("EAGAIN")
		}
		return false, callResult{}
	}, nil
}

// sysClose performs close as the Go API's Conn.Close does: it frees the
// descriptor and closes the listener; a connection with SO_LINGER
// {onoff=1, linger=0} is aborted (SetLinger(0)), any other is closed
// (the FIN), unless shutdown(SHUT_WR) closed it already. What happens to
// data not yet read is the library's business, not the runner's.
func (r *runner) sysClose(call *fdCall) (attemptFn, *Failure) {
	s, fd := call.s, call.fd
	return func() (bool, callResult) {
		delete(r.socks, fd)
		switch {
		case s.l != nil:
			s.l.Close(r.now)
		case s.c != nil && s.c.State() != tcp.Closed:
			if s.linger0 {
				r.st.Abort(r.now, s.c)
				break
			}
			// Both halves closed, as the Go API's Conn.Close does: the
			// full close of RFC 1122 §4.2.2.13, which resets a
			// connection with unread data.
			s.c.CloseRead(r.now)
			if !s.shutWR {
				_ = r.st.Close(r.now, s.c)
			}
			r.st.Update(s.c)
		}
		return true, ok(0)
	}, nil
}

// sysShutdown performs shutdown(fd, SHUT_RD | SHUT_WR | SHUT_RDWR); the
// write side's shutdown sends the FIN.
func (r *runner) sysShutdown(call *fdCall) (attemptFn, *Failure) {
	s, args, ev := call.s, call.args, call.ev
	if len(args) != 2 {
		return nil, r.fail(ev.Line, "shutdown takes 2 arguments, the script gives %d", len(args))
	}
	how, okv := r.intArg(args[1])
	if !okv || how < 0 || how > 2 {
		return nil, r.fail(ev.Line, "shutdown: expected SHUT_RD, SHUT_WR or SHUT_RDWR, found %s", args[1])
	}
	return func() (bool, callResult) {
		if s.c == nil || (!s.c.State().Synchronized() && s.c.State() != tcp.SynSent && s.c.State() != tcp.SynReceived) {
			return true, errno("ENOTCONN")
		}
		if how == 0 || how == 2 {
			s.shutRD = true
		}
		if (how == 1 || how == 2) && !s.shutWR {
			s.shutWR = true
			_ = r.st.Close(r.now, s.c)
		}
		return true, ok(0)
	}, nil
}

// sysFcntl performs fcntl(fd, F_GETFL) and fcntl(fd, F_SETFL, flags), of
// which only O_NONBLOCK has an effect.
func (r *runner) sysFcntl(call *fdCall) (attemptFn, *Failure) {
	return r.fcntl(call.ev, call.args, &call.s.nonblock)
}

// fcntl is fcntl(fd, F_GETFL) and fcntl(fd, F_SETFL, flags) on a socket
// whose O_NONBLOCK is *nonblock, for synack's sockets and the kernel's.
func (r *runner) fcntl(ev *Event, args []Expr, nonblock *bool) (attemptFn, *Failure) {
	if len(args) < 2 {
		return nil, r.fail(ev.Line, "fcntl needs a command")
	}
	switch args[1].String() {
	case "F_GETFL":
		return func() (bool, callResult) {
			v := symbols["O_RDWR"]
			if *nonblock {
				v |= symbols["O_NONBLOCK"]
			}
			return true, ok(v)
		}, nil
	case "F_SETFL":
		if len(args) != 3 {
			return nil, r.fail(ev.Line, "fcntl(F_SETFL) takes 3 arguments")
		}
		v, okv := r.intArg(args[2])
		if !okv {
			return nil, r.fail(ev.Line, "fcntl: cannot evaluate flags %s", args[2])
		}
		return func() (bool, callResult) { *nonblock = v&symbols["O_NONBLOCK"] != 0; return true, ok(0) }, nil
	}
	return nil, r.unsupported(ev.Line, "fcntl command %s is not supported by the runner", args[1])
}

// sysIoctl performs ioctl(fd, SIOCINQ | FIONREAD | SIOCOUTQ | TIOCOUTQ,
// [v]): the bytes waiting to be read, or the bytes sent but not
// acknowledged plus those not sent yet, checked against the script's [v].
func (r *runner) sysIoctl(call *fdCall) (attemptFn, *Failure) {
	s, args, ev := call.s, call.args, call.ev
	if f := r.needArgs(ev, 3); f != nil {
		return nil, f
	}
	var get func() int64
	switch args[1].String() {
	case "SIOCINQ", "FIONREAD":
		get = func() int64 {
			if s.c == nil {
				return 0
			}
			return int64(s.c.Readable())
		}
	case "SIOCOUTQ", "TIOCOUTQ":
		get = func() int64 {
			if s.c == nil {
				return 0
			}
			i := s.c.Info()
			return int64(i.Unacked + i.Unsent)
		}
	default:
		return nil, r.unsupported(ev.Line, "ioctl %s is not supported by the runner", args[1])
	}
	return r.checkValue(args[2], args[1].String()+": expected", get), nil
}

// checkValue is the attempt of a call that reads one value into the
// script's one-element array ([v]): it succeeds when the array is absent
// or holds what get returns, and fails with what (e.g. "TCP_MAXSEG:
// expected value") and both values otherwise.
func (r *runner) checkValue(arg Expr, what string, get func() int64) attemptFn {
	return func() (bool, callResult) {
		v := get()
		if arr, okv := arg.(Array); okv && len(arr.Elems) == 1 {
			if want, okv := r.intArg(arr.Elems[0]); okv && want != v {
				return true, argBad(fmt.Sprintf("%s [%d], got [%d]", what, want, v))
			}
		}
		return true, ok(0)
	}
}

// pollFD is one {fd=N, events=..., revents=...} of a poll call.
type pollFD struct {
	fd, events, revents int64
	checkRevents        bool
}

// pollArgs reads poll([{fd=4, events=POLLIN, revents=POLLIN}], 1,
// timeout_ms).
func (r *runner) pollArgs(ev *Event) ([]pollFD, int64, *Failure) {
	args := ev.Syscall.Args
	if len(args) != 3 {
		return nil, 0, r.malformed(ev.Line, "poll takes 3 arguments, the script gives %d", len(args))
	}
	arr, okv := args[0].(Array)
	if !okv {
		return nil, 0, r.malformed(ev.Line, "poll: expected an array of pollfd, found %s", args[0])
	}
	var fds []pollFD
	for _, e := range arr.Elems {
		st, okv := e.(Struct)
		if !okv {
			return nil, 0, r.malformed(ev.Line, "poll: expected {fd=N, events=..., revents=...}, found %s", e)
		}
		var p pollFD
		for _, f := range st.Elems {
			a, okv := f.(Assign)
			if !okv {
				return nil, 0, r.malformed(ev.Line, "poll: expected name=value in %s", e)
			}
			v, okv := r.intArg(a.V)
			if !okv {
				return nil, 0, r.malformed(ev.Line, "poll: cannot evaluate %s", a)
			}
			switch a.Name {
			case "fd":
				p.fd = v
			case "events":
				p.events = v
			case "revents":
				p.revents, p.checkRevents = v, true
			default:
				return nil, 0, r.malformed(ev.Line, "poll: unknown field %s (expected fd, events, revents)", a.Name)
			}
		}
		fds = append(fds, p)
	}
	timeout, okv := r.intArg(args[2])
	if !okv {
		return nil, 0, r.malformed(ev.Line, "poll: expected a timeout in ms, found %s", args[2])
	}
	return fds, timeout, nil
}

// checkRevents compares the events poll found with the script's.
func checkRevents(fds []pollFD, got []int64, n int64) callResult {
	for i, p := range fds {
		if p.checkRevents && got[i] != p.revents {
			return argBad(fmt.Sprintf("fd %d: expected revents %#x, got %#x", p.fd, p.revents, got[i]))
		}
	}
	return ok(n)
}

// poll performs poll on synack's sockets: POLLIN when data or the end of
// the stream can be read (or a listener has a connection), POLLOUT when
// there is send space, POLLHUP and POLLERR when the connection is closed
// (with an error not yet taken).
func (r *runner) poll(ev *Event) (attemptFn, *Failure) {
	fds, timeout, f := r.pollArgs(ev)
	if f != nil {
		return nil, f
	}
	start := r.now
	return func() (bool, callResult) {
		n := int64(0)
		got := make([]int64, len(fds))
		for i, p := range fds {
			s := r.socks[p.fd]
			var rev int64
			switch {
			case s == nil:
				rev = symbols["POLLNVAL"]
			case s.l != nil:
				if s.l.Pending() > 0 {
					rev |= symbols["POLLIN"] | symbols["POLLRDNORM"]
				}
			case s.c != nil:
				c := s.c
				if c.Readable() > 0 || c.ReadClosed() || s.shutRD {
					rev |= symbols["POLLIN"] | symbols["POLLRDNORM"]
				}
				if c.ReadClosed() {
					rev |= symbols["POLLRDHUP"]
				}
				if c.State().Synchronized() && c.SendSpace() > 0 {
					rev |= symbols["POLLOUT"] | symbols["POLLWRNORM"]
				}
				if c.State() == tcp.Closed {
					rev |= symbols["POLLHUP"]
					if c.Err() != nil && !s.errTaken {
						rev |= symbols["POLLERR"]
					}
				}
			}
			rev &= p.events | symbols["POLLERR"] | symbols["POLLHUP"] | symbols["POLLNVAL"]
			got[i] = rev
			if rev != 0 {
				n++
			}
		}
		if n == 0 && timeout != 0 && (timeout < 0 || r.now < start.Add(time.Duration(timeout)*time.Millisecond)) {
			return false, callResult{}
		}
		return true, checkRevents(fds, got, n)
	}, nil
}
