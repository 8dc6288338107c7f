package sim

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/wire"
)

// The hostile soak (synack soak --hostile): one server, legitimate clients
// that each send a request and read a response, and beside them, in the
// same world on the same clock, an attacker. Each case is one attack. A
// run measures what the legitimate clients got (connections completed,
// every byte once and in order both ways, checked against what was sent),
// the server's memory (its stack's own buffer accounting, deterministic;
// and the Go heap, measured) and the server stack's CPU per attack packet
// against its CPU per legitimate data segment in the same run
// (hostile_meter.go). Everything but the timings and the heap is the same
// for the same case and seed.

// HostileCase is one attack of the hostile soak.
type HostileCase struct {
	Name  string
	About string // one line: the attack
	kind  attackKind
	// mss is what the sack-abuse attacker announces.
	mss uint16
}

type attackKind int

const (
	attackSYNFlood attackKind = iota
	attackBlind
	attackOOO
	attackSACK
	attackZeroWindow
	attackVanish
)

// HostileCases returns the attacks, in a fixed order.
func HostileCases() []HostileCase {
	return []HostileCase{
		{Name: "syn-flood", About: "spoofed SYNs from random sources at a set rate", kind: attackSYNFlood},
		{Name: "blind-inject", About: "blind RST, SYN and data at random sequence numbers into the clients' connections", kind: attackBlind},
		{Name: "ooo-flood", About: "1-byte segments, each after a 1-byte hole, on a connection with a 4 MiB window", kind: attackOOO},
		{Name: "sack-abuse-1", About: "a peer announcing MSS 1 whose SACK blocks fragment a long retransmission queue", kind: attackSACK, mss: 1},
		{Name: "sack-abuse-48", About: "a peer announcing MSS 48 whose SACK blocks fragment a long retransmission queue", kind: attackSACK, mss: 48},
		{Name: "zero-window", About: "peers that never read: a zero window for ever, every probe answered", kind: attackZeroWindow},
		{Name: "vanish", About: "peers that vanish with the server's data in flight", kind: attackVanish},
	}
}

// HostileCaseNames returns the attacks' names, in order.
func HostileCaseNames() []string {
	var n []string
	for _, c := range HostileCases() {
		n = append(n, c.Name)
	}
	return n
}

// LookupHostileCase finds an attack by name.
func LookupHostileCase(name string) (HostileCase, bool) {
	for _, c := range HostileCases() {
		if c.Name == name {
			return c, true
		}
	}
	return HostileCase{}, false
}

// hostileSize is a run's scale: the full soak's or --quick's.
type hostileSize struct {
	clients     int           // legitimate clients
	spread      time.Duration // their starts, evenly over this
	synRate     int           // spoofed SYNs per second
	synFor      time.Duration // for this long
	blind       int           // blind injection attempts
	holes       int           // out-of-order flood's 1-byte segments
	records     int           // sack-abuse's retransmission queue, in segments
	sackACKs    int           // sack-abuse's abusive ACKs
	sloths      int           // zero-window and vanish peers
	budget      time.Duration // virtual time
	attackStart time.Duration
}

func sizeFor(quick bool) hostileSize {
	if quick {
		return hostileSize{clients: 6, spread: time.Second, synRate: 20000, synFor: time.Second, blind: 20000,
			holes: 8 << 10, records: 10_000, sackACKs: 1000, sloths: 2, budget: 10 * time.Minute, attackStart: 100 * time.Millisecond}
	}
	return hostileSize{clients: 20, spread: 3 * time.Second, synRate: 100_000, synFor: 3 * time.Second, blind: 300_000,
		holes: 60 << 10, records: 100_000, sackACKs: 5000, sloths: 4, budget: 10 * time.Minute, attackStart: 100 * time.Millisecond}
}

// hostileRec, if set, records a hostile run's events (tests).
var hostileRec trace.Recorder

// HostileResult is the outcome of one run of one attack.
type HostileResult struct {
	Case  string
	Seed  uint64
	Quick bool
	// Legit is how many legitimate connections were attempted, Completed
	// how many delivered every byte both ways and ended without error.
	Legit, Completed int
	// BytesSent is what the legitimate clients and the server sent each
	// other; BytesIntact how much of it arrived exactly, once and in
	// order (a connection's stream counts whole or not at all).
	BytesSent, BytesIntact int
	// Problems lists the legitimate connections that failed, in words.
	Problems []string
	// AttackPackets is how many attack packets reached the server's
	// stack.
	AttackPackets int
	// BufferHigh is the high-water mark of the server stack's buffer
	// accounting (stack.Memory's BufferBytes) in bytes.
	BufferHigh int
	// Timings and the heap, measured.
	CPU CPUFigures
	// Duration is the virtual time until the world fell quiet (or the
	// budget ran out: OverBudget).
	Duration   time.Duration
	OverBudget bool
	// Blind holds the blind-injection tallies (for blind-inject).
	Blind *BlindTally
	notes []message
}

// BlindTally counts blind injection attempts by kind and outcome.
type BlindTally struct {
	// Attempts by kind, and how many of each fell in the receive window
	// (as the server's connection saw it when the packet arrived).
	RST, SYN, Data                         int
	RSTInWindow, SYNInWindow, DataInWindow int
	// RSTExact: RSTs whose sequence number was RCV.NXT (RFC 5961 §3.2's
	// only reset); DataAccepted: data segments in the window with an
	// acceptable ACK (RFC 5961 §5.2).
	RSTExact, DataAccepted int
	// Resets is how many of the clients' connections the server lost to a
	// RST; Challenges the challenge ACKs their connections at the server
	// sent, Limited those the rate limit held back, PAWSDrops the segments
	// PAWS dropped (their random TSval was older than TS.Recent).
	Resets                         int
	Challenges, Limited, PAWSDrops uint64
}

// OK reports whether every legitimate connection completed intact.
func (r *HostileResult) OK() bool {
	return r.Completed == r.Legit && r.BytesIntact == r.BytesSent && !r.OverBudget
}

// Notes are the attack's own figures, in language l.
func (r *HostileResult) Notes(l i18n.Lang) []string {
	var out []string
	for _, m := range r.notes {
		out = append(out, m.in(l))
	}
	return out
}

func (r *HostileResult) note(format string, args ...any) {
	r.notes = append(r.notes, message{format, args})
}

// Addresses of the hostile world: clients in 198.18.1.0/24, the attacker
// and its peers in 198.18.2.0/24, spoofed sources in 198.19.0.0/16.
func legitAddr(i int) netip.Addr    { return netip.AddrFrom4([4]byte{198, 18, 1, byte(10 + i)}) }
func attackerAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, 2, byte(10 + i)}) }

// hostileBytes is n bytes that differ from one key to another, so that
// bytes crossing from one connection to another are caught.
func hostileBytes(key uint64, n int) []byte {
	r := rand.New(rand.NewPCG(key, 0x40571e))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

type legit struct {
	host      *Host
	req, resp []byte
}

// hostileWorld is a run in progress.
type hostileWorld struct {
	w      *World
	c      HostileCase
	sz     hostileSize
	server *hostileServer
	legits []*legit
	meter  *cpuMeter
	res    *HostileResult
}

// RunHostile runs attack c once with the given seed; quick is the small
// version CI runs.
func RunHostile(c HostileCase, seed uint64, quick bool) (HostileResult, error) {
	sz := sizeFor(quick)
	res := &HostileResult{Case: c.Name, Seed: seed, Quick: quick}
	w := NewWorld(seed, hostileRec)
	hw := &hostileWorld{w: w, c: c, sz: sz, res: res}
	srvCfg := tcp.Config{}
	switch c.kind {
	case attackOOO:
		// Room for the flood's 60k ranges: one per 64 bytes of buffer.
		srvCfg.RecvBuffer, srvCfg.RecvBufferMax = 4<<20, 4<<20
	case attackSACK:
		srvCfg.SendBuffer, srvCfg.SendBufferMax = 16<<20, 16<<20
	}
	server, err := w.AddHost(serverName, ServerAddr, srvCfg)
	if err != nil {
		return *res, err
	}
	link := netsim.Impairment{Latency: 10 * time.Millisecond}
	hw.server = &hostileServer{h: server, respond: map[netip.Addr][]byte{}}
	for i := range sz.clients {
		name := fmt.Sprintf("client%d", i+1)
		h, err := w.AddHost(name, legitAddr(i), tcp.Config{})
		if err != nil {
			return *res, err
		}
		if err := hw.paths(name, link); err != nil {
			return *res, err
		}
		l := &legit{host: h, req: hostileBytes(seed<<8|uint64(2*i), 20000+1000*i), resp: hostileBytes(seed<<8|uint64(2*i+1), 10000+700*i)}
		hw.server.respond[legitAddr(i)] = l.resp
		start := sz.attackStart + sz.spread*time.Duration(i)/time.Duration(sz.clients)
		w.Run(h, At(start), Connect(serverName, SoakPort), WaitEstablished(), Write(string(l.req)), Close(), ReadEOF())
		hw.legits = append(hw.legits, l)
	}
	res.Legit = len(hw.legits)
	w.addActor("", hw.server)
	var attackers []netip.Addr
	switch c.kind {
	case attackZeroWindow, attackVanish:
		for i := range sz.sloths {
			attackers = append(attackers, attackerAddr(i))
		}
	}
	hw.meter = newCPUMeter(server, attackers)
	w.meter = hw.meter
	if err := hw.attack(link); err != nil {
		return *res, err
	}
	start := w.Now()
	out := w.RunFor(sz.budget)
	res.Duration, res.OverBudget = out.End.Sub(start), out.TimedOut
	hw.finish()
	return *res, nil
}

// paths joins host name and the server both ways.
func (hw *hostileWorld) paths(name string, link netsim.Impairment) error {
	if err := hw.w.Network().SetPath(name, serverName, link); err != nil {
		return err
	}
	return hw.w.Network().SetPath(serverName, name, link)
}

// finish judges the legitimate connections and reads the figures.
func (hw *hostileWorld) finish() {
	res := hw.res
	srv := hw.server
	for _, l := range hw.legits {
		res.BytesSent += len(l.req) + len(l.resp)
		k := srv.byAddr(l.host.Stack.Addr())
		var problems []string
		if k == nil {
			problems = append(problems, "the server never accepted its connection")
		} else {
			if bytes.Equal(k.got, l.req) {
				res.BytesIntact += len(l.req)
			} else {
				problems = append(problems, fmt.Sprintf("the server read %d bytes of its %d-byte request, not intact", len(k.got), len(l.req)))
			}
		}
		if got := l.host.Received(); bytes.Equal(got, l.resp) {
			res.BytesIntact += len(l.resp)
		} else {
			problems = append(problems, fmt.Sprintf("it read %d bytes of its %d-byte response, not intact", len(got), len(l.resp)))
		}
		if err := l.host.Err(); err != nil {
			problems = append(problems, err.Error())
		} else if !l.host.Done() && !res.OverBudget {
			problems = append(problems, fmt.Sprintf("its program stopped at step %d (%s)", l.host.prog.pc+1, l.host.prog.steps[l.host.prog.pc]))
		}
		if len(problems) == 0 {
			res.Completed++
		} else {
			res.Problems = append(res.Problems, fmt.Sprintf("%s: %v", l.host.Name, problems))
		}
	}
	if res.Blind != nil {
		hw.blindCounts(res.Blind)
	}
	for i := range res.notes {
		for j, a := range res.notes[i].args {
			if f, ok := a.(lazy); ok {
				res.notes[i].args[j] = f()
			}
		}
	}
	res.AttackPackets = len(hw.meter.attack)
	res.BufferHigh = hw.meter.bufHigh
	res.CPU = hw.meter.figures()
}

// hostileServer is the server's application: it accepts every
// connection, reads each request to its end, writes the response its
// peer's address is given (a few bytes for a peer it does not know) and
// closes.
type hostileServer struct {
	h       *Host
	l       *stack.Listener
	conns   []*srvConn
	respond map[netip.Addr][]byte
	// closed is called when a connection the server closed or lost ends,
	// with the virtual time.
	onEnd func(k *srvConn, now clock.Time)
}

type srvConn struct {
	c        *tcp.Conn
	remote   netip.Addr
	got      []byte
	n        int
	resp     []byte
	wrote    int
	closing  bool
	closedAt clock.Time
	ended    bool
	endedAt  clock.Time
	accepted clock.Time
}

func (s *hostileServer) byAddr(a netip.Addr) *srvConn {
	for _, k := range s.conns {
		if k.remote == a {
			return k
		}
	}
	return nil
}

func (s *hostileServer) next() clock.Time         { return clock.Never }
func (s *hostileServer) input(clock.Time, []byte) {}

func (s *hostileServer) advance(now clock.Time) bool {
	changed := false
	if s.l == nil {
		l, err := s.h.Stack.Listen(SoakPort, 0)
		if err != nil {
			panic("sim: hostile server: " + err.Error()) // a fixed port on a new stack
		}
		s.l, changed = l, true
	}
	for {
		c := s.l.Accept()
		if c == nil {
			break
		}
		k := &srvConn{c: c, remote: c.Tuple().Remote.Addr(), accepted: now}
		s.conns = append(s.conns, k)
		changed = true
	}
	var buf [16 << 10]byte
	for _, k := range s.conns {
		if k.ended {
			continue
		}
		for {
			n := s.h.Stack.Read(now, k.c, buf[:])
			if n == 0 {
				break
			}
			if _, known := s.respond[k.remote]; known {
				k.got = append(k.got, buf[:n]...)
			}
			k.n += n
			changed = true
		}
		if k.c.State() == tcp.Closed {
			k.ended, k.endedAt = true, now
			if s.onEnd != nil {
				s.onEnd(k, now)
			}
			continue
		}
		if k.closing || !k.c.ReadClosed() || k.c.Readable() > 0 {
			continue
		}
		if k.resp == nil {
			k.resp = s.respond[k.remote]
			if k.resp == nil {
				k.resp = []byte("ok\n")
			}
		}
		for k.wrote < len(k.resp) {
			n, err := s.h.Stack.Write(now, k.c, k.resp[k.wrote:])
			if err != nil || n == 0 {
				break
			}
			k.wrote += n
			changed = true
		}
		if k.wrote == len(k.resp) {
			// Both ways, as close(2): an orphan from here on.
			k.c.CloseRead(now)
			_ = s.h.Stack.Close(now, k.c)
			k.closing, k.closedAt, changed = true, now, true
		}
	}
	return changed
}

// rawPeer sends hand-built packets from a network host that has no stack.
type rawPeer struct {
	w    *World
	name string
	sent int
}

func (p *rawPeer) send(now clock.Time, src netip.Addr, seg wire.Segment) {
	p.sendTTL(now, src, seg, attackTTL)
}

// sendTTL is send with another TTL: 64 makes the packet look like a
// stack's, so that the meter does not count it as an attack.
func (p *rawPeer) sendTTL(now clock.Time, src netip.Addr, seg wire.Segment, ttl uint8) {
	pk := wire.Packet{IP: wire.IPv4{TTL: ttl, Protocol: wire.ProtocolTCP, Src: src, Dst: ServerAddr}, TCP: seg}
	p.w.Network().Send(now, p.name, pk.Append(nil))
	p.sent++
}

// schedule is a train of times at a set rate.
type schedule struct {
	start clock.Time
	every time.Duration
	n, i  int
}

func (s *schedule) due(now clock.Time) bool {
	return s.i < s.n && s.at(s.i) <= now
}
func (s *schedule) at(i int) clock.Time { return s.start.Add(time.Duration(i) * s.every) }
func (s *schedule) nextAt() clock.Time {
	if s.i >= s.n {
		return clock.Never
	}
	return s.at(s.i)
}

// attack adds the case's attacker to the world.
func (hw *hostileWorld) attack(link netsim.Impairment) error {
	w, sz := hw.w, hw.sz
	name := "attacker"
	rng := rand.New(rand.NewPCG(w.streamSeed("hostile/"+hw.c.Name), 1))
	start := clock.Time(sz.attackStart)
	switch hw.c.kind {
	case attackSYNFlood, attackBlind, attackOOO, attackSACK:
		if err := w.Network().AddHost(name, attackerAddr(0)); err != nil {
			return err
		}
		if err := hw.paths(name, link); err != nil {
			return err
		}
	}
	p := &rawPeer{w: w, name: name}
	switch hw.c.kind {
	case attackSYNFlood:
		a := &synFlooder{p: p, rng: rng, sch: schedule{start: start, every: time.Second / time.Duration(sz.synRate), n: sz.synRate * int(sz.synFor/time.Second)}}
		w.addActor(name, a)
		hw.res.note("spoofed SYNs: %d at %d a second; SYN cookies sent %d, validated %d", lazy(func() any { return a.p.sent }), sz.synRate,
			lazy(func() any { return hw.server.h.Stack.Counters().SyncookiesSent }), lazy(func() any { return hw.server.h.Stack.Counters().SyncookiesRecv }))
	case attackBlind:
		a := &blindInjector{hw: hw, p: p, rng: rng, t: &BlindTally{},
			sch: schedule{start: start, every: sz.spread / time.Duration(sz.blind), n: sz.blind}}
		hw.res.Blind = a.t
		w.addActor(name, a)
		hw.server.onEnd = func(k *srvConn, now clock.Time) {
			if k.c.Err() != nil && isReset(k.c.Err()) {
				a.t.Resets++
			}
		}
		t := a.t
		hw.res.note("blind RSTs %d (%d in the window, %d at RCV.NXT), SYNs %d (%d in the window), data %d (%d in the window, %d with an acceptable ACK)",
			lazy(func() any { return t.RST }), lazy(func() any { return t.RSTInWindow }), lazy(func() any { return t.RSTExact }),
			lazy(func() any { return t.SYN }), lazy(func() any { return t.SYNInWindow }),
			lazy(func() any { return t.Data }), lazy(func() any { return t.DataInWindow }), lazy(func() any { return t.DataAccepted }))
		hw.res.note("connections reset: %d; challenge ACKs sent %d, held back by the rate limit %d; dropped by PAWS %d",
			lazy(func() any { return t.Resets }), lazy(func() any { return t.Challenges }), lazy(func() any { return t.Limited }), lazy(func() any { return t.PAWSDrops }))
	case attackOOO:
		a := newOOOFlooder(hw, p, seq.Value(rng.Uint32()), start, sz.holes)
		w.addActor(name, a)
		hw.meter.onAttack = func(int) { a.sample() }
		hw.res.note("1-byte segments: %d; the most bytes held out of order (each a range after a hole): %d", lazy(func() any { return a.sentData }), lazy(func() any { return a.maxHeld }))
	case attackSACK:
		a := newSACKAbuser(hw, p, seq.Value(rng.Uint32()), start, hw.c.mss)
		hw.server.respond[attackerAddr(0)] = make([]byte, 3*sz.records*48)
		w.addActor(name, a)
		hw.meter.onAttack = func(int) { a.sample() }
		hw.res.note("announced MSS %d, the server's send MSS %d; the retransmission queue at the abuse: %d segments (%d SACKed at most); abusive ACKs %d",
			int(hw.c.mss), lazy(func() any { return a.sendMSS }), lazy(func() any { return a.queueAt }), lazy(func() any { return a.maxSacked }), lazy(func() any { return a.abusive }))
	case attackZeroWindow, attackVanish:
		return hw.sloths(link)
	}
	return nil
}

// lazy is a note's argument read at the end of the run.
type lazy func() any

func isReset(err error) bool { return err == tcp.ErrConnReset }

// blindCounts adds up what the clients' connections at the server (those
// it accepted) did with the injected segments.
func (hw *hostileWorld) blindCounts(t *BlindTally) {
	for _, k := range hw.server.conns {
		st := k.c.Stats()
		t.Challenges += st.ChallengeACKs
		t.Limited += st.ChallengeACKsLimited
		t.PAWSDrops += st.PAWSDrops
	}
}

// synFlooder sends spoofed SYNs from random sources of 198.19.0.0/16.
type synFlooder struct {
	p   *rawPeer
	rng *rand.Rand
	sch schedule
}

func (a *synFlooder) next() clock.Time         { return a.sch.nextAt() }
func (a *synFlooder) input(clock.Time, []byte) {}
func (a *synFlooder) advance(now clock.Time) bool {
	any := false
	for a.sch.due(now) {
		a.sch.i++
		src := netip.AddrFrom4([4]byte{198, 19, byte(a.rng.Uint32()), byte(a.rng.Uint32())})
		a.p.send(now, src, wire.Segment{SrcPort: uint16(1024 + a.rng.Uint32()%60000), DstPort: SoakPort, Seq: seq.Value(a.rng.Uint32()),
			Flags: wire.SYN, Window: 65535, Options: wire.Options{HasMSS: true, MSS: 1460}})
		any = true
	}
	return any
}

// blindInjector spoofs the clients' addresses and ports (a blind attacker
// that knows the 4-tuple, RFC 5961 §1's threat) and sends RSTs, SYNs and
// data segments at uniformly random sequence (and acknowledgment) numbers
// into their connections at the server.
type blindInjector struct {
	hw  *hostileWorld
	p   *rawPeer
	rng *rand.Rand
	sch schedule
	t   *BlindTally
}

func (a *blindInjector) next() clock.Time         { return a.sch.nextAt() }
func (a *blindInjector) input(clock.Time, []byte) {}
func (a *blindInjector) advance(now clock.Time) bool {
	any := false
	for a.sch.due(now) {
		a.sch.i++
		// The victims: the clients' connections the server has, open.
		var open []*srvConn
		for _, k := range a.hw.server.conns {
			if st := k.c.State(); st == tcp.Established || st == tcp.CloseWait {
				open = append(open, k)
			}
		}
		if len(open) == 0 {
			continue
		}
		k := open[a.rng.IntN(len(open))]
		tu := k.c.Tuple()
		in := k.c.Info()
		s := wire.Segment{SrcPort: tu.Remote.Port(), DstPort: tu.Local.Port(), Seq: seq.Value(a.rng.Uint32()), Window: 65535}
		if in.Timestamps {
			// Blind as well: a segment without the option would be
			// dropped before the checks of RFC 5961 (RFC 7323 §3.2).
			s.Options = wire.Options{HasTimestamps: true, TSVal: a.rng.Uint32(), TSEcr: a.rng.Uint32()}
		}
		inWindow := s.Seq.InWindow(in.RcvNxt, max(in.RcvWnd, 1))
		switch a.rng.IntN(3) {
		case 0:
			s.Flags = wire.RST
			a.t.RST++
			if inWindow {
				a.t.RSTInWindow++
			}
			if s.Seq == in.RcvNxt {
				a.t.RSTExact++
			}
		case 1:
			s.Flags = wire.SYN
			s.Options.HasMSS, s.Options.MSS = true, 1460
			a.t.SYN++
			if inWindow {
				a.t.SYNInWindow++
			}
		default:
			s.Flags = wire.ACK | wire.PSH
			s.Ack = seq.Value(a.rng.Uint32())
			s.Payload = []byte("INJECTED-BYTES!!")
			a.t.Data++
			if inWindow {
				a.t.DataInWindow++
				// RFC 5961 §5.2: SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT;
				// MAX.SND.WND is not in Info, so SndWnd stands for it (the
				// clients' windows stay put once grown).
				if lo := in.SndUna - seq.Value(min(in.SndWnd, 1<<30)); s.Ack.GreaterThanEq(lo) && s.Ack.LessThanEq(in.SndNxt) {
					a.t.DataAccepted++
				}
			}
		}
		a.p.send(now, tu.Remote.Addr(), s)
		any = true
	}
	return any
}
