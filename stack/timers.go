package stack

import (
	"container/heap"
	"slices"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
)

// timerHeap orders connections by deadline, then creation.
type timerHeap []*entry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].deadline != h[j].deadline {
		return h[i].deadline < h[j].deadline
	}
	return h[i].id < h[j].id
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = int32(i), int32(j)
}
func (h *timerHeap) Push(x any) {
	e := x.(*entry)
	e.heapIdx = int32(len(*h))
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.heapIdx = -1
	return e
}

// touch notes that e's connection was called into: it may have output,
// and its deadline may have moved.
func (s *Stack) touch(e *entry) {
	if !e.dirty {
		e.dirty = true
		s.dirty = append(s.dirty, e)
	}
	s.rearm(e)
}

// rearm brings e's place in the timer heap up to date.
func (s *Stack) rearm(e *entry) {
	d := clock.Never
	switch {
	case e.removed:
	case e.frozen:
		d = e.half.NextDeadline()
	default:
		d = e.conn.NextDeadline()
	}
	switch {
	case d == e.deadline && (e.heapIdx >= 0) == (d != clock.Never):
	case d == clock.Never:
		if e.heapIdx >= 0 {
			heap.Remove(&s.timers, int(e.heapIdx))
		}
	case e.heapIdx >= 0:
		e.deadline = d
		heap.Fix(&s.timers, int(e.heapIdx))
	default:
		e.deadline = d
		heap.Push(&s.timers, e)
	}
	e.deadline = d
}

// Update tells the stack that c was changed by a direct call rather than
// through the stack (a socket option such as (*tcp.Conn).SetKeepAlive): its
// timers and output are looked at again.
func (s *Stack) Update(c *tcp.Conn) {
	if e := s.entryOf(c); e != nil && e.conn == c {
		s.touch(e)
	}
}

// HandleTimeout runs every connection timer due at or before now, in
// creation order.
func (s *Stack) HandleTimeout(now clock.Time) {
	due := s.due[:0]
	for len(s.timers) > 0 && s.timers[0].deadline <= now {
		due = append(due, heap.Pop(&s.timers).(*entry))
	}
	slices.SortFunc(due, byID)
	for _, e := range due {
		e.deadline = clock.Never
		if !e.removed {
			s.expire(now, e)
		}
	}
	clear(due)
	s.due = due[:0]
	if s.fwd != nil {
		s.fwd.expire(now)
	}
	if len(s.frag.queues) > 0 {
		s.fragExpire(now) // frag.go
	}
	if s.poolTrimAt <= now {
		s.poolTrimAt = clock.Never
		if s.pool.trim(); s.pool.over() { // pool.go
			s.poolTrimAt = now.Add(poolTrimDelay)
		}
	}
}

// NextDeadline returns the earliest timer of any connection (or of the
// TCP forwarder's held SYNs, a reassembly timeout, or the buffer pool's
// trim).
func (s *Stack) NextDeadline() clock.Time {
	d := clock.Never
	if len(s.timers) > 0 {
		d = s.timers[0].deadline
	}
	if s.fwd != nil {
		d = min(d, s.fwd.nextDeadline())
	}
	if len(s.frag.queues) > 0 {
		d = min(d, s.fragDeadline()) // frag.go
	}
	return min(d, s.poolTrimAt)
}

func byID(a, b *entry) int {
	switch {
	case a.id < b.id:
		return -1
	case a.id > b.id:
		return 1
	}
	return 0
}
