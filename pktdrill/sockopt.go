package pktdrill

import (
	"fmt"
	"time"

	"github.com/gosynack/synack/tcp"
)

// keepalive is a socket's keepalive settings as Linux keeps them: the
// SO_KEEPALIVE switch and the TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT
// values, which may be set in any order, before or after the switch.
type keepalive struct {
	on    bool
	idle  time.Duration // 0: Linux's tcp_keepalive_time
	intvl time.Duration // 0: the connection's current interval
	cnt   int           // 0: the connection's current count
}

// linuxKeepIdle is Linux's net.ipv4.tcp_keepalive_time default, the idle
// time SO_KEEPALIVE uses when TCP_KEEPIDLE is not set.
const linuxKeepIdle = 7200 * time.Second

// intValueArg reads a setsockopt value: [n] or n.
func (r *runner) intValueArg(ev *Event, name string, e Expr) (int64, *Failure) {
	if arr, isArr := e.(Array); isArr && len(arr.Elems) == 1 {
		e = arr.Elems[0]
	}
	v, okv := r.intArg(e)
	if !okv {
		return 0, r.malformed(ev.Line, "setsockopt %s: expected a value [n], found %s", name, e)
	}
	return v, nil
}

// lingerArg reads SO_LINGER's {onoff=1, linger=0}.
func (r *runner) lingerArg(ev *Event, e Expr) (on, secs int64, f *Failure) {
	st, okv := e.(Struct)
	if !okv {
		return 0, 0, r.malformed(ev.Line, "SO_LINGER: expected {onoff=N, linger=N}, found %s", e)
	}
	for _, el := range st.Elems {
		a, okv := el.(Assign)
		v, okv2 := int64(0), false
		if okv {
			v, okv2 = r.intArg(a.V)
		}
		if !okv || !okv2 {
			return 0, 0, r.malformed(ev.Line, "SO_LINGER: expected {onoff=N, linger=N}, found %s", e)
		}
		switch a.Name {
		case "onoff", "l_onoff":
			on = v
		case "linger", "l_linger":
			secs = v
		default:
			return 0, 0, r.malformed(ev.Line, "SO_LINGER: unknown field %s (expected onoff and linger)", a.Name)
		}
	}
	return on, secs, nil
}

// checkLinger compares a struct linger the call read with the script's.
func (r *runner) checkLinger(e Expr, on, secs int64) callResult {
	st, okv := e.(Struct)
	if !okv {
		return ok(0)
	}
	wantOn, wantSecs := on, secs
	for _, el := range st.Elems {
		if a, okv := el.(Assign); okv {
			if v, okv := r.intArg(a.V); okv {
				switch a.Name {
				case "onoff", "l_onoff":
					wantOn = v
				case "linger", "l_linger":
					wantSecs = v
				}
			}
		}
	}
	if (wantOn != 0) != (on != 0) || wantSecs != secs {
		return argBad(fmt.Sprintf("SO_LINGER: expected {onoff=%d, linger=%d}, got {onoff=%d, linger=%d}", wantOn, wantSecs, on, secs))
	}
	return ok(0)
}

// sysSetsockopt performs setsockopt(fd, level, name, [v], len) through
// what tcp.Conn and the Go API offer:
//
//   - SO_REUSEADDR, SO_REUSEPORT: accepted, no effect (a fresh stack has
//     no port in use).
//   - SO_LINGER {onoff=1, linger=0}: close aborts with a RST, as the Go
//     API's SetLinger(0) makes Close do; any other linger is the default.
//   - TCP_NODELAY: SetNoDelay. TCP_USER_TIMEOUT (ms): SetUserTimeout.
//   - SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL (s), TCP_KEEPCNT:
//     SetKeepAlive.
//   - SO_RCVBUF, SO_SNDBUF: SetRecvBuffer, SetSendBuffer. Under the
//     linux profile as Linux has them (socket(7)): the value is capped at
//     rmem_max/wmem_max (212992) and doubled, the send buffer is that
//     doubled size, the receive window half of it (tcp_adv_win_scale 1),
//     and getsockopt returns the doubled value.
//   - TCP_CONGESTION: accepted if it names the algorithm in use; synack
//     cannot change it on a live connection.
//
// TCP_MAXSEG set maps onto tcp.Conn.SetMaxSegment, TCP_QUICKACK onto
// SetQuickACK (1 sends a delayed ACK that is due at once, 0 ends the
// quick-ACK mode). TCP_CORK and others are unsupported:
// synack's API has no such option. An option set before connect applies
// to the connection from its start; one set on a listener applies to each
// connection it makes from the SYN on (sysListen), as Linux's listening
// sockets pass their options on.
func (r *runner) sysSetsockopt(call *fdCall) (attemptFn, *Failure) {
	s, args, ev := call.s, call.args, call.ev
	if f := r.needArgs(ev, 5); f != nil {
		return nil, f
	}
	name := args[2].String()
	switch name {
	case "SO_REUSEADDR", "SO_REUSEPORT":
		return done(ok(0)), nil
	case "SO_OOBINLINE":
		// synack keeps urgent data in the stream (it has no
		// out-of-band delivery, RFC 6093 §6's advice): what
		// SO_OOBINLINE on asks for. Off would take the last urgent
		// octet out of the stream, which it cannot do.
		v, f := r.intValueArg(ev, name, args[3])
		if f != nil {
			return nil, f
		}
		if v == 0 {
			return nil, r.unsupported(ev.Line, "setsockopt SO_OOBINLINE 0: synack has no out-of-band delivery; urgent data always stays in the stream")
		}
		return done(ok(0)), nil
	case "SO_LINGER":
		on, secs, f := r.lingerArg(ev, args[3])
		if f != nil {
			return nil, f
		}
		return func() (bool, callResult) { s.linger0 = on != 0 && secs == 0; return true, ok(0) }, nil
	case "TCP_CONGESTION":
		str, okv := args[3].(String)
		if !okv {
			return nil, r.malformed(ev.Line, "setsockopt TCP_CONGESTION: expected a string such as \"cubic\", found %s", args[3])
		}
		cur := ""
		if s.c != nil {
			cur = s.c.Info().Congestion
		} else {
			cfg, _ := ProfileConfig(r.opts.Profile)
			cur = cfg.Congestion
			if cur == "" {
				cur = "cubic"
			}
		}
		if str.S != cur {
			return nil, r.unsupported(ev.Line, "setsockopt TCP_CONGESTION %q: synack cannot change the congestion control of a connection (it uses %q)", str.S, cur)
		}
		return done(ok(0)), nil
	case "TCP_NODELAY", "TCP_USER_TIMEOUT", "SO_RCVBUF", "SO_SNDBUF",
		"SO_KEEPALIVE", "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "TCP_MAXSEG", "TCP_QUICKACK":
	default:
		return nil, r.unsupported(ev.Line, "setsockopt %s is not supported by the runner (synack has no such option)", name)
	}
	v, f := r.intValueArg(ev, name, args[3])
	if f != nil {
		return nil, f
	}
	switch name {
	case "TCP_KEEPIDLE", "TCP_KEEPINTVL":
		// Linux's limits: MAX_TCP_KEEPIDLE and MAX_TCP_KEEPINTVL are
		// 32767, MAX_TCP_KEEPCNT 127; 0 is EINVAL.
		if v < 1 || v > 32767 {
			return done(errno("EINVAL")), nil
		}
	case "TCP_KEEPCNT":
		if v < 1 || v > 127 {
			return done(errno("EINVAL")), nil
		}
	case "TCP_USER_TIMEOUT":
		if v < 0 {
			return done(errno("EINVAL")), nil
		}
	case "TCP_MAXSEG":
		// tcp.Conn.SetMaxSegment's range, Linux's TCP_MIN_MSS up.
		if v < tcp.MinMaxSegment || v > 65535 {
			return done(errno("EINVAL")), nil
		}
	}
	return func() (bool, callResult) {
		k := &s.ka
		switch name {
		case "SO_KEEPALIVE":
			k.on = v != 0
		case "TCP_KEEPIDLE":
			k.idle = time.Duration(v) * time.Second
		case "TCP_KEEPINTVL":
			k.intvl = time.Duration(v) * time.Second
		case "TCP_KEEPCNT":
			k.cnt = int(v)
		}
		s.opts = append(s.opts, sockOpt{name, v, ev.Line})
		if s.c != nil {
			r.applyOpt(s, s.c, name, v)
		}
		return true, ok(0)
	}, nil
}

type sockOpt struct {
	name string
	v    int64
	line int // the setsockopt's line in the script
}

// applyOpts applies the options set before the socket had a connection.
func (r *runner) applyOpts(s *sock) {
	for _, o := range s.opts {
		r.applyOpt(s, s.c, o.name, o.v)
	}
}

func (r *runner) applyOpt(s *sock, c *tcp.Conn, name string, v int64) {
	r.setOpt(s, c, name, v)
	r.st.Update(c) // a timer may have moved
}

// setOpt sets an option on c without telling the stack (a listener's
// SetConnInit calls it for a connection the stack is making).
func (r *runner) setOpt(s *sock, c *tcp.Conn, name string, v int64) {
	switch name {
	case "TCP_NODELAY":
		c.SetNoDelay(v != 0)
	case "TCP_USER_TIMEOUT":
		c.SetUserTimeout(time.Duration(v) * time.Millisecond)
	case "SO_RCVBUF":
		c.SetRecvBuffer(r.bufOpt(v) / r.bufScale())
	case "SO_SNDBUF":
		c.SetSendBuffer(r.bufOpt(v))
	case "TCP_MAXSEG":
		_ = c.SetMaxSegment(int(v)) // in range: checked when the call was read
	case "TCP_QUICKACK":
		c.SetQuickACK(v != 0)
	default:
		applyKeepalive(r, c, s.ka)
	}
}

// linuxBufMax is Linux's net.core.rmem_max and wmem_max default (212992):
// SO_RCVBUF and SO_SNDBUF values above it are lowered to it.
const linuxBufMax = 212992

// bufOpt is the buffer size SO_RCVBUF or SO_SNDBUF v asks for: v itself,
// or under the linux profile as Linux sets it (socket(7): "The kernel
// doubles this value (to allow space for bookkeeping overhead) when it is
// set using setsockopt(2), and this doubled value is returned by
// getsockopt(2)"), from v capped at rmem_max/wmem_max.
func (r *runner) bufOpt(v int64) int {
	if r.opts.Profile != "linux" {
		return int(v)
	}
	return 2 * int(min(max(v, 0), linuxBufMax))
}

// bufScale is how many bytes of SO_RCVBUF buy a byte of window: 1, or 2
// under the linux profile, where half of the doubled buffer is the
// window (net.ipv4.tcp_adv_win_scale 1: "space / 2^tcp_adv_win_scale"
// is overhead).
func (r *runner) bufScale() int {
	if r.opts.Profile == "linux" {
		return 2
	}
	return 1
}

func applyKeepalive(r *runner, c *tcp.Conn, k keepalive) {
	if !k.on {
		c.SetKeepAlive(r.now, 0, k.intvl, k.cnt)
		return
	}
	idle := k.idle
	if idle == 0 {
		idle = linuxKeepIdle
		if r.keepIdle > 0 {
			idle = r.keepIdle
		}
	}
	c.SetKeepAlive(r.now, idle, k.intvl, k.cnt)
}

// sysGetsockopt performs getsockopt(fd, level, name, [v], len) and checks
// the value against the script's [v]: SO_ERROR (a failed connection's
// error, once), TCP_MAXSEG (the MSS; under the linux profile with Linux's
// meaning, less the Timestamps option when it is in use), TCP_NODELAY,
// SO_RCVBUF, SO_SNDBUF, SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
// TCP_KEEPCNT, SO_LINGER and TCP_CONGESTION.
func (r *runner) sysGetsockopt(call *fdCall) (attemptFn, *Failure) {
	s, args, ev := call.s, call.args, call.ev
	if f := r.needArgs(ev, 5); f != nil {
		return nil, f
	}
	name := args[2].String()
	var get func() int64
	switch name {
	case "SO_ERROR":
		get = func() int64 {
			if s.c != nil && s.c.State() == tcp.Closed && !s.errTaken && s.c.Err() != nil {
				s.errTaken = true
				return int64(errnos[errnoOf(s.c.Err())].n)
			}
			return 0
		}
	case "TCP_MAXSEG":
		get = func() int64 {
			switch {
			case s.c != nil && r.opts.Profile == "linux":
				// Linux's meaning: the MSS segments are sent with,
				// less the Timestamps option (tcp.Conn.MaxSegment).
				return int64(s.c.MaxSegment())
			case s.c != nil && s.c.State().Synchronized():
				return int64(s.c.Info().MSS)
			}
			return 536
		}
	case "TCP_NODELAY":
		get = func() int64 {
			if s.c != nil && s.c.NoDelay() {
				return 1
			}
			return 0
		}
	case "SO_RCVBUF", "SO_SNDBUF":
		if s.c == nil {
			return nil, r.unsupported(ev.Line, "getsockopt %s on fd %d: the runner reads buffer sizes of a connection only", name, call.fd)
		}
		get = func() int64 {
			if name == "SO_RCVBUF" {
				return int64(s.c.RecvBuffer() * r.bufScale())
			}
			return int64(s.c.SendBuffer())
		}
	case "SO_OOBINLINE":
		get = func() int64 { return 1 } // urgent data always in-line
	case "SO_KEEPALIVE":
		get = func() int64 {
			if s.ka.on {
				return 1
			}
			return 0
		}
	case "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT":
		return nil, r.unsupported(ev.Line, "getsockopt %s: tcp.Conn does not report its keepalive settings", name)
	case "SO_LINGER":
		return func() (bool, callResult) {
			if s.linger0 {
				return true, r.checkLinger(args[3], 1, 0)
			}
			return true, r.checkLinger(args[3], 0, 0)
		}, nil
	case "TCP_CONGESTION":
		return func() (bool, callResult) {
			cur := "cubic"
			if s.c != nil {
				cur = s.c.Info().Congestion
			}
			if str, okv := args[3].(String); okv && str.S != cur {
				return true, argBad(fmt.Sprintf("TCP_CONGESTION: expected %q, got %q", str.S, cur))
			}
			return true, ok(0)
		}, nil
	default:
		return nil, r.unsupported(ev.Line, "getsockopt %s is not supported by the runner", name)
	}
	return r.checkValue(args[3], name+": expected value", get), nil
}
