package bench

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/gosynack/synack/link"
)

// QueueLen is how many packets each direction of a Pipe holds; more are
// dropped, as a full NIC ring drops. gVisor's channel endpoints get the
// same length.
const QueueLen = 4096

// Pipe returns two links joined back to back, at addresses a and b, that
// carry packets of up to mtu bytes. Each direction is a buffered channel of
// pooled buffers: Send copies the packet into a buffer and queues it,
// Receive (or TryReceive, which synack's driver uses to take bursts) copies
// it out and returns the buffer to the pool. The pool is a free list, not a
// sync.Pool, so that a garbage collection does not empty it, and it is
// filled up front: the pipe allocates nothing per packet. It is the
// synack counterpart of two gVisor channel endpoints and their pump
// goroutines, without link/mem's impairment engine (and with a settable
// MTU, which link/mem does not have).
func Pipe(a, b netip.Addr, mtu int) (*PipeEnd, *PipeEnd) {
	pool := &bufPool{free: make(chan *[]byte, 2*QueueLen), mtu: mtu}
	// Like a NIC's rings, the buffers are made up front: both queues' worth,
	// up to 64 MiB (at MTU 65535 the windows never fill a queue).
	for range min(2*QueueLen, 64<<20/mtu) {
		b := make([]byte, mtu)
		pool.free <- &b
	}
	ab := make(chan *[]byte, QueueLen)
	ba := make(chan *[]byte, QueueLen)
	ea := &PipeEnd{addr: a, mtu: mtu, pool: pool, in: ba, out: ab, done: make(chan struct{})}
	eb := &PipeEnd{addr: b, mtu: mtu, pool: pool, in: ab, out: ba, done: make(chan struct{})}
	ea.peer, eb.peer = eb, ea
	return ea, eb
}

// PipeEnd is one end of a Pipe; it implements link.Link.
type PipeEnd struct {
	addr  netip.Addr
	mtu   int
	pool  *bufPool
	in    chan *[]byte
	out   chan *[]byte
	peer  *PipeEnd
	done  chan struct{}
	once  sync.Once
	drops atomic.Uint64
}

var _ link.Link = (*PipeEnd)(nil)

// Addr returns the end's address (synack.New takes it from here).
func (e *PipeEnd) Addr() netip.Addr { return e.addr }

// MTU returns the largest packet the pipe carries.
func (e *PipeEnd) MTU() int { return e.mtu }

// Drops returns how many packets sent from this end were dropped because
// the queue to the peer was full.
func (e *PipeEnd) Drops() uint64 { return e.drops.Load() }

// Send copies pkt into a pooled buffer and queues it for the peer. A packet
// longer than the MTU, or one sent when the queue is full or either end is
// closed, is dropped.
func (e *PipeEnd) Send(pkt []byte) error {
	select {
	case <-e.done:
		return link.ErrClosed
	case <-e.peer.done:
		return nil // the peer is gone: the packet is lost on the wire
	default:
	}
	if len(pkt) > e.mtu {
		e.drops.Add(1)
		return nil
	}
	bp := e.pool.Get().(*[]byte)
	*bp = append((*bp)[:0], pkt...)
	select {
	case e.out <- bp:
	default:
		e.pool.Put(bp)
		e.drops.Add(1)
	}
	return nil
}

// bufPool is a free list of packet buffers.
type bufPool struct {
	free chan *[]byte
	mtu  int
}

func (p *bufPool) Get() any {
	select {
	case b := <-p.free:
		return b
	default:
		s := make([]byte, p.mtu)
		return &s
	}
}

func (p *bufPool) Put(b *[]byte) {
	select {
	case p.free <- b:
	default:
	}
}

// TryReceive copies a queued packet into buf without waiting; ok is false
// when none is queued.
func (e *PipeEnd) TryReceive(buf []byte) (n int, ok bool) {
	select {
	case bp := <-e.in:
		n = copy(buf, *bp)
		e.pool.Put(bp)
		return n, true
	default:
		return 0, false
	}
}

// Receive waits for a packet from the peer and copies it into buf.
func (e *PipeEnd) Receive(buf []byte) (int, error) {
	select {
	case bp := <-e.in:
		n := copy(buf, *bp)
		e.pool.Put(bp)
		return n, nil
	case <-e.done:
		return 0, link.ErrClosed
	}
}

// Close unblocks Receive; later Sends fail.
func (e *PipeEnd) Close() error {
	e.once.Do(func() { close(e.done) })
	return nil
}
