package stack

import (
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
)

// Path MTU discovery: RFC 1191 (IPv4) and RFC 8201 (IPv6).
const (
	// minMTU4 is the floor of an IPv4 path MTU. RFC 1191 §3 has a host
	// never go below 68 (RFC 791's minimum) but "the MTU of any path
	// is at least 576" in practice (§5); synack takes Linux's min_pmtu,
	// 552 (576 less some IP options), so that a forged Fragmentation Needed
	// cannot make segments tiny.
	minMTU4 = 552
	// minMTU6 is IPv6's minimum link MTU: "A node MUST NOT reduce its
	// estimate of the Path MTU below the IPv6 minimum link MTU" (RFC 8201
	// §4, RFC 8200 §5: 1280).
	minMTU6 = 1280

	// PathMTUCacheSize bounds the destinations whose path MTU the stack
	// remembers; when it is full, the oldest entry makes room.
	PathMTUCacheSize = 1024
	// PathMTUExpiry is how long a lowered path MTU is kept before the
	// link MTU is tried again: "The recommended setting for this timer
	// is ten minutes" (RFC 8201 §4; RFC 1191 §6.3 likewise), Linux's
	// mtu_expires.
	PathMTUExpiry = 10 * time.Minute
)

// pmtuCache is the per-destination path MTU: only destinations whose path
// MTU is below the link MTU are in it.
type pmtuCache struct {
	m map[netip.Addr]pmtuEntry
}

type pmtuEntry struct {
	mtu int
	at  clock.Time // when it was learnt
}

// get returns dst's path MTU, if one below the link's is known and fresh.
func (p *pmtuCache) get(now clock.Time, dst netip.Addr) (int, bool) {
	e, ok := p.m[dst]
	if !ok {
		return 0, false
	}
	if now.Sub(e.at) >= PathMTUExpiry {
		delete(p.m, dst)
		return 0, false
	}
	return e.mtu, true
}

// put records dst's path MTU.
func (p *pmtuCache) put(now clock.Time, dst netip.Addr, mtu int) {
	if p.m == nil {
		p.m = make(map[netip.Addr]pmtuEntry)
	}
	if _, ok := p.m[dst]; !ok && len(p.m) >= PathMTUCacheSize {
		// Evict the oldest (the lowest address among equals, so that a
		// simulation stays deterministic).
		var old netip.Addr
		var oldAt clock.Time
		first := true
		for a, e := range p.m {
			if first || e.at < oldAt || e.at == oldAt && a.Less(old) {
				old, oldAt, first = a, e.at, false
			}
		}
		delete(p.m, old)
	}
	p.m[dst] = pmtuEntry{mtu: mtu, at: now}
}

// ipHeaderLen is the IP header the stack writes for a packet to dst.
func ipHeaderLen(dst netip.Addr) int {
	if dst.Is4() {
		return 20
	}
	return 40
}

// pathMTU is the MTU the stack assumes towards dst.
func (s *Stack) pathMTU(now clock.Time, dst netip.Addr) int {
	if m, ok := s.pmtu.get(now, dst); ok {
		return min(m, s.mtu)
	}
	return s.mtu
}

// PathMTU returns the path MTU the stack assumes towards dst: the link
// MTU, or less if a Fragmentation Needed or Packet Too Big said so within
// PathMTUExpiry.
func (s *Stack) PathMTU(now clock.Time, dst netip.Addr) int {
	return s.pathMTU(now, dst.Unmap().WithZone(""))
}

// mssFor is the MSS a connection to dst may use: the path MTU less the IP
// header and 20 bytes of TCP header (RFC 9293 §3.7.1, RFC 8201 §5.2).
func (s *Stack) mssFor(now clock.Time, dst netip.Addr) int {
	return s.pathMTU(now, dst) - ipHeaderLen(dst) - 20
}
