// Package seq implements TCP sequence numbers: 32-bit values compared and
// added modulo 2^32 as RFC 9293 §3.4 requires ("the space ranges from 0 to
// 2^32 - 1 ... all arithmetic dealing with sequence numbers must be
// performed modulo 2^32").
package seq

import "strconv"

// Value is a sequence (or acknowledgment) number.
type Value uint32

// Size is a length in sequence space: a window or a byte count.
type Size uint32

// Add returns v + n modulo 2^32.
func (v Value) Add(n Size) Value { return v + Value(n) }

// Sub returns the signed distance v - w, which is correct whenever the two
// values are less than 2^31 apart (the premise of TCP's comparisons).
func (v Value) Sub(w Value) int32 { return int32(v - w) }

// Size returns the unsigned distance from w up to v (v - w mod 2^32).
func (v Value) Size(w Value) Size { return Size(v - w) }

// LessThan reports v < w in sequence space.
func (v Value) LessThan(w Value) bool { return int32(v-w) < 0 }

// LessThanEq reports v <= w in sequence space.
func (v Value) LessThanEq(w Value) bool { return int32(v-w) <= 0 }

// GreaterThan reports v > w in sequence space.
func (v Value) GreaterThan(w Value) bool { return int32(v-w) > 0 }

// GreaterThanEq reports v >= w in sequence space.
func (v Value) GreaterThanEq(w Value) bool { return int32(v-w) >= 0 }

// InRange reports start <= v < end in sequence space.
func (v Value) InRange(start, end Value) bool {
	return Value(v-start) < Value(end-start)
}

// InWindow reports start <= v < start+size. A zero-size window contains
// nothing.
func (v Value) InWindow(start Value, size Size) bool {
	return Size(v-start) < size
}

// Max returns the later of v and w in sequence space.
func Max(v, w Value) Value {
	if v.LessThan(w) {
		return w
	}
	return v
}

// Min returns the earlier of v and w in sequence space.
func Min(v, w Value) Value {
	if v.LessThan(w) {
		return v
	}
	return w
}

func (v Value) String() string { return strconv.FormatUint(uint64(v), 10) }
