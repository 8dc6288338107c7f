// Package synack is synack's TCP as a Go library: a Stack runs package
// stack on any link.Link in real time, and hands out net.Conn and
// net.Listener values that behave like the net package's, so net/http,
// crypto/tls and anything else written against net.Conn run over it
// unchanged.
//
// New starts a Stack on a link: link/mem joins stacks inside one process
// (tests, examples), link/tun attaches one to a Linux TUN device (see the
// link package for which to use when). The Examples show an echo over
// link/mem, net/http over it, and a TUN proxy taking every destination
// with ListenAny.
//
// # Concurrency
//
// A Stack has one mutex (one per shard: see Shards below). A user call
// (Read, Write, Dial, Accept, Close, a socket option) takes it and runs the sans-I/O stack itself, in the
// caller's goroutine, with the time of the real clock; packets it produces
// go to the link's Send before the lock is released (a link.Burster, such
// as link/tun's Device, queues them for its own writer goroutine, so the
// write itself happens outside the lock). Besides its callers,
// a Stack has two goroutines that take the same lock: the timer goroutine,
// which sleeps until the earliest TCP timer and runs it (a call that makes
// a timer earlier wakes it), and the reader, which takes packets from the
// link, a burst at a time when the link has a TryReceive method (a
// mem.Port has), and hands them
// to the stack. A blocked call (Read, Write, Accept, Dial) waits, without
// the lock, on a channel that the next step which makes it ready wakes;
// there is no goroutine per connection or per segment. Close ends both
// goroutines.
//
// The clock is time.Now and the timer a time.Timer, which testing/synctest
// fakes: under synctest a 2-minute retransmission timeout takes no real
// time.
//
// This is not the shape of the design documents, in two ways, on purpose.
// STYLE.md's driver "owns one loop; socket calls reach it by message": a
// message and its reply would add two goroutine switches to every Read and
// Write, so a call takes the lock instead (as ARCHITECTURE.md's runtime
// does), and the driver is two goroutines, since Link.Receive blocks and
// cannot wait in one select with the timer. Send runs under the lock
// (Send copies and must not block for long) unless the link is a
// link.Burster. The loop itself is written once (package internal/rt) and
// shared with link/mem and link/impair.
//
// # Shards
//
// With Config.Shards = N > 1 a Stack is N shards, as ARCHITECTURE.md's
// runtime has them: each a stack.Stack with its own mutex and its own
// timer goroutine (an rt.Loop), holding the connections whose 4-tuple
// hashes to it, as a NIC's receive-side scaling spreads flows over its
// queues (the hash has a random key, so a peer cannot aim every flow at
// one shard). A call on a Conn takes its shard's lock only, so
// calls on connections of different shards run at once. The reader hashes
// each packet of a burst to its shard (an ICMP error to the shard of the
// connection its quoted header names) and hands each shard its part under
// that shard's lock: the first shard's in its own goroutine, the others'
// to one receive goroutine per shard, at the same time, so that receive
// processing too runs on several cores. A Dial takes the shards in turn
// and an ephemeral port whose tuple hashes to the shard
// (stack.Config.TupleFilter): a tuple lives in one shard only, so it
// stays unique. The rest:
//
//   - Listen, ListenAny and ForwardTCP open a listener (or forwarder) in
//     every shard, on the same port; each shard makes its connections from
//     its own SYNs, and Accept takes from whichever shard has one. SYN
//     cookies validate in every shard (one key), and a cookie's ACK hashes
//     to its SYN's shard anyway.
//   - The limits are split: each shard takes a share of Backlog,
//     SynBacklog, MaxConns, MaxOrphans and MaxTimeWait (and of
//     ForwardTCP's maxPending), the shares adding up to the limit (at
//     least 1 each), as each of Linux's SO_REUSEPORT sockets has its own
//     backlog. A Dial whose shard is at its share of MaxConns (or out of
//     ports) tries the next shard, so Dial fails at the total; a SYN that
//     hashes to a shard at its share is dropped even while others have
//     room, so with a skewed spread a listener can overflow (Counters()
//     counts it) before the total backlog is reached. A limit of 1 needs
//     one shard.
//   - UDP, ICMP echo and every packet that is not TCP live in shard 0.
//   - Counters, Sockets and the forwarders' counts sum or list the shards
//     (Sockets in creation order shard by shard); TIME-WAIT and the path
//     MTU cache are each shard's own.
//   - A Recorder is called under each shard's lock, one call at a time
//     (the Stack serialises them), the events of different shards in the
//     order they happen to come; with Shards left 0 a Stack with a
//     Recorder has one shard.
//   - A seeded Stack stays deterministic for a given sequence of calls:
//     shard i's randomness is seeded from Seed and i (shard 0's is a
//     one-shard Stack's), and dials take the shards in turn.
//
// Config.Shards = ShardPerCPU gives one shard per GOMAXPROCS. The default
// is one shard (Config.Shards 0): on two cores, two shards moved 64
// concurrent bulk connections about 1.3× as fast as one, with less CPU
// per byte, and the connection rate of 16 dialers about 1.1× (each host
// still reads its link from one goroutine), while the split limits change
// what a small Backlog or MaxConns means, each shard keeps its own path
// MTU cache, and one connection gains nothing: with a shard per CPU (two)
// against one, in 25 alternating rounds under load, a round trip was
// 0.91× (0.38–1.54) as fast and a connection 0.96× (0.25–2.71), bulk
// 1.05× (0.45–1.63). BENCHMARKS.md has the figures.
//
// A fragment (IPv4 or IPv6) goes to shard 0, since its ports are in
// another fragment or in none; the datagram it completes is reassembled
// there and, if it is a TCP segment or an ICMP error quoting one, handed
// to its connection's shard (stack.Config.Reassembled).
//
// A Conn is safe for use by several goroutines at once, like *net.TCPConn:
// one reader and one writer is the usual pattern, and Close (or Stack.Close)
// unblocks both.
//
// # Networks and addresses
//
// A Stack has an IPv4 address, an IPv6 address or both (Config.Addr,
// Config.Addr6). Dial and Listen take the net package's "tcp", "tcp4" and
// "tcp6" networks and its address forms ("198.18.0.1:80",
// "[2001:2::1]:80"); an IPv4-mapped address ("[::ffff:198.18.0.1]:80")
// is the IPv4 address it maps. Listen("tcp", ":80") or "[::]:80" takes
// both families and reports "[::]:80" as its Addr on a dual-stack host;
// "tcp4" and "tcp6", or one of the host's addresses, take one family's,
// leaving the port free for the other's. ListenUDP, ListenPacket, DialUDP
// and Dial take "udp", "udp4" and "udp6" alike (see UDPConn), and
// ForwardUDP hands an any-destination stack's UDP flows to the application,
// ForwardTCP its TCP SYNs, before they are answered.
//
// # Errors
//
// Errors have the net package's shapes: *net.OpError wrapping
// os.ErrDeadlineExceeded (Timeout() is true), net.ErrClosed after Close, and
// *os.SyscallError wrapping the errno a kernel socket would report
// (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EPIPE,
// EADDRINUSE and the like; a connection that times out after an ICMP soft
// error reports that error, as Linux does), so
// errors.Is(err, syscall.ECONNREFUSED) works as with net. Read returns
// io.EOF after the peer's FIN.
package synack

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/internal/rt"
	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
)

// Config describes a Stack.
type Config struct {
	// Addr is the host's IPv4 address and Addr6 its IPv6 address; one of
	// them, or both (a dual-stack host). An IPv6 address given as Addr is
	// taken as Addr6. If neither is set and the link has an Addr()
	// netip.Addr method (a mem.Port has), that address is used, and so is
	// an Addr6() netip.Addr method's.
	Addr  netip.Addr
	Addr6 netip.Addr
	// Name identifies the host in trace events (default: the address).
	Name string
	// TCP is the policy of every connection. MSS defaults to the link's
	// MTU less 40 bytes of IPv4 and TCP headers; an IPv6 connection's is
	// 20 bytes less (its header is 40 bytes).
	TCP tcp.Config
	// Recorder receives trace events. It is called with the Stack's lock
	// (a shard's) held; share one between Stacks only if it is safe for
	// concurrent use. With several shards the Stack makes its calls one
	// at a time (in no fixed order between shards); with Shards left 0, a
	// Stack with a Recorder has one shard, so that a trace keeps the order
	// of one lock.
	Recorder trace.Recorder
	// Resolve turns a host name in Dial's address into an IPv4 or IPv6
	// address; nil accepts IP literals only.
	Resolve func(ctx context.Context, host string) (netip.Addr, error)
	// Seed, when non-zero, makes ISNs and ephemeral ports deterministic
	// (for tests); zero draws them from crypto/rand.
	Seed uint64
	// AnyDestination accepts connections to every address and port, not
	// only Addr's (what a tun2socks-style proxy needs): see ListenAny.
	AnyDestination bool
	// Backlog bounds each listener's accept queue, the connections
	// established but not yet returned by Accept (default 128, as the
	// backlog of listen(2) and Linux's somaxconn): while it is full, SYNs
	// are dropped and the peer retries (Counters().ListenOverflows).
	Backlog int
	// SynBacklog bounds each listener's half-open connections (default
	// 256, as Linux's tcp_max_syn_backlog); beyond it a SYN is answered
	// with a SYN cookie (RFC 4987 §3.6) unless SynCookies says otherwise.
	SynBacklog int
	// SynCookies chooses when cookies are sent: stack.CookiesWhenFull (the
	// default), stack.CookiesAlways or stack.CookiesOff.
	SynCookies stack.SynCookieMode
	// MaxConns, MaxOrphans and MaxTimeWait bound the stack's connections
	// (Dial fails with stack.ErrTooManyConns), the connections closed and
	// not yet in TIME-WAIT (the oldest is reset) and those in TIME-WAIT
	// (the oldest is freed); zero takes stack.Config's defaults (262144,
	// 65536, 262144). TCP.FinTimeout and TCP.OrphanRetries bound a closed
	// connection's FIN-WAIT-2 and its retries.
	MaxConns, MaxOrphans, MaxTimeWait int
	// Shards is the number of shards (default 1; at most 256): each is a
	// stack.Stack with its own lock, timer goroutine and receive
	// goroutine, and holds the connections whose 4-tuple hashes to it, as
	// a NIC's RSS spreads flows over queues, so that calls on connections
	// of different shards run in parallel. ShardPerCPU (-1) takes
	// runtime.GOMAXPROCS(0), the count that can use every core. See
	// "Shards" in the package doc for how listeners, limits and the
	// Recorder behave with more than one.
	Shards int
}

// ShardPerCPU as Config.Shards gives a Stack one shard per
// runtime.GOMAXPROCS(0).
const ShardPerCPU = -1

// defaultShards is the shard count when Config.Shards is 0 (the package's
// tests set it with -shards to run every test sharded).
var defaultShards = 1

// maxShards bounds Config.Shards.
const maxShards = 256

// Stack is one host running synack's TCP on a link in real time: one
// shard, or Config.Shards of them.
type Stack struct {
	cfg    Config
	link   link.Link
	clk    *clock.Real
	shards []*shard
	key    uint64 // keys the shard hash (shard.go)

	closeMu     sync.Mutex  // Close
	isClosed    atomic.Bool // set by Close before the shards close
	lmu         sync.Mutex  // opening listeners and forwarders: taken before any shard's mu
	dialNext    atomic.Uint32
	inWG        sync.WaitGroup // the reader's bursts being handled by workers
	workWG      sync.WaitGroup // the workers
	stopWorkers sync.Once
}

// shard is one stack.Stack with its lock, its timer goroutine and the
// driver's state of its connections. Every connection lives in the shard
// its 4-tuple hashes to; UDP, ICMP echo and anything not TCP live in shard
// 0.
type shard struct {
	s    *Stack
	idx  int
	st   *stack.Stack
	clk  *clock.Real
	loop *rt.Loop // the timer goroutine (and, for shard 0, the reader); stopped with closed

	mu       sync.Mutex
	closed   bool
	blocked  map[*tcp.Conn]*Conn    // connections with a blocked call (Read, Write, Dial)
	discard  map[*tcp.Conn]struct{} // read side shut: arriving data is read and dropped
	lns      []*Listener            // open listeners, whose blocked Accepts a step wakes
	sendErrs uint64
	scratch  []byte
	emit     func([]byte)
	alloc    func(n int) []byte // a link.ZeroCopy's buffers for OutputTo, or nil
	zc       link.ZeroCopy      // the link, if it lends its buffers
	zcOut    *link.Buffer       // lent by zc, not yet sent
	burster  link.Burster       // the link, if it writes from a goroutine of its own
	chans    []chan struct{}    // free channels for waiters

	in      [][]byte      // the reader's packets for this shard in one burst (reader only)
	handoff []handoff     // reassembled datagrams for other shards, handed on after the burst
	work    chan [][]byte // to the shard's receive worker, with several shards (shard.go)
}

// waiter is where the calls of one kind blocked on a Conn (Read, Write)
// wait. It is made once and reused; while calls wait,
// ch is a channel borrowed from the Stack, which holds at most one wake-up.
// Several goroutines may wait at once (net.Conn and net.Listener allow
// that): the one a wake-up reaches passes the next one on while others
// still wait and the condition holds, and a woken caller checks its
// condition again, so a spurious wake-up costs a loop, never a lost one.
type waiter struct {
	ch   chan struct{} // while calls wait
	c    *Conn
	n    int32 // calls waiting
	kind waitKind
}

// waitKind is what a waiter waits for.
type waitKind uint8

const (
	waitRead  waitKind = iota // data, the end of the stream, or (dialing) the handshake's end
	waitWrite                 // room in the send buffer, or the connection's end
)

func (w *waiter) ready() bool {
	switch w.kind {
	case waitRead:
		tc := w.c.tc
		st := tc.State()
		return tc.Readable() > 0 || tc.ReadClosed() || w.c.dialing && st >= tcp.Established
	default:
		tc := w.c.tc
		return tc.SendSpace() > 0 || tc.State() == tcp.Closed
	}
}

// check wakes a call waiting on w if its condition holds. The shard's mu
// is held.
func (w *waiter) check() {
	if w.n == 0 || w.ch == nil || !w.ready() {
		return
	}
	select {
	case w.ch <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// broadcast wakes every call waiting on w (Close, a new deadline): its
// channel is closed and forgotten, and the next wait borrows another.
// s.mu is held.
func (w *waiter) broadcast() {
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
}

// New starts a stack on l. The Stack owns l from now on: Close closes it.
func New(l link.Link, cfg Config) (*Stack, error) {
	if !cfg.Addr.IsValid() && !cfg.Addr6.IsValid() {
		if a, ok := l.(interface{ Addr() netip.Addr }); ok {
			cfg.Addr = a.Addr()
		}
		if a, ok := l.(interface{ Addr6() netip.Addr }); ok {
			cfg.Addr6 = a.Addr6()
		}
	}
	cfg.Addr = cfg.Addr.Unmap()
	if cfg.Addr.Is6() && !cfg.Addr6.IsValid() {
		cfg.Addr, cfg.Addr6 = netip.Addr{}, cfg.Addr
	}
	if cfg.Addr.Is6() {
		return nil, fmt.Errorf("synack: Config.Addr %v is not an IPv4 address (Addr6 is %v)", cfg.Addr, cfg.Addr6)
	}
	if !cfg.Addr.IsValid() && !cfg.Addr6.IsValid() {
		return nil, fmt.Errorf("synack: no address: set Config.Addr (IPv4) or Config.Addr6 (IPv6)")
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Addr.String()
		if !cfg.Addr.IsValid() {
			cfg.Name = cfg.Addr6.String()
		}
	}
	if cfg.TCP.MSS == 0 && l.MTU() > 40 {
		cfg.TCP.MSS = uint16(min(l.MTU()-40, 65535))
	}
	n := cfg.Shards
	if n == 0 && cfg.Recorder == nil {
		n = defaultShards // a test's -shards, which may be ShardPerCPU
	}
	switch {
	case n == ShardPerCPU:
		n = min(runtime.GOMAXPROCS(0), maxShards)
	case n < 0 || n > maxShards:
		return nil, fmt.Errorf("synack: Config.Shards %d out of range (0 for the default, -1 for one per CPU, else 1 to %d)", n, maxShards)
	case n == 0:
		n = 1 // a trace in the order of one lock
	}
	seed := cfg.Seed
	var key tcp.ISNKey
	var hashKey uint64 // the shard hash's, apart from the ISN key
	if seed == 0 {
		var b [16]byte
		crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:]) | 1
		hashKey = binary.LittleEndian.Uint64(b[8:])
		crand.Read(key[:])
	} else {
		binary.BigEndian.PutUint64(key[:8], seed)
		binary.BigEndian.PutUint64(key[8:], ^seed)
		hashKey = mix(seed, 0x5ba2d)
	}
	s := &Stack{
		cfg:  cfg,
		link: l,
		clk:  clock.NewReal(),
		key:  hashKey,
	}
	scfg := stack.Config{
		Name:     cfg.Name,
		Addr:     cfg.Addr,
		Addr6:    cfg.Addr6,
		MTU:      max(l.MTU(), 0),
		TCP:      cfg.TCP,
		ISNKey:   key,
		Recorder: cfg.Recorder,

		AnyDestination: cfg.AnyDestination,
		DefaultBacklog: cfg.Backlog,
		SynBacklog:     cfg.SynBacklog,
		SynCookies:     cfg.SynCookies,
		MaxConns:       cfg.MaxConns,
		MaxOrphans:     cfg.MaxOrphans,
		MaxTimeWait:    cfg.MaxTimeWait,

		LinkVerifiesChecksums: verifiesChecksums(l),
		LinkOffloadsChecksums: offloadsChecksums(l),
		LinkSegmentOffload:    segmentOffload(l),
	}
	if n > 1 && cfg.Recorder != nil {
		// The shards call it at once: one at a time instead.
		scfg.Recorder = &lockedRecorder{r: cfg.Recorder}
	}
	_, zc := l.(link.ZeroCopy)
	s.shards = make([]*shard, n)
	for i := range s.shards {
		c := scfg
		// Shard 0's randomness is a one-shard Stack's, so that a seeded
		// run with one shard is what it was before shards.
		c.Rand = rand.New(rand.NewPCG(seed, 0x5ac4+uint64(i)))
		if n > 1 {
			// The limits are split: each shard takes its share of each
			// (see the package doc's "Shards").
			c.DefaultBacklog = share(cfg.Backlog, 128, n, i)
			c.SynBacklog = share(cfg.SynBacklog, 256, n, i)
			c.MaxConns = share(cfg.MaxConns, 262144, n, i)
			c.MaxOrphans = share(cfg.MaxOrphans, 65536, n, i)
			c.MaxTimeWait = share(cfg.MaxTimeWait, 262144, n, i)
			c.TupleFilter = func(t tcp.Tuple) bool { return s.shardOf(t) == i }
			c.Reassembled = func(pkt []byte) bool { return s.reassembled(i, pkt) }
		}
		st, err := stack.New(c)
		if err != nil {
			return nil, fmt.Errorf("synack: %w", err)
		}
		sh := &shard{
			s:       s,
			idx:     i,
			st:      st,
			clk:     s.clk,
			blocked: make(map[*tcp.Conn]*Conn),
			discard: make(map[*tcp.Conn]struct{}),
			scratch: make([]byte, 16<<10),
		}
		sh.emit = func(pkt []byte) {
			if l.Send(pkt) != nil {
				sh.sendErrs++
			}
		}
		if zc {
			sh.zc = l.(link.ZeroCopy)
			sh.alloc = sh.zcAlloc
			sh.emit = sh.zcEmit
		}
		sh.burster, _ = l.(link.Burster)
		sh.loop = rt.New(&sh.mu, s.clk, sh.timers)
		s.shards[i] = sh
	}
	for _, sh := range s.shards {
		sh.loop.Start()
	}
	if n == 1 {
		sh := s.shards[0]
		sh.loop.Pump(l, maxBatch, sh.input)
	} else {
		if shardWorkers {
			for _, sh := range s.shards {
				sh.work = make(chan [][]byte, 1)
				s.workWG.Add(1)
				go sh.worker()
			}
		}
		s.shards[0].loop.PumpUnlocked(l, maxBatch, s.input)
	}
	return s, nil
}

// lockedRecorder serialises the shards' calls to a Recorder.
type lockedRecorder struct {
	mu sync.Mutex
	r  trace.Recorder
}

func (l *lockedRecorder) Record(e *trace.Event) {
	l.mu.Lock()
	l.r.Record(e)
	l.mu.Unlock()
}

// share is shard i's share of a limit over n shards: v (or def when v is
// 0) divided by n, the remainder going to the first shards, so that the
// shares add up to v; but at least 1 (a shard cannot take none).
func share(v, def, n, i int) int {
	if v <= 0 {
		v = def
	}
	p := v / n
	if i < v%n {
		p++
	}
	return max(p, 1)
}

// Addr returns the host's IPv4 address (the zero Addr if it has none).
func (s *Stack) Addr() netip.Addr { return s.cfg.Addr }

// Addr6 returns the host's IPv6 address (the zero Addr if it has none).
func (s *Stack) Addr6() netip.Addr { return s.cfg.Addr6 }

// Name returns the host's name.
func (s *Stack) Name() string { return s.cfg.Name }

// Counters returns the stack's MIB counters (like `netstat -s`), summed
// over its shards.
func (s *Stack) Counters() stack.Counters {
	var sum stack.Counters
	for _, sh := range s.shards {
		sh.mu.Lock()
		c := sh.st.Counters()
		sh.mu.Unlock()
		addCounters(&sum, &c)
	}
	return sum
}

// PathMTU returns the path MTU the stack assumes towards dst now: the link
// MTU, or less while an ICMP message, a connection's black hole or its
// acknowledged probe said so (stack.Stack.PathMTU). Each shard keeps its
// own cache, fed by its own connections and the ICMP errors quoting them;
// with several shards this is the smallest of theirs.
func (s *Stack) PathMTU(dst netip.Addr) int {
	mtu := 0
	for _, sh := range s.shards {
		sh.mu.Lock()
		m := sh.st.PathMTU(sh.clk.Now(), dst)
		sh.mu.Unlock()
		if mtu == 0 || m < mtu {
			mtu = m
		}
	}
	return mtu
}

// PathMTUs returns the stack's path MTU cache now: the destinations whose
// path MTU is below the link MTU (stack.Stack.PathMTUs), in address order;
// with several shards, the smallest entry of any shard for each
// destination.
func (s *Stack) PathMTUs() []stack.PathMTUEntry {
	var out []stack.PathMTUEntry
	for _, sh := range s.shards {
		sh.mu.Lock()
		es := sh.st.PathMTUs(sh.clk.Now())
		sh.mu.Unlock()
		out = mergePathMTUs(out, es)
	}
	return out
}

// Close aborts every connection (a RST goes out from SYN-RECEIVED,
// ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT, as RFC 9293's ABORT
// sends one), closes the link, makes every pending and later call fail
// with net.ErrClosed and waits for the Stack's goroutines to end. It
// returns the link's Close error. Closing twice is not an error.
func (s *Stack) Close() error {
	s.closeMu.Lock()
	if s.isClosed.Load() {
		s.closeMu.Unlock()
		s.wait()
		return nil
	}
	s.isClosed.Store(true)
	for _, sh := range s.shards {
		sh.mu.Lock()
		now := sh.clk.Now()
		for _, c := range sh.st.Conns() {
			sh.st.Abort(now, c)
		}
		sh.output(now)
		if sh.zcOut != nil {
			sh.zc.Release(sh.zcOut)
			sh.zcOut = nil
		}
		sh.closed = true
		sh.loop.Stop()
		sh.mu.Unlock()
	}
	s.closeMu.Unlock()
	err := s.link.Close()
	s.wait()
	return err
}

// wait waits for every shard's goroutines to end: the loops (the reader
// among them), then the receive workers, which the reader fed.
func (s *Stack) wait() {
	for _, sh := range s.shards {
		sh.loop.Wait()
	}
	s.stopWorkers.Do(func() {
		for _, sh := range s.shards {
			if sh.work != nil {
				close(sh.work)
			}
		}
	})
	s.workWG.Wait()
}

// done is closed when the Stack closes, for blocked calls that belong to no
// shard (Accept) to wait on.
func (s *Stack) done() <-chan struct{} { return s.shards[0].loop.Done() }

// timers is the loop's step: it runs the TCP timers that are due and
// returns when the next one is. sh.mu is held.
func (sh *shard) timers(now clock.Time) clock.Time {
	if sh.st.NextDeadline() <= now {
		sh.st.HandleTimeout(now)
		sh.stepLocked(now)
	}
	return sh.st.NextDeadline()
}

// maxBatch bounds a burst the reader takes from a link that offers
// TryReceive (mem.Port does), in packets (each with a 64 KiB buffer): the
// burst is handled under one acquisition of the lock, with one step: one
// round of output (an ACK for several segments) and one round of
// wake-ups.
const maxBatch = 16

// input hands a burst of the link's packets to the stack. sh.mu is held.
func (sh *shard) input(now clock.Time, pkts [][]byte) {
	for _, p := range pkts {
		sh.st.Input(now, p)
	}
	sh.stepLocked(now)
}

// stepLocked follows every change to the stack: it sends what is due,
// drops data arriving on read-shut connections, re-arms the timer loop and
// wakes the calls whose condition now holds. Only the connections the
// stack reports as changed are looked at, so a step costs nothing per idle
// connection. sh.mu is held.
func (sh *shard) stepLocked(now clock.Time) {
	for {
		sh.output(now)
		again := false
		for _, tc := range sh.st.Changed() {
			if _, ok := sh.discard[tc]; ok {
				for tc.Readable() > 0 {
					sh.st.Read(now, tc, sh.scratch)
					again = true // the window update goes out next
				}
				if tc.Done() {
					delete(sh.discard, tc)
				}
			}
			if c := sh.blocked[tc]; c != nil {
				c.rw.check()
				c.ww.check()
			}
		}
		if !again {
			break
		}
	}
	sh.loop.Rearm(sh.st.NextDeadline())
	for _, l := range sh.lns {
		l.check(sh)
	}
}

// output hands the stack's due packets to the link, as one burst if the
// link is a link.Burster. sh.mu is held.
func (sh *shard) output(now clock.Time) {
	if sh.burster == nil {
		sh.st.OutputTo(now, sh.alloc, sh.emit)
		return
	}
	sh.burster.BeginBurst()
	sh.st.OutputTo(now, sh.alloc, sh.emit)
	sh.burster.EndBurst()
}

// zcAlloc lends the stack a buffer of the ZeroCopy link to build a packet
// of n bytes in, or nil (the link has none free, or none that large): the
// stack then builds it in its own buffer and zcEmit copies it with Send.
// sh.mu is held.
func (sh *shard) zcAlloc(n int) []byte {
	if sh.zcOut == nil {
		sh.zcOut = sh.zc.NewBuffer()
	}
	if sh.zcOut == nil || cap(sh.zcOut.B) < n {
		return nil
	}
	return sh.zcOut.B[:0]
}

// zcEmit hands the link the buffer a packet was built in (no copy), or
// sends a packet built elsewhere with Send (a copy). sh.mu is held.
func (sh *shard) zcEmit(pkt []byte) {
	if b := sh.zcOut; b != nil && len(pkt) > 0 && cap(b.B) > 0 && &pkt[0] == &b.B[:1][0] {
		sh.zcOut = nil
		b.B = pkt
		if sh.zc.SendBuffer(b) != nil {
			sh.sendErrs++
		}
		return
	}
	if sh.s.link.Send(pkt) != nil {
		sh.sendErrs++
	}
}

// segmentOffload is the largest super-segment l takes (link.GSOer), or 0.
func segmentOffload(l link.Link) int {
	if g, ok := l.(link.GSOer); ok {
		if n := g.MaxSegmentOffload(); n > l.MTU() {
			return min(n, 65535)
		}
	}
	return 0
}

// offloadsChecksums reports whether l is a link.ChecksumOffloader that
// takes the TCP checksums over.
func offloadsChecksums(l link.Link) bool {
	o, ok := l.(link.ChecksumOffloader)
	return ok && o.OffloadChecksums()
}

// verifiesChecksums reports whether l is a link.ChecksumVerifier that
// verifies checksums.
func verifiesChecksums(l link.Link) bool {
	v, ok := l.(link.ChecksumVerifier)
	return ok && v.VerifyChecksums()
}

// blockConn waits on w, one of c's waiters, as block does.
func (s *shard) blockConn(c *Conn, w *waiter, cancel ...<-chan struct{}) {
	s.blocked[c.tc] = c
	s.wait(w, cancel...)
	if c.rw.n == 0 && c.ww.n == 0 {
		delete(s.blocked, c.tc)
	}
}

// wait waits, with s.mu held on entry and on return, until w's condition
// holds after some step, one of the cancel channels is closed, or the
// stack closes. The caller checks again why it woke.
func (s *shard) wait(w *waiter, cancel ...<-chan struct{}) {
	switch {
	case w.ch == nil:
		if n := len(s.chans); n > 0 {
			w.ch = s.chans[n-1]
			s.chans[n-1] = nil
			s.chans = s.chans[:n-1]
		} else {
			w.ch = make(chan struct{}, 1)
		}
	case w.n == 0:
		select {
		case <-w.ch: // a stale wake-up
		default:
		}
	}
	ch := w.ch
	w.n++
	s.mu.Unlock()
	var c0, c1, c2 <-chan struct{}
	switch len(cancel) {
	case 3:
		c2 = cancel[2]
		fallthrough
	case 2:
		c1 = cancel[1]
		fallthrough
	case 1:
		c0 = cancel[0]
	}
	select {
	case <-ch:
	case <-c0:
	case <-c1:
	case <-c2:
	case <-s.loop.Done():
	}
	s.mu.Lock()
	w.n--
	switch {
	case w.n == 0:
		// No wake-up can come any more (they are sent under s.mu while
		// calls wait); one that came with a cancellation is drained before
		// the channel goes back.
		if w.ch != nil {
			select {
			case <-w.ch:
			default:
			}
			s.chans = append(s.chans, w.ch)
			w.ch = nil
		}
	case w.ch == ch:
		// Other calls wait on w still (concurrent Accepts, say): pass a
		// wake-up on if the condition holds, since this call may not take
		// what made it true (or may have left for a deadline).
		w.check()
	}
}

// Listen opens a listener. network is "tcp", "tcp4" or "tcp6"; address
// is ":port", an unspecified address ("0.0.0.0:port", "[::]:port") or one
// of this host's addresses with the port. As with the net package, "tcp"
// with no address or an unspecified one takes both IPv4 and IPv6
// connections; "tcp4" and "tcp6" take their family's only, and an address
// of the host's takes its own family's. Port 0 picks the lowest free port
// from 32768 to 60999.
func (s *Stack) Listen(network, address string) (net.Listener, error) {
	l, err := s.ListenTCP(network, address)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// netFamily is the family a network name allows.
func netFamily(network string) (stack.Family, bool) {
	switch network {
	case "tcp":
		return stack.AnyFamily, true
	case "tcp4":
		return stack.IPv4, true
	case "tcp6":
		return stack.IPv6, true
	}
	return 0, false
}

// ListenTCP is Listen returning the concrete type.
func (s *Stack) ListenTCP(network, address string) (*Listener, error) {
	opErr := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Err: err}
	}
	fam, ok := netFamily(network)
	if !ok {
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
	if host != "" {
		a, err := netip.ParseAddr(host)
		a = a.Unmap()
		switch {
		case err != nil || (!s.ours(a) && !a.IsUnspecified()):
			return nil, opErr(&net.AddrError{Err: "address is not this stack's (" + s.addrs() + ")", Addr: host})
		case fam == stack.IPv4 && a.Is6() && !a.IsUnspecified(), fam == stack.IPv6 && a.Is4():
			return nil, opErr(&net.AddrError{Err: "address of the wrong family for " + network, Addr: host})
		case !a.IsUnspecified() && a.Is4():
			fam = stack.IPv4
		case !a.IsUnspecified():
			fam = stack.IPv6
		}
	}
	s.lmu.Lock()
	defer s.lmu.Unlock()
	s.lockAll()
	defer s.unlockAll()
	if s.shards[0].closed {
		return nil, opErr(net.ErrClosed)
	}
	var ls []*stack.Listener
	if port == 0 {
		for p := 32768; p <= 60999 && ls == nil; p++ {
			ls, err = s.listenAll(func(st *stack.Stack) (*stack.Listener, error) { return st.ListenFamily(fam, uint16(p), 0) })
		}
	} else {
		ls, err = s.listenAll(func(st *stack.Stack) (*stack.Listener, error) { return st.ListenFamily(fam, port, 0) })
	}
	if err != nil {
		e := opErr(mapErr("listen", err))
		e.(*net.OpError).Addr = tcpAddr(netip.AddrPortFrom(s.listenAddr(fam), port))
		return nil, e
	}
	return newListener(s, ls, tcpAddr(netip.AddrPortFrom(s.listenAddr(fam), ls[0].Port()))), nil
}

// listenAll opens a listener in every shard with open, or none. Every
// shard's lock is held.
func (s *Stack) listenAll(open func(*stack.Stack) (*stack.Listener, error)) ([]*stack.Listener, error) {
	ls := make([]*stack.Listener, 0, len(s.shards))
	for _, sh := range s.shards {
		sl, err := open(sh.st)
		if err != nil {
			for i, o := range ls {
				o.Close(s.shards[i].clk.Now()) // it has no connections yet
			}
			return nil, err
		}
		ls = append(ls, sl)
	}
	return ls, nil
}

// listenAddr is the Stack's listenAddr.
func (sh *shard) listenAddr(fam stack.Family) netip.Addr { return sh.s.listenAddr(fam) }

// ours reports whether a is one of the host's addresses.
func (s *Stack) ours(a netip.Addr) bool {
	return a.IsValid() && (a == s.cfg.Addr || a == s.cfg.Addr6)
}

// addrs lists the host's addresses for messages.
func (s *Stack) addrs() string {
	switch {
	case !s.cfg.Addr6.IsValid():
		return s.cfg.Addr.String()
	case !s.cfg.Addr.IsValid():
		return s.cfg.Addr6.String()
	}
	return s.cfg.Addr.String() + ", " + s.cfg.Addr6.String()
}

// listenAddr is the address a listener of fam reports: the host's address
// of that family, or "::" for both families on a dual-stack host (as the
// net package reports "[::]:port").
func (s *Stack) listenAddr(fam stack.Family) netip.Addr {
	switch {
	case fam == stack.IPv4 || fam == stack.AnyFamily && !s.cfg.Addr6.IsValid():
		return s.cfg.Addr
	case fam == stack.IPv6 || !s.cfg.Addr.IsValid():
		return s.cfg.Addr6
	}
	return netip.IPv6Unspecified()
}

func parsePort(s string) (uint16, error) {
	var p int
	if s == "" {
		return 0, nil
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, &net.AddrError{Err: "invalid port (a number from 0 to 65535)", Addr: s}
		}
		p = p*10 + int(r-'0')
		if p > 65535 {
			return 0, &net.AddrError{Err: "invalid port (a number from 0 to 65535)", Addr: s}
		}
	}
	return uint16(p), nil
}

// Dial connects to address ("198.18.0.1:80", "[2001:2::1]:80") over TCP;
// network is "tcp", "tcp4" or "tcp6", and the last two require an address
// of their family. "udp", "udp4" and "udp6" give a connected *UDPConn.
func (s *Stack) Dial(network, address string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, address)
}

// DialContext connects to address; its signature fits
// http.Transport.DialContext. The context bounds Config.Resolve and the
// handshake: when it ends first, the attempt is aborted.
func (s *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if isUDP(network) {
		return s.dialUDPConn(ctx, network, address) // udp.go
	}
	c, err := s.DialContextTCP(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DialContextTCP is DialContext returning the concrete type. (It is not
// named DialTCP: net.DialTCP takes *net.TCPAddr arguments and no context;
// DialAddr is the call that takes an address value.)
func (s *Stack) DialContextTCP(ctx context.Context, network, address string) (*Conn, error) {
	opErr := func(addr net.Addr, err error) error {
		return &net.OpError{Op: "dial", Net: network, Addr: addr, Err: err}
	}
	fam, ok := netFamily(network)
	if !ok {
		return nil, opErr(nil, net.UnknownNetworkError(network))
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, opErr(nil, err)
	}
	port, err := parsePort(portStr)
	if err != nil {
		return nil, opErr(nil, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if s.cfg.Resolve == nil {
			return nil, opErr(nil, &net.DNSError{Err: "no resolver (Config.Resolve) and not an IP literal", Name: host, IsNotFound: true})
		}
		if ip, err = s.cfg.Resolve(ctx, host); err != nil {
			return nil, opErr(nil, err)
		}
	}
	ip = ip.Unmap().WithZone("")
	if fam == stack.IPv4 && !ip.Is4() || fam == stack.IPv6 && !ip.Is6() {
		return nil, opErr(tcpAddr(netip.AddrPortFrom(ip, port)), &net.AddrError{Err: "address of the wrong family for " + network, Addr: host})
	}
	return s.DialAddr(ctx, netip.AddrPortFrom(ip, port))
}

// DialAddr connects to remote. The context bounds the handshake, as in
// DialContext.
func (s *Stack) DialAddr(ctx context.Context, remote netip.AddrPort) (*Conn, error) {
	raddr := tcpAddr(remote)
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: raddr, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, opErr(err)
	}
	// A shard's ephemeral ports are those whose tuple hashes to it: when
	// they run out (or its share of MaxConns does), the next shard tries.
	var (
		sh  *shard
		tc  *tcp.Conn
		now clock.Time
		err error
	)
	first := s.dialShard()
	for i := range s.shards {
		sh = s.shards[(first+i)%len(s.shards)]
		sh.mu.Lock()
		if sh.closed {
			sh.mu.Unlock()
			return nil, opErr(net.ErrClosed)
		}
		now = sh.clk.Now()
		tc, err = sh.st.Connect(now, remote)
		if err == nil || !errors.Is(err, stack.ErrNoPorts) && !errors.Is(err, stack.ErrTooManyConns) {
			break
		}
		sh.mu.Unlock()
		sh = nil
	}
	if sh == nil {
		return nil, opErr(mapErr("connect", err))
	}
	defer sh.mu.Unlock()
	if err != nil {
		return nil, opErr(mapErr("connect", err))
	}
	c := sh.newConnLocked(tc)
	c.dialing = true
	defer func() { c.dialing = false }()
	sh.stepLocked(now)
	for {
		switch st := tc.State(); {
		case sh.closed:
			return nil, opErr(net.ErrClosed)
		case st == tcp.Closed:
			err := tc.Err()
			if err == nil {
				err = tcp.ErrConnRefused
			}
			return nil, &net.OpError{Op: "dial", Net: "tcp", Source: c.laddr(), Addr: raddr, Err: mapErr("connect", err)}
		case st >= tcp.Established:
			return c, nil
		}
		if err := ctx.Err(); err != nil {
			now := sh.clk.Now()
			sh.st.Abort(now, tc)
			sh.stepLocked(now)
			return nil, opErr(err)
		}
		sh.blockConn(c, &c.rw, ctx.Done())
	}
}
