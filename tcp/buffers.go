package tcp

import "math/bits"

// Send and receive buffers, in arrays borrowed from Config.Buffers. Both
// are rings: data is appended at the end and consumed from the front
// without ever sliding the live bytes back (sendBuffer and recvBuffer,
// below); an array is replaced only to grow, by doubling, so that growth
// copies each byte about once. The receive ring also holds the data held
// out of order (reasm.go), at its distance from RCV.NXT after the unread
// data. An empty buffer goes back to the pool, so an idle connection holds
// no buffer at all, and a busy one takes the same arrays over and over
// without allocating. An emptied ring's size is remembered (rcvLast,
// sndLast), and a burst that finds the ring gone takes one of that size
// straight away: growing it again by doubling would copy the burst's
// bytes once more on every refill (a bulk receiver whose reader drains
// the ring between bursts did so for every burst).

// BufferPool lends byte slices to connections. Get returns a slice of
// length 0 and capacity at least n; Put takes back a slice that Get
// returned, which the connection no longer uses. A pool serves the
// connections of one driver, one call at a time, like the Conns
// themselves.
type BufferPool interface {
	Get(n int) []byte
	Put(b []byte)
}

// minBuffer is the smallest backing array a connection borrows.
const minBuffer = 4 << 10

// release hands the backing array *mem back to the pool.
func (c *Conn) release(mem *[]byte) {
	c.account(-cap(*mem))
	if *mem != nil && c.pol.cfg.Buffers != nil {
		c.pol.cfg.Buffers.Put((*mem)[:0])
	}
	*mem = nil
}

// recvBuffer is the receive ring: n unread bytes from head, then the data
// held out of order (reasm.go), each byte at its distance from RCV.NXT.
// Unlike a view into an array, whose live bytes must slide back to the
// start when it reaches the end (a copy of everything unread, and an array
// twice the data), a ring's array is the data's size rounded up to a power
// of two, and only growing it copies.
type recvBuffer struct {
	mem  []byte // the ring: len(mem) is its capacity
	head int32  // where in mem the first unread byte is
	n    int32  // unread bytes
}

// at returns where in mem the byte off bytes after the head is (off <=
// len(mem)).
func (b *recvBuffer) at(off int) int {
	a := int(b.head) + off
	if a >= len(b.mem) {
		a -= len(b.mem)
	}
	return a
}

// write copies p to off bytes after the head, wrapping at the end of the
// ring (off+len(p) <= len(mem)).
func (b *recvBuffer) write(off int, p []byte) {
	a := b.at(off)
	k := copy(b.mem[a:], p)
	copy(b.mem, p[k:])
}

// read copies the bytes from off bytes after the head into p
// (off+len(p) <= len(mem)) and returns len(p).
func (b *recvBuffer) read(p []byte, off int) int {
	a := b.at(off)
	k := copy(p, b.mem[a:])
	if k < len(p) {
		k += copy(p[k:], b.mem[:a])
	}
	return k
}

// rcvLen is the number of bytes received in order and not yet read.
func (c *Conn) rcvLen() int { return int(c.rcv.n) }

// rcvReserve makes the receive ring hold at least need bytes from its
// head, of which the first keep (the unread data and the held data after
// it) are live: a larger ring takes them unwrapped, from its start.
func (c *Conn) rcvReserve(keep, need int) {
	b := &c.rcv
	if need <= len(b.mem) {
		return
	}
	size := c.ringSize(len(b.mem), need, c.rcvLast, c.ooo.len() == 0)
	m := c.borrow(size)
	if keep > 0 {
		b.read(m[:keep], 0)
	}
	c.release(&b.mem)
	b.mem, b.head = m, 0
}

// burstMin is the least a ring must take, when it has none, for the
// size it last had to be used: a burst (an MSS-sized segment or more, a
// write of more), not a small message.
const burstMin = 1 << 10

// ringSize is the size a ring of size cur must grow to for need bytes:
// the smallest power of two, at least minBuffer, that holds them by
// doubling, or when the ring has none (cur == 0) and need is a burst, the
// size it last had (1<<last), unless the buffer budget is under pressure.
// With inOrder (a send ring; a receive ring holding no data out of order)
// the same goes for a small ring that a short message took meanwhile (a
// write's remainder of a few bytes into an emptied send ring, a bulk
// write's short last segment into an emptied receive ring): the burst
// after it takes the size the ring had, rather than double up to it (a
// copy and an array per step). A ring under an out-of-order flood still
// doubles.
func (c *Conn) ringSize(cur, need int, last uint8, inOrder bool) int {
	size := max(minBuffer, cur)
	if (cur == 0 || inOrder) && last > 0 && need >= burstMin && !c.pol.mem.pressure(&c.pol.cfg) {
		size = max(size, 1<<last)
	}
	for size < need {
		size *= 2
	}
	return size
}

// ringLog is the log2 of a ring's size (a power of two), 0 for none.
func ringLog(n int) uint8 {
	if n <= 0 || n&(n-1) != 0 {
		return 0
	}
	return uint8(bits.TrailingZeros(uint(n)))
}

// dropRcv gives the receive ring back (nothing is unread or held).
func (c *Conn) dropRcv() {
	if l := ringLog(len(c.rcv.mem)); l > 0 {
		c.rcvLast = l
	}
	c.release(&c.rcv.mem)
	c.rcv.head, c.rcv.n = 0, 0
}

// The send buffer is a ring (sendBuffer), not a view: a view needs room
// after its live bytes to slide in, which is as much again (a send buffer
// that autotuned to 4 MiB held an 8 MiB array), where a ring's array is
// the data's size rounded up to a power of two (4 MiB for 4 MiB). A
// segment is sent from the ring in place, unless it runs over the end of
// the array: then it is copied, once, into a small scratch array borrowed
// with the ring.
type sendBuffer struct {
	mem     []byte // the ring: len(mem) is its capacity
	scratch []byte // a wrapping segment's bytes, while it is sent
	head    int32  // where in mem the first byte (sndBufSeq) is
	n       int32  // bytes held
}

// sndLen is the number of bytes in the send buffer: written and not yet
// acknowledged.
func (c *Conn) sndLen() int { return int(c.snd.n) }

// sndBytes returns the n bytes that start off bytes into the send buffer,
// valid until the buffer next changes.
func (c *Conn) sndBytes(off, n int) []byte {
	b := &c.snd
	at := int(b.head) + off
	if at >= len(b.mem) {
		at -= len(b.mem)
	}
	if at+n <= len(b.mem) {
		return b.mem[at : at+n]
	}
	if cap(b.scratch) < n {
		// The largest segment the connection sends, at once: a scratch
		// regrown piece by piece (a wrapping super-segment is any size
		// up to it) would take a new array now and then for as long as
		// the connection runs.
		c.release(&b.scratch)
		b.scratch = c.borrow(max(n, c.sendUnit()))
	}
	k := copy(b.scratch[:n], b.mem[at:])
	copy(b.scratch[k:n], b.mem)
	return b.scratch[:n]
}

// borrow returns an array of at least n bytes, from the pool if there is
// one, with its length set to its capacity.
func (c *Conn) borrow(n int) []byte {
	var m []byte
	if c.pol.cfg.Buffers != nil {
		m = c.pol.cfg.Buffers.Get(n)
	} else {
		m = make([]byte, 0, n)
	}
	c.account(cap(m))
	return m[:cap(m)]
}

// consumeSnd drops n bytes from the front of the send buffer.
func (c *Conn) consumeSnd(n int) {
	b := &c.snd
	b.n -= int32(n)
	if b.n <= 0 {
		c.dropSnd()
		return
	}
	b.head += int32(n)
	if int(b.head) >= len(b.mem) {
		b.head -= int32(len(b.mem))
	}
}

// dropSnd empties the send buffer and gives its arrays back.
func (c *Conn) dropSnd() {
	b := &c.snd
	if l := ringLog(len(b.mem)); l > 0 {
		c.sndLast = l
	}
	c.release(&b.mem)
	c.release(&b.scratch)
	b.head, b.n = 0, 0
}

// appendSnd appends p to the send buffer. The ring grows to the smallest
// power of two (at least minBuffer) that holds the data: doubling, so that
// each byte is copied by growth about once.
func (c *Conn) appendSnd(p []byte) {
	b := &c.snd
	need := int(b.n) + len(p)
	if need > len(b.mem) {
		m := c.borrow(c.ringSize(len(b.mem), need, c.sndLast, true))
		// Unwrapped into the new ring, from its start.
		k := copy(m, b.mem[b.head:min(len(b.mem), int(b.head+b.n))])
		copy(m[k:b.n], b.mem)
		n := b.n
		c.release(&b.mem)
		b.mem, b.head, b.n = m, 0, n
	}
	at := int(b.head + b.n)
	if at >= len(b.mem) {
		at -= len(b.mem)
	}
	k := copy(b.mem[at:], p)
	copy(b.mem, p[k:])
	b.n += int32(len(p))
}

// appendRcv appends in-order data to the receive buffer. Data held out of
// order (reasm.go) lies after it in the ring, where it stays.
func (c *Conn) appendRcv(p []byte) {
	extent := c.oooExtent()
	n := int(c.rcv.n)
	c.rcvReserve(n+extent, n+max(len(p), extent))
	c.rcv.write(n, p)
	c.rcv.n += int32(len(p))
}

// readRcv copies unread data from the front of the receive buffer into p
// and returns how much; consumeRcv drops it.
func (c *Conn) readRcv(p []byte) int {
	return c.rcv.read(p[:min(len(p), int(c.rcv.n))], 0)
}

// consumeRcv drops n bytes from the front of the receive buffer.
func (c *Conn) consumeRcv(n int) {
	b := &c.rcv
	b.n -= int32(n)
	if b.n == 0 && c.ooo.len() == 0 {
		c.dropRcv()
		return
	}
	b.head = int32(b.at(n))
}
