package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A small soak is deterministic (without the wall-clock column): its table
// is a golden file.
func TestSoakGolden(t *testing.T) {
	out, errOut, code := runCLI(t, "soak", "--runs", "3", "--case", "clean,loss-5,reorder-delay,duplicate", "--wall=false", "--parallel", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("stderr is not a terminal, yet got %q", errOut)
	}
	checkGolden(t, filepath.Join("testdata", "soak-small.golden"), out)
}

// The udp cases add a table of their datagrams: how many were sent,
// delivered, duplicated, reordered and lost, and none delivered not as
// sent. In Chinese its note is translated.
func TestSoakUDPGolden(t *testing.T) {
	args := []string{"soak", "--runs", "2", "--case", "udp-storm,udp-corrupt", "--wall=false", "--parallel", "2"}
	out, errOut, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkGolden(t, filepath.Join("testdata", "soak-udp.golden"), out)
	zh, errOut, code := runCLI(t, append(args, "--lang", "zh")...)
	if code != 0 {
		t.Fatalf("--lang zh: exit %d: %s", code, errOut)
	}
	if !strings.Contains(zh, "udp：所有运行中客户端在传输之外发送的数据报") || strings.Contains(zh, "datagrams the client sent") {
		t.Errorf("--lang zh: the udp note is not in Chinese:\n%s", zh)
	}
}

// One run alone, with its ladder.
func TestSoakOneSeedGolden(t *testing.T) {
	out, errOut, code := runCLI(t, "soak", "--case", "loss-5", "--seed", "4", "--size", "6000", "--ladder", "--ascii")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkGolden(t, filepath.Join("testdata", "soak-one.golden"), out)
}

// The parallel workers do not change the results.
func TestSoakParallelSame(t *testing.T) {
	args := []string{"soak", "--runs", "4", "--case", "storm,corrupt", "--wall=false"}
	a, _, _ := runCLI(t, append(args, "--parallel", "1")...)
	b, _, _ := runCLI(t, append(args, "--parallel", "3")...)
	if a != b {
		t.Fatalf("--parallel 1 and 3 differ:\n%s", diff(a, b))
	}
}

func TestSoakBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"soak", "--case", "nosuch"}, `unknown case "nosuch"`},
		{[]string{"soak", "--runs", "0"}, "--runs 0"},
		{[]string{"soak", "--parallel", "0"}, "--parallel 0"},
		{[]string{"soak", "--size", "-5"}, "--size -5"},
		{[]string{"soak", "--seed", "3"}, "name it with --case"},
		{[]string{"soak", "--case", "clean", "--ladder"}, "need --seed"},
		{[]string{"soak", "--efficiency", "--case", "clean"}, "--efficiency takes none"},
		{[]string{"soak", "--quick"}, "--quick goes with --efficiency or --hostile"},
		{[]string{"soak", "--runs", "x"}, "invalid argument"},
		{[]string{"soak", "extra"}, "takes no arguments"},
	}
	for _, c := range cases {
		out, errOut, code := runCLI(t, c.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stdout %q)", c.args, code, out)
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%q: stderr %q lacks %q", c.args, errOut, c.want)
		}
	}
}

// The quick hostile soak without its timings is deterministic: a golden
// file, in English and in Chinese.
func TestSoakHostileGolden(t *testing.T) {
	for _, c := range []struct{ lang, file string }{{"en", "soak-hostile.golden"}, {"zh", "soak-hostile.zh.golden"}} {
		out, errOut, code := runCLI(t, "--lang", c.lang, "soak", "--hostile", "--quick", "--wall=false")
		if code != 0 {
			t.Fatalf("--lang %s: exit %d: %s", c.lang, code, errOut)
		}
		checkGolden(t, filepath.Join("testdata", c.file), out)
	}
}

func TestSoakHostileBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"soak", "--hostile", "--case", "clean"}, `unknown attack "clean"`},
		{[]string{"soak", "--hostile", "--runs", "3"}, "not --runs"},
		{[]string{"soak", "--hostile", "--parallel", "2"}, "not --parallel"},
		{[]string{"soak", "--hostile", "--efficiency"}, "not --efficiency"},
		{[]string{"soak", "--hostile", "--seed", "x"}, "invalid argument"},
	}
	for _, c := range cases {
		out, errOut, code := runCLI(t, c.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stdout %q)", c.args, code, out)
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%q: stderr %q lacks %q", c.args, errOut, c.want)
		}
	}
}
