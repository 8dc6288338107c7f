package synack

import (
	"net"
	"net/netip"
)

// ListenAny opens a listener for the connections to any address and port
// that no Listen takes; the Stack needs Config.AnyDestination. Each
// accepted Conn's LocalAddr is the destination its peer dialled (the
// original destination a transparent proxy forwards to). The listener's
// Addr is 0.0.0.0:0.
func (s *Stack) ListenAny() (*Listener, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	addr := tcpAddr(netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
	if s.closed {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Addr: addr, Err: net.ErrClosed}
	}
	sl, err := s.st.ListenAny(0)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Addr: addr, Err: mapErr("listen", err)}
	}
	return newListener(s, sl, addr), nil
}
