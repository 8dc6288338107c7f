package stack

import (
	"math/bits"
	"time"
)

// bufferPool is the stack's tcp.BufferPool: free lists of power-of-two
// arrays, from tcp's smallest (4 KiB) up. The stack's connections borrow
// their send and receive buffers from it and give them back when empty, so
// a steady exchange reuses the same arrays and idle connections hold none.
// It keeps at most poolMaxBytes, or as much as its connections held at
// their peak since it was last trimmed when that is more: many bulk
// connections (64 with rings of megabytes) hand their emptied rings back
// together at the end of a burst and take them again at the next, and a
// pool capped below what they cycle through dropped them and allocated
// them anew. What it keeps above poolMaxBytes is given up once the
// connections no longer hold as much: the Stack trims it every
// poolTrimDelay while it is over, down to the most they held in the last
// period (trim), so that a burst pins memory for at most two periods.
type bufferPool struct {
	free  [28][][]byte // by log2 of the capacity
	bytes int          // in the free lists
	lent  int          // handed out by Get and not yet given back
	peak  int          // the most lent since the last trim
}

const poolMaxBytes = 64 << 20

// poolTrimDelay is how long the pool may keep more than poolMaxBytes
// before the Stack trims it to what its connections then hold.
const poolTrimDelay = time.Second

// limit is what the pool may keep now.
func (p *bufferPool) limit() int { return max(poolMaxBytes, p.peak) }

// over reports whether the pool keeps more than poolMaxBytes: a trim is
// due at some point.
func (p *bufferPool) over() bool { return p.bytes > poolMaxBytes }

// trim ends a period of poolTrimDelay: it gives up free arrays, the
// largest first, until the pool keeps no more than poolMaxBytes or the
// most its connections held in the period, and starts the next period's
// peak from what is lent now. A pool whose connections went idle keeps
// their last burst's arrays through one more period, and is down to
// poolMaxBytes at the end of the next.
func (p *bufferPool) trim() {
	keep := p.limit()
	p.peak = p.lent
	for k := len(p.free) - 1; k >= 0 && p.bytes > keep; k-- {
		l := p.free[k]
		for len(l) > 0 && p.bytes > keep {
			p.bytes -= cap(l[len(l)-1])
			l[len(l)-1] = nil
			l = l[:len(l)-1]
		}
		p.free[k] = l
	}
}

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
			p.lend(cap(b))
			return b
		}
		p.lend(1 << k)
		return make([]byte, 0, 1<<k)
	}
	p.lend(n)
	return make([]byte, 0, n)
}

func (p *bufferPool) lend(c int) {
	p.lent += c
	p.peak = max(p.peak, p.lent)
}

func (p *bufferPool) Put(b []byte) {
	c := cap(b)
	p.lent = max(p.lent-c, 0)
	if c == 0 || c&(c-1) != 0 || p.bytes+c > p.limit() {
		return
	}
	k := class(c)
	if k >= len(p.free) {
		return
	}
	p.free[k] = append(p.free[k], b[:0])
	p.bytes += c
}
