package cc

import (
	"testing"
	"unsafe"
)

// TestCubicSize bounds the controller every connection carries (issue 8):
// the undo state is allocated only at the first congestion event, and
// HyStart++'s only when it is on (one pointer: 112 bytes became 120).
func TestCubicSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the bounds are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(Cubic{}); n > 120 {
		t.Errorf("unsafe.Sizeof(Cubic{}) = %d, above 120", n)
	}
	if n := unsafe.Sizeof(NewReno{}); n > 80 {
		t.Errorf("unsafe.Sizeof(NewReno{}) = %d, above 80", n)
	}
}
