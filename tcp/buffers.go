package tcp

// Send and receive buffers. Each is a view (c.snd, c.rcv) into a backing
// array borrowed from Config.Buffers: data is appended at the view's end
// and consumed from its front, and when the view reaches the end of the
// backing array the live bytes slide back to its start. The backing array
// is at least twice the live data, so each byte is moved at most about
// once. An empty buffer goes back to the pool, so an idle connection holds
// no buffer at all, and a busy one takes the same arrays over and over
// without allocating.

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
	copy(n, v[:keep])
	c.release(mem)
	*mem = n
	return n[:len(v)]
}

// release hands the backing array *mem back to the pool.
func (c *Conn) release(mem *[]byte) {
	if *mem != nil && c.pol.cfg.Buffers != nil {
		c.pol.cfg.Buffers.Put((*mem)[:0])
	}
	*mem = nil
}

// consumeSnd drops n bytes from the front of the send buffer.
func (c *Conn) consumeSnd(n int) {
	c.snd = c.snd[n:]
	if len(c.snd) == 0 {
		c.snd = nil
		c.release(&c.sndMem)
	}
}

// appendSnd appends p to the send buffer.
func (c *Conn) appendSnd(p []byte) {
	c.snd = c.reserve(&c.sndMem, c.snd, len(c.snd), len(c.snd)+len(p))
	c.snd = append(c.snd, p...)
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
