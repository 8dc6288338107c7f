package rt

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/link"
)

// owner is a driver with a list of deadlines: each step records its time
// and drops the deadlines it has reached.
type owner struct {
	mu        sync.Mutex
	deadlines []clock.Time // sorted
	steps     []clock.Time
	loop      *Loop
}

func newOwner(deadlines ...clock.Time) *owner {
	o := &owner{deadlines: deadlines}
	o.loop = New(&o.mu, clock.NewReal(), o.step)
	return o
}

func (o *owner) step(now clock.Time) clock.Time {
	o.steps = append(o.steps, now)
	for len(o.deadlines) > 0 && o.deadlines[0] <= now {
		o.deadlines = o.deadlines[1:]
	}
	if len(o.deadlines) == 0 {
		return clock.Never
	}
	return o.deadlines[0]
}

// add adds a deadline, as a user call would, and rearms the loop.
func (o *owner) add(d clock.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.deadlines = append(o.deadlines, d)
	slices.Sort(o.deadlines)
	o.loop.Rearm(o.deadlines[0])
}

func (o *owner) stop() {
	o.mu.Lock()
	o.loop.Stop()
	o.mu.Unlock()
	o.loop.Wait()
}

const ms = clock.Time(time.Millisecond)

// The loop steps at once, then at each deadline step returns; a deadline
// added later than the one it sleeps until wakes it at that deadline, not
// before; an earlier one wakes it at once to sleep until it.
func TestStepsAtDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOwner(10*ms, 30*ms)
		o.loop.Start()
		time.Sleep(40 * time.Millisecond)
		o.add(100 * ms) // earlier than Never: wakes the loop
		o.add(200 * ms) // later than 100 ms: no wake-up
		time.Sleep(20 * time.Millisecond)
		o.add(70 * ms) // earlier than 100 ms
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		o.stop()
		want := []clock.Time{0, 10 * ms, 30 * ms, 40 * ms, 60 * ms, 70 * ms, 100 * ms, 200 * ms}
		if !slices.Equal(o.steps, want) {
			t.Errorf("steps at %v, want %v", o.steps, want)
		}
	})
}

// After Stop, step is not called again, Done's channel is closed and Wait
// returns with the timer goroutine gone (synctest reports a goroutine left
// in the bubble).
func TestStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOwner(10 * ms)
		o.loop.Start()
		synctest.Wait()
		o.stop()
		select {
		case <-o.loop.Done():
		default:
			t.Error("Done's channel is open after Stop")
		}
		o.add(5 * ms)
		time.Sleep(time.Second)
		o.mu.Lock()
		defer o.mu.Unlock()
		if !o.loop.Stopped() || len(o.steps) != 1 {
			t.Errorf("stopped %v, steps at %v, want one at 0", o.loop.Stopped(), o.steps)
		}
		o.loop.Stop() // twice is not an error
	})
}

// chanLink is a link.Link whose received packets come from a channel.
type chanLink struct {
	ch     chan []byte
	closed chan struct{}
}

func newChanLink(pkts ...string) *chanLink {
	l := &chanLink{ch: make(chan []byte, 16), closed: make(chan struct{})}
	for _, p := range pkts {
		l.ch <- []byte(p)
	}
	return l
}

func (l *chanLink) Send([]byte) error { return nil }
func (l *chanLink) MTU() int          { return 1500 }
func (l *chanLink) Close() error      { close(l.closed); return nil }

func (l *chanLink) Receive(buf []byte) (int, error) {
	select {
	case p := <-l.ch:
		return copy(buf, p), nil
	case <-l.closed:
		return 0, link.ErrClosed
	}
}

// tryLink is a chanLink that offers TryReceive.
type tryLink struct{ *chanLink }

func (l tryLink) TryReceive(buf []byte) (int, bool) {
	select {
	case p := <-l.ch:
		return copy(buf, p), true
	default:
		return 0, false
	}
}

// pumped runs a Pump over the link newSrc makes (in the bubble, so that
// its channels belong to it) until every packet queued in it is handed
// over and returns the bursts, one string per packet.
func pumped(t *testing.T, newSrc func() link.Link, batch int) [][]string {
	var bursts [][]string
	synctest.Test(t, func(t *testing.T) {
		o := newOwner()
		src := newSrc()
		o.loop.Pump(src, batch, func(now clock.Time, pkts [][]byte) {
			var b []string
			for _, p := range pkts {
				b = append(b, string(p))
			}
			bursts = append(bursts, b)
		})
		synctest.Wait()
		o.mu.Lock()
		o.loop.Stop()
		o.mu.Unlock()
		src.Close() // the Pump's Receive fails: Wait returns
		o.loop.Wait()
	})
	return bursts
}

// burstLink is a chanLink that is a BurstReceiver: it hands over what is
// queued in bursts of up to len(bufs), then waits for more, until handle
// says stop (then it records that) or the link is closed.
type burstLink struct {
	*chanLink
	stopped bool
}

func (l *burstLink) ReceiveBursts(bufs [][]byte, handle func([][]byte) bool) error {
	pkts := make([][]byte, len(bufs))
	for {
		k := 0
		select {
		case p := <-l.ch:
			pkts[0] = bufs[0][:copy(bufs[0], p)]
			k = 1
		case <-l.closed:
			return link.ErrClosed
		}
	more:
		for ; k < len(bufs); k++ {
			select {
			case p := <-l.ch:
				pkts[k] = bufs[k][:copy(bufs[k], p)]
			default:
				break more
			}
		}
		if !handle(pkts[:k]) {
			l.stopped = true
			return nil
		}
	}
}

// A Pump hands over what a TryReceiver already holds in one burst of up to
// batch packets, a BurstReceiver's bursts as it makes them (of up to batch
// packets), and what a plain link.Link receives one packet at a time.
func TestPumpBursts(t *testing.T) {
	pkts := []string{"a", "b", "c", "d", "e"}
	try := func() link.Link { return tryLink{newChanLink(pkts...)} }
	plain := func() link.Link { return newChanLink(pkts...) }
	bursts := func() link.Link { return &burstLink{chanLink: newChanLink(pkts...)} }
	for _, tc := range []struct {
		name  string
		src   func() link.Link
		batch int
		want  [][]string
	}{
		{"TryReceive", try, 16, [][]string{{"a", "b", "c", "d", "e"}}},
		{"TryReceive/batch=2", try, 2, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}},
		{"Receive", plain, 16, [][]string{{"a"}, {"b"}, {"c"}, {"d"}, {"e"}}},
		{"ReceiveBursts", bursts, 16, [][]string{{"a", "b", "c", "d", "e"}}},
		{"ReceiveBursts/batch=2", bursts, 2, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := pumped(t, tc.src, tc.batch)
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("bursts %q, want %q", got, tc.want)
			}
		})
	}
}

// Stop ends the Pump once the owner closes the link, and a packet that
// arrives after Stop is not handed over.
func TestPumpStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOwner()
		src := newChanLink()
		n := 0
		o.loop.Pump(src, 1, func(clock.Time, [][]byte) { n++ })
		o.mu.Lock()
		o.loop.Stop()
		o.mu.Unlock()
		src.ch <- []byte("late")
		synctest.Wait()
		src.Close()
		o.loop.Wait()
		if n != 0 {
			t.Errorf("%d bursts handed over after Stop", n)
		}
	})
}

// On a BurstReceiver, the burst that comes after Stop is not handed over
// and ends the link's loop (handle says stop), before the link is closed.
func TestPumpBurstsStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOwner()
		src := &burstLink{chanLink: newChanLink()}
		n := 0
		o.loop.Pump(src, 4, func(clock.Time, [][]byte) { n++ })
		src.ch <- []byte("early")
		synctest.Wait()
		o.mu.Lock()
		o.loop.Stop()
		o.mu.Unlock()
		src.ch <- []byte("late")
		o.loop.Wait() // returns without Close: the late burst ended the loop
		if n != 1 || !src.stopped {
			t.Errorf("%d bursts handed over, loop told to stop %v; want 1, true", n, src.stopped)
		}
		src.Close()
	})
}

// zcLink is a chanLink that is a link.ZeroCopy: it lends its buffers and
// records when each comes back.
type zcLink struct {
	*chanLink
	bufs     chan *link.Buffer
	released []string // the packets of the buffers given back, in order
	held     int      // buffers lent and not yet given back
}

func newZCLink(pkts ...string) *zcLink {
	l := &zcLink{chanLink: newChanLink(), bufs: make(chan *link.Buffer, 16)}
	for _, p := range pkts {
		l.bufs <- &link.Buffer{B: []byte(p)}
	}
	return l
}

func (l *zcLink) NewBuffer() *link.Buffer         { return nil }
func (l *zcLink) SendBuffer(b *link.Buffer) error { return nil }
func (l *zcLink) Release(b *link.Buffer) {
	l.released = append(l.released, string(b.B))
	l.held--
}

func (l *zcLink) ReceiveBuffer() (*link.Buffer, error) {
	select {
	case b := <-l.bufs:
		l.held++
		return b, nil
	case <-l.closed:
		return nil, link.ErrClosed
	}
}

func (l *zcLink) TryReceiveBuffer() (*link.Buffer, bool) {
	select {
	case b := <-l.bufs:
		l.held++
		return b, true
	default:
		return nil, false
	}
}

// On a link.ZeroCopy the Pump hands over the link's own buffers, in
// bursts of up to batch, and gives every one back once the burst's call
// has returned (not before: the stack reads them during the call).
func TestPumpZeroCopy(t *testing.T) {
	var bursts [][]string
	var heldDuring []int
	var src *zcLink
	synctest.Test(t, func(t *testing.T) {
		o := newOwner()
		src = newZCLink("a", "b", "c")
		o.loop.Pump(src, 2, func(now clock.Time, pkts [][]byte) {
			var b []string
			for _, p := range pkts {
				b = append(b, string(p))
			}
			bursts = append(bursts, b)
			heldDuring = append(heldDuring, src.held)
		})
		synctest.Wait()
		o.mu.Lock()
		o.loop.Stop()
		o.mu.Unlock()
		src.Close()
		o.loop.Wait()
	})
	if want := [][]string{{"a", "b"}, {"c"}}; !slices.EqualFunc(bursts, want, slices.Equal) {
		t.Errorf("bursts %q, want %q", bursts, want)
	}
	if !slices.Equal(heldDuring, []int{2, 1}) {
		t.Errorf("buffers held during each call %v, want [2 1] (a burst's buffers are not given back before its call returns)", heldDuring)
	}
	if !slices.Equal(src.released, []string{"a", "b", "c"}) || src.held != 0 {
		t.Errorf("given back %q, %d still held; want all three back, in order", src.released, src.held)
	}
}

// PumpUnlocked hands over the same bursts as Pump, without the Loop's
// lock held (the handler takes it itself, as a shard's handler takes its
// shard's), and, after Stop, nothing more; on a link.ZeroCopy each buffer
// goes back after its burst's call.
func TestPumpUnlocked(t *testing.T) {
	for _, zc := range []bool{false, true} {
		t.Run(fmt.Sprintf("zerocopy=%v", zc), func(t *testing.T) {
			var bursts [][]string
			var zl *zcLink
			synctest.Test(t, func(t *testing.T) {
				o := newOwner()
				var src link.Link = tryLink{newChanLink("a", "b", "c")}
				if zc {
					zl = newZCLink("a", "b", "c")
					src = zl
				}
				o.loop.PumpUnlocked(src, 2, func(pkts [][]byte) {
					if !o.mu.TryLock() {
						t.Error("the handler was called with the lock held")
						return
					}
					defer o.mu.Unlock()
					var b []string
					for _, p := range pkts {
						b = append(b, string(p))
					}
					bursts = append(bursts, b)
				})
				synctest.Wait()
				o.mu.Lock()
				o.loop.Stop()
				o.mu.Unlock()
				if zc {
					zl.bufs <- &link.Buffer{B: []byte("late")}
				} else {
					src.(tryLink).ch <- []byte("late")
				}
				synctest.Wait()
				src.Close()
				o.loop.Wait()
			})
			if want := [][]string{{"a", "b"}, {"c"}}; !slices.EqualFunc(bursts, want, slices.Equal) {
				t.Errorf("bursts %q, want %q (nothing after Stop)", bursts, want)
			}
			if zc && zl.held != 0 {
				t.Errorf("%d buffers not given back", zl.held)
			}
		})
	}
}
