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
// A Stack has one mutex. A user call (Read, Write, Dial, Accept, Close, a
// socket option) takes it and runs the sans-I/O stack itself, in the
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
// cannot wait in one select with the timer.
// ARCHITECTURE.md's runtime has N shards, each a stack with its own lock,
// with link I/O outside the lock: today there is one shard, and Send runs
// under its lock (Send copies and must not block for long) unless the link
// is a link.Burster. The loop
// itself is written once (package internal/rt) and shared with link/mem
// and link/impair.
//
// The seam for the sharded Stack is the lock and the loop: each shard
// would be a stack.Stack with its own lock and its own rt.Loop, chosen by a
// hash of the 4-tuple as a NIC's RSS chooses a queue; a call would take
// its connection's shard lock, and the reader would hash each packet of a
// burst to its shard. Until then a Stack does everything under its one
// mutex.
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
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"

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
	// held; share one between Stacks only if it is safe for concurrent use.
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
}

// Stack is one host running synack's TCP on a link in real time.
type Stack struct {
	cfg  Config
	link link.Link
	st   *stack.Stack
	clk  *clock.Real

	mu       sync.Mutex
	loop     *rt.Loop // the timer goroutine and the reader; stopped with closed
	closed   bool
	blocked  map[*tcp.Conn]*Conn    // connections with a blocked call (Read, Write, Dial)
	lwaiters map[*waiter]struct{}   // blocked Accepts
	discard  map[*tcp.Conn]struct{} // read side shut: arriving data is read and dropped
	sendErrs uint64
	scratch  []byte
	emit     func([]byte)
	alloc    func(n int) []byte // a link.ZeroCopy's buffers for OutputTo, or nil
	zc       link.ZeroCopy      // the link, if it lends its buffers
	zcOut    *link.Buffer       // lent by zc, not yet sent
	burster  link.Burster       // the link, if it writes from a goroutine of its own
	chans    []chan struct{}    // free channels for waiters
}

// waiter is where the calls of one kind blocked on a Conn (Read, Write) or
// a Listener (Accept) wait. It is made once and reused; while calls wait,
// ch is a channel borrowed from the Stack, which holds at most one wake-up.
// Several goroutines may wait at once (net.Conn and net.Listener allow
// that): the one a wake-up reaches passes the next one on while others
// still wait and the condition holds, and a woken caller checks its
// condition again, so a spurious wake-up costs a loop, never a lost one.
type waiter struct {
	ch   chan struct{} // while calls wait
	c    *Conn         // for waitRead, waitWrite
	l    *Listener     // for waitAccept
	n    int32         // calls waiting
	kind waitKind
}

// waitKind is what a waiter waits for.
type waitKind uint8

const (
	waitRead   waitKind = iota // data, the end of the stream, or (dialing) the handshake's end
	waitWrite                  // room in the send buffer, or the connection's end
	waitAccept                 // an established connection in the backlog
)

func (w *waiter) ready() bool {
	switch w.kind {
	case waitRead:
		tc := w.c.tc
		st := tc.State()
		return tc.Readable() > 0 || tc.ReadClosed() || w.c.dialing && st >= tcp.Established
	case waitWrite:
		tc := w.c.tc
		return tc.SendSpace() > 0 || tc.State() == tcp.Closed
	default:
		return w.l.l.Pending() > 0
	}
}

// check wakes a call waiting on w if its condition holds. s.mu is held.
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
	seed := cfg.Seed
	var key tcp.ISNKey
	if seed == 0 {
		var b [8]byte
		crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:]) | 1
		crand.Read(key[:])
	} else {
		binary.BigEndian.PutUint64(key[:8], seed)
		binary.BigEndian.PutUint64(key[8:], ^seed)
	}
	st, err := stack.New(stack.Config{
		Name:     cfg.Name,
		Addr:     cfg.Addr,
		Addr6:    cfg.Addr6,
		MTU:      max(l.MTU(), 0),
		TCP:      cfg.TCP,
		ISNKey:   key,
		Rand:     rand.New(rand.NewPCG(seed, 0x5ac4)),
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
	})
	if err != nil {
		return nil, fmt.Errorf("synack: %w", err)
	}
	s := &Stack{
		cfg:      cfg,
		link:     l,
		st:       st,
		clk:      clock.NewReal(),
		blocked:  make(map[*tcp.Conn]*Conn),
		lwaiters: make(map[*waiter]struct{}),
		discard:  make(map[*tcp.Conn]struct{}),
		scratch:  make([]byte, 16<<10),
	}
	s.emit = func(pkt []byte) {
		if s.link.Send(pkt) != nil {
			s.sendErrs++
		}
	}
	if zc, ok := l.(link.ZeroCopy); ok {
		s.zc = zc
		s.alloc = s.zcAlloc
		s.emit = s.zcEmit
	}
	s.burster, _ = l.(link.Burster)
	s.loop = rt.New(&s.mu, s.clk, s.timers)
	s.loop.Start()
	s.loop.Pump(l, maxBatch, s.input)
	return s, nil
}

// Addr returns the host's IPv4 address (the zero Addr if it has none).
func (s *Stack) Addr() netip.Addr { return s.cfg.Addr }

// Addr6 returns the host's IPv6 address (the zero Addr if it has none).
func (s *Stack) Addr6() netip.Addr { return s.cfg.Addr6 }

// Name returns the host's name.
func (s *Stack) Name() string { return s.cfg.Name }

// Counters returns the stack's MIB counters (like `netstat -s`).
func (s *Stack) Counters() stack.Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Counters()
}

// PathMTU returns the path MTU the stack assumes towards dst now: the link
// MTU, or less while an ICMP message, a connection's black hole or its
// acknowledged probe said so (stack.Stack.PathMTU).
func (s *Stack) PathMTU(dst netip.Addr) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.PathMTU(s.clk.Now(), dst)
}

// PathMTUs returns the stack's path MTU cache now: the destinations whose
// path MTU is below the link MTU (stack.Stack.PathMTUs).
func (s *Stack) PathMTUs() []stack.PathMTUEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.PathMTUs(s.clk.Now())
}

// Close aborts every connection (a RST goes out from SYN-RECEIVED,
// ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT, as RFC 9293's ABORT
// sends one), closes the link, makes every pending and later call fail
// with net.ErrClosed and waits for the Stack's goroutines to end. It
// returns the link's Close error. Closing twice is not an error.
func (s *Stack) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.loop.Wait()
		return nil
	}
	now := s.clk.Now()
	for _, c := range s.st.Conns() {
		s.st.Abort(now, c)
	}
	s.output(now)
	if s.zcOut != nil {
		s.zc.Release(s.zcOut)
		s.zcOut = nil
	}
	s.closed = true
	s.loop.Stop()
	s.mu.Unlock()
	err := s.link.Close()
	s.loop.Wait()
	return err
}

// timers is the loop's step: it runs the TCP timers that are due and
// returns when the next one is. s.mu is held.
func (s *Stack) timers(now clock.Time) clock.Time {
	if s.st.NextDeadline() <= now {
		s.st.HandleTimeout(now)
		s.stepLocked(now)
	}
	return s.st.NextDeadline()
}

// maxBatch bounds a burst the reader takes from a link that offers
// TryReceive (mem.Port does), in packets (each with a 64 KiB buffer): the
// burst is handled under one acquisition of the lock, with one step: one
// round of output (an ACK for several segments) and one round of
// wake-ups.
const maxBatch = 16

// input hands a burst of the link's packets to the stack. s.mu is held.
func (s *Stack) input(now clock.Time, pkts [][]byte) {
	for _, p := range pkts {
		s.st.Input(now, p)
	}
	s.stepLocked(now)
}

// stepLocked follows every change to the stack: it sends what is due,
// drops data arriving on read-shut connections, re-arms the timer loop and
// wakes the calls whose condition now holds. Only the connections the
// stack reports as changed are looked at, so a step costs nothing per idle
// connection. s.mu is held.
func (s *Stack) stepLocked(now clock.Time) {
	for {
		s.output(now)
		again := false
		for _, tc := range s.st.Changed() {
			if _, ok := s.discard[tc]; ok {
				for tc.Readable() > 0 {
					s.st.Read(now, tc, s.scratch)
					again = true // the window update goes out next
				}
				if tc.Done() {
					delete(s.discard, tc)
				}
			}
			if c := s.blocked[tc]; c != nil {
				c.rw.check()
				c.ww.check()
			}
		}
		if !again {
			break
		}
	}
	s.loop.Rearm(s.st.NextDeadline())
	for w := range s.lwaiters {
		w.check()
	}
}

// output hands the stack's due packets to the link, as one burst if the
// link is a link.Burster. s.mu is held.
func (s *Stack) output(now clock.Time) {
	if s.burster == nil {
		s.st.OutputTo(now, s.alloc, s.emit)
		return
	}
	s.burster.BeginBurst()
	s.st.OutputTo(now, s.alloc, s.emit)
	s.burster.EndBurst()
}

// zcAlloc lends the stack a buffer of the ZeroCopy link to build a packet
// of n bytes in, or nil (the link has none free, or none that large): the
// stack then builds it in its own buffer and zcEmit copies it with Send.
// s.mu is held.
func (s *Stack) zcAlloc(n int) []byte {
	if s.zcOut == nil {
		s.zcOut = s.zc.NewBuffer()
	}
	if s.zcOut == nil || cap(s.zcOut.B) < n {
		return nil
	}
	return s.zcOut.B[:0]
}

// zcEmit hands the link the buffer a packet was built in (no copy), or
// sends a packet built elsewhere with Send (a copy). s.mu is held.
func (s *Stack) zcEmit(pkt []byte) {
	if b := s.zcOut; b != nil && len(pkt) > 0 && cap(b.B) > 0 && &pkt[0] == &b.B[:1][0] {
		s.zcOut = nil
		b.B = pkt
		if s.zc.SendBuffer(b) != nil {
			s.sendErrs++
		}
		return
	}
	if s.link.Send(pkt) != nil {
		s.sendErrs++
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
func (s *Stack) blockConn(c *Conn, w *waiter, cancel ...<-chan struct{}) {
	s.blocked[c.tc] = c
	s.wait(w, cancel...)
	if c.rw.n == 0 && c.ww.n == 0 {
		delete(s.blocked, c.tc)
	}
}

// blockListener waits on w, a Listener's waiter, as block does.
func (s *Stack) blockListener(w *waiter, cancel ...<-chan struct{}) {
	s.lwaiters[w] = struct{}{}
	s.wait(w, cancel...)
	if w.n == 0 {
		delete(s.lwaiters, w)
	}
}

// wait waits, with s.mu held on entry and on return, until w's condition
// holds after some step, one of the cancel channels is closed, or the
// stack closes. The caller checks again why it woke.
func (s *Stack) wait(w *waiter, cancel ...<-chan struct{}) {
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, opErr(net.ErrClosed)
	}
	var sl *stack.Listener
	if port == 0 {
		for p := 32768; p <= 60999 && sl == nil; p++ {
			sl, err = s.st.ListenFamily(fam, uint16(p), 0)
		}
	} else {
		sl, err = s.st.ListenFamily(fam, port, 0)
	}
	if err != nil {
		e := opErr(mapErr("listen", err))
		e.(*net.OpError).Addr = tcpAddr(netip.AddrPortFrom(s.listenAddr(fam), port))
		return nil, e
	}
	return newListener(s, sl, tcpAddr(netip.AddrPortFrom(s.listenAddr(fam), sl.Port()))), nil
}

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

// newListener wraps a stack listener.
func newListener(s *Stack, sl *stack.Listener, addr *net.TCPAddr) *Listener {
	l := &Listener{s: s, l: sl, addr: addr, closedCh: make(chan struct{}), deadline: makeDeadline()}
	l.aw = waiter{kind: waitAccept, l: l}
	return l
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, opErr(net.ErrClosed)
	}
	now := s.clk.Now()
	tc, err := s.st.Connect(now, remote)
	if err != nil {
		return nil, opErr(mapErr("connect", err))
	}
	c := s.newConnLocked(tc)
	c.dialing = true
	defer func() { c.dialing = false }()
	s.stepLocked(now)
	for {
		switch st := tc.State(); {
		case s.closed:
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
			now := s.clk.Now()
			s.st.Abort(now, tc)
			s.stepLocked(now)
			return nil, opErr(err)
		}
		s.blockConn(c, &c.rw, ctx.Done())
	}
}
