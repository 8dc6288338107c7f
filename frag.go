package synack

import "net"

// SetDontFragment(true) makes a datagram too large for the path MTU fail
// with EMSGSIZE instead of leaving in IP fragments, as Linux's
// IP_MTU_DISCOVER set to IP_PMTUDISC_DO (or IPV6_DONTFRAG) does; false,
// the default, fragments it as Linux's IP_PMTUDISC_WANT does
// (stack.UDPEndpoint.SetDontFragment). Received fragments are reassembled
// either way.
func (c *UDPConn) SetDontFragment(on bool) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.closed {
		return c.opErr("set", nil, net.ErrClosed)
	}
	c.ep.SetDontFragment(on)
	return nil
}
