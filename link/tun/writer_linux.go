//go:build linux

package tun

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/link"
)

// maxQueue bounds the packets queued for the writer; Send waits for room
// beyond it (the kernel takes a TUN write at once, so the wait is one
// write(2) long).
const maxQueue = 512

// writer is the device's writer goroutine and its queue. Send copies a
// packet into a slot (merging it into the last one where GSO allows) under
// mu, which guards the queue only; the goroutine takes the whole queue at
// once and writes it without the lock, so the caller's lock (the Stack's)
// is never held across a write(2), and the packets leave in the order
// they were sent.
type writer struct {
	d *Device

	mu      sync.Mutex
	cond    sync.Cond // room in the queue, or stopped
	pending []*slot   // queued, not yet taken by the goroutine
	spare   []*slot   // the other queue's array, while the goroutine writes
	free    []*slot   // written slots, their buffers kept
	burst   int       // BeginBurst calls not yet ended
	taken   int       // slots the goroutine is writing
	stopped bool

	wake chan struct{} // one pending wake-up for the goroutine
	done chan struct{} // closed when the goroutine returns

	errs    atomic.Uint64
	lastErr atomic.Pointer[error]
	badHdr  atomic.Uint64 // packets read with a virtio_net_hdr that did not fit
	badCsum atomic.Uint64 // TCP/IPv4 packets read, neither partial nor valid, with a bad checksum

	pktsOut, segsOut, gsoOut, pktsIn, gsoIn, csumIn, emptyIn, csumLeft atomic.Uint64

	csumOut bool // OffloadChecksums: every TCP packet written with its checksum partial

	writeFn func(fd uintptr) bool
	wbuf    []byte
	werr    error
}

func (w *writer) start(d *Device) {
	w.d = d
	w.cond.L = &w.mu
	w.wake = make(chan struct{}, 1)
	w.done = make(chan struct{})
	w.writeFn = w.write
	go w.run()
}

func (w *writer) send(pkt []byte) error {
	room := 0
	if w.d.vnet {
		room = vnetHdrLen
	}
	w.mu.Lock()
	for !w.stopped && len(w.pending)+w.taken >= maxQueue {
		// Full: the writer must run even inside a burst, or it would
		// wait for EndBurst while this waits for it.
		w.kick()
		w.cond.Wait()
	}
	if w.stopped {
		w.mu.Unlock()
		return link.ErrClosed
	}
	if n := len(w.pending); n == 0 || !w.d.vnet || !w.pending[n-1].merge(room, pkt) {
		var s *slot
		if k := len(w.free); k > 0 {
			s = w.free[k-1]
			w.free = w.free[:k-1]
		} else {
			s = new(slot)
		}
		s.start(room, pkt, w.d.vnet)
		w.pending = append(w.pending, s)
	}
	kick := w.burst == 0
	w.mu.Unlock()
	if kick {
		w.kick()
	}
	return nil
}

func (w *writer) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *writer) begin() {
	w.mu.Lock()
	w.burst++
	w.mu.Unlock()
}

func (w *writer) end() {
	w.mu.Lock()
	if w.burst > 0 {
		w.burst--
	}
	kick := w.burst == 0 && len(w.pending) > 0
	w.mu.Unlock()
	if kick {
		w.kick()
	}
}

func (w *writer) run() {
	defer close(w.done)
	for {
		<-w.wake
		w.mu.Lock()
		batch := w.pending
		w.pending = w.spare[:0]
		w.taken = len(batch)
		stopped := w.stopped
		w.mu.Unlock()
		for _, s := range batch {
			if w.d.vnet && s.finish(w.csumOut) && s.segs == 1 {
				w.csumLeft.Add(1)
			}
			w.pktsOut.Add(1)
			w.segsOut.Add(uint64(s.segs))
			if s.segs > 1 {
				w.gsoOut.Add(1)
			}
			if err := w.writeOne(s.buf); err != nil {
				w.errs.Add(1)
				w.lastErr.Store(&err)
			}
		}
		w.mu.Lock()
		w.free = append(w.free, batch...)
		clear(batch)
		w.spare = batch[:0]
		w.taken = 0
		w.cond.Broadcast()
		w.mu.Unlock()
		if stopped {
			return
		}
	}
}

// writeOne writes b to the device, waiting (in the runtime poller) while
// the kernel's queue is full.
func (w *writer) writeOne(b []byte) error {
	w.wbuf = b
	err := w.d.rc.Write(w.writeFn)
	w.wbuf = nil
	if err == nil {
		err, w.werr = w.werr, nil
	}
	if err != nil {
		return fmt.Errorf("tun: write %d bytes to %s: %w", len(b), w.d.name, err)
	}
	return nil
}

func (w *writer) write(fd uintptr) bool {
	b := w.wbuf
	for {
		_, _, errno := unix.Syscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch errno {
		case 0:
			w.werr = nil
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		w.werr = syscall.Errno(errno)
		return true
	}
}

// stop has the goroutine write what is queued and return, and waits for
// it; later Sends return link.ErrClosed.
func (w *writer) stop() {
	w.mu.Lock()
	w.stopped = true
	w.cond.Broadcast()
	w.mu.Unlock()
	w.kick()
	<-w.done
}

func (w *writer) errors() (uint64, error) {
	var err error
	if p := w.lastErr.Load(); p != nil {
		err = *p
	}
	return w.errs.Load(), err
}

// flush wakes the goroutine and waits until every packet queued so far
// has been written (or the device is closed).
func (w *writer) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.stopped && (len(w.pending) > 0 || w.taken > 0) {
		w.kick()
		w.cond.Wait()
	}
}
