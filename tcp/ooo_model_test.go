package tcp

import (
	"math/rand/v2"
	"testing"

	"github.com/gosynack/synack/seq"
)

// TestOOOQueueModel drives the out-of-order index with 200,000 random
// inserts and removals of up to 5,000 ranges (blocks split, merged and
// shared out) near the top of the sequence space, so that it wraps, and
// compares every lookup with a sorted slice.
func TestOOOQueueModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := seq.Value(1<<32 - 20000)
	q := new(oooQueue)
	var model []oooNode // sorted, disjoint, not touching; a range per even slot
	held := map[uint32]bool{}
	for op := 0; op < 200_000; op++ {
		k := uint32(rng.IntN(5000))
		start := base.Add(seq.Size(4 * k))
		if rng.IntN(3) > 0 && !held[k] || len(model) == 0 {
			if !held[k] {
				q.insert(start, start.Add(2))
				held[k] = true
			}
		} else if held[k] {
			q.remove(start)
			delete(held, k)
		}
		if op%1000 == 0 || op > 199_000 {
			model = model[:0]
			for j := uint32(0); j < 5000; j++ {
				if held[j] {
					s := base.Add(seq.Size(4 * j))
					model = append(model, oooNode{s, s.Add(2)})
				}
			}
			checkModel(t, q, model)
			for i := 0; i < 50; i++ {
				v := base.Add(seq.Size(rng.IntN(4*5000 + 8)))
				want := -1
				for j, n := range model {
					if n.end.GreaterThanEq(v) {
						want = j
						break
					}
				}
				if r := q.ceilEnd(v); want < 0 && r != 0 || want >= 0 && (r == 0 || *q.node(r) != model[want]) {
					t.Fatalf("op %d: ceilEnd(%d) wrong (want index %d)", op, v, want)
				}
				want = -1
				for j, n := range model {
					if n.start.GreaterThan(v) {
						want = j
						break
					}
				}
				if r := q.after(v); want < 0 && r != 0 || want >= 0 && (r == 0 || *q.node(r) != model[want]) {
					t.Fatalf("op %d: after(%d) wrong (want index %d)", op, v, want)
				}
			}
		}
	}
}

func checkModel(t *testing.T, q *oooQueue, model []oooNode) {
	t.Helper()
	if q.len() != len(model) {
		t.Fatalf("%d ranges, want %d", q.len(), len(model))
	}
	i := 0
	for r := q.first(); r != 0; r = q.next(r) {
		if *q.node(r) != model[i] {
			t.Fatalf("range %d is %v, want %v", i, *q.node(r), model[i])
		}
		i++
	}
	for b, blk := range q.blocks {
		if len(blk) == 0 || len(blk) < oooBlock/2 && len(q.blocks) > 1 || q.firsts[b] != blk[0].start {
			t.Fatalf("block %d of %d: %d ranges, start %d", b, len(q.blocks), len(blk), q.firsts[b])
		}
	}
	if len(model) > 0 && (q.hi != model[len(model)-1].end || *q.node(q.last()) != model[len(model)-1]) {
		t.Fatalf("hi %d, last range ends at %d", q.hi, model[len(model)-1].end)
	}
}
