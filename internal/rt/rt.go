// Package rt is the real-time driver loop, written once for the drivers
// that run a sans-I/O model on the real clock: the root package's Stack
// (package stack's timers), link/mem's Network and link/impair's Link
// (link/netsim's scheduled packets).
//
// A Loop runs one goroutine, the timer goroutine. It takes its owner's
// lock, calls the owner's step function with the time of the owner's
// clock.Real, releases the lock and sleeps until the deadline step
// returned. Everything else the owner does (a user call, a packet sent or
// received) runs in the caller's goroutine under the same lock; when that
// brings a deadline earlier than the one the loop sleeps until, the owner
// calls Rearm, still holding the lock, and the loop wakes and steps again.
// Pump adds a second goroutine, the reader, that takes packets from a
// link.Link and hands them to the owner under the lock, a burst at a time.
// Stop, under the lock, ends both; Wait waits for them.
//
// clock.Real reads time.Now, and the timer is a time.Timer, which
// testing/synctest fakes: in a synctest bubble the loop sleeps in fake
// time, and a goroutine blocked in it is durably blocked.
//
// # One Loop per lock
//
// A Loop drives what one lock guards, and nothing in it is shared with
// another Loop. That is the seam of the sharded runtime (ARCHITECTURE.md:
// N shards chosen by 4-tuple hash, as a NIC's RSS chooses a queue): each
// shard of the root package's Stack, a stack.Stack with its own lock, has
// its own Loop over that lock and its own step, and calls its own Loop's
// Rearm. Pump is the one-shard case: it holds the Loop's lock for a whole
// burst. PumpUnlocked is the sharded reader: it calls its handler without
// any lock, and the handler hashes each packet of the burst to its shard
// and takes that shard's lock.
package rt

import (
	"sync"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/link"
)

// Loop is a timer goroutine driving one owner's step function in real
// time. Rearm, Stop and Stopped are called with the owner's lock held.
type Loop struct {
	mu   sync.Locker
	clk  *clock.Real
	step func(now clock.Time) clock.Time

	// Guarded by mu.
	armed   clock.Time // the deadline the loop sleeps until
	stopped bool

	kick chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

// New returns a Loop that calls step with mu held and the time of clk;
// step does what is due at now and returns the next deadline (clock.Never
// for none). Start starts it, once the owner is ready for step to be
// called.
func New(mu sync.Locker, clk *clock.Real, step func(now clock.Time) clock.Time) *Loop {
	return &Loop{
		mu:    mu,
		clk:   clk,
		step:  step,
		armed: clock.Never,
		kick:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
}

// Start starts the timer goroutine: it steps at once, then whenever the
// deadline step returned passes or Rearm asks for an earlier one.
func (l *Loop) Start() {
	l.wg.Add(1)
	go l.run()
}

func (l *Loop) run() {
	defer l.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		l.mu.Lock()
		if l.stopped {
			l.mu.Unlock()
			return
		}
		now := l.clk.Now()
		next := l.step(now)
		l.armed = next
		l.mu.Unlock()
		var tc <-chan time.Time
		if next != clock.Never {
			t.Reset(max(next.Sub(now), 0))
			tc = t.C
		} else {
			t.Stop()
		}
		select {
		case <-l.done:
			t.Stop()
			return
		case <-l.kick:
		case <-tc:
		}
	}
}

// Rearm tells the loop that next is now the owner's next deadline. If it
// is earlier than the one the loop sleeps until, the loop wakes and steps
// again (a wake-up is at most one pending kick, so calling Rearm on every
// change costs nothing when the deadline did not move earlier). The
// owner's lock is held.
func (l *Loop) Rearm(next clock.Time) {
	if next < l.armed {
		l.armed = next
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// Stop ends the loop: step is not called again, Done's channel is closed
// and the timer goroutine returns; a Pump returns once its link's Receive
// fails (the owner closes the link after Stop). Stopping twice is not an
// error. The owner's lock is held.
func (l *Loop) Stop() {
	if !l.stopped {
		l.stopped = true
		close(l.done)
	}
}

// Stopped reports whether Stop was called. The owner's lock is held.
func (l *Loop) Stopped() bool { return l.stopped }

// Done returns a channel closed by Stop, for the owner's blocked calls to
// wait on.
func (l *Loop) Done() <-chan struct{} { return l.done }

// Wait waits until the timer goroutine and every Pump have returned. The
// owner's lock is not held.
func (l *Loop) Wait() { l.wg.Wait() }

// TryReceiver is a link that can also hand over a packet it already has
// without blocking (mem.Port and link/tun.Device can). A Pump on it takes a whole burst and
// hands it over under one acquisition of the lock.
type TryReceiver interface {
	TryReceive(buf []byte) (n int, ok bool)
}

// BurstReceiver is a link that reads bursts itself and hands each to a
// function, waiting between them without a read that finds nothing first
// (link/tun.Device can: see its ReceiveBursts). handle returning false
// ends ReceiveBursts with nil; a closed link ends it with an error.
type BurstReceiver interface {
	ReceiveBursts(bufs [][]byte, handle func(pkts [][]byte) bool) error
}

// Pump starts the reader goroutine: it receives packets from src and
// calls handle with the owner's lock held, the time, and the packets
// received, until src's Receive fails (the owner closes src after Stop);
// what it receives after Stop is dropped. If src is a TryReceiver, a packet that Receive returns is
// followed by up to batch-1 more that are already there, in one call;
// otherwise each call has one packet; a BurstReceiver's bursts are its
// own (up to batch packets). The packets are in buffers the Pump
// reuses (of max(src.MTU(), 65535) bytes, made once): they are valid only
// during the call. If src is a link.ZeroCopy, the packets are in the
// link's own buffers instead (ReceiveBuffer, TryReceiveBuffer), nothing is
// copied, and each buffer goes back to the link (Release) when the call
// returns.
func (l *Loop) Pump(src link.Link, batch int, handle func(now clock.Time, pkts [][]byte)) {
	if zc, ok := src.(link.ZeroCopy); ok {
		l.wg.Add(1)
		go l.pumpZeroCopy(zc, max(batch, 1), handle)
		return
	}
	tr, _ := src.(TryReceiver)
	br, _ := src.(BurstReceiver)
	if (tr == nil && br == nil) || batch < 1 {
		batch = 1
	}
	size := max(src.MTU(), 65535)
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, size)
	}
	l.wg.Add(1)
	if br != nil {
		go l.pumpBursts(br, bufs, handle)
		return
	}
	go l.pump(src, tr, bufs, handle)
}

// pumpBursts is pump on a BurstReceiver: the link's own loop calls the
// owner under the lock for each burst. The owner closes the link after
// Stop without holding the lock (as every owner does), so a burst waiting
// here for the lock never holds up the link's Close.
func (l *Loop) pumpBursts(src BurstReceiver, bufs [][]byte, handle func(clock.Time, [][]byte)) {
	defer l.wg.Done()
	src.ReceiveBursts(bufs, func(pkts [][]byte) bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.stopped {
			return false
		}
		handle(l.clk.Now(), pkts)
		return true
	})
}

func (l *Loop) pump(src link.Link, tr TryReceiver, bufs [][]byte, handle func(clock.Time, [][]byte)) {
	defer l.wg.Done()
	pkts := make([][]byte, len(bufs))
	for {
		n, err := src.Receive(bufs[0])
		if err != nil {
			// The link was closed (by the owner, or under it): nothing
			// more will arrive.
			return
		}
		pkts[0] = bufs[0][:n]
		k := 1
		for ; k < len(bufs); k++ {
			n, ok := tr.TryReceive(bufs[k])
			if !ok {
				break
			}
			pkts[k] = bufs[k][:n]
		}
		l.mu.Lock()
		if l.stopped {
			l.mu.Unlock()
			return
		}
		handle(l.clk.Now(), pkts[:k])
		l.mu.Unlock()
	}
}

func (l *Loop) pumpZeroCopy(src link.ZeroCopy, batch int, handle func(clock.Time, [][]byte)) {
	defer l.wg.Done()
	zeroCopyLoop(src, batch, func(pkts [][]byte) bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.stopped {
			return false
		}
		handle(l.clk.Now(), pkts)
		return true
	})
}

// zeroCopyLoop takes bursts of up to batch of src's buffers and hands
// them to handle, releasing them when it returns, until src fails or
// handle returns false (the owner stopped).
func zeroCopyLoop(src link.ZeroCopy, batch int, handle func([][]byte) bool) {
	bufs := make([]*link.Buffer, batch)
	pkts := make([][]byte, batch)
	release := func(k int) {
		for i := range k {
			src.Release(bufs[i])
			bufs[i], pkts[i] = nil, nil
		}
	}
	for {
		b, err := src.ReceiveBuffer()
		if err != nil {
			return
		}
		bufs[0], pkts[0] = b, b.B
		k := 1
		for ; k < batch; k++ {
			b, ok := src.TryReceiveBuffer()
			if !ok {
				break
			}
			bufs[k], pkts[k] = b, b.B
		}
		ok := handle(pkts[:k])
		release(k)
		if !ok {
			return
		}
	}
}

// PumpUnlocked starts a reader goroutine like Pump's for an owner of
// several locks (a sharded Stack, one lock per shard): handle is called
// without the Loop's lock, with the packets received, and takes whatever
// locks it needs (and the time under each, so that time never goes back
// under a lock). It returns once src's Receive fails or the Loop is
// stopped; a burst received after Stop is dropped, and handle checks, under
// each lock it takes, whether its owner stopped meanwhile. The packets are
// in buffers the reader reuses, or, if src is a link.ZeroCopy, in the
// link's buffers, released when handle returns, as with Pump.
func (l *Loop) PumpUnlocked(src link.Link, batch int, handle func(pkts [][]byte)) {
	batch = max(batch, 1)
	if zc, ok := src.(link.ZeroCopy); ok {
		l.wg.Add(1)
		go l.pumpUnlockedZeroCopy(zc, batch, handle)
		return
	}
	tr, _ := src.(TryReceiver)
	if tr == nil {
		batch = 1
	}
	size := max(src.MTU(), 65535)
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, size)
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		pkts := make([][]byte, len(bufs))
		for {
			n, err := src.Receive(bufs[0])
			if err != nil {
				return
			}
			pkts[0] = bufs[0][:n]
			k := 1
			for ; k < len(bufs); k++ {
				n, ok := tr.TryReceive(bufs[k])
				if !ok {
					break
				}
				pkts[k] = bufs[k][:n]
			}
			if l.isDone() {
				return
			}
			handle(pkts[:k])
		}
	}()
}

func (l *Loop) pumpUnlockedZeroCopy(src link.ZeroCopy, batch int, handle func([][]byte)) {
	defer l.wg.Done()
	zeroCopyLoop(src, batch, func(pkts [][]byte) bool {
		if l.isDone() {
			return false
		}
		handle(pkts)
		return true
	})
}

// isDone reports whether Stop was called, without the lock.
func (l *Loop) isDone() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}
