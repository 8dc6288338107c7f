package stack

import (
	"testing"
	"unsafe"
)

// TestEntrySize bounds the stack's part of an idle connection (issue 8):
// its entry, and its map key. 56 bytes (the 64-byte size class): the
// pointer to where a half-open connection is kept small (halfopen.go)
// took it past 48, which costs an established connection 16 bytes and
// saves a half-open one about 700. A half-open connection's entry and
// the HalfOpen it is kept in are one allocation of at most 144 bytes.
func TestEntrySize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the bounds are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(entry{}); n > 56 {
		t.Errorf("unsafe.Sizeof(entry{}) = %d, above 56", n)
	}
	if n := unsafe.Sizeof(halfEntry{}); n > 144 {
		t.Errorf("unsafe.Sizeof(halfEntry{}) = %d, above 144", n)
	}
}
