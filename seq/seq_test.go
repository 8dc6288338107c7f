package seq

import (
	"math"
	"testing"
)

func TestCompareWraps(t *testing.T) {
	// RFC 9293 §3.4: "the space ranges from 0 to 2^32 - 1 ... all arithmetic
	// dealing with sequence numbers must be performed modulo 2^32."
	cases := []struct {
		a, b Value
		less bool
	}{
		{0, 1, true},
		{1, 0, false},
		{math.MaxUint32, 0, true},
		{math.MaxUint32 - 10, 5, true},
		{5, math.MaxUint32 - 10, false},
		{7, 7, false},
	}
	for _, c := range cases {
		if got := c.a.LessThan(c.b); got != c.less {
			t.Errorf("%d < %d = %v, want %v", c.a, c.b, got, c.less)
		}
		if got := c.a.GreaterThanEq(c.b); got == c.less {
			t.Errorf("%d >= %d = %v, want %v", c.a, c.b, got, !c.less)
		}
	}
	if !Value(7).LessThanEq(7) || !Value(7).GreaterThanEq(7) || Value(7).GreaterThan(7) {
		t.Error("equal values compare wrongly")
	}
}

func TestAddSub(t *testing.T) {
	v := Value(math.MaxUint32 - 1)
	if got := v.Add(3); got != 1 {
		t.Fatalf("add wraps: got %d, want 1", got)
	}
	if d := Value(1).Sub(v); d != 3 {
		t.Fatalf("sub across wrap: got %d, want 3", d)
	}
	if d := v.Sub(1); d != -3 {
		t.Fatalf("negative sub: got %d, want -3", d)
	}
	if s := Value(1).Size(v); s != 3 {
		t.Fatalf("size across wrap: got %d, want 3", s)
	}
}

func TestWindow(t *testing.T) {
	start := Value(math.MaxUint32 - 2)
	for _, c := range []struct {
		v    Value
		size Size
		in   bool
	}{
		{start, 5, true},
		{start.Add(4), 5, true},
		{start.Add(5), 5, false},
		{start - 1, 5, false},
		{start, 0, false},
		{1, 5, true},
	} {
		if got := c.v.InWindow(start, c.size); got != c.in {
			t.Errorf("%d in [%d,+%d) = %v, want %v", c.v, start, c.size, got, c.in)
		}
		if got := c.v.InRange(start, start.Add(c.size)); got != c.in {
			t.Errorf("%d in range [%d,%d) = %v, want %v", c.v, start, start.Add(c.size), got, c.in)
		}
	}
	if Max(math.MaxUint32, 2) != 2 || Min(math.MaxUint32, 2) != math.MaxUint32 {
		t.Error("Max/Min across the wrap")
	}
}
