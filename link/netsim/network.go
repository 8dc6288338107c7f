package netsim

import (
	"container/heap"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Network is a set of hosts joined by impaired directed paths. It is not safe
// for concurrent use: one driver calls it, with non-decreasing times.
type Network struct {
	seed uint64
	rec  trace.Recorder

	// router4 and router6 are the addresses the routers on the paths send
	// their ICMP errors from (SetRouterAddrs).
	router4, router6 netip.Addr

	hosts  []host // in the order added
	byName map[string]int
	byAddr map[netip.Addr]int
	paths  map[pathKey]*path

	lastID    uint64 // PacketIDs, shared by all paths
	lastOrder uint64 // tie-break for equal arrival times
	scheduled packetHeap
	held      []*packet // parked by a Hold rule until Release, in hold order
	rejected  int
}

type host struct {
	name  string
	addrs []netip.Addr // the first is Addr's; at most one per family
}

type pathKey struct{ from, to string }

// NewNetwork returns an empty network whose randomness derives from seed and
// which records to rec (nil records nothing).
func NewNetwork(seed uint64, rec trace.Recorder) *Network {
	return &Network{
		seed:    seed,
		rec:     rec,
		router4: DefaultRouter4,
		router6: DefaultRouter6,
		byName:  make(map[string]int),
		byAddr:  make(map[netip.Addr]int),
		paths:   make(map[pathKey]*path),
	}
}

// Default addresses of the routers on the paths, which send the ICMP
// errors of a path with an MTU (Impairment.MTU): in the benchmarking
// ranges, and owned by no host.
var (
	DefaultRouter4 = netip.MustParseAddr("198.19.255.254")
	DefaultRouter6 = netip.MustParseAddr("2001:2:0:ffff::fe")
)

// SetRouterAddrs sets the source addresses of the ICMP errors the paths'
// routers send (DefaultRouter4 and DefaultRouter6 until then). Each must
// be of its family and owned by no host.
func (n *Network) SetRouterAddrs(v4, v6 netip.Addr) error {
	switch {
	case !v4.Is4():
		return fmt.Errorf("sim: router address %v is not IPv4", v4)
	case !v6.Is6() || v6.Is4In6():
		return fmt.Errorf("sim: router address %v is not IPv6", v6)
	}
	for _, a := range [...]netip.Addr{v4, v6} {
		if i, ok := n.byAddr[a]; ok {
			return fmt.Errorf("sim: router address %v belongs to host %q", a, n.hosts[i].name)
		}
	}
	n.router4, n.router6 = v4, v6
	return nil
}

// AddHost adds a host with one address, IPv4 or IPv6 (AddAddr gives it one
// of the other family). Names and addresses must be unique; a name may not
// be empty or contain "->" (it would make path names ambiguous). An
// IPv4-mapped IPv6 address is taken as the IPv4 address.
func (n *Network) AddHost(name string, addr netip.Addr) error {
	switch {
	case name == "":
		return errors.New("sim: host name is empty")
	case strings.Contains(name, "->"):
		return fmt.Errorf("sim: host name %q contains \"->\"", name)
	}
	addr = addr.Unmap()
	if err := n.checkAddr(name, addr); err != nil {
		return err
	}
	if _, ok := n.byName[name]; ok {
		return fmt.Errorf("sim: host %q already exists", name)
	}
	n.byName[name] = len(n.hosts)
	n.byAddr[addr] = len(n.hosts)
	n.hosts = append(n.hosts, host{name: name, addrs: []netip.Addr{addr}})
	return nil
}

// AddAddr gives the named host a second address, of the family it has
// none of, making it a dual-stack host.
func (n *Network) AddAddr(name string, addr netip.Addr) error {
	i, ok := n.byName[name]
	if !ok {
		return fmt.Errorf("sim: no host %q", name)
	}
	addr = addr.Unmap()
	if err := n.checkAddr(name, addr); err != nil {
		return err
	}
	for _, a := range n.hosts[i].addrs {
		if a.Is4() == addr.Is4() {
			return fmt.Errorf("sim: host %q already has the address %v of that family", name, a)
		}
	}
	n.byAddr[addr] = i
	n.hosts[i].addrs = append(n.hosts[i].addrs, addr)
	return nil
}

// checkAddr checks that addr can be the named host's.
func (n *Network) checkAddr(name string, addr netip.Addr) error {
	switch {
	case !addr.IsValid():
		return fmt.Errorf("sim: host %q: no address", name)
	case addr.Zone() != "":
		return fmt.Errorf("sim: host %q: address %v has a zone", name, addr)
	case addr == n.router4 || addr == n.router6:
		return fmt.Errorf("sim: host %q: address %v is the routers' (SetRouterAddrs)", name, addr)
	}
	if i, ok := n.byAddr[addr]; ok {
		return fmt.Errorf("sim: host %q: address %v already belongs to %q", name, addr, n.hosts[i].name)
	}
	return nil
}

// Hosts returns the host names in the order they were added.
func (n *Network) Hosts() []string {
	names := make([]string, len(n.hosts))
	for i, h := range n.hosts {
		names[i] = h.name
	}
	return names
}

// Addr returns the address the named host was added with.
func (n *Network) Addr(name string) (netip.Addr, bool) {
	i, ok := n.byName[name]
	if !ok {
		return netip.Addr{}, false
	}
	return n.hosts[i].addrs[0], true
}

// Addrs returns the named host's addresses: the one it was added with,
// then the one AddAddr gave it.
func (n *Network) Addrs(name string) []netip.Addr {
	i, ok := n.byName[name]
	if !ok {
		return nil
	}
	return append([]netip.Addr(nil), n.hosts[i].addrs...)
}

// HostByAddr returns the name of the host that owns addr.
func (n *Network) HostByAddr(addr netip.Addr) (string, bool) {
	i, ok := n.byAddr[addr.Unmap()]
	if !ok {
		return "", false
	}
	return n.hosts[i].name, true
}

// PathName is the name of the directed path from one host to another, as
// used in trace events: "client->server".
func PathName(from, to string) string { return from + "->" + to }

func (n *Network) checkPair(from, to string) error {
	for _, name := range [...]string{from, to} {
		if _, ok := n.byName[name]; !ok {
			return fmt.Errorf("sim: path %s: unknown host %q", PathName(from, to), name)
		}
	}
	return nil
}

// SetPath sets the impairment of the directed path from -> to. It may be
// called at any time; packets already sent keep their fate, and the path's
// queue, rules and counters carry over.
func (n *Network) SetPath(from, to string, imp Impairment) error {
	if err := n.checkPair(from, to); err != nil {
		return err
	}
	if err := imp.Validate(); err != nil {
		return fmt.Errorf("sim: path %s: %w", PathName(from, to), err)
	}
	n.path(from, to).imp = imp
	return nil
}

// AddRule appends a rule to the directed path from -> to; rules are tried in
// the order they were added.
func (n *Network) AddRule(from, to string, r Rule) error {
	if err := n.checkPair(from, to); err != nil {
		return err
	}
	if err := r.validate(); err != nil {
		return fmt.Errorf("sim: path %s: %w", PathName(from, to), err)
	}
	p := n.path(from, to)
	p.rules = append(p.rules, &ruleState{Rule: r})
	return nil
}

// path returns the path from -> to, creating it unimpaired. Its random
// stream depends only on the seed and its name, never on when it was made.
func (n *Network) path(from, to string) *path {
	k := pathKey{from, to}
	if p := n.paths[k]; p != nil {
		return p
	}
	name := PathName(from, to)
	h := fnv.New64a()
	h.Write([]byte(name))
	p := &path{
		name: name,
		from: from,
		to:   to,
		rng:  rand.New(rand.NewPCG(n.seed, h.Sum64())),
	}
	n.paths[k] = p
	return p
}

// Stats returns the counters of the directed path from -> to (zero if it has
// never been used or configured).
func (n *Network) Stats(from, to string) PathStats {
	if p := n.paths[pathKey{from, to}]; p != nil {
		return p.stats
	}
	return PathStats{}
}

// Rejected counts packets dropped before reaching any path: an unknown
// sender, a malformed packet, or no route.
func (n *Network) Rejected() int { return n.rejected }

// Held counts packets parked by Hold rules and waiting for Release.
func (n *Network) Held() int { return len(n.held) }

// NextDeadline is the arrival time of the next scheduled packet, or
// clock.Never when none is scheduled (held packets wait for Release, not for
// a time).
func (n *Network) NextDeadline() clock.Time {
	if len(n.scheduled) == 0 {
		return clock.Never
	}
	return n.scheduled[0].due
}

// Send offers a packet from the named host to the network at now, which
// copies it, routes it by its IPv4 destination, and decides its fate as the
// package documentation describes. It returns the packet's PacketID, or 0 if
// it was rejected before reaching a path.
func (n *Network) Send(now clock.Time, from string, pkt []byte) uint64 {
	return n.sendTo(now, from, "", pkt)
}

// SendOn is Send on the path from -> to, whatever the packet's destination
// address: for a driver whose far side is not a host of the Network (a
// wrapper around a real link, which may carry any address). The packet
// must still be TCP over IPv4, since rules match its segment.
func (n *Network) SendOn(now clock.Time, from, to string, pkt []byte) uint64 {
	if _, ok := n.byName[to]; !ok {
		n.reject(now, from, nil, trace.LinkUnknownReceiver, strconv.Quote(to))
		return 0
	}
	return n.sendTo(now, from, to, pkt)
}

// sendTo is Send, routed to the host named to, or by address if to is "".
func (n *Network) sendTo(now clock.Time, from, to string, pkt []byte) uint64 {
	if _, ok := n.byName[from]; !ok {
		n.reject(now, from, nil, trace.LinkUnknownSender, strconv.Quote(from))
		return 0
	}
	data := append([]byte(nil), pkt...)
	ip, seg, isTCP, err := parse(data)
	if err != nil {
		n.reject(now, from, nil, trace.LinkMalformed, err.Error())
		return 0
	}
	var info *packetInfo
	if isTCP {
		info = &packetInfo{
			local:      netip.AddrPortFrom(ip.Src(), seg.SrcPort),
			remote:     netip.AddrPortFrom(ip.Dst(), seg.DstPort),
			seg:        seg,
			payloadLen: len(seg.Payload),
		}
		info.seg.Payload = nil
	}
	if to == "" {
		i, ok := n.byAddr[ip.Dst()]
		if !ok {
			n.reject(now, from, info, trace.LinkNoRoute, ip.Dst().String())
			return 0
		}
		to = n.hosts[i].name
	}
	var s *wire.Segment
	if isTCP {
		s = &seg
	}
	return n.send(now, n.path(from, to), data, s, info)
}

// parse reads what the link needs from a packet. Like a router (RFC 1812
// §5.2.2) it insists on a sound IPv4 or IPv6 header, the IPv4 header
// checksum included, but it does not verify the upper layer's checksum: a
// segment with a bad one crosses the link and is the receiver's to
// discard. A TCP packet's segment is parsed (isTCP); any other protocol
// (ICMP, ICMPv6, UDP) crosses as bytes.
func parse(b []byte) (ip wire.IP, seg wire.Segment, isTCP bool, err error) {
	ip, payload, err := wire.ParseIP(b)
	if errors.Is(err, wire.ErrFragment) {
		// A fragment crosses as bytes, as a router forwards it:
		// reassembly is the destination's (RFC 791 §3.2, RFC 8200 §4.5).
		f, err := wire.ParseFragment(b)
		return f.IP, seg, false, err
	}
	if err != nil {
		return ip, seg, false, err
	}
	if ip.Protocol() != wire.ProtocolTCP {
		return ip, seg, false, nil
	}
	seg, err = wire.ParseTCPNoChecksum(payload)
	return ip, seg, err == nil, err
}

func (n *Network) reject(now clock.Time, from string, info *packetInfo, cause trace.LinkDropCause, detail string) {
	n.rejected++
	if n.rec == nil {
		return
	}
	e := trace.Event{At: now, Kind: trace.LinkDrop, Host: from, LinkCause: cause, Reason: detail}
	if info != nil {
		info.fill(&e)
	}
	n.rec.Record(&e)
}

// Poll hands every scheduled packet that arrives at or before now to
// deliver, in order of arrival time and then of scheduling, recording
// LinkDeliver at the arrival time. pkt belongs to the Network and is valid
// only during the call; a nil deliver discards. deliver may call Send and
// Release; packets they
// schedule to arrive at or before now are delivered by this same Poll. A
// driver that polls exactly at NextDeadline sees arrival == now.
func (n *Network) Poll(now clock.Time, deliver func(to string, pkt []byte)) {
	for len(n.scheduled) > 0 && n.scheduled[0].due <= now {
		pk := heap.Pop(&n.scheduled).(*packet)
		pk.path.stats.Delivered++
		if n.rec != nil {
			n.event(pk.due, trace.LinkDeliver, pk, 0, pk.deliverReason)
		}
		if deliver != nil {
			deliver(pk.path.to, pk.data)
		}
		pk.data = nil
	}
}

// Release schedules every packet parked by the Hold rule named rule, on any
// path, to arrive at now, or at the time it would have arrived without the
// hold if that is later. It returns how many packets it released.
func (n *Network) Release(now clock.Time, rule string) int {
	count := 0
	kept := n.held[:0]
	for _, pk := range n.held {
		if pk.heldBy != rule {
			kept = append(kept, pk)
			continue
		}
		pk.heldBy = ""
		pk.due = max(pk.due, now)
		n.schedule(pk)
		count++
	}
	clear(n.held[len(kept):])
	n.held = kept
	return count
}

func (n *Network) schedule(pk *packet) {
	n.lastOrder++
	pk.order = n.lastOrder
	heap.Push(&n.scheduled, pk)
}

// event records one Link* event about pk.
func (n *Network) event(at clock.Time, kind trace.Kind, pk *packet, dup uint64, reason string) {
	if pk.info == nil {
		return // not TCP: trace has no event for it
	}
	e := trace.Event{At: at, Kind: kind, Host: pk.path.name, PacketID: pk.id, Dup: dup, Reason: reason}
	pk.info.fill(&e)
	n.rec.Record(&e)
}

// drop records the LinkDrop of pk, for cause with detail.
func (n *Network) drop(at clock.Time, pk *packet, cause trace.LinkDropCause, detail string) {
	if pk.info == nil {
		return // not TCP: trace has no event for it
	}
	e := trace.Event{At: at, Kind: trace.LinkDrop, Host: pk.path.name, PacketID: pk.id, LinkCause: cause, Reason: detail}
	pk.info.fill(&e)
	n.rec.Record(&e)
}

// packetInfo is what trace events say about a packet and its copy.
type packetInfo struct {
	local, remote netip.AddrPort
	seg           wire.Segment // without payload
	payloadLen    int
}

func (i *packetInfo) fill(e *trace.Event) {
	e.Local, e.Remote = i.local, i.remote
	e.Seg = i.seg
	e.PayloadLen = i.payloadLen
}

// packet is a packet past admission, scheduled or held.
type packet struct {
	due   clock.Time
	order uint64
	id    uint64
	path  *path
	data  []byte
	info  *packetInfo
	// heldBy names the Hold rule the packet waits for; "" when scheduled.
	heldBy        string
	deliverReason string
}

// packetHeap orders packets by (due, order).
type packetHeap []*packet

func (h packetHeap) Len() int { return len(h) }
func (h packetHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].order < h[j].order
}
func (h packetHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *packetHeap) Push(x any)   { *h = append(*h, x.(*packet)) }
func (h *packetHeap) Pop() any {
	old := *h
	pk := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return pk
}
