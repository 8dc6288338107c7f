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
// pooled buffers. The pipe is a link.ZeroCopy, and synack's driver uses it
// so: the stack builds each packet in a buffer the pipe lends
// (NewBuffer), SendBuffer queues that very buffer, the peer's driver takes
// it (ReceiveBuffer, TryReceiveBuffer for bursts) and gives it back
// (Release): no copy in the pipe at all. Send, Receive and TryReceive copy,
// as any link.Link. The pool is a free list, not a sync.Pool, so that a
// garbage collection does not empty it, and it is filled up front: the
// pipe allocates nothing per packet. It is the synack counterpart of two
// gVisor channel endpoints and their pump goroutines (which hand gVisor's
// packets over by reference), without link/mem's impairment engine (and
// with a settable MTU, which link/mem does not have).
//
// The pipe cannot corrupt, and both its ends are synack stacks: it is a
// link.ChecksumOffloader, unless NoChecksumOffload is called on both ends
// before the stacks start. For the same reason it is a link.GSOer: it
// carries TCP super-segments of up to MaxGSO bytes whatever the MTU, which
// the peer stack takes whole (as gVisor's channel endpoints with
// HostGSOSupported do, or a NIC's TSO and the peer's GRO), so its buffers
// are MaxGSO bytes long; NoSegmentOffload on both ends, before the stacks
// start, turns that off.
func Pipe(a, b netip.Addr, mtu int) (*PipeEnd, *PipeEnd) {
	pool := &bufPool{free: make([]*link.Buffer, 0, 2*QueueLen), size: max(mtu, MaxGSO)}
	// Like a NIC's rings, the buffers are made up front: both queues' worth,
	// up to 64 MiB (with 64 KiB packets the windows never fill a queue).
	for range min(2*QueueLen, 64<<20/pool.size) {
		pool.free = append(pool.free, &link.Buffer{B: make([]byte, 0, pool.size)})
	}
	ab := make(chan *link.Buffer, QueueLen)
	ba := make(chan *link.Buffer, QueueLen)
	ea := &PipeEnd{addr: a, mtu: mtu, pool: pool, in: ba, out: ab, done: make(chan struct{})}
	eb := &PipeEnd{addr: b, mtu: mtu, pool: pool, in: ab, out: ba, done: make(chan struct{})}
	ea.peer, eb.peer = eb, ea
	return ea, eb
}

// MaxGSO is the largest packet a Pipe carries with segmentation offload:
// the largest IPv4 packet.
const MaxGSO = 65535

// PipeEnd is one end of a Pipe; it implements link.Link.
type PipeEnd struct {
	addr  netip.Addr
	mtu   int
	pool  *bufPool
	in    chan *link.Buffer
	out   chan *link.Buffer
	peer  *PipeEnd
	done  chan struct{}
	once  sync.Once
	drops atomic.Uint64
	sent  atomic.Uint64
	noOff bool
	noGSO bool
}

var (
	_ link.ZeroCopy          = (*PipeEnd)(nil)
	_ link.ChecksumOffloader = (*PipeEnd)(nil)
	_ link.GSOer             = (*PipeEnd)(nil)
)

// NoSegmentOffload makes the end report 0 to MaxSegmentOffload: its stack
// sends no packet larger than the MTU (call it on both ends, before
// synack.New).
func (e *PipeEnd) NoSegmentOffload() { e.noGSO = true }

// MaxSegmentOffload reports MaxGSO (unless NoSegmentOffload was called):
// the peer is a synack stack, which takes a TCP segment larger than its
// MSS whole.
func (e *PipeEnd) MaxSegmentOffload() int {
	if e.noGSO {
		return 0
	}
	return MaxGSO
}

// maxPacket is the largest packet the end carries.
func (e *PipeEnd) maxPacket() int {
	if e.noGSO {
		return e.mtu
	}
	return max(e.mtu, MaxGSO)
}

// NoChecksumOffload makes the end report false to OffloadChecksums: its
// stack computes and verifies TCP checksums (call it on both ends, before
// synack.New).
func (e *PipeEnd) NoChecksumOffload() { e.noOff = true }

// OffloadChecksums reports true (unless NoChecksumOffload was called): the
// pipe cannot corrupt, and its other end is a synack stack that does not
// verify either.
func (e *PipeEnd) OffloadChecksums() bool { return !e.noOff }

// Addr returns the end's address (synack.New takes it from here).
func (e *PipeEnd) Addr() netip.Addr { return e.addr }

// MTU returns the largest packet the pipe carries.
func (e *PipeEnd) MTU() int { return e.mtu }

// Drops returns how many packets sent from this end were dropped because
// the queue to the peer was full.
func (e *PipeEnd) Drops() uint64 { return e.drops.Load() }

// Packets returns how many packets this end has queued for its peer (a
// super-segment is one).
func (e *PipeEnd) Packets() uint64 { return e.sent.Load() }

// Send copies pkt into a pooled buffer and queues it for the peer. A packet
// longer than the MTU (or, with segmentation offload, MaxGSO), or one sent when the queue is full or either end is
// closed, is dropped.
func (e *PipeEnd) Send(pkt []byte) error {
	b := e.pool.Get()
	b.B = append(b.B[:0], pkt...)
	return e.SendBuffer(b)
}

// NewBuffer lends an empty buffer of max(MTU, MaxGSO) bytes from the pool (nil if the
// pool is empty).
func (e *PipeEnd) NewBuffer() *link.Buffer { return e.pool.get() }

// SendBuffer queues b for the peer, without a copy, and takes it back: a
// packet longer than the MTU, or one sent when the queue is full or either
// end is closed, is dropped (b goes back to the pool); so is one longer
// than the MTU without segmentation offload.
func (e *PipeEnd) SendBuffer(b *link.Buffer) error {
	select {
	case <-e.done:
		e.pool.Put(b)
		return link.ErrClosed
	case <-e.peer.done:
		e.pool.Put(b)
		return nil // the peer is gone: the packet is lost on the wire
	default:
	}
	if len(b.B) > e.maxPacket() {
		e.pool.Put(b)
		e.drops.Add(1)
		return nil
	}
	select {
	case e.out <- b:
		e.sent.Add(1)
	default:
		e.pool.Put(b)
		e.drops.Add(1)
	}
	return nil
}

// ReceiveBuffer waits for a packet from the peer and lends the buffer it
// is in, until Release. After Close it fails, even with packets queued.
func (e *PipeEnd) ReceiveBuffer() (*link.Buffer, error) {
	select {
	case <-e.done:
		return nil, link.ErrClosed
	default:
	}
	select {
	case b := <-e.in:
		return b, nil
	case <-e.done:
		return nil, link.ErrClosed
	}
}

// TryReceiveBuffer lends a queued packet's buffer without waiting.
func (e *PipeEnd) TryReceiveBuffer() (*link.Buffer, bool) {
	select {
	case b := <-e.in:
		return b, true
	default:
		return nil, false
	}
}

// Release takes back a buffer lent by NewBuffer, ReceiveBuffer or
// TryReceiveBuffer.
func (e *PipeEnd) Release(b *link.Buffer) { e.pool.Put(b) }

// bufPool is a free list of packet buffers, last in first out: the
// buffer given back most recently, whose bytes are still in the CPU's
// cache, is the next one lent (a FIFO would cycle through every buffer
// of the pool, each one cold by the time it comes round again).
type bufPool struct {
	mu   sync.Mutex
	free []*link.Buffer
	size int // of every buffer
}

// get lends the most recently given back buffer, or nil if none is free.
func (p *bufPool) get() *link.Buffer {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.free)
	if n == 0 {
		return nil
	}
	b := p.free[n-1]
	p.free[n-1] = nil
	p.free = p.free[:n-1]
	return b
}

// Get lends a buffer, making one if none is free.
func (p *bufPool) Get() *link.Buffer {
	if b := p.get(); b != nil {
		return b
	}
	return &link.Buffer{B: make([]byte, 0, p.size)}
}

// Put gives b back; beyond the pool's capacity it is left to the
// garbage collector.
func (p *bufPool) Put(b *link.Buffer) {
	b.B = b.B[:0]
	p.mu.Lock()
	if len(p.free) < cap(p.free) {
		p.free = append(p.free, b)
	}
	p.mu.Unlock()
}

// TryReceive copies a queued packet into buf without waiting; ok is false
// when none is queued.
func (e *PipeEnd) TryReceive(buf []byte) (n int, ok bool) {
	b, ok := e.TryReceiveBuffer()
	if !ok {
		return 0, false
	}
	n = copy(buf, b.B)
	e.Release(b)
	return n, true
}

// Receive waits for a packet from the peer and copies it into buf.
func (e *PipeEnd) Receive(buf []byte) (int, error) {
	b, err := e.ReceiveBuffer()
	if err != nil {
		return 0, err
	}
	n := copy(buf, b.B)
	e.Release(b)
	return n, nil
}

// Close unblocks Receive; later Sends fail.
func (e *PipeEnd) Close() error {
	e.once.Do(func() { close(e.done) })
	return nil
}
