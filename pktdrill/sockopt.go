package pktdrill

import (
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

// keepaliveOpt maps setsockopt(fd, level, SO_KEEPALIVE | TCP_KEEPIDLE |
// TCP_KEEPINTVL | TCP_KEEPCNT, [v], len) onto (*tcp.Conn).SetKeepAlive.
// Times are in seconds, as in Linux. It reports false for other options.
// The option applies to a connected socket (an accepted or connecting
// one); on a listening socket it is refused, since synack's listeners do
// not pass socket options on to the connections they accept.
func (r *runner) keepaliveOpt(ev *Event, s *sock) (attemptFn, *Failure, bool) {
	args := ev.Syscall.Args
	name := args[2].String()
	switch name {
	case "SO_KEEPALIVE", "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT":
	default:
		return nil, nil, false
	}
	arr, isArr := args[3].(Array)
	var v int64
	okv := isArr && len(arr.Elems) == 1
	if okv {
		v, okv = r.intArg(arr.Elems[0])
	}
	if !okv {
		return nil, r.fail(ev.Line, "setsockopt %s: expected a value [n], found %s", name, args[3]), true
	}
	if name != "SO_KEEPALIVE" && (v < 1 || v > 32767) {
		// Linux's limits: MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT
		// are 32767, 32767 and 127; 0 is EINVAL.
		return done(errno("EINVAL")), nil, true
	}
	if name == "TCP_KEEPCNT" && v > 127 {
		return done(errno("EINVAL")), nil, true
	}
	if s.c == nil {
		return nil, r.fail(ev.Line, "setsockopt %s: the runner applies keepalive options to a connected socket only (fd %s has no connection)", name, args[0]), true
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
		applyKeepalive(r, s.c, *k)
		return true, ok(0)
	}, nil, true
}

func applyKeepalive(r *runner, c *tcp.Conn, k keepalive) {
	defer r.st.Update(c) // the keepalive timer moved
	if !k.on {
		c.SetKeepAlive(r.now, 0, k.intvl, k.cnt)
		return
	}
	idle := k.idle
	if idle == 0 {
		idle = linuxKeepIdle
	}
	c.SetKeepAlive(r.now, idle, k.intvl, k.cnt)
}
