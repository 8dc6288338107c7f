package stack

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
)

// Path MTU discovery: RFC 1191 (IPv4) and RFC 8201 (IPv6), and the
// packetization layer's (RFC 4821, RFC 8899) results shared.
//
// The stack keeps one path MTU per destination, for the destinations whose
// path MTU is below the link's: RFC 1191 §6.2, "the IP layer should
// associate each PMTU value that it has learned with a specific path"
// (synack has one source address per family, so the destination names the
// path). Three things write it:
//
//   - a valid Fragmentation Needed or Packet Too Big (icmp.go, udp.go),
//     which only ever lowers it: RFC 1191 §3, "A host MUST not increase
//     its estimate of the Path MTU in response to the contents of a
//     Datagram Too Big message"; RFC 8201 §4, "A node MUST NOT increase
//     its estimate of the Path MTU in response to the contents of a Packet
//     Too Big message". A message naming more than the cache holds, even
//     more than a probe found, changes nothing;
//   - a connection's black hole (tcp/plpmtud.go: BlackHoleRTOs timeouts
//     of full-sized segments), which lowers it to what the connection fell
//     back to, BaseMSS and its headers (never below the family's floor);
//   - a connection's acknowledged probe, which raises it to the probe's
//     size and headers, and removes it once that reaches the link MTU:
//     RFC 4821 §7.6.1, "When the probe is delivered, it is an indication
//     that the Path MTU is at least as large as the probe size".
//
// RFC 4821 §5.2 has the packetization layer's results stored and shared
// the same way, among the flows to a destination. New connections and UDP
// sends (udp.go) read it: a new connection's SendMSS starts at most at the
// cached path MTU less the headers (RFC 9293 §3.7.1's "effective send
// MSS"), while the MSS option of its SYN still says what the link lets us
// receive (RFC 1191 §6.4: "PMTU Discovery does not affect the value sent
// in the TCP MSS option").
//
// Each write sets the entry's deadline, PathMTUExpiry later (RFC 1191
// §6.3: "When a PMTU value has not been decreased for a while (on the
// order of 10 minutes), the PMTU estimate should be set to the first-hop
// data-link MTU"; RFC 8201 §4 likewise): at its deadline the entry is gone
// and the link MTU is assumed again. The stack is sans-I/O, so the
// deadline is checked against the now of each call, and no timer runs for
// it. A connection that started from an entry searches upward itself from
// the entry's deadline (tcp.Conn.SetPathMSS).
//
// A decrease reaches the connections already open to the destination:
// RFC 1191 §6.2, "Any packetization layer instance (for example, a TCP
// connection) that is actively using the path must be notified if the PMTU
// estimate is decreased", even for a message quoting a UDP datagram ("the
// TCP layer must be notified if any of its connections use the given
// path"); RFC 8201 for IPv6 likewise. They are told lazily, as §6.2 allows
// ("the former may be delayed until a packetization layer instance wants
// to create a packet"): each decrease counts in the cache's epoch, and
// before a connection's Output the stack compares the epoch the connection
// last saw (entry.pathEpoch, two bytes that fit the entry's padding) with
// the cache's; if they differ it looks the destination up in the cache
// once and lowers the SendMSS if it is above the cached path MTU's
// (syncPath, tcp.Conn.PathMTUDecreased, Counters.PathMTUNotified). A
// message thus costs O(1) whatever the number of connections (no walk,
// and no list of connections by destination to keep: the cache, keyed by
// destination, is the index), and a connection at most one lookup per
// Output after any number of decreases; in the steady state, one
// comparison. Only connections to that destination change; the others
// find nothing below their SendMSS. An invalid message (tcp.Conn.HandleICMP's
// RFC 5927 check) writes nothing and moves no epoch. A told connection
// resends nothing (RFC 1191 §6.2: "Retransmission should be done for only
// for those packets that are known to be dropped, as indicated by a
// Datagram Too Big message"): its segments in flight are re-cut keeping
// their state, so that whatever resends them later sends pieces that fit.
// The epoch has 16 bits: a connection not sent on for exactly a multiple
// of 65536 decreases misses them, and learns from its own message. An
// increase (an entry's deadline, a probe) is not told: each connection's
// own search (tcp/plpmtud.go) finds a larger MTU.
//
// The cache is bounded (Config.PathMTUCacheSize): a write for a new
// destination when it is full drops the entry written longest ago, which
// is an eviction (Counters.PathMTUEvictions) unless it was past its
// deadline.
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

	// PathMTUCacheSize is Config.PathMTUCacheSize's default: how many
	// destinations' path MTU the stack remembers.
	PathMTUCacheSize = 1024
	// PathMTUExpiry is Config.PathMTUExpiry's default: how long a path MTU
	// is kept after it was last written before the link MTU is tried
	// again: "The recommended setting for this timer is ten minutes" (RFC
	// 8201 §4; RFC 1191 §6.3 likewise), Linux's ip_rt_mtu_expires.
	PathMTUExpiry = 10 * time.Minute
)

// PathMTUSource is what wrote a path MTU cache entry.
type PathMTUSource uint8

const (
	// FromICMP: a Fragmentation Needed or Packet Too Big.
	FromICMP PathMTUSource = iota + 1
	// FromBlackHole: a connection's black hole detection.
	FromBlackHole
	// FromProbe: a connection's acknowledged probe.
	FromProbe
)

func (f PathMTUSource) String() string {
	switch f {
	case FromICMP:
		return "icmp"
	case FromBlackHole:
		return "black hole"
	case FromProbe:
		return "probe"
	}
	return "source(" + strconv.Itoa(int(f)) + ")"
}

// PathMTUEntry is one destination in the path MTU cache.
type PathMTUEntry struct {
	Dst     netip.Addr
	MTU     int
	From    PathMTUSource // what wrote it last
	Learnt  clock.Time    // when
	Expires clock.Time    // its deadline: from then on the link MTU is assumed (clock.Never: never)
}

// pmtuCache is the per-destination path MTU: only destinations whose path
// MTU is below the link MTU are in it. Making room costs O(1) amortized,
// whatever the size: the writes are kept in order (order), and the oldest
// one still naming its entry goes; the records of entries written again,
// expired or removed are skipped, and dropped when order has grown to
// twice the bound. The one written longest ago is also the first to reach
// its deadline (every entry lives PathMTUExpiry), so an entry past its
// deadline always makes room before a live one is evicted. A flood of
// valid-looking Fragmentation Needed messages for new destinations (an
// unconnected UDP socket hears them for any address) costs each the same.
type pmtuCache struct {
	m         map[netip.Addr]pmtuEntry
	order     []pmtuWrite   // the writes, oldest first from head
	head      int           // order[:head] are gone
	seq       uint64        // the last write's number
	size      int           // the bound on len(m)
	expiry    time.Duration // how long an entry lives; negative: for ever
	evictions uint64        // Counters.PathMTUEvictions
	// epoch counts the decreases (ICMP and black-hole writes), in 16 bits
	// as entry.pathEpoch keeps it; checks counts the connections that
	// compared their SendMSS to the cache because it moved (syncPath).
	epoch  uint16
	checks uint64
}

type pmtuEntry struct {
	learnt  clock.Time // when it was written
	expires clock.Time // its deadline
	seq     uint64     // the write that made it (pmtuWrite.seq)
	mtu     int32
	from    PathMTUSource
}

// pmtuWrite is one write of the cache, in order.
type pmtuWrite struct {
	dst netip.Addr
	seq uint64
}

// get returns dst's entry, if one below the link's is known and fresh.
func (p *pmtuCache) get(now clock.Time, dst netip.Addr) (pmtuEntry, bool) {
	e, ok := p.m[dst]
	if !ok {
		return pmtuEntry{}, false
	}
	if now >= e.expires {
		delete(p.m, dst)
		return pmtuEntry{}, false
	}
	return e, true
}

// put records dst's path MTU from an ICMP message.
func (p *pmtuCache) put(now clock.Time, dst netip.Addr, mtu int) {
	p.write(now, dst, mtu, FromICMP)
}

// write records dst's path MTU.
func (p *pmtuCache) write(now clock.Time, dst netip.Addr, mtu int, from PathMTUSource) {
	if p.m == nil {
		p.m = make(map[netip.Addr]pmtuEntry)
	}
	size := p.size
	if size <= 0 {
		size = PathMTUCacheSize
	}
	if _, ok := p.m[dst]; !ok && len(p.m) >= size {
		p.dropOldest(now)
	}
	exp := clock.Never
	if p.expiry >= 0 {
		exp = now.Add(p.expiry)
	}
	p.seq++
	if from != FromProbe {
		p.epoch++ // a decrease: the callers write only a lower value
	}
	p.m[dst] = pmtuEntry{learnt: now, expires: exp, seq: p.seq, mtu: int32(mtu), from: from}
	p.order = append(p.order, pmtuWrite{dst: dst, seq: p.seq})
	if len(p.order) >= 2*size+16 {
		p.compact()
	}
}

// dropOldest removes the entry written longest ago, counting an eviction
// if it had not reached its deadline.
func (p *pmtuCache) dropOldest(now clock.Time) {
	for p.head < len(p.order) {
		w := p.order[p.head]
		p.order[p.head] = pmtuWrite{}
		p.head++
		if e, ok := p.m[w.dst]; ok && e.seq == w.seq {
			delete(p.m, w.dst)
			if now < e.expires {
				p.evictions++
			}
			return
		}
	}
}

// compact keeps only the writes that still name their entry.
func (p *pmtuCache) compact() {
	live := p.order[:0]
	for _, w := range p.order[p.head:] {
		if e, ok := p.m[w.dst]; ok && e.seq == w.seq {
			live = append(live, w)
		}
	}
	clear(p.order[len(live):])
	p.order, p.head = live, 0
}

// ipHeaderLen is the IP header the stack writes for a packet to dst.
func ipHeaderLen(dst netip.Addr) int {
	if dst.Is4() {
		return 20
	}
	return 40
}

// floorMTU is the least path MTU the stack assumes towards dst.
func floorMTU(dst netip.Addr) int {
	if dst.Is4() {
		return minMTU4
	}
	return minMTU6
}

// pathMTU is the MTU the stack assumes towards dst.
func (s *Stack) pathMTU(now clock.Time, dst netip.Addr) int {
	if e, ok := s.pmtu.get(now, dst); ok {
		return min(int(e.mtu), s.mtu)
	}
	return s.mtu
}

// PathMTU returns the path MTU the stack assumes towards dst at now: the
// link MTU, or less if a Fragmentation Needed, a Packet Too Big or a
// connection's black hole or probe said so and the entry has not reached
// its deadline (Config.PathMTUExpiry after it was written).
func (s *Stack) PathMTU(now clock.Time, dst netip.Addr) int {
	return s.pathMTU(now, dst.Unmap().WithZone(""))
}

// PathMTUs returns the path MTU cache's entries at now, by address: the
// destinations whose path MTU is below the link MTU.
func (s *Stack) PathMTUs(now clock.Time) []PathMTUEntry {
	var out []PathMTUEntry
	for a := range s.pmtu.m {
		if e, ok := s.pmtu.get(now, a); ok {
			out = append(out, PathMTUEntry{Dst: a, MTU: int(e.mtu), From: e.from, Learnt: e.learnt, Expires: e.expires})
		}
	}
	slices.SortFunc(out, func(a, b PathMTUEntry) int { return a.Dst.Compare(b.Dst) })
	return out
}

// linkMSS is the MSS the link allows a connection to dst: the link MTU
// less the IP header and 20 bytes of TCP header (RFC 9293 §3.7.1), what
// the MSS option of its SYN says.
func (s *Stack) linkMSS(dst netip.Addr) int {
	return s.mtu - ipHeaderLen(dst) - 20
}

// capConn bounds a new connection to dst: its MSS by the link's, and its
// SendMSS by the cached path MTU, if there is one (tcp.Conn.SetPathMSS).
func (s *Stack) capConn(now clock.Time, c *tcp.Conn, dst netip.Addr) {
	c.SetMSSCap(s.linkMSS(dst))
	s.capPath(now, c, dst)
}

// capPath bounds c's SendMSS by the cached path MTU to dst, if any.
func (s *Stack) capPath(now clock.Time, c *tcp.Conn, dst netip.Addr) {
	if e, ok := s.pmtu.get(now, dst); ok && int(e.mtu) < s.mtu {
		c.SetPathMSS(now, int(e.mtu)-ipHeaderLen(dst)-20, e.expires)
	}
}

// syncPath tells e's connection, called before its Output when the cache
// has been lowered since it last looked (entry.pathEpoch), the cached path
// MTU of its destination, if that lowers its SendMSS (RFC 1191 §6.2;
// tcp.Conn.PathMTUDecreased). A connection not yet synchronized looks
// again at its next Output.
func (s *Stack) syncPath(now clock.Time, e *entry) {
	c := e.conn
	if !c.State().Synchronized() {
		return
	}
	e.pathEpoch = s.pmtu.epoch
	s.pmtu.checks++
	t := c.Tuple()
	dst := t.Remote.Addr()
	pe, ok := s.pmtu.get(now, dst)
	if !ok || int(pe.mtu) >= s.mtu {
		return
	}
	mtu := int(pe.mtu)
	if c.PathMTUDecreased(now, mtu-ipHeaderLen(dst)-20) {
		s.ctr.PathMTUNotified++
		if s.cfg.Recorder != nil {
			s.note(now, t, "path MTU to "+dst.String()+" is "+strconv.Itoa(mtu)+": this connection told (RFC 1191 §6.2)")
		}
	}
}

// learnPath records what e's connection learnt about its path's MTU
// (tcp.Conn.PathNews) in the cache for every connection to its
// destination.
func (s *Stack) learnPath(now clock.Time, e *entry, n tcp.PathNews, mss int) {
	t := e.conn.Tuple()
	dst := t.Remote.Addr()
	mtu := max(mss+ipHeaderLen(dst)+20, floorMTU(dst))
	cur := s.pathMTU(now, dst)
	var what string
	switch n {
	case tcp.PathProbed:
		if mtu <= cur {
			return
		}
		s.ctr.PathMTUProbeRaises++
		if mtu >= s.mtu {
			delete(s.pmtu.m, dst)
			what = "path MTU to " + dst.String() + " is the link's " + strconv.Itoa(s.mtu) +
				" again: a probe of " + strconv.Itoa(mtu) + " was acknowledged"
			break
		}
		s.pmtu.write(now, dst, mtu, FromProbe)
		what = "path MTU to " + dst.String() + " raised to " + strconv.Itoa(mtu) + ": a probe was acknowledged"
	case tcp.PathBlackHole:
		if mtu >= cur {
			return
		}
		s.ctr.PathMTUBlackHoles++
		s.pmtu.write(now, dst, mtu, FromBlackHole)
		what = "path MTU to " + dst.String() + " is " + strconv.Itoa(mtu) + ": a black hole"
	default:
		return
	}
	s.note(now, t, what)
}
