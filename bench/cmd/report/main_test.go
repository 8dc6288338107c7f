package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.md from the current output")

func TestGolden(t *testing.T) {
	var out bytes.Buffer
	if err := run("", []string{"testdata/sample.txt"}, &out); err != nil {
		t.Fatal(err)
	}
	golden := "testdata/sample.md"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("output differs from %s (go test -update to accept):\n%s", golden, out.Bytes())
	}
}

func TestMedian(t *testing.T) {
	var tab Table
	if err := tab.Read("x", strings.NewReader("BenchmarkA/stack=synack-2 1 1 ns/op 3 rt/s\nBenchmarkA/stack=synack-2 1 1 ns/op 1 rt/s\nBenchmarkA/stack=synack-2 1 1 ns/op 2 rt/s\nBenchmarkA/stack=synack-2 1 1 ns/op 10 rt/s\n")); err != nil {
		t.Fatal(err)
	}
	if m, n := tab.Median("A", "rt/s", "synack"); m != 2.5 || n != 4 {
		t.Errorf("median of 3,1,2,10 = %v over %d values, want 2.5 over 4", m, n)
	}
}

func TestWriteInPlace(t *testing.T) {
	md := filepath.Join(t.TempDir(), "B.md")
	os.WriteFile(md, []byte("# B\n\nbefore\n<!-- report:begin -->\nold tables\n<!-- report:end -->\nafter\n"), 0o644)
	if err := run(md, []string{"testdata/sample.txt"}, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(md)
	s := string(got)
	if strings.Contains(s, "old tables") || !strings.Contains(s, "**Bulk/mtu=1500**") ||
		!strings.HasPrefix(s, "# B\n\nbefore\n<!-- report:begin -->\n") || !strings.HasSuffix(s, "<!-- report:end -->\nafter\n") {
		t.Errorf("rewritten file:\n%s", s)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, []byte("PASS\n"), 0o644)
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("goos: linux\nBenchmarkA/stack=synack-2 1 1 ns/op 3\n"), 0o644)
	nomark := filepath.Join(dir, "nomark.md")
	os.WriteFile(nomark, []byte("# no markers\n"), 0o644)
	for _, tc := range []struct {
		write string
		files []string
		want  string
	}{
		{"", []string{filepath.Join(dir, "missing.txt")}, "missing.txt: no such file"},
		{"", []string{empty}, "empty.txt: no benchmark results"},
		{"", []string{bad}, "bad.txt:2: "},
		{nomark, []string{"testdata/sample.txt"}, "nomark.md: no \"<!-- report:begin -->\" line"},
	} {
		err := run(tc.write, tc.files, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q, %q) = %v, want an error containing %q", tc.write, tc.files, err, tc.want)
		}
	}
}

// FuzzRead feeds arbitrary text to the reader and the table writer: they
// return an error or write tables, never panic.
func FuzzRead(f *testing.F) {
	sample, _ := os.ReadFile("testdata/sample.txt")
	f.Add(string(sample))
	f.Add("BenchmarkA/stack=gvisor-2 1 1 ns/op NaN rt/s\n")
	f.Fuzz(func(t *testing.T, s string) {
		var tab Table
		if tab.Read("fuzz", strings.NewReader(s)) == nil {
			tab.Markdown(&bytes.Buffer{})
		}
	})
}

// A ratio is taken within a round: the machine slowing down between rounds
// (here twofold) must not land in it.
func TestRatioPerRound(t *testing.T) {
	var tab Table
	in := "round: 1\nBenchmarkA/stack=synack-2 1 1 ns/op 200 MB/s\nBenchmarkA/stack=gvisor-2 1 1 ns/op 100 MB/s\n" +
		"round: 2\nBenchmarkA/stack=synack-2 1 1 ns/op 100 MB/s\nBenchmarkA/stack=gvisor-2 1 1 ns/op 40 MB/s\n" +
		"round: 3\nBenchmarkA/stack=synack-2 1 1 ns/op 90 MB/s\nBenchmarkA/stack=gvisor-2 1 1 ns/op 30 MB/s\n" +
		"round: 4\nBenchmarkA/stack=synack-2 1 1 ns/op 50 MB/s\n"
	if err := tab.Read("x", strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	r := tab.Ratio("A", "MB/s", "synack", "gvisor")
	if r.Med != 2.5 || r.Lo != 2 || r.Hi != 3 || r.N != 3 {
		t.Errorf("per-round ratios of 200/100, 100/40, 90/30 (round 4 has no gvisor) = %+v, want median 2.5, range 2-3, 3 rounds", r)
	}
	if got := r.String(); got != "2.50× (2.00–3.00)" {
		t.Errorf("String() = %q", got)
	}
}
