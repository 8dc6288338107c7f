package synack

import (
	"testing"
	"unsafe"
)

// TestConnSize bounds the Go API's part of an idle connection (issue 8;
// the TCB's own bound is tcp's TestConnSize): a Conn with its waiters, and
// no channel until a call blocks.
func TestConnSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the bounds are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(Conn{}); n > 176 {
		t.Errorf("unsafe.Sizeof(Conn{}) = %d, above 176", n)
	}
	if n := unsafe.Sizeof(waiter{}); n > 32 {
		t.Errorf("unsafe.Sizeof(waiter{}) = %d, above 32", n)
	}
}
