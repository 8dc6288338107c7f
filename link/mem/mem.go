// Package mem is an in-memory network for running synack stacks in real
// time inside one process: tests, examples, benchmarks. It is link/netsim's
// deterministic impaired network (latency, jitter, loss, duplication,
// reordering, corruption, bandwidth, scripted rules) driven by the real
// clock and one goroutine, with each host attached through a Port that
// implements link.Link.
//
// The impairments draw from seeded streams, so the fate of the n-th packet
// on a path is the same from run to run; what differs in real time is
// which packets the stacks send when. Under testing/synctest the clock is
// the bubble's fake one, so a test of a 30-second timeout takes no real
// time.
//
//	n, client, server, err := mem.Pair(1, netsim.Impairment{Latency: 10 * time.Millisecond})
//	defer n.Close()
//	// synack.New(client, ...), synack.New(server, ...)
package mem

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/internal/rt"
	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// DefaultMTU is the MTU of every Port: Ethernet's 1500 bytes.
const DefaultMTU = 1500

// QueueLen is how many delivered packets a Port holds for its reader; more
// are dropped (counted by Port.Overflows), as a full NIC ring drops.
const QueueLen = 4096

// Addresses of the two hosts of Pair, in the benchmarking range of RFC 2544.
var (
	ClientAddr = netip.MustParseAddr("198.18.0.2")
	ServerAddr = netip.MustParseAddr("198.18.0.1")
)

// Network is a set of Ports joined by link/netsim paths. It is safe for
// concurrent use.
type Network struct {
	mu     sync.Mutex
	net    *netsim.Network
	clk    *clock.Real
	ports  map[string]*Port
	byAddr map[netip.Addr]*Port
	rec    trace.Recorder
	closed bool
	// impaired lists the directed paths that are not perfect (an
	// impairment or a rule): only those go through link/netsim. A packet on a
	// perfect path, with nothing scheduled ahead of it and no recorder,
	// goes straight to its Port's queue (the fast path), which is what
	// link/netsim would do with it at once, without its bookkeeping.
	impaired map[[2]*Port]bool
	fast     map[[2]*Port]int // packets that took the fast path, by path

	loop *rt.Loop // delivers link/netsim's scheduled packets when due
}

// NewNetwork returns an empty network whose impairments draw from seed and
// which records link events to rec (nil records nothing; rec is called with
// the network's lock held, from several goroutines one at a time). It starts
// one goroutine, ended by Close.
func NewNetwork(seed uint64, rec trace.Recorder) *Network {
	n := &Network{
		net:   netsim.NewNetwork(seed, rec),
		clk:   clock.NewReal(),
		ports: make(map[string]*Port),
		rec:   rec,

		byAddr:   make(map[netip.Addr]*Port),
		impaired: make(map[[2]*Port]bool),
		fast:     make(map[[2]*Port]int),
	}
	n.loop = rt.New(&n.mu, n.clk, n.poll)
	n.loop.Start()
	return n
}

// Pair returns a network of two hosts, "client" at ClientAddr and "server"
// at ServerAddr, with imp on both directions.
func Pair(seed uint64, imp netsim.Impairment) (n *Network, client, server *Port, err error) {
	n = NewNetwork(seed, nil)
	client, err = n.Attach("client", ClientAddr)
	if err == nil {
		server, err = n.Attach("server", ServerAddr)
	}
	if err == nil {
		err = n.SetPath("client", "server", imp)
	}
	if err == nil {
		err = n.SetPath("server", "client", imp)
	}
	if err != nil {
		n.Close()
		return nil, nil, nil, err
	}
	return n, client, server, nil
}

// Attach adds a host with the given name and address and returns its Port.
func (n *Network) Attach(name string, addr netip.Addr) (*Port, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, link.ErrClosed
	}
	if err := n.net.AddHost(name, addr); err != nil {
		return nil, fmt.Errorf("mem: %w", err)
	}
	p := &Port{n: n, name: name, addr: addr, ch: make(chan *pktBuf, QueueLen), done: make(chan struct{}), mtu: DefaultMTU}
	n.ports[name] = p
	n.byAddr[addr] = p
	return p, nil
}

// AddAddr6 gives the host name an IPv6 address too (Port.Addr6), making
// it a dual-stack host. IPv6 packets cross impaired and recorded paths as
// IPv4 ones do.
func (n *Network) AddAddr6(name string, addr netip.Addr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.ports[name]
	switch {
	case p == nil:
		return fmt.Errorf("mem: no host %q", name)
	case !addr.Is6() || addr.Is4In6():
		return fmt.Errorf("mem: host %q: address %v is not IPv6", name, addr)
	case n.byAddr[addr] != nil:
		return fmt.Errorf("mem: host %q: address %v is already %q's", name, addr, n.byAddr[addr].name)
	case p.addr6.IsValid():
		return fmt.Errorf("mem: host %q already has the IPv6 address %v", name, p.addr6)
	}
	if err := n.net.AddAddr(name, addr); err != nil {
		return fmt.Errorf("mem: %w", err)
	}
	p.addr6 = addr
	n.byAddr[addr] = p
	return nil
}

// SetPath sets the impairment of the directed path from -> to.
func (n *Network) SetPath(from, to string, imp netsim.Impairment) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.net.SetPath(from, to, imp); err != nil {
		return err
	}
	k := [2]*Port{n.ports[from], n.ports[to]}
	if imp == (netsim.Impairment{}) {
		delete(n.impaired, k)
	} else {
		n.impaired[k] = true
	}
	return nil
}

// AddRule adds a scripted rule to the directed path from -> to.
func (n *Network) AddRule(from, to string, r netsim.Rule) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.net.AddRule(from, to, r); err != nil {
		return err
	}
	// A rule counts packets and may act on any of them: the path is
	// never fast again.
	n.impaired[[2]*Port{n.ports[from], n.ports[to]}] = true
	return nil
}

// Stats returns the counters of the directed path from -> to.
func (n *Network) Stats(from, to string) netsim.PathStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	st := n.net.Stats(from, to)
	k := n.fast[[2]*Port{n.ports[from], n.ports[to]}]
	st.Sent += k
	st.Delivered += k
	return st
}

// Close stops the network's goroutine and closes every Port. Packets in
// flight are discarded.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.loop.Stop()
	for _, p := range n.ports {
		p.closeLocked()
	}
	n.mu.Unlock()
	n.loop.Wait()
	return nil
}

// poll is the loop's step: it delivers the packets due at now and returns
// when the next one is. n.mu is held.
func (n *Network) poll(now clock.Time) clock.Time {
	n.net.Poll(now, n.deliver)
	return n.net.NextDeadline()
}

// deliver hands a packet to its Port's queue; n.mu is held.
func (n *Network) deliver(to string, pkt []byte) {
	n.enqueue(n.ports[to], pkt)
}

func (n *Network) enqueue(p *Port, pkt []byte) {
	if p == nil || p.closed {
		return
	}
	b := getBuf(len(pkt))
	b.b = append(b.b[:0], pkt...)
	select {
	case p.ch <- b:
	default:
		putBuf(b)
		p.overflows++
	}
}

// pktBuf is a packet in a Port's queue; the buffers are pooled, so that a
// packet's trip through the network allocates nothing.
type pktBuf struct{ b []byte }

var (
	smallBufs = sync.Pool{New: func() any { return &pktBuf{b: make([]byte, 0, 2048)} }}
	largeBufs = sync.Pool{New: func() any { return &pktBuf{b: make([]byte, 0, 65536)} }}
)

func getBuf(n int) *pktBuf {
	if n <= 2048 {
		return smallBufs.Get().(*pktBuf)
	}
	return largeBufs.Get().(*pktBuf)
}

func putBuf(b *pktBuf) {
	switch cap(b.b) {
	case 2048:
		smallBufs.Put(b)
	case 65536:
		largeBufs.Put(b)
	}
}

// fastPath delivers pkt at once if its path is perfect and nothing waits
// in link/netsim, and reports whether it did. n.mu is held.
func (n *Network) fastPath(p *Port, pkt []byte) bool {
	if n.rec != nil || len(pkt) < 20 || n.net.NextDeadline() != clock.Never || n.net.Held() > 0 {
		return false
	}
	// Only a sound IPv4 or IPv6 header is routed here; link/netsim rejects
	// and records the rest.
	var to *Port
	if pkt[0]>>4 == 6 {
		ip, _, err := wire.ParseIPv6(pkt)
		if err != nil {
			return false
		}
		to = n.byAddr[ip.Dst]
	} else {
		if _, _, err := wire.ParseIPv4(pkt); err != nil {
			return false
		}
		to = n.byAddr[netip.AddrFrom4([4]byte(pkt[16:20]))]
	}
	if to == nil {
		return false
	}
	k := [2]*Port{p, to}
	if n.impaired[k] {
		return false
	}
	n.fast[k]++
	n.enqueue(to, pkt)
	return true
}

func (n *Network) send(p *Port, pkt []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p.closed {
		return link.ErrClosed
	}
	if n.fastPath(p, pkt) {
		return nil
	}
	now := n.clk.Now()
	n.net.Send(now, p.name, pkt)
	// A packet due now (no latency) is delivered at once; a later one
	// wakes the loop if it is due before what the loop waits for.
	n.loop.Rearm(n.poll(now))
	return nil
}

// Port is one host's attachment to a Network; it implements link.Link.
type Port struct {
	n         *Network
	name      string
	addr      netip.Addr
	addr6     netip.Addr
	ch        chan *pktBuf
	done      chan struct{}
	closed    bool // guarded by n.mu
	overflows int  // guarded by n.mu
	mtu       int  // guarded by n.mu
}

var _ link.Link = (*Port)(nil)

// Name returns the host's name on the network.
func (p *Port) Name() string { return p.name }

// Addr returns the host's address.
func (p *Port) Addr() netip.Addr { return p.addr }

// Addr6 returns the host's IPv6 address (AddAddr6), or the zero Addr.
func (p *Port) Addr6() netip.Addr { return p.addr6 }

// Send offers a packet to the network, which copies it.
func (p *Port) Send(pkt []byte) error { return p.n.send(p, pkt) }

// Receive blocks until a packet is delivered to this Port or it is closed.
func (p *Port) Receive(buf []byte) (int, error) {
	select {
	case pkt := <-p.ch:
		return p.take(buf, pkt), nil
	case <-p.done:
		return 0, link.ErrClosed
	}
}

// TryReceive is Receive without blocking: it reports false when no packet
// is queued (or the Port is closed). A driver that has just received a
// packet takes the rest of a burst this way and handles them together.
func (p *Port) TryReceive(buf []byte) (int, bool) {
	select {
	case pkt := <-p.ch:
		return p.take(buf, pkt), true
	default:
		return 0, false
	}
}

func (p *Port) take(buf []byte, pkt *pktBuf) int {
	n := copy(buf, pkt.b)
	putBuf(pkt)
	return n
}

// MTU returns the Port's MTU: DefaultMTU unless SetMTU changed it.
func (p *Port) MTU() int {
	p.n.mu.Lock()
	defer p.n.mu.Unlock()
	return p.mtu
}

// SetMTU sets the MTU the Port reports, from 68 (RFC 791's minimum) to
// 65535 (the largest IPv4 packet). A stack reads it when it starts, so set
// it before handing the Port to one.
func (p *Port) SetMTU(mtu int) error {
	if mtu < 68 || mtu > 65535 {
		return fmt.Errorf("mem: MTU %d of port %q out of range (68 to 65535)", mtu, p.name)
	}
	p.n.mu.Lock()
	defer p.n.mu.Unlock()
	p.mtu = mtu
	return nil
}

// Overflows returns how many packets were dropped because the Port's queue
// was full.
func (p *Port) Overflows() int {
	p.n.mu.Lock()
	defer p.n.mu.Unlock()
	return p.overflows
}

// Close detaches the Port: Receive returns link.ErrClosed, Send fails, and
// packets for it are discarded.
func (p *Port) Close() error {
	p.n.mu.Lock()
	defer p.n.mu.Unlock()
	p.closeLocked()
	return nil
}

func (p *Port) closeLocked() {
	if !p.closed {
		p.closed = true
		close(p.done)
	}
}

// errNoPort is kept for callers that look a Port up by name.
var errNoPort = errors.New("mem: no such port")

// Port returns the Port attached under name.
func (n *Network) Port(name string) (*Port, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p := n.ports[name]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %q", errNoPort, name)
}
