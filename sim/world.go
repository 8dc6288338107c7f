// Package sim is synack's deterministic world: hosts running the real
// protocol code (package stack) joined by a simulated, impaired network
// (package link/netsim), all on one virtual clock and one seed. A World runs an
// hour of traffic in milliseconds, and the same seed always gives the same
// bytes, the same trace and the same output.
//
// Hosts run small scripted programs (connect, write, read, close...) built
// from Steps; named Scenarios (scenario.go) combine programs, impairments and
// link rules into the situations the TCP literature explains.
package sim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
)

// World is a set of hosts on a simulated network, driven in virtual time.
type World struct {
	seed  uint64
	clk   clock.Virtual
	net   *netsim.Network
	hosts []*Host
	rec   trace.Recorder
	tap   Tap
	// actions are the changes At scheduled, in order of time and then of
	// scheduling.
	actions []action
	// log, if set, is the run's record (a scenario's), which checks read.
	log *trace.Log
	// samples are numbers a scenario's actions read in the middle of the
	// run (the SYN queue's length when a flood peaks), for its check and
	// figures.
	samples map[string]int
	// actors are drivers beside the hosts' programs (a hostile world's
	// server application, its attackers): they act in settle, wake at
	// their next time, and those with a network name get its packets.
	actors []actor
	raw    map[string]actor
	// meter, if set, times one host's stack (hostile.go).
	meter *cpuMeter
}

// actor is something in the world that acts by itself: it runs when the
// world settles (reporting whether it changed anything), wants to run
// again at next, and receives the packets sent to its name, if it has one.
type actor interface {
	advance(now clock.Time) bool
	next() clock.Time
	input(now clock.Time, pkt []byte)
}

// addActor adds a; if name is not empty, a is the network host of that
// name (added to the network beforehand) and receives its packets.
func (w *World) addActor(name string, a actor) {
	w.actors = append(w.actors, a)
	if name != "" {
		if w.raw == nil {
			w.raw = map[string]actor{}
		}
		w.raw[name] = a
	}
}

// sample records a number read during the run under name.
func (w *World) sample(name string, v int) {
	if w.samples == nil {
		w.samples = map[string]int{}
	}
	w.samples[name] = v
}

// events returns what the world recorded, if a scenario keeps its record
// (Scenario.Execute does), else nil.
func (w *World) events() []trace.Event {
	if w.log == nil {
		return nil
	}
	return w.log.Events
}

type action struct {
	at clock.Time
	f  func()
}

// IPv6 addresses for hosts in the benchmarking range of RFC 5180
// (2001:2::/48), beside ClientAddr and ServerAddr.
var (
	ClientAddr6 = netip.MustParseAddr("2001:2::2")
	ServerAddr6 = netip.MustParseAddr("2001:2::1")
)

// At schedules f to run at the virtual time t, before the packets and
// timers due then, to change the world in the middle of a run (a path's
// MTU dropping, say). A t already past runs at the next step.
func (w *World) At(t clock.Time, f func()) {
	i := len(w.actions)
	for i > 0 && w.actions[i-1].at > t {
		i--
	}
	w.actions = append(w.actions, action{})
	copy(w.actions[i+1:], w.actions[i:])
	w.actions[i] = action{at: t, f: f}
}

// runActions runs the actions due at or before now.
func (w *World) runActions(now clock.Time) {
	for len(w.actions) > 0 && w.actions[0].at <= now {
		f := w.actions[0].f
		w.actions = w.actions[1:]
		f()
	}
}

// Tap sees every packet a host sends (out) as it leaves the host's stack,
// and every packet delivered to a host (in) after the host's stack has taken
// it in, so that the events its arrival caused are already recorded. pkt is
// only valid during the call.
type Tap func(now clock.Time, host string, out bool, pkt []byte)

// SetTap installs tap (nil removes it).
func (w *World) SetTap(tap Tap) { w.tap = tap }

// Host is one machine of the world: a stack and the program it runs.
type Host struct {
	Name  string
	Stack *stack.Stack
	prog  *program
}

// NewWorld creates an empty world. rec receives every event of every host
// and of the network; it may be nil.
func NewWorld(seed uint64, rec trace.Recorder) *World {
	return &World{seed: seed, net: netsim.NewNetwork(seed, rec), rec: rec}
}

// Now returns the virtual time.
func (w *World) Now() clock.Time { return w.clk.Now() }

// Network returns the simulated network, to set impairments and rules.
func (w *World) Network() *netsim.Network { return w.net }

// Hosts returns the hosts in the order they were added.
func (w *World) Hosts() []*Host { return w.hosts }

// Host returns the host with the given name, or nil.
func (w *World) Host(name string) *Host {
	for _, h := range w.hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// streamSeed derives an independent seed for one named consumer of
// randomness, so that adding a host never changes another's draws.
func (w *World) streamSeed(name string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], w.seed)
	h.Write(b[:])
	h.Write([]byte(name))
	return h.Sum64()
}

// AddHost adds a host with the given address, IPv4 or IPv6, and TCP
// policy.
func (w *World) AddHost(name string, addr netip.Addr, cfg tcp.Config) (*Host, error) {
	return w.AddHostWith(name, addr, cfg, nil)
}

// AddHostWith is AddHost with the host's stack configuration adjusted by
// tweak (its SYN queue, SYN cookies, ephemeral ports...) before the stack
// is made; tweak may be nil.
func (w *World) AddHostWith(name string, addr netip.Addr, cfg tcp.Config, tweak func(*stack.Config)) (*Host, error) {
	if w.Host(name) != nil {
		return nil, fmt.Errorf("sim: host %q already exists", name)
	}
	s := w.streamSeed("host/" + name)
	var key tcp.ISNKey
	binary.BigEndian.PutUint64(key[:8], s)
	binary.BigEndian.PutUint64(key[8:], w.streamSeed("isn/"+name))
	sc := stack.Config{
		Name:     name,
		TCP:      cfg,
		ISNKey:   key,
		Rand:     rand.New(rand.NewPCG(s, 0x5eed)),
		Recorder: w.rec,
	}
	if addr = addr.Unmap(); addr.Is4() {
		sc.Addr = addr
	} else {
		sc.Addr6 = addr
	}
	if tweak != nil {
		tweak(&sc)
	}
	st, err := stack.New(sc)
	if err != nil {
		return nil, err
	}
	if err := w.net.AddHost(name, addr); err != nil {
		return nil, err
	}
	h := &Host{Name: name, Stack: st}
	w.hosts = append(w.hosts, h)
	return h, nil
}

// Run gives host h a program to run: its steps execute in order, each
// waiting for its condition.
func (w *World) Run(h *Host, steps ...Step) {
	h.prog = &program{w: w, h: h, steps: steps}
}

// Result is how a run ended.
type Result struct {
	// End is the virtual time when the world fell quiet or hit its limit.
	End clock.Time
	// TimedOut is set when the limit was reached with work left.
	TimedOut bool
}

// Errors returns each host's program error (nil if it finished cleanly).
func (h *Host) Err() error {
	if h.prog == nil {
		return nil
	}
	return h.prog.err
}

// Done reports whether the host's program ran all its steps.
func (h *Host) Done() bool { return h.prog == nil || h.prog.pc >= len(h.prog.steps) }

// Conn returns the connection the host's program is using (nil before one
// exists).
func (h *Host) Conn() *tcp.Conn {
	if h.prog == nil {
		return nil
	}
	return h.prog.conn
}

// ConnectFailures returns the times at which the host's program tried to
// connect (ConnectRetry) and found no ephemeral port free.
func (h *Host) ConnectFailures() []clock.Time {
	if h.prog == nil {
		return nil
	}
	return h.prog.noPorts
}

// Received returns the bytes the host's program has read.
func (h *Host) Received() []byte {
	if h.prog == nil {
		return nil
	}
	return h.prog.received
}

// RunFor runs the world until nothing is left to happen (no packet in
// flight, no timer armed, every program finished or waiting on nothing that
// can change) or until the virtual time limit, whichever is first.
func (w *World) RunFor(limit time.Duration) Result {
	end := w.clk.Now().Add(limit)
	for {
		w.settle()
		next := w.nextDeadline()
		if next == clock.Never {
			return Result{End: w.clk.Now()}
		}
		if next > end {
			_ = w.clk.Set(end)
			return Result{End: end, TimedOut: true}
		}
		_ = w.clk.Set(next)
		now := next
		w.runActions(now)
		w.net.Poll(now, func(to string, pkt []byte) {
			if h := w.Host(to); h != nil {
				if m := w.meter; m != nil && m.host == h {
					m.input(now, pkt)
				} else {
					h.Stack.Input(now, pkt)
				}
				if w.tap != nil {
					w.tap(now, to, false, pkt)
				}
			} else if a := w.raw[to]; a != nil {
				a.input(now, pkt)
			}
		})
		for _, h := range w.hosts {
			if h.Stack.NextDeadline() <= now {
				h.Stack.HandleTimeout(now)
			}
		}
	}
}

// settle lets programs act and hosts send until nothing more happens at
// this instant.
func (w *World) settle() {
	// Each round, the stacks answer first (as a kernel replies to a segment
	// before the application is scheduled), then the programs act.
	now := w.clk.Now()
	for round := 0; round < 10000; round++ {
		sent := false
		for _, h := range w.hosts {
			emit := func(pkt []byte) {
				if w.tap != nil {
					w.tap(now, h.Name, true, pkt)
				}
				w.net.Send(now, h.Name, pkt)
				sent = true
			}
			if m := w.meter; m != nil && m.host == h {
				m.output(now, emit)
			} else {
				h.Stack.Output(now, emit)
			}
		}
		progressed := false
		for _, h := range w.hosts {
			if h.prog != nil && h.prog.advance(now) {
				progressed = true
			}
		}
		for _, a := range w.actors {
			if a.advance(now) {
				progressed = true
			}
		}
		if !progressed && !sent {
			return
		}
	}
}

func (w *World) nextDeadline() clock.Time {
	d := w.net.NextDeadline()
	if len(w.actions) > 0 {
		d = clock.Min(d, w.actions[0].at)
	}
	for _, h := range w.hosts {
		d = clock.Min(d, h.Stack.NextDeadline())
		if h.prog != nil {
			d = clock.Min(d, h.prog.wakeAt)
		}
	}
	for _, a := range w.actors {
		d = clock.Min(d, a.next())
	}
	return d
}
