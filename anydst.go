package synack

import (
	"net"
	"net/netip"

	"github.com/gosynack/synack/stack"
)

// ListenAny opens a listener for the connections to any address and port
// that no Listen takes; the Stack needs Config.AnyDestination. Each
// accepted Conn's LocalAddr is the destination its peer dialled (the
// original destination a transparent proxy forwards to). The listener's
// Addr is 0.0.0.0:0.
func (s *Stack) ListenAny() (*Listener, error) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	s.lockAll()
	defer s.unlockAll()
	addr := tcpAddr(netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
	if s.shards[0].closed {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Addr: addr, Err: net.ErrClosed}
	}
	ls, err := s.listenAll(func(st *stack.Stack) (*stack.Listener, error) { return st.ListenAny(0) })
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Addr: addr, Err: mapErr("listen", err)}
	}
	return newListener(s, ls, addr), nil
}
