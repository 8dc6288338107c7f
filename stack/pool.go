package stack

import "math/bits"

// bufferPool is the stack's tcp.BufferPool: free lists of power-of-two
// arrays, from tcp's smallest (4 KiB) up. The stack's connections borrow
// their send and receive buffers from it and give them back when empty, so
// a steady exchange reuses the same arrays and idle connections hold none.
// It keeps at most poolMaxBytes, so that a burst does not pin memory
// forever.
type bufferPool struct {
	free  [28][][]byte // by log2 of the capacity
	bytes int
}

const poolMaxBytes = 64 << 20

func class(n int) int { return bits.Len(uint(n - 1)) }

func (p *bufferPool) Get(n int) []byte {
	k := class(n)
	if k < len(p.free) {
		if l := p.free[k]; len(l) > 0 {
			b := l[len(l)-1]
			l[len(l)-1] = nil
			p.free[k] = l[:len(l)-1]
			p.bytes -= cap(b)
			return b
		}
		return make([]byte, 0, 1<<k)
	}
	return make([]byte, 0, n)
}

func (p *bufferPool) Put(b []byte) {
	c := cap(b)
	if c == 0 || c&(c-1) != 0 || p.bytes+c > poolMaxBytes {
		return
	}
	k := class(c)
	if k >= len(p.free) {
		return
	}
	p.free[k] = append(p.free[k], b[:0])
	p.bytes += c
}
