// Package impair wraps any link.Link in a real-time impaired path, in both
// directions: delay, jitter, loss, reordering, duplication and corruption,
// described by link/sim's Impairment and drawn from seeded streams. It is
// netem for links that have none: put it between a synack.Stack and a TUN
// device and the kernel's TCP sees a lossy, reordering path.
//
//	dev, _ := tun.Open("synack0", 0)
//	l, _ := impair.New(dev, impair.Config{
//		Out:  sim.Impairment{Latency: 20 * time.Millisecond, Loss: 0.02, Reorder: 0.05, Duplicate: 0.01},
//		In:   sim.Impairment{Latency: 20 * time.Millisecond, Loss: 0.02, Reorder: 0.05, Duplicate: 0.01},
//		Seed: 1,
//	})
//	st, _ := synack.New(l, synack.Config{Addr: addr})
//
// Out is what happens to packets given to Send before they reach the inner
// link; In is what happens to packets the inner link receives before
// Receive returns them. Each packet's fate is decided when it enters, as in
// link/sim (see its package doc), in this order: the Drop hook, loss,
// propagation (Latency plus a uniform draw in [0, Jitter), never before the
// previous packet of the same direction), reordering (held back by
// ReorderDelay, default max(Latency/2, 1ms), so later packets overtake it),
// duplication (a copy with its own jitter) and corruption (one bit flipped,
// separately for the packet and its copy). Each direction draws from its own
// stream, so the n-th packet of a direction always meets the same fate for
// a given seed; which packets are sent when depends on real time. Bandwidth
// limits are not modelled: a Config that sets one is refused.
package impair

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/sim"
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
	Out, In sim.Impairment
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
	start time.Time

	mu     sync.Mutex
	dirs   [2]dirState
	sched  schedHeap
	nextID uint64
	closed bool

	inQ  chan []byte
	wake chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

type dirState struct {
	imp   sim.Impairment
	rng   *rand.Rand
	floor time.Duration // latest arrival in FIFO order, since start
	stats sim.PathStats
}

var _ link.Link = (*Link)(nil)

// New wraps inner. The Link owns inner from now on: Close closes it. It
// starts two goroutines (a reader of inner and a scheduler), ended by Close.
func New(inner link.Link, cfg Config) (*Link, error) {
	var errs []error
	for _, d := range []struct {
		name string
		imp  sim.Impairment
	}{{"Out", cfg.Out}, {"In", cfg.In}} {
		if err := d.imp.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("impair: Config.%s: %w", d.name, err))
		}
		if d.imp.Bandwidth != 0 || d.imp.QueueLimit != 0 {
			errs = append(errs, fmt.Errorf("impair: Config.%s: Bandwidth and QueueLimit are not supported (a real-time bottleneck is not modelled); leave them 0", d.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	l := &Link{
		inner: inner,
		cfg:   cfg,
		start: time.Now(),
		inQ:   make(chan []byte, QueueLen),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	l.dirs[Out] = dirState{imp: cfg.Out, rng: rand.New(rand.NewPCG(cfg.Seed, 0x6f7574))}
	l.dirs[In] = dirState{imp: cfg.In, rng: rand.New(rand.NewPCG(cfg.Seed, 0x696e))}
	l.wg.Add(2)
	go l.reader()
	go l.run()
	return l, nil
}

// Stats returns the counters of direction d (Held is always 0).
func (l *Link) Stats(d Direction) sim.PathStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dirs[d].stats
}

// MTU returns the inner link's MTU.
func (l *Link) MTU() int { return l.inner.MTU() }

// Send offers a packet to the Out direction; it copies pkt.
func (l *Link) Send(pkt []byte) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return link.ErrClosed
	}
	now := time.Since(l.start)
	due := l.admit(Out, pkt, now)
	l.mu.Unlock()
	// Packets due at once leave from the caller's goroutine.
	for _, p := range due {
		if err := l.inner.Send(p); err != nil {
			return err
		}
	}
	return nil
}

// Receive returns the next packet of the In direction.
func (l *Link) Receive(buf []byte) (int, error) {
	select {
	case p := <-l.inQ:
		return copy(buf, p), nil
	case <-l.done:
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
	close(l.done)
	l.mu.Unlock()
	err := l.inner.Close()
	l.wg.Wait()
	return err
}

func (l *Link) reader() {
	defer l.wg.Done()
	buf := make([]byte, max(l.inner.MTU(), 65535))
	for {
		n, err := l.inner.Receive(buf)
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return
		}
		due := l.admit(In, buf[:n], time.Since(l.start))
		l.mu.Unlock()
		for _, p := range due {
			l.deliverIn(p)
		}
	}
}

func (l *Link) deliverIn(p []byte) {
	select {
	case l.inQ <- p:
	default:
		l.mu.Lock()
		l.dirs[In].stats.QueueDrops++
		l.mu.Unlock()
	}
}

// admit decides a packet's fate (l.mu held) and returns the copies due now;
// later ones are scheduled.
func (l *Link) admit(d Direction, pkt []byte, now time.Duration) [][]byte {
	ds := &l.dirs[d]
	ds.stats.Sent++
	if l.cfg.Drop != nil && l.cfg.Drop(d, pkt) {
		ds.stats.RuleDrops++
		return nil
	}
	imp := &ds.imp
	if imp.Loss > 0 && ds.rng.Float64() < imp.Loss {
		ds.stats.Lost++
		return nil
	}
	arrival := func() time.Duration {
		a := now + imp.Latency
		if imp.Jitter > 0 {
			a += time.Duration(ds.rng.Int64N(int64(imp.Jitter)))
		}
		a = max(a, ds.floor)
		ds.floor = a
		return a
	}
	at := arrival()
	if imp.Reorder > 0 && ds.rng.Float64() < imp.Reorder {
		ds.stats.Reordered++
		rd := imp.ReorderDelay
		if rd <= 0 {
			rd = max(imp.Latency/2, time.Millisecond)
		}
		at += rd
	}
	copies := []struct {
		at   time.Duration
		data []byte
	}{{at, append([]byte(nil), pkt...)}}
	if imp.Duplicate > 0 && ds.rng.Float64() < imp.Duplicate {
		ds.stats.Duplicated++
		copies = append(copies, struct {
			at   time.Duration
			data []byte
		}{arrival(), append([]byte(nil), pkt...)})
	}
	var due [][]byte
	for _, c := range copies {
		if imp.Corrupt > 0 && ds.rng.Float64() < imp.Corrupt && len(c.data) > 0 {
			ds.stats.Corrupted++
			bit := ds.rng.IntN(len(c.data) * 8)
			c.data[bit/8] ^= 0x80 >> (bit % 8)
		}
		ds.stats.Delivered++
		if c.at <= now {
			due = append(due, c.data)
			continue
		}
		l.nextID++
		first := len(l.sched) == 0 || c.at < l.sched[0].at
		heap.Push(&l.sched, &scheduled{at: c.at, id: l.nextID, dir: d, data: c.data})
		if first {
			select {
			case l.wake <- struct{}{}:
			default:
			}
		}
	}
	return due
}

// run delivers scheduled packets when they are due.
func (l *Link) run() {
	defer l.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	var out, in [][]byte
	for {
		l.mu.Lock()
		now := time.Since(l.start)
		out, in = out[:0], in[:0]
		for len(l.sched) > 0 && l.sched[0].at <= now {
			p := heap.Pop(&l.sched).(*scheduled)
			if p.dir == Out {
				out = append(out, p.data)
			} else {
				in = append(in, p.data)
			}
		}
		var tc <-chan time.Time
		if len(l.sched) > 0 {
			t.Reset(l.sched[0].at - now)
			tc = t.C
		}
		l.mu.Unlock()
		for _, p := range out {
			l.inner.Send(p) // a failed send is a lost packet
		}
		for _, p := range in {
			l.deliverIn(p)
		}
		select {
		case <-l.done:
			t.Stop()
			return
		case <-l.wake:
			t.Stop()
		case <-tc:
		}
	}
}

type scheduled struct {
	at   time.Duration
	id   uint64
	dir  Direction
	data []byte
}

type schedHeap []*scheduled

func (h schedHeap) Len() int { return len(h) }
func (h schedHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].id < h[j].id
}
func (h schedHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *schedHeap) Push(x any)   { *h = append(*h, x.(*scheduled)) }
func (h *schedHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return p
}
