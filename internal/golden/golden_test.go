package golden

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDiff(t *testing.T) {
	if d := Diff("a\nb\nc", "a\nB\nc\nd"); d != "line 2:\n  want: b\n  got:  B\nline 4:\n  want: \n  got:  d\n" {
		t.Fatalf("Diff = %q", d)
	}
	if d := Diff("same", "same"); d != "" {
		t.Fatalf("Diff of equal texts = %q", d)
	}
}

// fakeTB records failures instead of failing.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Errorf(string, ...any) { f.failed = true }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	Check(t, path, "one\n", true, "./x")
	if b, err := os.ReadFile(path); err != nil || string(b) != "one\n" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}
	Check(t, path, "one\n", false, "./x")
	f := &fakeTB{TB: t}
	Check(f, path, "two\n", false, "./x")
	if !f.failed {
		t.Fatal("a differing output passed")
	}
}
