package tcp

// Send and receive buffers, in arrays borrowed from Config.Buffers. The
// send buffer is a ring (sendBuffer, below). The receive buffer is a view
// (c.rcv) into a backing array, which also holds the data held out of order
// after it (reasm.go): data is appended at the view's end and consumed from
// its front, and when the view reaches the end of the backing array the
// live bytes slide back to its start. That backing array is at least twice
// the live data, so each byte is moved at most about once. An empty buffer
// goes back to the pool, so an idle connection holds no buffer at all, and
// a busy one takes the same arrays over and over without allocating.

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

// reserve returns a view with the same length as v and a capacity of at
// least need, whose first keep bytes (keep <= cap(v)) are v's: the live
// data, and for the receive buffer the data held out of order after it. *mem is the
// backing array v lies in, replaced if it must grow.
func (c *Conn) reserve(mem *[]byte, v []byte, keep, need int) []byte {
	if cap(v) >= need {
		return v
	}
	m := *mem
	if cap(m) >= 2*need {
		// Enough room: slide the live bytes to the start.
		copy(m[:keep], v[:keep])
		return m[:len(v)]
	}
	size := minBuffer
	for size < 2*need {
		size *= 2
	}
	var n []byte
	if c.pol.cfg.Buffers != nil {
		n = c.pol.cfg.Buffers.Get(size)
	} else {
		n = make([]byte, 0, size)
	}
	n = n[:cap(n)]
	c.account(cap(n))
	copy(n, v[:keep])
	c.release(mem)
	*mem = n
	return n[:len(v)]
}

// release hands the backing array *mem back to the pool.
func (c *Conn) release(mem *[]byte) {
	c.account(-cap(*mem))
	if *mem != nil && c.pol.cfg.Buffers != nil {
		c.pol.cfg.Buffers.Put((*mem)[:0])
	}
	*mem = nil
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
		c.release(&b.scratch)
		b.scratch = c.borrow(n)
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
		size := max(minBuffer, len(b.mem))
		for size < need {
			size *= 2
		}
		m := c.borrow(size)
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
// order (reasm.go) lies after it in the backing array and moves with it.
func (c *Conn) appendRcv(p []byte) {
	extent := c.oooExtent()
	c.rcv = c.reserve(&c.rcvMem, c.rcv, len(c.rcv)+extent, len(c.rcv)+max(len(p), extent))
	c.rcv = append(c.rcv, p...)
}

// consumeRcv drops n bytes from the front of the receive buffer.
func (c *Conn) consumeRcv(n int) {
	c.rcv = c.rcv[n:]
	if len(c.rcv) == 0 && c.ooo.len() == 0 {
		c.rcv = nil
		c.release(&c.rcvMem)
	}
}
