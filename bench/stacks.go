package bench

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"

	"github.com/gosynack/synack"
	stcp "github.com/gosynack/synack/tcp"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	gtcp "gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Addresses of the two hosts of the in-memory pairs, in the benchmarking
// range of RFC 2544.
var (
	ClientAddr = netip.MustParseAddr("198.18.0.2")
	ServerAddr = netip.MustParseAddr("198.18.0.1")
)

// Env is a client and a server host, both in this process, driven through
// net.Listener and net.Conn whatever the stack underneath.
type Env struct {
	// Listen opens the server's i-th listener (i from 0; each on its own
	// port).
	Listen func(i int) (net.Listener, error)
	// Dial connects the client to the listener ln.
	Dial func(ctx context.Context, ln net.Listener) (net.Conn, error)
	// Segments returns the TCP segments both hosts have sent so far, or
	// is nil where the stack does not tell (the kernel's counters are the
	// whole machine's).
	Segments func() uint64
	// Close tears both hosts down.
	Close func()
}

// Stack names a stack under test and builds Envs of it.
type Stack struct {
	Name string
	// New builds a client and a server joined by a link of the given MTU
	// (the kernel runs on loopback, whose MTU is 65536; at mtu=1500 its
	// sockets are given TCP_MAXSEG 1460 instead).
	New func(mtu int) (*Env, error)
}

// Stacks are the stacks compared, in table order.
var Stacks = []Stack{
	{Name: "synack", New: newSynack},
	{Name: "gvisor-best", New: newGVisorBest},
	{Name: "gvisor", New: newGVisor},
	{Name: "kernel", New: newKernel},
}

// basePort is the server's first listening port on the in-memory stacks.
const basePort = 8000

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// synackShards is the Config.Shards of both synack Stacks (0: synack's
// default; -1, synack.ShardPerCPU: GOMAXPROCS when the Stacks are made,
// so one shard per procs of the scaling benchmarks), so that two runs can compare shard
// counts. The flag is here, not in bench_test.go, so that ab.sh can build
// an older tree that has no such hook with this tree's bench_test.go.
var synackShards = flag.Int("synack.shards", 0, "Config.Shards of the synack stacks (0: synack's default; -1: GOMAXPROCS, one shard per procs=P)")

// newSynack joins two synack Stacks with a Pipe. Nagle is off, as it is on
// gVisor's endpoints (TCPDelayEnabled defaults to false) and on the net
// package's sockets; everything else is synack's default (CUBIC, SACK,
// 64 KiB send buffer, 64 KiB receive buffer autotuned up to 4 MiB).
func newSynack(mtu int) (*Env, error) {
	cl, sv := Pipe(ClientAddr, ServerAddr, mtu)
	cfg := synack.Config{TCP: stcp.Config{NoDelay: true}, Shards: *synackShards}
	server, err := synack.New(sv, cfg)
	if err != nil {
		return nil, err
	}
	client, err := synack.New(cl, cfg)
	if err != nil {
		server.Close()
		return nil, err
	}
	return &Env{
		Listen: func(i int) (net.Listener, error) {
			return server.Listen("tcp", ":"+strconv.Itoa(basePort+i))
		},
		Dial: func(ctx context.Context, ln net.Listener) (net.Conn, error) {
			return client.DialContext(ctx, "tcp", netip.AddrPortFrom(ServerAddr, uint16(port(ln))).String())
		},
		// The packets the pipe carried, as gVisor's SegmentsSent counts
		// them: a super-segment is one (the stacks' OutSegs count the
		// MSS-sized segments it holds, as Linux's does).
		Segments: func() uint64 { return cl.Packets() + sv.Packets() },
		Close: func() {
			client.Close()
			server.Close()
		},
	}, nil
}

// gstack is one gVisor host on a channel endpoint.
type gstack struct {
	s  *stack.Stack
	ep *channel.Endpoint
}

func newGStack(addr netip.Addr, mtu int, best bool) (*gstack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{gtcp.NewProtocolCUBIC},
	})
	sack := tcpip.TCPSACKEnabled(true)
	if err := s.SetTransportProtocolOption(gtcp.ProtocolNumber, &sack); err != nil {
		s.Destroy()
		return nil, fmt.Errorf("gvisor: SACK: %v", err)
	}
	ep := channel.New(QueueLen, uint32(mtu), "")
	if best {
		// An in-memory link cannot corrupt and carries packets of any
		// size: checksums are neither computed nor verified, and TCP
		// hands the link segments of up to GSOMaxSize (32 KiB) whatever
		// the MTU, which the peer takes whole (as a NIC's GRO would).
		ep.LinkEPCapabilities = stack.CapabilityRXChecksumOffload | stack.CapabilityTXChecksumOffload
		ep.SupportedGSOKind = stack.HostGSOSupported
	}
	if err := s.CreateNIC(1, ep); err != nil {
		s.Destroy()
		return nil, fmt.Errorf("gvisor: CreateNIC: %v", err)
	}
	pa := tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddrFrom4(addr.As4()).WithPrefix(),
	}
	if err := s.AddProtocolAddress(1, pa, stack.AddressProperties{}); err != nil {
		s.Destroy()
		return nil, fmt.Errorf("gvisor: AddProtocolAddress: %v", err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: 1}})
	return &gstack{s: s, ep: ep}, nil
}

// pump moves packets sent on from's endpoint into to's until ctx ends. The
// payload is handed over by reference (gVisor's buffers are reference
// counted), as gVisor's own link/pipe does.
func pump(ctx context.Context, from, to *channel.Endpoint) {
	for {
		pkt := from.ReadContext(ctx)
		if pkt == nil {
			return
		}
		in := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: pkt.ToBuffer()})
		pkt.DecRef()
		to.InjectInbound(ipv4.ProtocolNumber, in)
		in.DecRef()
	}
}

// newGVisor joins two gVisor stacks (CUBIC, SACK on, gVisor's default
// buffers: 1 MiB send, 1 MiB receive moderated up to 4 MiB) with two
// channel endpoints and a pump goroutine each way, configured as tun2socks
// configures gVisor on a TUN without offloads: packets of at most the MTU,
// checksums computed and verified in software.
func newGVisor(mtu int) (*Env, error) { return newGVisorEnv(mtu, false) }

// newGVisorBest is gVisor at its best on an in-memory link: the same
// stacks with checksum offload (none computed or verified) and GSO
// (HostGSOSupported: segments of up to 32 KiB whatever the MTU), as a
// gVisor user can configure a channel endpoint.
func newGVisorBest(mtu int) (*Env, error) { return newGVisorEnv(mtu, true) }

func newGVisorEnv(mtu int, best bool) (*Env, error) {
	client, err := newGStack(ClientAddr, mtu, best)
	if err != nil {
		return nil, err
	}
	server, err := newGStack(ServerAddr, mtu, best)
	if err != nil {
		client.s.Destroy()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pump(ctx, client.ep, server.ep) }()
	go func() { defer wg.Done(); pump(ctx, server.ep, client.ep) }()
	return &Env{
		Listen: func(i int) (net.Listener, error) {
			return gonet.ListenTCP(server.s, tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4(ServerAddr.As4()), Port: uint16(basePort + i)}, ipv4.ProtocolNumber)
		},
		Dial: func(ctx context.Context, ln net.Listener) (net.Conn, error) {
			return gonet.DialContextTCP(ctx, client.s, tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4(ServerAddr.As4()), Port: uint16(port(ln))}, ipv4.ProtocolNumber)
		},
		Segments: func() uint64 {
			return client.s.Stats().TCP.SegmentsSent.Value() + server.s.Stats().TCP.SegmentsSent.Value()
		},
		Close: func() {
			client.s.Close()
			server.s.Close()
			cancel()
			wg.Wait()
			client.s.Wait()
			server.s.Wait()
			client.ep.Close()
			server.ep.Close()
		},
	}, nil
}

// newKernel uses the kernel's TCP over loopback. Loopback's MTU is 65536
// and is not changed (it is the machine's); at mtu=1500 both sockets are
// given TCP_MAXSEG 1460, so the kernel at least cuts 1460-byte segments
// (loopback's GSO still hands them around in large batches).
func newKernel(mtu int) (*Env, error) {
	var control func(network, address string, c syscall.RawConn) error
	if mtu < 65535 {
		mss := mtu - 40
		control = func(network, address string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, mss)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	lc := net.ListenConfig{Control: control}
	d := net.Dialer{Control: control}
	return &Env{
		Listen: func(int) (net.Listener, error) {
			return lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
		},
		Dial: func(ctx context.Context, ln net.Listener) (net.Conn, error) {
			return d.DialContext(ctx, "tcp4", ln.Addr().String())
		},
		Close: func() {},
	}, nil
}
