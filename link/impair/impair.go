// Package impair wraps any link.Link in a real-time impaired path, in both
// directions: delay, jitter, loss, reordering, duplication, corruption and
// a bandwidth bottleneck, described by link/netsim's Impairment and decided by
// link/netsim's own model, driven in real time as link/mem drives it. It is
// netem for links that have none: put it between a synack.Stack and a TUN
// device and the kernel's TCP sees a lossy, reordering path.
//
//	dev, _ := tun.Open("synack0", 0)
//	l, _ := impair.New(dev, impair.Config{
//		Out:  netsim.Impairment{Latency: 20 * time.Millisecond, Loss: 0.02, Reorder: 0.05, Duplicate: 0.01},
//		In:   netsim.Impairment{Latency: 20 * time.Millisecond, Loss: 0.02, Reorder: 0.05, Duplicate: 0.01},
//		Seed: 1,
//	})
//	st, _ := synack.New(l, synack.Config{Addr: addr})
//
// Out is what happens to packets given to Send before they reach the inner
// link; In is what happens to packets the inner link receives before
// Receive returns them. The Drop hook is asked first; then each packet's
// fate is decided when it enters, as link/netsim's package doc describes, and
// each direction draws from its own seeded stream, so the n-th packet of a
// direction always meets the same fate for a given seed (which packets are
// sent when depends on real time). A packet link/netsim cannot model (not TCP
// over IPv4: an ICMP message, say) passes unimpaired.
package impair

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/internal/rt"
	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/netsim"
)

// Direction names one direction of the wrapper.
type Direction uint8

const (
	// Out is from the wrapper's user (Send) to the inner link.
	Out Direction = iota
	// In is from the inner link to the wrapper's user (Receive).
	In
)

func (d Direction) String() string {
	if d == Out {
		return "out"
	}
	return "in"
}

// Config describes both directions.
type Config struct {
	Out, In netsim.Impairment
	// Seed seeds the random streams (each direction has its own).
	Seed uint64
	// Drop, when set, is asked about every packet before the impairments
	// and drops it when it returns true (counted as RuleDrops): a scripted
	// fault such as "drop the first pure ACK after the peer's FIN". It is
	// called from the goroutine of Send (Out) or the wrapper's reader (In),
	// one call at a time, and pkt is only valid during the call.
	Drop func(d Direction, pkt []byte) bool
}

// QueueLen is how many packets In holds for Receive; beyond it they are
// dropped (counted as QueueDrops), as a full NIC ring drops.
const QueueLen = 4096

// Link is an impaired link.Link around another.
type Link struct {
	inner link.Link
	cfg   Config
	clk   *clock.Real

	mu     sync.Mutex
	net    *netsim.Network // the two directions: user->inner (Out), inner->user (In)
	extra  [2]netsim.PathStats
	closed bool

	inQ  chan []byte
	loop *rt.Loop // delivers scheduled packets when due; its Pump reads inner
}

// The Network's two hosts; their addresses only name them (SendOn does not
// route by address).
const (
	userHost  = "user"
	innerHost = "inner"
)

func (d Direction) path() (from, to string) {
	if d == Out {
		return userHost, innerHost
	}
	return innerHost, userHost
}

var _ link.Link = (*Link)(nil)

// New starts the wrapper around inner. The wrapper owns inner: Close closes
// it.
func New(inner link.Link, cfg Config) (*Link, error) {
	n := netsim.NewNetwork(cfg.Seed, nil)
	n.AddHost(userHost, netip.AddrFrom4([4]byte{0, 0, 0, 1}))
	n.AddHost(innerHost, netip.AddrFrom4([4]byte{0, 0, 0, 2}))
	var errs []error
	for _, d := range []Direction{Out, In} {
		imp, name := cfg.Out, "Out"
		if d == In {
			imp, name = cfg.In, "In"
		}
		from, to := d.path()
		if err := n.SetPath(from, to, imp); err != nil {
			errs = append(errs, fmt.Errorf("impair: Config.%s: %w", name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	l := &Link{
		inner: inner,
		cfg:   cfg,
		clk:   clock.NewReal(),
		net:   n,
		inQ:   make(chan []byte, QueueLen),
	}
	l.loop = rt.New(&l.mu, l.clk, l.poll)
	l.loop.Pump(inner, 1, l.input)
	l.loop.Start()
	return l, nil
}

// Stats returns what happened to the packets of one direction so far.
func (l *Link) Stats(d Direction) netsim.PathStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	from, to := d.path()
	st, x := l.net.Stats(from, to), l.extra[d]
	st.Sent += x.Sent
	st.Delivered += x.Delivered
	st.RuleDrops += x.RuleDrops
	st.QueueDrops += x.QueueDrops
	return st
}

// MTU is the inner link's.
func (l *Link) MTU() int { return l.inner.MTU() }

// Send puts pkt on the Out path.
func (l *Link) Send(pkt []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return link.ErrClosed
	}
	l.admit(Out, l.clk.Now(), pkt)
	return nil
}

// Receive returns the next packet of the In path.
func (l *Link) Receive(buf []byte) (int, error) {
	select {
	case p := <-l.inQ:
		return copy(buf, p), nil
	case <-l.loop.Done():
		return 0, link.ErrClosed
	}
}

// Close stops the wrapper, closes the inner link and discards the packets
// in flight. Closing twice is not an error.
func (l *Link) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.loop.Stop()
	l.mu.Unlock()
	err := l.inner.Close()
	l.loop.Wait()
	return err
}

// input puts what the inner link receives on the In path (the loop's
// Pump calls it, one packet at a time). l.mu is held.
func (l *Link) input(now clock.Time, pkts [][]byte) {
	for _, p := range pkts {
		l.admit(In, now, p)
	}
}

// admit offers pkt to direction d's path and delivers what is due now; a
// later arrival wakes the loop. l.mu is held.
func (l *Link) admit(d Direction, now clock.Time, pkt []byte) {
	if l.cfg.Drop != nil && l.cfg.Drop(d, pkt) {
		l.extra[d].Sent++
		l.extra[d].RuleDrops++
		return
	}
	from, to := d.path()
	if l.net.SendOn(now, from, to, pkt) == 0 {
		// Not TCP over IPv4: link/netsim has no model for it; pass it on.
		l.extra[d].Sent++
		l.extra[d].Delivered++
		l.deliver(to, pkt)
		return
	}
	l.loop.Rearm(l.poll(now))
}

// deliver hands a packet at the end of its path to the inner link (Out) or
// to Receive (In). l.mu is held; pkt is only valid during the call.
func (l *Link) deliver(to string, pkt []byte) {
	if to == innerHost {
		l.inner.Send(pkt) // copies; a failed send is a lost packet
		return
	}
	select {
	case l.inQ <- append([]byte(nil), pkt...):
	default:
		l.extra[In].QueueDrops++
		l.extra[In].Delivered-- // counted delivered by the path, dropped here
	}
}

// poll is the loop's step: it delivers the packets due at now and returns
// when the next one is. l.mu is held.
func (l *Link) poll(now clock.Time) clock.Time {
	l.net.Poll(now, l.deliver)
	return l.net.NextDeadline()
}
