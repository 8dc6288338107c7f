// Package stack is one host: it parses packets, finds the connection a
// segment belongs to (or the listener, or answers with RST), owns the
// listeners and their backlogs, chooses ISNs and ephemeral ports, builds the
// IP packets its connections send, and keeps counters named like Linux's
// netstat MIB. Like tcp, it never reads a clock, starts a goroutine or takes
// a lock: its driver hands it packets, the time, and randomness.
package stack

import (
	"errors"
	"fmt"
	"net/netip"

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
	// Addr is the host's IPv4 address.
	Addr netip.Addr
	// TCP is the policy of every connection; its Host and Recorder are set
	// from Name and Recorder.
	TCP tcp.Config
	// ISNKey keys the RFC 6528 ISN generator.
	ISNKey tcp.ISNKey
	// Rand chooses ephemeral ports. Required.
	Rand Rand
	// EphemeralLow and EphemeralHigh bound the ports chosen for active
	// opens (default 32768–60999, as Linux's ip_local_port_range).
	EphemeralLow, EphemeralHigh uint16
	// DefaultBacklog is used when Listen is given a backlog <= 0
	// (default 128).
	DefaultBacklog int
	// Recorder receives trace events; nil records nothing.
	Recorder trace.Recorder
	// AnyDestination accepts packets for every IPv4 address, not only
	// Addr (what a tun2socks-style proxy needs): a connection's local
	// address is the destination its peer chose, and a SYN no port's
	// listener takes goes to the ListenAny listener.
	AnyDestination bool
	// LinkVerifiesChecksums: the link has verified the TCP checksum of
	// every packet it hands over, or knows it good (link/tun with
	// virtio-net offloads: the kernel's own packets, whose checksum it
	// leaves partial), so Input does not verify it again. The IPv4
	// header's checksum is still verified.
	LinkVerifiesChecksums bool
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
}

// Errors of the stack's calls.
var (
	ErrAddrInUse     = errors.New("address already in use")
	ErrNoPorts       = errors.New("no ephemeral port available")
	ErrInvalidTarget = errors.New("invalid remote address")
)

type entry struct {
	conn     *tcp.Conn
	listener *Listener  // the listener a passive connection belongs to until accepted
	id       uint64     // creation order
	deadline clock.Time // the connection's NextDeadline when last seen
	heapIdx  int        // index in the timer heap, or -1
	state    tcp.State  // last state the stack saw
	queued   bool       // in the listener's accept queue
	removed  bool
	dirty    bool // in the dirty list: called since the last Output
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
	conns     map[tcp.Key]*entry // stack addresses are IPv4: a compact key
	pol       *tcp.Policy        // cfg.TCP, shared by every connection
	order     []*entry           // creation order, with removed entries until compacted
	nremoved  int                // removed entries still in order
	nextID    uint64
	dirty     []*entry // connections that may have output, in no order
	timers    timerHeap
	due       []*entry    // scratch for HandleTimeout
	changed   []*tcp.Conn // the connections the last Output visited
	listeners map[uint16]*Listener
	anyL      *Listener // ListenAny's, or nil
	ctr       Counters
	ipID      uint16
	buf       []byte
	emitFn    func(pkt []byte)
	cur       *entry
	curNow    clock.Time
	segEmit   func(*wire.Segment, bool)
	// pendingRaw holds segments the stack answers with itself.
	pendingRaw []rawSeg
	pool       bufferPool
}

// New creates a host.
func New(cfg Config) (*Stack, error) {
	if !cfg.Addr.Is4() {
		return nil, fmt.Errorf("stack %q: address %v is not IPv4 (only IPv4 is supported)", cfg.Name, cfg.Addr)
	}
	if cfg.Rand == nil {
		return nil, fmt.Errorf("stack %q: no randomness source (Config.Rand)", cfg.Name)
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
	cfg.TCP.Host = cfg.Name
	cfg.TCP.Recorder = cfg.Recorder
	s := &Stack{
		cfg:       cfg,
		conns:     make(map[tcp.Key]*entry),
		listeners: make(map[uint16]*Listener),
	}
	s.segEmit = s.emitSegment
	s.cfg.TCP.Buffers = &s.pool
	s.pol = tcp.NewPolicy(s.cfg.TCP)
	return s, nil
}

// Name returns the host's name.
func (s *Stack) Name() string { return s.cfg.Name }

// Addr returns the host's address.
func (s *Stack) Addr() netip.Addr { return s.cfg.Addr }

// Counters returns a snapshot of the counters.
func (s *Stack) Counters() Counters {
	c := s.ctr
	c.CurrEstab = 0
	for _, e := range s.order {
		if st := e.conn.State(); !e.removed && (st == tcp.Established || st == tcp.CloseWait) {
			c.CurrEstab++
		}
	}
	return c
}

// Conns returns the live connections in creation order.
func (s *Stack) Conns() []*tcp.Conn {
	out := make([]*tcp.Conn, 0, len(s.conns))
	for _, e := range s.order {
		if !e.removed {
			out = append(out, e.conn)
		}
	}
	return out
}

// Lookup returns the connection with the given tuple (our side first).
func (s *Stack) Lookup(t tcp.Tuple) *tcp.Conn {
	k, ok := t.Key()
	if !ok {
		return nil
	}
	if e := s.conns[k]; e != nil {
		return e.conn
	}
	return nil
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
	s.conns[e.conn.Key()] = e
	s.order = append(s.order, e)
	s.touch(e)
}

// Connect makes an active open to remote from an ephemeral port.
func (s *Stack) Connect(now clock.Time, remote netip.AddrPort) (*tcp.Conn, error) {
	if !remote.Addr().Is4() || remote.Port() == 0 {
		return nil, fmt.Errorf("connect to %v: %w", remote, ErrInvalidTarget)
	}
	// RFC 6056 §3.3.1 (Algorithm 1): a random starting point, then the next
	// free port.
	lo, hi := int(s.cfg.EphemeralLow), int(s.cfg.EphemeralHigh)
	span := hi - lo + 1
	start := int(s.cfg.Rand.Uint64() % uint64(span))
	for i := 0; i < span; i++ {
		port := uint16(lo + (start+i)%span)
		t := tcp.Tuple{Local: netip.AddrPortFrom(s.cfg.Addr, port), Remote: remote}
		if _, used := s.conns[key(t)]; used {
			continue
		}
		if _, listening := s.listeners[port]; listening {
			continue
		}
		return s.open(now, t), nil
	}
	return nil, fmt.Errorf("connect to %v: %w", remote, ErrNoPorts)
}

// ConnectFrom makes an active open from a chosen local port (used by
// simultaneous open, where both sides name each other's port).
func (s *Stack) ConnectFrom(now clock.Time, localPort uint16, remote netip.AddrPort) (*tcp.Conn, error) {
	if !remote.Addr().Is4() || remote.Port() == 0 || localPort == 0 {
		return nil, fmt.Errorf("connect from port %d to %v: %w", localPort, remote, ErrInvalidTarget)
	}
	t := tcp.Tuple{Local: netip.AddrPortFrom(s.cfg.Addr, localPort), Remote: remote}
	if _, used := s.conns[key(t)]; used {
		return nil, fmt.Errorf("connect from %v to %v: %w", t.Local, remote, ErrAddrInUse)
	}
	return s.open(now, t), nil
}

// key is the map key of a tuple whose addresses are IPv4 (Connect and
// Input see to it).
func key(t tcp.Tuple) tcp.Key {
	k, _ := t.Key()
	return k
}

func (s *Stack) open(now clock.Time, t tcp.Tuple) *tcp.Conn {
	c := s.pol.NewActive(t, tcp.ISN(s.cfg.ISNKey, t, now), now)
	s.add(&entry{conn: c, state: c.State()})
	s.ctr.ActiveOpens++
	return c
}

// Listener is a passive OPEN on a port: it turns SYNs into connections and
// queues them, once established, until accepted.
type Listener struct {
	s       *Stack
	port    uint16
	backlog int
	pending int         // connections not yet accepted (half-open or queued)
	queue   []*tcp.Conn // established, waiting for Accept
	closed  bool
	any     bool // ListenAny's: every address and port
}

// Listen opens a listener on port. backlog bounds the connections that are
// half-open or established but not yet accepted; a SYN beyond it is dropped
// (as Linux does), and the peer retries.
func (s *Stack) Listen(port uint16, backlog int) (*Listener, error) {
	if port == 0 {
		return nil, fmt.Errorf("listen on port 0: %w", ErrInvalidTarget)
	}
	if _, ok := s.listeners[port]; ok {
		return nil, fmt.Errorf("listen on %v: %w", netip.AddrPortFrom(s.cfg.Addr, port), ErrAddrInUse)
	}
	if backlog <= 0 {
		backlog = s.cfg.DefaultBacklog
	}
	l := &Listener{s: s, port: port, backlog: backlog}
	s.listeners[port] = l
	return l, nil
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

// Accept returns the next established connection, or nil.
func (l *Listener) Accept() *tcp.Conn {
	if len(l.queue) == 0 {
		return nil
	}
	c := l.queue[0]
	l.queue = l.queue[1:]
	if e := l.s.conns[c.Key()]; e != nil {
		e.listener, e.queued = nil, false
	}
	l.pending--
	return c
}

// Pending returns how many established connections wait for Accept.
func (l *Listener) Pending() int { return len(l.queue) }

// Close stops listening and aborts the connections never accepted.
func (l *Listener) Close(now clock.Time) {
	if l.closed {
		return
	}
	l.closed = true
	if l.any {
		l.s.anyL = nil
	} else {
		delete(l.s.listeners, l.port)
	}
	for _, e := range l.s.order {
		if e.listener == l && !e.removed {
			l.s.step(now, e, func() { e.conn.Abort(now) })
		}
	}
	l.queue = nil
}
