package synack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gosynack/synack/link"
)

// NetTUN is the device side of a Stack made by CreateNetTUN: what the
// stack sends, the caller reads from it, and what the caller writes to it,
// the stack receives, as from a TUN device whose other side is the
// caller (wireguard-go's device reads the packets to encrypt and writes
// the ones it decrypted). Its methods are those of wireguard-go's
// tun.Device but Events; the module github.com/gosynack/synack/link/wgtun
// makes a tun.Device of it.
type NetTUN struct {
	mtu   int
	out   chan *tunPacket // from the stack, for Read
	in    chan *tunPacket // from Write, for the stack
	done  chan struct{}
	once  sync.Once
	stack *Stack
	pool  sync.Pool
	drops atomic.Uint64
}

type tunPacket struct {
	b []byte
	n int
}

// netTUNQueue is the packets each way a NetTUN holds: a window's worth of
// full-sized segments.
const netTUNQueue = 4096

// netTUNBatch is NetTUN's BatchSize.
const netTUNBatch = 32

// CreateNetTUN starts a Stack on an in-process TUN device: the stack has
// the addresses localAddresses, sends its packets (at most mtu bytes) to
// the returned NetTUN for the caller to Read, and receives what the
// caller Writes to it. Every packet the stack sends goes to the NetTUN,
// whatever its destination: the stack's route is a default route through
// the device, as wireguard-go's netstack.CreateNetTUN adds one for each
// family. With dnsServers, the Stack's Dial resolves host names by asking
// them (see CreateNetTUNConfig). Close the Stack, or the NetTUN, to stop
// both.
//
// This is netstack.CreateNetTUN's signature with its *netstack.Net
// replaced by a *Stack: Dial, DialContext, Listen and ListenAny are the
// Stack's. localAddresses are one IPv4 address, one IPv6 address, or one
// of each (a Stack has one address of each family).
func CreateNetTUN(localAddresses, dnsServers []netip.Addr, mtu int) (*NetTUN, *Stack, error) {
	return CreateNetTUNConfig(localAddresses, dnsServers, mtu, Config{})
}

// CreateNetTUNConfig is CreateNetTUN with the rest of a Stack's Config
// (its Addr is the one of localAddresses). When dnsServers are given and
// cfg.Resolve is nil, Dial resolves a host name with Go's own resolver
// (net.Resolver with PreferGo, so the host's /etc/hosts and the options
// of its resolv.conf apply) sending its queries to dnsServers, in order,
// over UDP to port 53 and over TCP after a truncated answer (RFC 7766),
// through the Stack.
func CreateNetTUNConfig(localAddresses, dnsServers []netip.Addr, mtu int, cfg Config) (*NetTUN, *Stack, error) {
	if mtu < 68 || mtu > 65535 {
		return nil, nil, fmt.Errorf("synack: CreateNetTUN: MTU %d out of range (68 to 65535)", mtu)
	}
	var v4, v6 []netip.Addr
	for i, a := range localAddresses {
		a = a.Unmap()
		switch {
		case !a.IsValid():
			return nil, nil, fmt.Errorf("synack: CreateNetTUN: local address %d is not set", i)
		case a.Is4():
			v4 = append(v4, a)
		default:
			v6 = append(v6, a)
		}
	}
	switch {
	case len(v4)+len(v6) == 0:
		return nil, nil, errors.New("synack: CreateNetTUN: no local address")
	case len(v4) > 1:
		return nil, nil, fmt.Errorf("synack: CreateNetTUN: %d IPv4 addresses (%v); a Stack has one of each family", len(v4), v4)
	case len(v6) > 1:
		return nil, nil, fmt.Errorf("synack: CreateNetTUN: %d IPv6 addresses (%v); a Stack has one of each family", len(v6), v6)
	}
	var servers []netip.Addr
	for i, a := range dnsServers {
		a = a.Unmap()
		if !a.IsValid() {
			return nil, nil, fmt.Errorf("synack: CreateNetTUN: DNS server %d is not set", i)
		}
		servers = append(servers, a)
	}
	t := &NetTUN{
		mtu:  mtu,
		out:  make(chan *tunPacket, netTUNQueue),
		in:   make(chan *tunPacket, netTUNQueue),
		done: make(chan struct{}),
	}
	family := "ip"
	switch {
	case len(v6) == 0:
		cfg.Addr, family = v4[0], "ip4"
	case len(v4) == 0:
		cfg.Addr6, family = v6[0], "ip6"
	default:
		cfg.Addr, cfg.Addr6 = v4[0], v6[0]
	}
	var s *Stack
	if len(servers) > 0 && cfg.Resolve == nil {
		cfg.Resolve = dnsThrough(&s, servers, family)
	}
	s, err := New((*netTUNLink)(t), cfg)
	if err != nil {
		return nil, nil, err
	}
	t.stack = s
	return t, s, nil
}

// dnsThrough resolves names with Go's resolver, whose every connection,
// UDP or TCP as the resolver asks (TCP after a truncated answer), goes
// through *s to one of servers; it looks up addresses of family ("ip4",
// "ip6" or "ip": those the stack can reach).
func dnsThrough(s **Stack, servers []netip.Addr, family string) func(ctx context.Context, host string) (netip.Addr, error) {
	r := &net.Resolver{
		PreferGo: true,
		// The resolver asks for the servers of the host's resolv.conf;
		// every one of them is servers here.
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var errs []error
			for _, srv := range servers {
				if !(*s).reaches(srv) {
					continue
				}
				var c net.Conn
				var err error
				if strings.HasPrefix(network, "udp") {
					c, err = (*s).DialContext(ctx, "udp", netip.AddrPortFrom(srv, 53).String())
				} else {
					c, err = (*s).DialAddr(ctx, netip.AddrPortFrom(srv, 53))
				}
				if err == nil {
					return c, nil
				}
				errs = append(errs, err)
			}
			if len(errs) == 0 {
				return nil, fmt.Errorf("synack: no DNS server of %v is of a family this stack has an address of", servers)
			}
			return nil, errors.Join(errs...)
		},
	}
	return func(ctx context.Context, host string) (netip.Addr, error) {
		ips, err := r.LookupNetIP(ctx, family, host)
		if err != nil {
			return netip.Addr{}, err
		}
		for _, ip := range ips { // IPv4 first where both are there
			if ip.Unmap().Is4() {
				return ip.Unmap(), nil
			}
		}
		return ips[0].Unmap(), nil
	}
}

func (t *NetTUN) get(n int) *tunPacket {
	p, _ := t.pool.Get().(*tunPacket)
	if p == nil {
		p = &tunPacket{b: make([]byte, t.mtu)}
	}
	if cap(p.b) < n {
		p.b = make([]byte, n)
	}
	p.b = p.b[:cap(p.b)]
	p.n = n
	return p
}

func (t *NetTUN) put(p *tunPacket) {
	if cap(p.b) <= 65535 {
		t.pool.Put(p)
	}
}

func (t *NetTUN) closed() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// Read blocks until the stack has sent a packet, then copies it and the
// others waiting, up to len(bufs), into bufs[i][offset:], their lengths
// into sizes, and returns how many (a packet longer than its buffer is
// truncated). After Close it returns os.ErrClosed, as wireguard-go's
// netstack does.
func (t *NetTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if len(sizes) < len(bufs) {
		return 0, fmt.Errorf("synack: NetTUN.Read: %d sizes for %d buffers", len(sizes), len(bufs))
	}
	for i, b := range bufs {
		if offset < 0 || offset > len(b) {
			return 0, fmt.Errorf("synack: NetTUN.Read: offset %d outside buffer %d of %d bytes", offset, i, len(b))
		}
	}
	if len(bufs) == 0 {
		return 0, nil
	}
	var p *tunPacket
	select {
	case p = <-t.out:
	case <-t.done:
		return 0, os.ErrClosed
	}
	n := 0
	for {
		sizes[n] = copy(bufs[n][offset:], p.b[:p.n])
		t.put(p)
		n++
		if n == len(bufs) {
			return n, nil
		}
		select {
		case p = <-t.out:
		default:
			return n, nil
		}
	}
}

// Write hands the packets bufs[i][offset:] to the stack (empty ones are
// skipped), waiting while the stack has netTUNQueue packets it has not
// taken yet. A packet that is neither IPv4 nor IPv6 fails with
// EAFNOSUPPORT, as wireguard-go's netstack does. After Close it returns
// os.ErrClosed.
func (t *NetTUN) Write(bufs [][]byte, offset int) (int, error) {
	for i, b := range bufs {
		if offset < 0 || offset > len(b) {
			return i, fmt.Errorf("synack: NetTUN.Write: offset %d outside buffer %d of %d bytes", offset, i, len(b))
		}
		pkt := b[offset:]
		if len(pkt) == 0 {
			continue
		}
		if v := pkt[0] >> 4; v != 4 && v != 6 {
			return i, fmt.Errorf("synack: NetTUN.Write: packet %d is IP version %d: %w", i, v, syscall.EAFNOSUPPORT)
		}
		if t.closed() {
			return i, os.ErrClosed
		}
		p := t.get(len(pkt))
		copy(p.b, pkt)
		select {
		case t.in <- p:
		case <-t.done:
			return i, os.ErrClosed
		}
	}
	return len(bufs), nil
}

// BatchSize is the most packets a Read gives.
func (t *NetTUN) BatchSize() int { return netTUNBatch }

// MTU returns the MTU given to CreateNetTUN.
func (t *NetTUN) MTU() (int, error) { return t.mtu, nil }

// Name returns "synack".
func (t *NetTUN) Name() (string, error) { return "synack", nil }

// File returns nil: there is no descriptor.
func (t *NetTUN) File() *os.File { return nil }

// Drops returns how many packets the stack sent while netTUNQueue of its
// packets were waiting for Read, which were dropped (as a full NIC ring
// drops).
func (t *NetTUN) Drops() uint64 { return t.drops.Load() }

// Close closes the Stack (see Stack.Close), which closes the NetTUN: Read
// and Write return os.ErrClosed. Closing twice is not an error.
func (t *NetTUN) Close() error {
	return t.stack.Close()
}

// netTUNLink is the stack's side of a NetTUN.
type netTUNLink NetTUN

func (l *netTUNLink) Send(pkt []byte) error {
	t := (*NetTUN)(l)
	if t.closed() {
		return link.ErrClosed
	}
	p := t.get(len(pkt))
	copy(p.b, pkt)
	select {
	case t.out <- p:
	default:
		t.put(p)
		t.drops.Add(1)
	}
	return nil
}

func (l *netTUNLink) Receive(buf []byte) (int, error) {
	t := (*NetTUN)(l)
	if t.closed() {
		return 0, link.ErrClosed
	}
	select {
	case p := <-t.in:
		n := copy(buf, p.b[:p.n])
		t.put(p)
		return n, nil
	case <-t.done:
		return 0, link.ErrClosed
	}
}

func (l *netTUNLink) TryReceive(buf []byte) (int, bool) {
	t := (*NetTUN)(l)
	if t.closed() {
		return 0, false
	}
	select {
	case p := <-t.in:
		n := copy(buf, p.b[:p.n])
		t.put(p)
		return n, true
	default:
		return 0, false
	}
}

func (l *netTUNLink) MTU() int { return l.mtu }

func (l *netTUNLink) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// reaches reports whether the stack has an address of dst's family.
func (s *Stack) reaches(dst netip.Addr) bool {
	if dst.Unmap().Is4() {
		return s.cfg.Addr.IsValid()
	}
	return s.cfg.Addr6.IsValid()
}
