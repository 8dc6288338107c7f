package stack

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
)

// lendAll borrows n arrays of size bytes from p.
func lendAll(p *bufferPool, n, size int) [][]byte {
	bs := make([][]byte, n)
	for i := range bs {
		bs[i] = p.Get(size)
	}
	return bs
}

// Many bulk connections hand their emptied rings back together at the end
// of a burst and take them again at their next: the pool keeps what they
// give back up to what they held at their peak, even beyond poolMaxBytes,
// so that taking them again allocates nothing; a pool capped at
// poolMaxBytes dropped them (with 64 connections, 4 MiB rings were
// allocated anew at every burst, and makeslice was 15–30% of the CPU).
func TestPoolKeepsWhatConnectionsCycle(t *testing.T) {
	var p bufferPool
	p.init()
	const mib = 1 << 20
	bs := lendAll(&p, 256, mib)
	for _, b := range bs[:100] {
		p.Put(b)
	}
	if p.bytes != 100*mib+poolMinArray || p.lent != 156*mib {
		t.Fatalf("after 100 of 256 MiB given back: keeps %d, lent %d; want %d and %d", p.bytes, p.lent, 100*mib+poolMinArray, 156*mib)
	}
	if n := testing.AllocsPerRun(10, func() {
		for i := range 100 {
			bs[i] = p.Get(mib)
		}
		for _, b := range bs[:100] {
			p.Put(b)
		}
	}); n != 0 {
		t.Errorf("taking the 100 arrays again allocated %v times", n)
	}
	// All given back, as at a burst's end: the pool keeps up to the
	// peak's 256 MiB until it is trimmed (with its first 4 KiB array, the
	// last MiB does not fit).
	for _, b := range bs[100:] {
		p.Put(b)
	}
	for _, b := range bs[:100] {
		p.Put(b)
	}
	if p.lent != 0 || p.bytes != 255*mib+poolMinArray {
		t.Fatalf("all given back: keeps %d, lent %d; want %d and 0", p.bytes, p.lent, 255*mib+poolMinArray)
	}
	if n := testing.AllocsPerRun(10, func() {
		for i := range 255 {
			bs[i] = p.Get(mib)
		}
		for _, b := range bs[:255] {
			p.Put(b)
		}
	}); n != 0 {
		t.Errorf("the next burst taking 255 arrays again allocated %v times", n)
	}
	// The first trim ends the period of the burst, whose peak was 256
	// MiB: nothing goes. The second ends a period with nothing lent.
	p.trim()
	if p.bytes != 255*mib+poolMinArray {
		t.Errorf("the first trim after the burst: keeps %d, want %d", p.bytes, 255*mib+poolMinArray)
	}
	p.trim()
	if p.bytes > poolMaxBytes || p.bytes < poolMaxBytes-mib {
		t.Errorf("trimmed after a period with nothing lent: keeps %d, want at most poolMaxBytes (%d) and within a MiB of it", p.bytes, poolMaxBytes)
	}
	// The peak starts again from what is lent at the trim.
	bs = lendAll(&p, 128, mib)
	for _, b := range bs {
		p.Put(b)
	}
	if p.bytes > 128*mib+poolMaxBytes {
		t.Errorf("after the trim a 128 MiB burst left %d kept", p.bytes)
	}
}

// What the pool keeps over poolMaxBytes is given up in periods of
// poolTrimDelay from when OutputTo first sees it over, at those exact
// deadlines (NextDeadline names them): the first keeps the peak of the
// period that ends, the second, with nothing lent, leaves poolMaxBytes.
func TestPoolTrimDeadline(t *testing.T) {
	s := newHost(t, netip.MustParseAddr("198.18.0.1"), nil)
	const mib = 1 << 20
	bs := lendAll(&s.pool, 256, mib)
	for _, b := range bs {
		s.pool.Put(b)
	}
	if !s.pool.over() {
		t.Fatalf("pool keeps %d MiB, not over %d", s.pool.bytes/mib, poolMaxBytes/mib)
	}
	if d := s.NextDeadline(); d != clock.Never {
		t.Fatalf("deadline %v before OutputTo saw the pool", d)
	}
	start := clock.Time(5 * time.Second)
	s.OutputTo(start, nil, func([]byte) {})
	want := start.Add(poolTrimDelay)
	if d := s.NextDeadline(); d != want {
		t.Fatalf("NextDeadline %v, want %v", d, want)
	}
	s.OutputTo(start.Add(time.Millisecond), nil, func([]byte) {})
	if d := s.NextDeadline(); d != want {
		t.Fatalf("a later OutputTo moved the deadline to %v, want %v", d, want)
	}
	before := s.pool.bytes
	s.HandleTimeout(want - 1)
	if s.pool.bytes != before {
		t.Fatalf("trimmed 1 ns early: %d -> %d", before, s.pool.bytes)
	}
	s.HandleTimeout(want)
	if s.pool.bytes != before {
		t.Fatalf("the first trim, ending the burst's period, gave up %d bytes", before-s.pool.bytes)
	}
	want = want.Add(poolTrimDelay)
	if d := s.NextDeadline(); d != want {
		t.Fatalf("after the first trim NextDeadline %v, want %v", d, want)
	}
	s.HandleTimeout(want)
	if s.pool.bytes > poolMaxBytes {
		t.Errorf("at %v the pool keeps %d, want at most %d", want, s.pool.bytes, poolMaxBytes)
	}
	if d := s.NextDeadline(); d != clock.Never {
		t.Errorf("after the trim NextDeadline is %v, want Never", d)
	}
}
