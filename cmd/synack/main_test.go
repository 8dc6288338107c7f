package main

import (
	"bytes"
	"flag"
	"fmt"
	"github.com/gosynack/synack/internal/golden"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gosynack/synack/sim"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// Every scenario's full output (ladder, caption, counters) is a golden
// file; each must also end the way it teaches (exit status 0).
func TestScenarioGolden(t *testing.T) {
	for _, name := range sim.Names() {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "scenario", "run", name, "--seed", "1")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			checkGolden(t, filepath.Join("testdata", name+".golden"), out)
		})
	}
}

// checkGolden compares got with a golden file (-update rewrites it).
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	golden.Check(t, path, got, *update, "./cmd/synack")
}

// diff lists the lines where two outputs differ.
func diff(want, got string) string { return golden.Diff(want, got) }

// The same seed gives byte-identical output, with impairments on; another
// seed gives another run.
func TestSameSeedSameBytes(t *testing.T) {
	args := []string{"demo", "--loss", "20%", "--dup", "0.1", "--reorder", "0.1", "--jitter", "30ms", "--events"}
	a, _, _ := runCLI(t, append(args, "--seed", "7")...)
	b, _, _ := runCLI(t, append(args, "--seed", "7")...)
	c, _, _ := runCLI(t, append(args, "--seed", "8")...)
	if a != b {
		t.Fatalf("two runs with seed 7 differ:\n%s", diff(a, b))
	}
	if a == c {
		t.Fatal("seeds 7 and 8 gave identical runs despite 20% loss")
	}
	if !strings.Contains(a, "link-drop") {
		t.Fatal("20% loss dropped nothing: the impairment was not applied")
	}
}

func TestDemo(t *testing.T) {
	out, errOut, code := runCLI(t, "demo")
	if code != 0 {
		t.Fatalf("demo exited %d: %s", code, errOut)
	}
	for _, want := range []string{"SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "LAST-ACK", "TIME-WAIT", "CLOSED", "three-way handshake"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"scenario", "run", "nosuch"}, `unknown scenario "nosuch"`},
		{[]string{"scenario", "run"}, "takes 1 argument"},
		{[]string{"scenario", "run", "demo", "extra"}, "takes 1 argument"},
		{[]string{"demo", "--loss", "5"}, "did you mean 5%"},
		{[]string{"demo", "--loss", "abc"}, "is not a number"},
		{[]string{"demo", "--loss", "150%"}, "outside 0..1"},
		{[]string{"demo", "--latency", "fast"}, "is not a duration"},
		{[]string{"demo", "--latency", "-5ms"}, "is negative"},
		{[]string{"demo", "--bandwidth", "lots"}, "not a positive rate"},
		{[]string{"demo", "--seed", "-1"}, "invalid argument"},
		{[]string{"demo", "--nosuchflag"}, "unknown flag"},
		{[]string{"demo", "extra"}, "takes no arguments"},
		{[]string{"nosuchcommand"}, "unknown command"},
		{[]string{"scenario"}, "needs a subcommand"},
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

// A run that cannot behave (every packet lost) fails with exit status 1 and
// says why, instead of pretending.
func TestMisbehavingRunFails(t *testing.T) {
	_, errOut, code := runCLI(t, "scenario", "run", "handshake", "--loss", "100%")
	if code != 1 || !strings.Contains(errOut, "did not behave") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestList(t *testing.T) {
	out, _, code := runCLI(t, "scenario", "list")
	if code != 0 {
		t.Fatal(code)
	}
	for _, n := range sim.Names() {
		if !strings.Contains(out, n) {
			t.Errorf("list lacks %s", n)
		}
	}
}

// Under impairments a scenario is judged on what it teaches, and says
// where this run left the story; without them, on its exact counts.
func TestImpairedScenario(t *testing.T) {
	for seed := 1; seed <= 10; seed++ {
		out, errOut, code := runCLI(t, "scenario", "run", "lost-syn", "--loss", "10%", "--seed", fmt.Sprint(seed))
		if code != 0 {
			t.Errorf("seed %d: exit %d: %s", seed, code, errOut)
		}
		if seed == 1 {
			for _, want := range []string{
				"note: with --loss 10% this run differs from the explanation above, which describes the run without impairments:\n",
				"\n  the link also lost 1 packet (#",
				"\n  the client retransmitted 2 segments and the server 0, where the run without impairments retransmits 1 and 0.\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("seed 1: the output lacks %q:\n%s", want, out)
				}
			}
		}
	}
	out, _, code := runCLI(t, "scenario", "run", "lost-syn", "--latency", "50ms", "--msl", "30s")
	if code != 0 || strings.Contains(out, "note:") {
		t.Errorf("a run the same as the story: exit %d, and a note:\n%s", code, out)
	}
}

// --msl is a positive duration: TIME-WAIT lasts 2·MSL of it. 0 and negative
// values are refused (0 once silently meant the default, 30 s).
func TestMSLFlag(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--msl", "0"},
		{"demo", "--msl", "0s"},
		{"demo", "--msl=-1s"},
		{"scenario", "run", "close", "--msl", "0"},
		{"scenario", "run", "http", "--msl", "0"},
	} {
		out, errOut, code := runCLI(t, args...)
		if code != 2 || !strings.Contains(errOut, "--msl") {
			t.Errorf("%q: exit %d, stderr %q (stdout %.100q)", args, code, errOut, out)
		}
	}
	_, errOut, _ := runCLI(t, "demo", "--msl", "0")
	if !strings.Contains(errOut, "e.g. --msl 1ms") {
		t.Errorf("--msl 0: the error does not say what to write instead: %q", errOut)
	}
	out, errOut, code := runCLI(t, "scenario", "run", "close", "--msl", "2s")
	// The client's TIME-WAIT begins at 0.22 s and lasts 2·MSL = 4 s.
	if code != 0 || !strings.Contains(out, "\n4.220000s  CLOSED ") {
		t.Errorf("--msl 2s: exit %d %s\n%s", code, errOut, out)
	}
}

// goIdent is a Go identifier in a message: a field of an options struct
// (Options.Conn) or a package's exported name (tcp.Config).
var goIdent = regexp.MustCompile(`\b(Options|Config|Overrides|Impairment|Scenario|Result)\.[A-Z]\w*|\b(tcp|sim|netsim|httpcost|ladder|pktdrill|capture)\.[A-Z]\w*`)

// What the command line prints names flags, not the Go identifiers behind
// them.
func TestMessagesNameFlags(t *testing.T) {
	sysctls := filepath.Join(t.TempDir(), "sysctls.pkt")
	os.WriteFile(sysctls, []byte("`sysctl /proc/sys/net/ipv4/tcp_fack=1 /proc/sys/net/ipv4/tcp_syn_retries=0`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string // in the output or the error
	}{
		{[]string{"scenario", "run", "http", "--ladder", "--requests", "2"}, "showing connection 2 of 2"},
		{[]string{"scenario", "run", "http", "--size", "-1"}, "--size -1:"},
		{[]string{"scenario", "run", "http", "--size", "2000000"}, "--size 2000000:"},
		{[]string{"scenario", "run", "http", "--requests", "1001"}, "--requests 1001:"},
		{[]string{"scenario", "run", "stale-syn", "--loss", "30%", "--seed", "3"}, ""},
		{[]string{"demo", "--msl", "0"}, "--msl"},
		{[]string{"packetdrill", sysctls}, "sysctl tcp_fack=1 ignored"},
	} {
		out, errOut, _ := runCLI(t, c.args...)
		if m := goIdent.FindString(out + errOut); m != "" {
			t.Errorf("%q names %s:\n%s%s", c.args, m, out, errOut)
		}
		if !strings.Contains(out+errOut, c.want) {
			t.Errorf("%q: the output lacks %q:\n%s%s", c.args, c.want, out, errOut)
		}
	}
}

// The scenario list, in English and in Chinese, is a golden file: a new
// scenario shows in it with its title.
func TestListGolden(t *testing.T) {
	for _, c := range []struct{ lang, file string }{{"en", "list.golden"}, {"zh", "list.zh.golden"}} {
		out, errOut, code := runCLI(t, "scenario", "list", "--lang", c.lang)
		if code != 0 {
			t.Fatalf("--lang %s: exit %d: %s", c.lang, code, errOut)
		}
		checkGolden(t, filepath.Join("testdata", c.file), out)
	}
}
