package stack

import (
	"testing"
	"unsafe"
)

// TestEntrySize bounds the stack's part of an idle connection (issue 8):
// its entry, and its map key.
func TestEntrySize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the bounds are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(entry{}); n > 48 {
		t.Errorf("unsafe.Sizeof(entry{}) = %d, above 48", n)
	}
}
