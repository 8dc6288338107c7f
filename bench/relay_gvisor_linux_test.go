//go:build linux

package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	gtcp "gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// gvisorRelay is BenchmarkRelay's other side: a forwarder built the way
// tun2socks builds its engine (its module is not served by the Go module
// proxy, so it cannot be run itself), written here from its description:
//
//   - the TUN opened plainly (IFF_TUN|IFF_NO_PI: no virtio header, so no
//     GSO and no checksum offload) under gVisor's fdbased endpoint, with no
//     Ethernet header;
//   - a stack with IPv4, IPv6, TCP, UDP and ICMP, the NIC promiscuous and
//     spoofing (every address is its own), a default route each family;
//   - tun2socks's stack options: TTL 64, forwarding on, Reno, Nagle off,
//     no receive-buffer moderation, SACK, RACK, gVisor's default buffer
//     sizes; keepalives on each endpoint (60 s idle, 30 s interval, 9);
//   - tcp.NewForwarder (default window, 2048 connections in flight) whose
//     handler completes the handshake, then dials the original destination
//     with the host's sockets and copies both ways (io.Copy, half-closing
//     each side as the other ends); a failed dial closes the connection;
//   - udp.NewForwarder whose handler dials the destination and copies
//     datagrams both ways until 60 s pass with none.
type gvisorRelay struct {
	s  *stack.Stack
	wg sync.WaitGroup
}

// tun2socks's keepalive settings and UDP session timeout.
const (
	gvKeepaliveIdle     = 60 * time.Second
	gvKeepaliveInterval = 30 * time.Second
	gvKeepaliveCount    = 9
	gvUDPTimeout        = 60 * time.Second
	gvDialTimeout       = 10 * time.Second
)

func startGVisorRelay(fd int, mtu uint32) (*gvisorRelay, error) {
	ep, err := fdbased.New(&fdbased.Options{FDs: []int{fd}, MTU: mtu, EthernetHeader: false})
	if err != nil {
		return nil, fmt.Errorf("gvisor: fdbased endpoint: %w", err)
	}
	g := &gvisorRelay{}
	g.s, err = newGVisorStack(ep, gvisorTun2socks, func(s *stack.Stack) {
		tf := gtcp.NewForwarder(s, 0, 2<<10, g.handleTCP)
		s.SetTransportProtocolHandler(gtcp.ProtocolNumber, tf.HandlePacket)
		uf := udp.NewForwarder(s, g.handleUDP)
		s.SetTransportProtocolHandler(udp.ProtocolNumber, uf.HandlePacket)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// gvisorTuning is what a gVisor stack is given beyond tun2socks's options.
type gvisorTuning struct {
	// moderate turns receive-buffer moderation on (gVisor's default;
	// tun2socks turns it off).
	moderate bool
}

var gvisorTun2socks = gvisorTuning{}

// newGVisorStack builds a gVisor stack on ep as tun2socks builds its
// engine (the options in gvisorRelay's doc): IPv4, IPv6, TCP, UDP and
// ICMP, TTL 64, forwarding on, Reno, Nagle off, no receive-buffer
// moderation unless t says so, SACK, RACK, gVisor's default buffer sizes,
// the NIC (1) promiscuous and spoofing, a default route each family.
// handlers, if not nil, is called before the NIC is made, so no packet
// arrives before the handlers it installs.
func newGVisorStack(ep stack.LinkEndpoint, t gvisorTuning, handlers func(*stack.Stack)) (*stack.Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{gtcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
	})
	var errs []error
	check := func(what string, e tcpip.Error) {
		if e != nil {
			errs = append(errs, fmt.Errorf("gvisor: %s: %v", what, e))
		}
	}
	ttl := tcpip.DefaultTTLOption(64)
	check("ipv4 TTL", s.SetNetworkProtocolOption(ipv4.ProtocolNumber, &ttl))
	check("ipv6 TTL", s.SetNetworkProtocolOption(ipv6.ProtocolNumber, &ttl))
	check("ipv4 forwarding", s.SetForwardingDefaultAndAllNICs(ipv4.ProtocolNumber, true))
	check("ipv6 forwarding", s.SetForwardingDefaultAndAllNICs(ipv6.ProtocolNumber, true))
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: gtcp.MinBufferSize, Default: gtcp.DefaultSendBufferSize, Max: gtcp.MaxBufferSize}
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: gtcp.MinBufferSize, Default: gtcp.DefaultReceiveBufferSize, Max: gtcp.MaxBufferSize}
	cc := tcpip.CongestionControlOption("reno")
	delay := tcpip.TCPDelayEnabled(false)
	moderate := tcpip.TCPModerateReceiveBufferOption(t.moderate)
	sack := tcpip.TCPSACKEnabled(true)
	recovery := tcpip.TCPRACKLossDetection
	for _, o := range []struct {
		what string
		opt  tcpip.SettableTransportProtocolOption
	}{{"send buffer", &snd}, {"receive buffer", &rcv}, {"congestion control", &cc}, {"delay", &delay},
		{"receive buffer moderation", &moderate}, {"SACK", &sack}, {"recovery", &recovery}} {
		check("tcp "+o.what, s.SetTransportProtocolOption(gtcp.ProtocolNumber, o.opt))
	}
	if handlers != nil {
		handlers(s)
	}
	const nic = 1
	check("create NIC", s.CreateNIC(nic, ep))
	check("promiscuous mode", s.SetPromiscuousMode(nic, true))
	check("spoofing", s.SetSpoofing(nic, true))
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: nic}, {Destination: header.IPv6EmptySubnet, NIC: nic}})
	if err := errors.Join(errs...); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the stack and waits for the flows' goroutines.
func (g *gvisorRelay) Close() {
	g.s.Close()
	g.s.Wait()
	g.wg.Wait()
}

func endpointDst(id stack.TransportEndpointID) string {
	a, _ := netip.AddrFromSlice(id.LocalAddress.AsSlice())
	return net.JoinHostPort(a.Unmap().String(), strconv.Itoa(int(id.LocalPort)))
}

// handleTCP runs in the goroutine gVisor's forwarder starts for each SYN.
func (g *gvisorRelay) handleTCP(r *gtcp.ForwarderRequest) {
	dst := endpointDst(r.ID()) // before Complete, which drops the request's packet
	var wq waiter.Queue
	ep, err := r.CreateEndpoint(&wq)
	if err != nil {
		r.Complete(true) // a RST
		return
	}
	r.Complete(false)
	ep.SocketOptions().SetKeepAlive(true)
	idle := tcpip.KeepaliveIdleOption(gvKeepaliveIdle)
	interval := tcpip.KeepaliveIntervalOption(gvKeepaliveInterval)
	ep.SetSockOpt(&idle)
	ep.SetSockOpt(&interval)
	ep.SetSockOptInt(tcpip.KeepaliveCountOption, gvKeepaliveCount)
	c := gonet.NewTCPConn(&wq, ep)
	g.wg.Add(1)
	defer g.wg.Done()
	defer c.Close()
	up, derr := net.DialTimeout("tcp", dst, gvDialTimeout)
	if derr != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(up, c)
		up.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(c, up)
	c.CloseWrite()
	<-done
}

func (g *gvisorRelay) handleUDP(r *udp.ForwarderRequest) bool {
	var wq waiter.Queue
	ep, err := r.CreateEndpoint(&wq)
	if err != nil {
		return true
	}
	c := gonet.NewUDPConn(&wq, ep)
	dst := endpointDst(r.ID())
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer c.Close()
		up, err := net.DialTimeout("udp", dst, gvDialTimeout)
		if err != nil {
			return
		}
		defer up.Close()
		copyDatagrams := func(to, from net.Conn) {
			buf := make([]byte, 65535)
			for {
				from.SetReadDeadline(time.Now().Add(gvUDPTimeout))
				n, err := from.Read(buf)
				if err != nil {
					return
				}
				if _, err := to.Write(buf[:n]); err != nil {
					return
				}
			}
		}
		done := make(chan struct{})
		go func() { defer close(done); copyDatagrams(up, c); up.Close() }()
		copyDatagrams(c, up)
		c.Close()
		<-done
	}()
	return true
}
