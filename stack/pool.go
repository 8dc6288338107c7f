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

// poolListCap is how many arrays of one size each free list holds before
// its slice has to grow: the lists are made at that capacity when the
// pool is (one array of 28*poolListCap slots), so that the first array
// of a size given back, often well into a steady exchange (a ring of a
// size not needed before), allocates nothing.
const poolListCap = 8

// init makes the free lists' slices, and one array of the smallest size
// (4 KiB, tcp's minBuffer): what a connection's first short message
// takes, and what a bulk receiver takes when a write's short last segment
// finds its emptied ring gone, maybe long into a transfer, where the pool
// holds only the rings' large arrays.
func (p *bufferPool) init() {
	slots := make([][]byte, len(p.free)*poolListCap)
	for k := range p.free {
		p.free[k] = slots[k*poolListCap : k*poolListCap : (k+1)*poolListCap]
	}
	p.Put(make([]byte, 0, poolMinArray))
}

// poolMinArray is tcp's smallest buffer (minBuffer).
const poolMinArray = 4 << 10

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
