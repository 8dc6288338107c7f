// Package stack is one host: it parses packets, finds the connection a
// segment belongs to (or the listener, or answers with RST), owns the
// listeners and their backlogs, chooses ISNs and ephemeral ports, builds the
// IP packets its connections send, and keeps counters named like Linux's
// netstat MIB. Like tcp, it never reads a clock, starts a goroutine or takes
// a lock: its driver hands it packets, the time, and randomness.
//
// A host is dual stack: it has an IPv4 address, an IPv6 address or both
// (Config.Addr, Config.Addr6), and speaks TCP over either (RFC 9293 over
// RFC 791 and RFC 8200). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) given
// to Connect is the IPv4 address it maps; on the wire such an address in an
// IPv6 header is dropped, as Linux drops it. IPv6 extension headers are
// walked to the upper-layer header. IPv4 and IPv6 fragments are reassembled
// (frag.go), and the datagram goes on as if it had come whole; an atomic
// fragment (RFC 6946) is processed as the whole packet it is.
//
// The stack's links are layer 3 (a TUN device, an in-memory or simulated
// network that carries IP packets): there are no link-layer addresses to
// resolve, so neither ARP nor IPv6 Neighbour Discovery (RFC 4861) is
// needed or spoken, and neither are router or prefix discovery; ICMPv6
// types 133 to 137 are ignored.
//
// ICMP (RFC 792) and ICMPv6 (RFC 4443): the host answers echo requests to
// its own addresses, at most Config.EchoRate a second with bursts of
// Config.EchoBurst (a token bucket on the virtual clock). An error message
// (Destination Unreachable, Time Exceeded, Fragmentation Needed, Packet
// Too Big, and ICMPv6's Parameter Problem for an unrecognized Next Header)
// goes to the connection its quote names (tcp.Conn.HandleICMP), which
// checks the quoted sequence number before it acts (RFC 5927 §4.1), or to
// the UDP endpoint it names. The host's only ICMP error of its own is
// UDP's Port Unreachable (udp.go): a closed TCP port is answered with a
// RST, and other protocols are dropped and counted (InUnknownProtos).
//
// UDP (RFC 768): endpoints, ports and demultiplexing are in udp.go.
//
// With Config.AnyDestination the host takes packets for every address: a
// SYN that no port's listener takes goes to ListenAny's listener, or,
// before that, to ForwardTCP's forwarder (forward.go), which holds it
// unanswered until the driver completes or refuses it (a RST, or an ICMP
// Destination Unreachable, the host's second ICMP error of its own).
//
// Path MTU discovery (RFC 1191 for IPv4, RFC 8201 for IPv6): every IPv4
// packet has DF set; a valid Fragmentation Needed or Packet Too Big lowers
// the path MTU of its destination, kept in a cache of at most
// PathMTUCacheSize destinations for PathMTUExpiry (see pmtu.go), and the
// connection's send MSS with it; so do a connection's black hole, and its
// acknowledged probe raises it (RFC 4821). New connections to that
// destination, and UDP datagrams, start from the cached path MTU, and the
// connections open to it lower their send MSS at their next send when it
// decreases (RFC 1191 §6.2; pmtu.go).
package stack

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Rand is the randomness a stack needs (port choice). Drivers hand in a
// seeded source in simulation and a cryptographic one in a real stack.
type Rand interface {
	Uint64() uint64
}

// Config describes a host.
type Config struct {
	// Name identifies the host in trace events ("client").
	Name string
	// Addr is the host's IPv4 address, and Addr6 its IPv6 address; either
	// may be left zero, not both. An IPv4-mapped Addr6 is refused.
	Addr  netip.Addr
	Addr6 netip.Addr
	// MTU is the link's MTU, the largest IP packet it carries (default
	// TCP.MSS+40, or 1500 without a TCP.MSS). A connection's MSS is at most
	// MTU less 40 bytes of IPv4 and TCP headers, or 60 of IPv6 and TCP
	// headers (RFC 9293 §3.7.1), and at most TCP.MSS (whose default here is
	// MTU less 40). With an IPv6 address
	// it must be at least 1280 (RFC 8200 §5).
	MTU int
	// PathMTUCacheSize bounds the destinations whose path MTU the stack
	// keeps (default PathMTUCacheSize, 1024); PathMTUExpiry is how long
	// an entry is kept after it was last written (default PathMTUExpiry,
	// 10 minutes), negative for ever: RFC 1191 §6.3, "an implementation
	// should provide a means for changing the timeout duration, including
	// setting it to "infinity"" (pmtu.go).
	PathMTUCacheSize int
	PathMTUExpiry    time.Duration
	// EchoRate and EchoBurst limit the echo replies (ICMP and ICMPv6
	// together): a token bucket of EchoBurst tokens refilled at EchoRate a
	// second of the virtual clock, one token per reply (defaults 1000 and
	// 50, Linux's icmp_msgs_per_sec and icmp_msgs_burst). A negative
	// EchoRate answers no echo request.
	EchoRate, EchoBurst int
	// TCP is the policy of every connection; its Host and Recorder are set
	// from Name and Recorder.
	TCP tcp.Config
	// ISNKey keys the RFC 6528 ISN generator.
	ISNKey tcp.ISNKey
	// Rand chooses ephemeral ports and, unless TCP.Rand is set, the
	// random part of the challenge-ACK limits. Required.
	Rand Rand
	// EphemeralLow and EphemeralHigh bound the ports chosen for active
	// opens (default 32768–60999, as Linux's ip_local_port_range).
	EphemeralLow, EphemeralHigh uint16
	// DefaultBacklog is used when Listen is given a backlog <= 0
	// (default 128): it bounds a listener's accept queue, the connections
	// established and not yet accepted.
	DefaultBacklog int
	// SynBacklog bounds a listener's SYN queue, its half-open connections
	// (SYN-RECEIVED), apart from the accept queue (RFC 4987 §3.3, as
	// Linux's tcp_max_syn_backlog; default 256).
	SynBacklog int
	// SynCookies chooses when a listener answers a SYN with a SYN cookie
	// instead of a half-open connection (RFC 4987 §3.6; Linux's
	// tcp_syncookies): by default when the SYN queue is full.
	SynCookies SynCookieMode
	// MaxConns bounds the stack's connections (default 262144): Connect
	// fails with ErrTooManyConns, and SYNs for listeners are dropped.
	// MaxOrphans bounds the connections closed both ways and not yet in
	// TIME-WAIT (default 65536, as Linux's tcp_max_orphans on a small
	// host): the oldest is reset. MaxTimeWait bounds the connections in
	// TIME-WAIT (default 262144, tcp_max_tw_buckets): the oldest is freed.
	// See limits.go.
	MaxConns, MaxOrphans, MaxTimeWait int
	// Recorder receives trace events; nil records nothing.
	Recorder trace.Recorder
	// AnyDestination accepts packets for every IPv4 and IPv6 address, not
	// only Addr and Addr6 (what a tun2socks-style proxy needs): a connection's local
	// address is the destination its peer chose, and a SYN no port's
	// listener takes goes to the ListenAny listener.
	AnyDestination bool
	// LinkVerifiesChecksums: the link has verified the TCP checksum of
	// every packet it hands over, or knows it good (link/tun with
	// virtio-net offloads: the kernel's own packets, whose checksum it
	// leaves partial), so Input does not verify it again. The IPv4
	// header's checksum is still verified.
	LinkVerifiesChecksums bool
	// LinkOffloadsChecksums: the link cannot corrupt a packet and what it
	// carries reaches only receivers that do not verify TCP checksums
	// either (link.ChecksumOffloader: two stacks of one process joined in
	// memory), so Output leaves the TCP checksum of every segment zero
	// instead of computing it, and Input does not verify it (as with
	// LinkVerifiesChecksums). The IPv4 header's checksum is still computed
	// and verified: 20 bytes.
	LinkOffloadsChecksums bool
	// LinkSegmentOffload is the largest packet, IP header included, the
	// link takes as a super-segment and cuts into MSS-sized segments
	// itself, or whose receiver takes it whole (link.GSOer); 0, the
	// default, for none: every segment is at most one MSS, what a
	// simulator or a capture must see. The stack hands the connections
	// this less 40 bytes (an IPv6 header; tcp.Config.SegmentOffload), so
	// that a super-segment fits either family; their super-segments
	// leave as one packet each, larger than MTU.
	LinkSegmentOffload int
	// TupleFilter, if set, limits the tuples Connect chooses: an
	// ephemeral port whose tuple it rejects is skipped as a port in use
	// is. It is the hook of a sharded driver (the root package's Stack
	// with Config.Shards > 1), whose shards each hold the connections
	// whose 4-tuple hashes to them, so that a tuple stays unique across
	// shards; it must be a pure function of t.
	TupleFilter func(t tcp.Tuple) bool
	// Reassembled, if set, sees each datagram that reassembly completes
	// (frag.go) before Input goes on with it; if it returns false, Input
	// drops it: the driver took it (a sharded driver reassembles in one
	// shard and hands a TCP segment to the shard of its connection). pkt
	// is valid only during the call.
	Reassembled func(pkt []byte) bool
	// FragTimeout and FragTimeout6 are how long an IPv4 and an IPv6
	// datagram may take to reassemble from its first fragment's arrival
	// (defaults 30 s, Linux's ipfrag_time, and 60 s, RFC 8200 §4.5);
	// FragMemory and FragQueues bound the datagrams in reassembly, in
	// bytes (default 4 MiB, Linux's ipfrag_high_thresh) and in number
	// (default 1024). See frag.go.
	FragTimeout, FragTimeout6 time.Duration
	FragMemory, FragQueues    int
}

// Counters are named after Linux's TCP MIB (/proc/net/snmp, `netstat -s`)
// and count the same things.
type Counters struct {
	ActiveOpens  uint64 // connections that went CLOSED -> SYN-SENT
	PassiveOpens uint64 // connections that went LISTEN -> SYN-RECEIVED
	AttemptFails uint64 // SYN-SENT or SYN-RECEIVED -> CLOSED, and SYN-RECEIVED -> LISTEN
	EstabResets  uint64 // ESTABLISHED or CLOSE-WAIT -> CLOSED directly (a reset)
	CurrEstab    uint64 // connections now in ESTABLISHED or CLOSE-WAIT
	InSegs       uint64 // segments received, including those in error
	OutSegs      uint64 // segments sent, excluding retransmissions
	RetransSegs  uint64 // segments retransmitted
	InErrs       uint64 // segments received in error (bad checksum, malformed)
	OutRsts      uint64 // segments sent with RST
	// ListenOverflows counts SYNs dropped because a listener's backlog was
	// full (Linux's TcpExtListenOverflows).
	ListenOverflows uint64
	// ListenDrops counts SYNs and cookie ACKs a listener dropped for any
	// reason: a full accept queue (also in ListenOverflows) or a full SYN
	// queue with cookies off (Linux's TcpExtListenDrops).
	ListenDrops uint64
	// SyncookiesSent counts SYN-ACKs sent with a cookie, SyncookiesRecv
	// ACKs whose cookie validated, and SyncookiesFailed ACKs to a listener
	// that had sent cookies recently whose cookie did not validate (Linux's
	// TcpExtSyncookiesSent, ...Recv, ...Failed).
	SyncookiesSent, SyncookiesRecv, SyncookiesFailed uint64
	// Segments dropped before any connection saw them (martian.go):
	// InMartianSrcs from an impossible source (broadcast, multicast,
	// unspecified, loopback on a non-loopback link), InMartianDsts to a
	// multicast or broadcast destination, InLands from one of our own
	// addresses or to their own source (LAND), InBadFlags with SYN+FIN or
	// SYN+RST.
	InMartianSrcs, InMartianDsts, InLands, InBadFlags uint64
	// OrphanOverflows counts orphans reset because there were more than
	// Config.MaxOrphans, TimeWaitOverflows TIME-WAIT connections freed
	// early beyond Config.MaxTimeWait, and ConnLimitDrops SYNs and cookie
	// ACKs dropped at Config.MaxConns (limits.go).
	OrphanOverflows, TimeWaitOverflows, ConnLimitDrops uint64

	// ICMP and ICMPv6 together, named after Linux's Icmp MIB.
	IcmpInMsgs      uint64 // messages received, including those in error
	IcmpInErrors    uint64 // malformed, or an error quoting no connection of ours (as Linux counts it)
	IcmpInEchos     uint64 // echo requests to our addresses
	IcmpOutEchoReps uint64 // echo replies sent
	// IcmpEchoLimited counts echo requests not answered because of the
	// rate limit (Config.EchoRate).
	IcmpEchoLimited uint64
	// OutOfWindowIcmps counts ICMP errors dropped because the sequence
	// number they quote is not in SND.UNA..SND.NXT (Linux's
	// TcpExtOutOfWindowIcmps; RFC 5927 §4.1).
	OutOfWindowIcmps uint64
	// PathMTUChanges counts valid Fragmentation Needed and Packet Too Big
	// messages that lowered a path MTU.
	PathMTUChanges uint64
	// PathMTUNotified counts connections whose SendMSS a decrease of
	// their destination's path MTU lowered, other than the one the
	// message quoted (RFC 1191 §6.2; pmtu.go).
	PathMTUNotified uint64
	// PathMTUBlackHoles counts connections' black holes that lowered a
	// path MTU, and PathMTUProbeRaises connections' acknowledged probes
	// that raised one (pmtu.go).
	PathMTUBlackHoles, PathMTUProbeRaises uint64
	// PathMTUEvictions counts path MTU cache entries dropped, before
	// their deadline, to make room for another destination's.
	PathMTUEvictions uint64
	// InUnknownProtos counts packets for us of a protocol other than TCP,
	// ICMP and ICMPv6 (Linux's IpInUnknownProtos).
	InUnknownProtos uint64

	// IP reassembly (frag.go) and fragmentation (udp.go), named after
	// Linux's Ip MIB: ReasmReqds counts fragments received, ReasmOKs
	// datagrams reassembled, ReasmFails fragments and datagrams given up
	// (a bad fragment, an overlap, a timeout, an eviction), ReasmTimeout
	// datagrams timed out, ReasmOverlaps datagrams dropped for an overlap
	// (IpExtReasmOverlaps), ReasmEvicted datagrams dropped for the
	// FragMemory or FragQueues bound; FragOKs counts datagrams sent in
	// fragments and FragCreates the fragments; IcmpOutTimeExcds the Time
	// Exceeded messages sent for a reassembly timeout, IcmpOutParmProbs
	// the ICMPv6 Parameter Problems sent for a bad fragment.
	ReasmReqds, ReasmOKs, ReasmFails, ReasmTimeout, ReasmOverlaps, ReasmEvicted uint64
	FragOKs, FragCreates                                                        uint64
	IcmpOutTimeExcds, IcmpOutParmProbs                                          uint64
}

// Family chooses the address families of a listener.
type Family uint8

const (
	// AnyFamily listens on IPv4 and IPv6 (Go's "tcp" on ":port" or
	// "[::]:port").
	AnyFamily Family = iota
	IPv4             // IPv4 only ("tcp4")
	IPv6             // IPv6 only ("tcp6")
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return "IPv4 and IPv6"
}

// Errors of the stack's calls.
var (
	ErrAddrInUse     = errors.New("address already in use")
	ErrNoPorts       = errors.New("no ephemeral port available")
	ErrInvalidTarget = errors.New("invalid remote address")
	// ErrNoAddress: a connection to a family the host has no address of.
	ErrNoAddress = errors.New("no local address of the remote address's family")
)

type entry struct {
	// conn is the connection, nil while it is kept as *half (frozen):
	// whole returns it.
	conn *tcp.Conn
	// half is where a half-open connection of a listener is kept between
	// calls (halfopen.go), or nil for an entry that never is.
	half     *tcp.HalfOpen
	listener *Listener  // the listener a passive connection belongs to until accepted
	id       uint64     // creation order
	deadline clock.Time // the connection's NextDeadline when last seen
	heapIdx  int32      // index in the timer heap, or -1
	state    tcp.State  // last state the stack saw
	queued   bool       // in the listener's accept queue
	removed  bool
	orphan   bool // counted in nOrphans (limits.go)
	timeWait bool // counted in nTimeWait
	dirty    bool // in the dirty list: called since the last Output
	frozen   bool // the connection is *half, conn is nil
	pinned   bool // conn was handed out (Conns, Lookup, accept queue): never frozen or reused
	young    bool // half-open and its SYN-ACK never retransmitted (halfopen.go)
	// pathEpoch is the path MTU cache's decrease count (its low 16 bits)
	// when the connection last compared its SendMSS to it (pmtu.go).
	pathEpoch uint16
}

// Stack is one host.
//
// Its cost per step does not grow with the number of connections: Output
// visits only the connections called into since the last Output (the
// dirty list), and NextDeadline and HandleTimeout use a heap of the
// connections' deadlines. Both run in creation order, as a walk over every
// connection would, so that simulations stay deterministic.
type Stack struct {
	cfg       Config
	conns     map[tcp.Key]*entry   // IPv4 connections: a compact key
	conns6    map[tcp.Tuple]*entry // IPv6 connections
	pol       *tcp.Policy          // cfg.TCP, shared by every connection
	order     []*entry             // creation order, with removed entries until compacted
	nremoved  int                  // removed entries still in order
	nextID    uint64
	dirty     []*entry // connections that may have output, in no order
	timers    timerHeap
	due       []*entry                // scratch for HandleTimeout
	changed   []*tcp.Conn             // the connections the last Output visited
	listeners [2]map[uint16]*Listener // by family: IPv4, IPv6
	anyL      *Listener               // ListenAny's, or nil
	fwd       *TCPForwarder           // ForwardTCP's, or nil (forward.go)
	ctr       Counters
	ipID      uint16
	buf       []byte
	emitFn    func(pkt []byte)
	allocFn   func(n int) []byte // OutputTo's alloc, or nil
	cur       *entry
	curNow    clock.Time
	segEmit   func(*wire.Segment, bool)
	// pendingRaw holds segments the stack answers with itself.
	pendingRaw []rawSeg
	// pendingPkts are ICMP packets (echo replies) waiting for Output.
	pendingPkts [][]byte
	pool        bufferPool
	poolTrimAt  clock.Time // when the pool gives up what it keeps over poolMaxBytes (pool.go), or Never
	pmtu        pmtuCache
	mtu         int
	echo        bucket    // the echo replies' (icmp.go)
	udp         udpState  // UDP endpoints and counters (udp.go)
	frag        fragState // datagrams in reassembly (frag.go)
	// Orphans and TIME-WAIT connections, counted, and in the order they
	// became so (with stale entries until compacted): limits.go.
	nOrphans, nTimeWait int
	orphanQ, twQ        []*entry
	// spare is the Conn of the last half-open connection kept small, or
	// given up without being handed out, which the next one made whole,
	// or the next SYN's, reuses (halfopen.go).
	spare *tcp.Conn
}

// New creates a host.
func New(cfg Config) (*Stack, error) {
	switch {
	case cfg.Addr.IsValid() && cfg.Addr.Is4In6():
		cfg.Addr = cfg.Addr.Unmap()
	case cfg.Addr.Is6():
		return nil, fmt.Errorf("stack %q: Addr %v is IPv6: give it as Addr6", cfg.Name, cfg.Addr)
	}
	switch {
	case cfg.Addr6.Is4() || cfg.Addr6.Is4In6():
		return nil, fmt.Errorf("stack %q: Addr6 %v is IPv4: give it as Addr", cfg.Name, cfg.Addr6)
	case !cfg.Addr.IsValid() && !cfg.Addr6.IsValid():
		return nil, fmt.Errorf("stack %q: no address (Config.Addr for IPv4, Config.Addr6 for IPv6)", cfg.Name)
	}
	cfg.Addr6 = cfg.Addr6.WithZone("")
	mtu := cfg.MTU
	if mtu == 0 {
		mtu = 1500
		if cfg.TCP.MSS != 0 {
			mtu = int(cfg.TCP.MSS) + 40
		}
	}
	switch {
	case mtu < 68 || mtu > 65535:
		return nil, fmt.Errorf("stack %q: MTU %d out of range (68 to 65535, RFC 791)", cfg.Name, mtu)
	case cfg.Addr6.IsValid() && mtu < minMTU6:
		return nil, fmt.Errorf("stack %q: MTU %d below IPv6's minimum of 1280 (RFC 8200 §5)", cfg.Name, mtu)
	}
	if cfg.TCP.MSS == 0 {
		cfg.TCP.MSS = uint16(min(mtu-40, 65535))
	}
	if cfg.EchoRate == 0 {
		cfg.EchoRate = 1000
	}
	if cfg.EchoBurst <= 0 {
		cfg.EchoBurst = 50
	}
	if cfg.Rand == nil {
		return nil, fmt.Errorf("stack %q: no randomness source (Config.Rand)", cfg.Name)
	}
	switch {
	case cfg.LinkSegmentOffload < 0 || cfg.LinkSegmentOffload > 65535:
		return nil, fmt.Errorf("stack %q: LinkSegmentOffload %d out of range (0 for none, else at most 65535 bytes)", cfg.Name, cfg.LinkSegmentOffload)
	case cfg.LinkSegmentOffload > mtu:
		cfg.TCP.SegmentOffload = cfg.LinkSegmentOffload - 40
	}
	if err := cfg.TCP.Validate(); err != nil {
		return nil, err
	}
	if cfg.EphemeralLow == 0 && cfg.EphemeralHigh == 0 {
		cfg.EphemeralLow, cfg.EphemeralHigh = 32768, 60999
	}
	if cfg.EphemeralLow == 0 || cfg.EphemeralLow > cfg.EphemeralHigh {
		return nil, fmt.Errorf("stack %q: bad ephemeral port range %d-%d", cfg.Name, cfg.EphemeralLow, cfg.EphemeralHigh)
	}
	if cfg.DefaultBacklog <= 0 {
		cfg.DefaultBacklog = 128
	}
	if cfg.SynBacklog <= 0 {
		cfg.SynBacklog = 256
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 262144
	}
	if cfg.MaxOrphans <= 0 {
		cfg.MaxOrphans = 65536
	}
	if cfg.MaxTimeWait <= 0 {
		cfg.MaxTimeWait = 262144
	}
	setMemoryDefaults(&cfg.TCP)
	if cfg.SynCookies > CookiesOff {
		return nil, fmt.Errorf("stack %q: unknown SynCookies mode %d", cfg.Name, cfg.SynCookies)
	}
	cfg.TCP.Host = cfg.Name
	cfg.TCP.Recorder = cfg.Recorder
	if cfg.TCP.Rand == nil {
		cfg.TCP.Rand = cfg.Rand // the challenge-ACK limits' random part
	}
	s := &Stack{
		cfg:       cfg,
		conns:     make(map[tcp.Key]*entry),
		conns6:    make(map[tcp.Tuple]*entry),
		listeners: [2]map[uint16]*Listener{make(map[uint16]*Listener), make(map[uint16]*Listener)},
		mtu:       mtu,
		echo:      bucket{tokens: cfg.EchoBurst},
		// HandleTimeout's scratch, made now: its first growth would
		// otherwise be the first timer that fires in a steady exchange.
		due: make([]*entry, 0, 8),
	}
	s.pmtu.size, s.pmtu.expiry = cfg.PathMTUCacheSize, cfg.PathMTUExpiry
	if s.pmtu.size <= 0 {
		s.pmtu.size = PathMTUCacheSize
	}
	if s.pmtu.expiry == 0 {
		s.pmtu.expiry = PathMTUExpiry
	}
	s.pool.init()
	s.poolTrimAt = clock.Never
	// The ICMP errors' bucket starts full too, whether the first error is
	// a UDP port's or a forwarder's refusal.
	s.udp.errors.tokens = cfg.EchoBurst
	s.segEmit = s.emitSegment
	s.cfg.TCP.Buffers = &s.pool
	s.pol = tcp.NewPolicy(s.cfg.TCP)
	return s, nil
}

// Name returns the host's name.
func (s *Stack) Name() string { return s.cfg.Name }

// Addr returns the host's IPv4 address (the zero Addr if it has none).
func (s *Stack) Addr() netip.Addr { return s.cfg.Addr }

// Addr6 returns the host's IPv6 address (the zero Addr if it has none).
func (s *Stack) Addr6() netip.Addr { return s.cfg.Addr6 }

// MTU returns the link MTU the stack assumes (Config.MTU).
func (s *Stack) MTU() int { return s.mtu }

// localAddr returns the host's address of a's family, if it has one.
func (s *Stack) localAddr(a netip.Addr) (netip.Addr, bool) {
	if a.Is4() {
		return s.cfg.Addr, s.cfg.Addr.IsValid()
	}
	return s.cfg.Addr6, s.cfg.Addr6.IsValid()
}

// ours reports whether a is one of the host's addresses.
func (s *Stack) ours(a netip.Addr) bool {
	return a.IsValid() && (a == s.cfg.Addr || a == s.cfg.Addr6)
}

// lookup returns the entry of tuple t: IPv4 tuples by their compact key,
// without allocating.
func (s *Stack) lookup(t tcp.Tuple) *entry {
	if k, ok := t.Key(); ok {
		return s.conns[k]
	}
	return s.conns6[t]
}

// entryOf returns c's entry (or one that replaced it under its tuple).
func (s *Stack) entryOf(c *tcp.Conn) *entry {
	if k := c.Key(); k != (tcp.Key{}) {
		return s.conns[k]
	}
	return s.conns6[c.Tuple()]
}

// famIndex is the index of a's family in per-family tables.
func famIndex(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

// Counters returns a snapshot of the counters.
func (s *Stack) Counters() Counters {
	c := s.ctr
	c.PathMTUEvictions = s.pmtu.evictions
	c.CurrEstab = 0
	for _, e := range s.order {
		if e.removed || e.frozen {
			continue
		}
		if st := e.conn.State(); st == tcp.Established || st == tcp.CloseWait {
			c.CurrEstab++
		}
	}
	return c
}

// Conns returns the live connections in creation order. A half-open
// connection kept small (halfopen.go) is made whole to be returned, and
// stays whole: the caller holds the Conn the stack uses.
func (s *Stack) Conns() []*tcp.Conn {
	out := make([]*tcp.Conn, 0, len(s.conns)+len(s.conns6))
	for _, e := range s.order {
		if !e.removed {
			out = append(out, s.pin(e))
		}
	}
	return out
}

// Lookup returns the connection with the given tuple (our side first),
// made whole if it was a half-open connection kept small, as Conns does.
func (s *Stack) Lookup(t tcp.Tuple) *tcp.Conn {
	t = canonical(t)
	if e := s.lookup(t); e != nil {
		return s.pin(e)
	}
	return nil
}

// canonical returns t with IPv4-mapped addresses unmapped and zones
// dropped, as the stack keys connections.
func canonical(t tcp.Tuple) tcp.Tuple {
	return tcp.Tuple{
		Local:  netip.AddrPortFrom(t.Local.Addr().Unmap().WithZone(""), t.Local.Port()),
		Remote: netip.AddrPortFrom(t.Remote.Addr().Unmap().WithZone(""), t.Remote.Port()),
	}
}

func (s *Stack) record(e *trace.Event) {
	if s.cfg.Recorder != nil {
		e.Host = s.cfg.Name
		s.cfg.Recorder.Record(e)
	}
}

func (s *Stack) add(e *entry) {
	s.nextID++
	e.id = s.nextID
	e.heapIdx = -1
	e.deadline = clock.Never
	e.pathEpoch = s.pmtu.epoch // capConn or capPath applied the cache (pmtu.go)
	if k := e.conn.Key(); k != (tcp.Key{}) {
		s.conns[k] = e
	} else {
		s.conns6[e.conn.Tuple()] = e
	}
	s.order = append(s.order, e)
	s.touch(e)
}

// target checks the remote address of an active open and returns it in
// canonical form (an IPv4-mapped address is the IPv4 address it maps) with
// our address of its family.
func (s *Stack) target(remote netip.AddrPort) (netip.AddrPort, netip.Addr, error) {
	ra := remote.Addr().Unmap().WithZone("")
	remote = netip.AddrPortFrom(ra, remote.Port())
	if !ra.IsValid() || ra.IsUnspecified() || ra.IsMulticast() || remote.Port() == 0 {
		return remote, netip.Addr{}, ErrInvalidTarget
	}
	la, ok := s.localAddr(ra)
	if !ok {
		return remote, netip.Addr{}, ErrNoAddress
	}
	return remote, la, nil
}

// Connect makes an active open to remote from an ephemeral port. remote
// may be IPv4 or IPv6 (an IPv4-mapped IPv6 address connects over IPv4);
// the host needs an address of that family.
func (s *Stack) Connect(now clock.Time, remote netip.AddrPort) (*tcp.Conn, error) {
	remote, la, err := s.target(remote)
	if err != nil {
		return nil, fmt.Errorf("connect to %v: %w", remote, err)
	}
	// RFC 6056 §3.3.1 (Algorithm 1): a random starting point, then the next
	// free port. Ports are per family: an IPv4 connection and an IPv6 one
	// may use the same.
	lo, hi := int(s.cfg.EphemeralLow), int(s.cfg.EphemeralHigh)
	span := hi - lo + 1
	start := int(s.cfg.Rand.Uint64() % uint64(span))
	fam := famIndex(la)
	for i := 0; i < span; i++ {
		port := uint16(lo + (start+i)%span)
		t := tcp.Tuple{Local: netip.AddrPortFrom(la, port), Remote: remote}
		if s.cfg.TupleFilter != nil && !s.cfg.TupleFilter(t) || s.lookup(t) != nil {
			continue
		}
		if _, listening := s.listeners[fam][port]; listening {
			continue
		}
		return s.open(now, t)
	}
	return nil, fmt.Errorf("connect to %v: %w", remote, ErrNoPorts)
}

// ConnectFrom makes an active open from a chosen local port (used by
// simultaneous open, where both sides name each other's port).
func (s *Stack) ConnectFrom(now clock.Time, localPort uint16, remote netip.AddrPort) (*tcp.Conn, error) {
	remote, la, err := s.target(remote)
	if err == nil && localPort == 0 {
		err = ErrInvalidTarget
	}
	if err != nil {
		return nil, fmt.Errorf("connect from port %d to %v: %w", localPort, remote, err)
	}
	t := tcp.Tuple{Local: netip.AddrPortFrom(la, localPort), Remote: remote}
	if s.lookup(t) != nil {
		return nil, fmt.Errorf("connect from %v to %v: %w", t.Local, remote, ErrAddrInUse)
	}
	return s.open(now, t)
}

func (s *Stack) open(now clock.Time, t tcp.Tuple) (*tcp.Conn, error) {
	if s.atConnLimit() {
		return nil, fmt.Errorf("connect from %v to %v: %w", t.Local, t.Remote, ErrTooManyConns)
	}
	c := s.pol.NewActive(t, tcp.ISN(s.cfg.ISNKey, t, now), now)
	c.SetTSOffset(tcp.TSOffset(s.cfg.ISNKey, t.Local.Addr(), t.Remote.Addr()))
	s.capConn(now, c, t.Remote.Addr())
	s.add(&entry{conn: c, state: c.State()})
	s.ctr.ActiveOpens++
	return c, nil
}

// Listener is a passive OPEN on a port: it turns SYNs into connections and
// queues them, once established, until accepted.
type Listener struct {
	s        *Stack
	port     uint16
	fam      Family
	backlog  int         // bound of queue
	halfOpen int         // connections in the SYN queue (SYN-RECEIVED)
	young    int         // of those, the ones whose SYN-ACK was never retransmitted (halfopen.go)
	queue    []*tcp.Conn // established, waiting for Accept
	// cookieAt is when the listener last sent a SYN cookie (valid until
	// two counter periods later); cookies reports that it ever did.
	cookieAt clock.Time
	cookies  bool
	closed   bool
	any      bool // ListenAny's: every address and port
	// init, if set (SetConnInit), shapes each connection the listener
	// makes before it answers the SYN.
	init func(*tcp.Conn)
}

// SetConnInit has f called on each connection the listener makes from a
// SYN, before the SYN is processed, and on each a SYN cookie's ACK
// completes, before it is queued: the socket options set on a listening
// socket, which a Linux listener passes on to the sockets it accepts
// (SO_RCVBUF and TCP_MAXSEG shape the SYN-ACK's window and MSS
// announcement; TCP_NODELAY, keepalive, the user timeout carry over). f
// must not call back into the stack. nil stops it.
func (l *Listener) SetConnInit(f func(*tcp.Conn)) { l.init = f }

// Listen opens a listener on port for both families (ListenFamily with
// AnyFamily). backlog bounds the accept queue, the connections established
// but not yet accepted: while it is full a SYN is dropped (as Linux does),
// and the peer retries. Half-open connections are bounded apart, by
// Config.SynBacklog; beyond that, SYN cookies (Config.SynCookies).
func (s *Stack) Listen(port uint16, backlog int) (*Listener, error) {
	return s.ListenFamily(AnyFamily, port, backlog)
}

// ListenFamily opens a listener on port for IPv4, IPv6 or both, as Go's
// net.Listen does for "tcp4", "tcp6" and "tcp": one family's listener
// leaves the port free for the other's.
func (s *Stack) ListenFamily(fam Family, port uint16, backlog int) (*Listener, error) {
	if port == 0 {
		return nil, fmt.Errorf("listen on port 0: %w", ErrInvalidTarget)
	}
	for i := range s.listeners {
		if fam.has(i) {
			if _, ok := s.listeners[i][port]; ok {
				return nil, fmt.Errorf("listen on port %d (%v): %w", port, fam, ErrAddrInUse)
			}
		}
	}
	if backlog <= 0 {
		backlog = s.cfg.DefaultBacklog
	}
	l := &Listener{s: s, port: port, fam: fam, backlog: backlog}
	for i := range s.listeners {
		if fam.has(i) {
			s.listeners[i][port] = l
		}
	}
	return l, nil
}

// has reports whether f includes the family of index i (famIndex).
func (f Family) has(i int) bool {
	return f == AnyFamily || f == IPv4 && i == 0 || f == IPv6 && i == 1
}

// ListenAny opens the listener that takes the SYNs for any address and
// port which no port's listener takes; it needs Config.AnyDestination. Each
// connection's local address is the destination of its SYN.
func (s *Stack) ListenAny(backlog int) (*Listener, error) {
	if !s.cfg.AnyDestination {
		return nil, fmt.Errorf("listen on any destination: stack %q does not have Config.AnyDestination", s.cfg.Name)
	}
	if s.anyL != nil {
		return nil, fmt.Errorf("listen on any destination: %w", ErrAddrInUse)
	}
	if backlog <= 0 {
		backlog = s.cfg.DefaultBacklog
	}
	s.anyL = &Listener{s: s, backlog: backlog, any: true}
	return s.anyL, nil
}

// Port returns the listening port (0 for ListenAny's).
func (l *Listener) Port() uint16 { return l.port }

// Family returns the families the listener takes SYNs of.
func (l *Listener) Family() Family { return l.fam }

// Accept returns the next established connection, or nil.
func (l *Listener) Accept() *tcp.Conn {
	if len(l.queue) == 0 {
		return nil
	}
	c := l.queue[0]
	l.queue = l.queue[1:]
	if e := l.s.entryOf(c); e != nil {
		e.listener, e.queued = nil, false
	}
	return c
}

// Pending returns how many established connections wait for Accept.
func (l *Listener) Pending() int { return len(l.queue) }

// HalfOpen returns how many connections are in the SYN queue.
func (l *Listener) HalfOpen() int { return l.halfOpen }

// Close stops listening and aborts the connections never accepted.
func (l *Listener) Close(now clock.Time) {
	if l.closed {
		return
	}
	l.closed = true
	if l.any {
		l.s.anyL = nil
	} else {
		for i := range l.s.listeners {
			if l.s.listeners[i][l.port] == l {
				delete(l.s.listeners[i], l.port)
			}
		}
	}
	for _, e := range l.s.order {
		if e.listener == l && !e.removed {
			c := l.s.whole(e)
			l.s.step(now, e, func() { c.Abort(now) })
		}
	}
	l.queue = nil
}
