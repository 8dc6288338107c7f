package synack

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/gosynack/synack/stack"
)

// UDP on a Stack: ListenUDP (or ListenPacket) gives a net.PacketConn and
// DialUDP (or Dial with "udp", "udp4" or "udp6") a connected one that is a
// net.Conn too, like *net.UDPConn. Each read returns one datagram, cut to
// the buffer if it is longer (the rest is lost, as with net). Writes never
// block: a datagram goes out at once, in IP fragments if it is over the
// path MTU, or fails (EMSGSIZE over 65507 bytes of IPv4 or 65527 of IPv6,
// or over the path MTU with SetDontFragment). A connected socket reports an ICMP Port
// Unreachable for its peer as ECONNREFUSED on its next read or write, as
// Linux does. Reads wait on a channel the stack's input wakes; Close and
// Stack.Close unblock them with net.ErrClosed.

// UDPConn is a UDP socket on a Stack. It is safe for concurrent use.
type UDPConn struct {
	s        *Stack
	ep       *stack.UDPEndpoint
	network  string
	ready    chan struct{} // a wake-up for readers, sent under s.mu
	closedCh chan struct{}
	closed   bool // under s.mu
	rd, wd   *deadline
}

// isUDP reports whether network is one of the UDP networks.
func isUDP(network string) bool {
	return network == "udp" || network == "udp4" || network == "udp6"
}

func udpFamily(network string) stack.Family {
	switch network {
	case "udp4":
		return stack.IPv4
	case "udp6":
		return stack.IPv6
	}
	return stack.AnyFamily
}

// udpErr turns an error of a UDP endpoint into what a kernel socket call
// would fail with.
func udpErr(call string, err error) error {
	var errno syscall.Errno
	switch {
	case errors.Is(err, stack.ErrEndpointClosed):
		return net.ErrClosed
	case errors.Is(err, stack.ErrNotConnected):
		errno = syscall.EDESTADDRREQ
	case errors.Is(err, stack.ErrIsConnected):
		errno = syscall.EISCONN
	case errors.Is(err, stack.ErrMessageTooLong):
		errno = syscall.EMSGSIZE
	default:
		return mapErr(call, err)
	}
	return os.NewSyscallError(call, errno)
}

// UDPCounters returns the stack's UDP MIB counters (like the Udp lines of
// `netstat -s`).
func (s *Stack) UDPCounters() stack.UDPCounters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.UDPCounters()
}

// ListenPacket is ListenUDP returning a net.PacketConn.
func (s *Stack) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := s.ListenUDP(network, address)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListenUDP opens a UDP socket. network is "udp", "udp4" or "udp6";
// address is ":port", an unspecified address or one of the host's, as for
// Listen ("udp" with no address takes both families). Port 0 picks an
// ephemeral port (RFC 6056, in 32768–60999).
func (s *Stack) ListenUDP(network, address string) (*UDPConn, error) {
	opErr := func(err error) error { return &net.OpError{Op: "listen", Net: network, Err: err} }
	if !isUDP(network) {
		return nil, opErr(net.UnknownNetworkError(network))
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, opErr(err)
	}
	port, err := parsePort(portStr)
	if err != nil {
		return nil, opErr(err)
	}
	var a netip.Addr
	if host != "" {
		if a, err = netip.ParseAddr(host); err != nil || (!s.ours(a.Unmap()) && !a.IsUnspecified()) {
			return nil, opErr(&net.AddrError{Err: "address is not this stack's (" + s.addrs() + ")", Addr: host})
		}
		a = a.Unmap()
	}
	return s.bindUDP(network, netip.AddrPortFrom(a, port), netip.AddrPort{})
}

// bindUDP opens an endpoint on local, connected to remote if valid.
func (s *Stack) bindUDP(network string, local, remote netip.AddrPort) (*UDPConn, error) {
	op := "listen"
	if remote.IsValid() {
		op = "dial"
	}
	opErr := func(err error) error {
		e := &net.OpError{Op: op, Net: network, Err: err}
		if remote.IsValid() {
			e.Addr = net.UDPAddrFromAddrPort(remote)
		}
		return e
	}
	fam := udpFamily(network)
	if a := local.Addr(); a.IsValid() && !a.IsUnspecified() &&
		(fam == stack.IPv4 && !a.Is4() || fam == stack.IPv6 && a.Is4()) {
		return nil, opErr(&net.AddrError{Err: "address of the wrong family for " + network, Addr: a.String()})
	}
	if ra := remote.Addr().Unmap(); remote.IsValid() && (fam == stack.IPv4 && !ra.Is4() || fam == stack.IPv6 && ra.Is4()) {
		return nil, opErr(&net.AddrError{Err: "address of the wrong family for " + network, Addr: ra.String()})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, opErr(net.ErrClosed)
	}
	ep, err := s.st.BindUDP(fam, local)
	if err != nil {
		return nil, opErr(udpErr("bind", err))
	}
	if remote.IsValid() {
		if err := ep.Connect(remote); err != nil {
			ep.Close()
			return nil, opErr(udpErr("connect", err))
		}
	}
	c := &UDPConn{s: s, ep: ep, network: network, ready: make(chan struct{}, 1),
		closedCh: make(chan struct{}), rd: makeDeadline(), wd: makeDeadline()}
	ep.SetNotify(c.wake)
	return c, nil
}

// wake lets one blocked reader go. s.mu is held.
func (c *UDPConn) wake() {
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// DialUDP opens a UDP socket connected to raddr, from laddr if it is not
// nil (else an ephemeral port), as net.DialUDP does.
func (s *Stack) DialUDP(network string, laddr, raddr *net.UDPAddr) (*UDPConn, error) {
	if !isUDP(network) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	if raddr == nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("missing address")}
	}
	var local netip.AddrPort
	if laddr != nil {
		local = laddr.AddrPort()
	}
	remote := raddr.AddrPort()
	return s.bindUDP(network, netip.AddrPortFrom(local.Addr().Unmap(), local.Port()), netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port()))
}

// dialUDP is DialContext for the UDP networks: address is resolved as for
// TCP.
func (s *Stack) dialUDP(ctx context.Context, network, address string) (*UDPConn, error) {
	opErr := func(err error) error { return &net.OpError{Op: "dial", Net: network, Err: err} }
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, opErr(err)
	}
	port, err := parsePort(portStr)
	if err != nil {
		return nil, opErr(err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if s.cfg.Resolve == nil {
			return nil, opErr(&net.DNSError{Err: "no resolver (Config.Resolve) and not an IP literal", Name: host, IsNotFound: true})
		}
		if ip, err = s.cfg.Resolve(ctx, host); err != nil {
			return nil, opErr(err)
		}
	}
	return s.bindUDP(network, netip.AddrPort{}, netip.AddrPortFrom(ip.Unmap().WithZone(""), port))
}

func (c *UDPConn) opErr(op string, addr net.Addr, err error) error {
	if addr == nil && c.ep.RemoteAddr().IsValid() {
		addr = c.RemoteAddr()
	}
	return &net.OpError{Op: op, Net: c.network, Source: c.LocalAddr(), Addr: addr, Err: err}
}

// LocalAddr returns the local address, a *net.UDPAddr ("[::]:port" for
// both families on a dual-stack host).
// The endpoint's addresses do not change once bindUDP returns, so they are
// read without the lock.
func (c *UDPConn) LocalAddr() net.Addr {
	ap := c.ep.LocalAddr()
	fam := c.ep.Family()
	if !ap.Addr().IsValid() {
		ap = netip.AddrPortFrom(c.s.listenAddr(fam), ap.Port())
	}
	return net.UDPAddrFromAddrPort(ap)
}

// RemoteAddr returns the connected peer (a *net.UDPAddr), or nil.
func (c *UDPConn) RemoteAddr() net.Addr {
	ap := c.ep.RemoteAddr()
	if !ap.IsValid() {
		return nil
	}
	return net.UDPAddrFromAddrPort(ap)
}

// ReadFromUDPAddrPort reads one datagram into b and returns its source.
// It blocks until one arrives, the read deadline passes, an error is
// reported (ECONNREFUSED on a connected socket) or Close is called.
func (c *UDPConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	s := c.s
	s.mu.Lock()
	for {
		switch {
		case c.closed || s.closed:
			s.mu.Unlock()
			return 0, netip.AddrPort{}, c.opErr("read", nil, net.ErrClosed)
		case c.rd.expired():
			s.mu.Unlock()
			return 0, netip.AddrPort{}, c.opErr("read", nil, errDeadline)
		}
		d, ok, err := c.ep.Recv()
		if err != nil {
			s.mu.Unlock()
			return 0, netip.AddrPort{}, c.opErr("read", nil, udpErr("read", err))
		}
		if ok {
			if c.ep.Pending() {
				c.wake() // for another reader
			}
			s.mu.Unlock()
			return copy(b, d.Payload), d.Src, nil
		}
		s.mu.Unlock()
		select {
		case <-c.ready:
		case <-c.rd.wait():
		case <-c.closedCh:
		case <-s.loop.Done():
		}
		s.mu.Lock()
	}
}

// ReadFrom is ReadFromUDPAddrPort with a *net.UDPAddr.
func (c *UDPConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, ap, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(ap), nil
}

// ReadFromUDP is ReadFrom returning the concrete type.
func (c *UDPConn) ReadFromUDP(b []byte) (int, *net.UDPAddr, error) {
	n, ap, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(ap), nil
}

// Read reads one datagram (its source is not returned).
func (c *UDPConn) Read(b []byte) (int, error) {
	n, _, err := c.ReadFromUDPAddrPort(b)
	return n, err
}

// WriteToUDPAddrPort sends b as one datagram to addr.
func (c *UDPConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var na net.Addr
	if addr.IsValid() {
		na = net.UDPAddrFromAddrPort(addr)
	}
	switch {
	case c.closed || s.closed:
		return 0, c.opErr("write", na, net.ErrClosed)
	case c.wd.expired():
		return 0, c.opErr("write", na, errDeadline)
	}
	now := s.clk.Now()
	if err := c.ep.Send(now, addr, b); err != nil {
		return 0, c.opErr("write", na, udpErr("write", err))
	}
	s.stepLocked(now)
	return len(b), nil
}

// WriteTo sends b to addr, a *net.UDPAddr.
func (c *UDPConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua == nil {
		return 0, c.opErr("write", addr, os.NewSyscallError("sendto", syscall.EINVAL))
	}
	return c.WriteToUDPAddrPort(b, ua.AddrPort())
}

// WriteToUDP is WriteTo with the concrete type.
func (c *UDPConn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) { return c.WriteTo(b, addr) }

// Write sends b to the connected peer.
func (c *UDPConn) Write(b []byte) (int, error) { return c.WriteToUDPAddrPort(b, netip.AddrPort{}) }

// Close closes the socket: blocked reads return net.ErrClosed, and so
// does every later call.
func (c *UDPConn) Close() error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closed {
		return c.opErr("close", nil, net.ErrClosed)
	}
	c.closed = true
	c.ep.Close()
	close(c.closedCh)
	return nil
}

// SetDeadline sets the read and write deadlines.
func (c *UDPConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets when pending and future reads time out.
func (c *UDPConn) SetReadDeadline(t time.Time) error { return c.setDeadline(c.rd, t) }

// SetWriteDeadline sets when future writes time out (writes never block).
func (c *UDPConn) SetWriteDeadline(t time.Time) error { return c.setDeadline(c.wd, t) }

func (c *UDPConn) setDeadline(d *deadline, t time.Time) error {
	c.s.mu.Lock()
	closed := c.closed
	c.s.mu.Unlock()
	if closed {
		return c.opErr("set", nil, net.ErrClosed)
	}
	d.set(t)
	return nil
}

// SetReadBuffer bounds the receive queue in bytes of data (and in
// datagrams, at one per 512 bytes, at least 16).
func (c *UDPConn) SetReadBuffer(bytes int) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.closed {
		return c.opErr("set", nil, net.ErrClosed)
	}
	c.ep.SetRecvBuffer(max(bytes/512, 16), bytes)
	return nil
}

func (s *Stack) dialUDPConn(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := s.dialUDP(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return c, nil
}
