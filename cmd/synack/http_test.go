package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The http scenario's output is golden: one handshake for keep-alive and
// HTTP/2, N for HTTP/1.0, and the virtual time each took; with --ladder,
// the ladder of every connection.
func TestHTTPScenarioGolden(t *testing.T) {
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"http.golden", []string{"--requests", "3", "--rtt", "100ms"}},
		{"http-ladder.golden", []string{"--requests", "2", "--rtt", "100ms", "--ladder"}},
		{"http-lossy.golden", []string{"--requests", "10", "--rtt", "60ms", "--loss", "5%", "--seed", "3"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			out, errOut, code := runCLI(t, append([]string{"scenario", "run", "http"}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			checkGolden(t, filepath.Join("testdata", c.golden), out)
			again, _, _ := runCLI(t, append([]string{"scenario", "run", "http"}, c.args...)...)
			if again != out {
				t.Error("a second run printed something else")
			}
		})
	}
}

func TestHTTPScenarioBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"scenario", "run", "http", "--requests", "0"}, "--requests 0: want 1 to 1000"},
		{[]string{"scenario", "run", "http", "--requests", "many"}, `invalid argument "many" for "--requests"`},
		{[]string{"scenario", "run", "http", "--rtt", "0s"}, "--rtt 0s: want a positive duration"},
		{[]string{"scenario", "run", "http", "--size", "-1"}, "--size -1: want 0 to 1048576 bytes (1 MiB)"},
		{[]string{"scenario", "run", "http", "--latency", "10ms"}, "takes --rtt"},
		{[]string{"scenario", "run", "handshake", "--requests", "3"}, "--requests is a flag of the http scenario, not of handshake"},
	} {
		out, errOut, code := runCLI(t, c.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stdout %q)", c.args, code, out)
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%q: stderr %q lacks %q", c.args, errOut, c.want)
		}
	}
	out, _, _ := runCLI(t, "scenario", "list")
	if !strings.Contains(out, "http ") {
		t.Errorf("scenario list lacks http:\n%s", out)
	}
}

// The output flags of the other scenarios either work on the http scenario
// or are refused with the reason; none is silently ignored.
func TestHTTPScenarioOutputFlags(t *testing.T) {
	http := func(args ...string) (string, string, int) {
		return runCLI(t, append([]string{"scenario", "run", "http", "--requests", "2"}, args...)...)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--svg", filepath.Join(dir, "x.svg")}, "--svg is not supported by the http scenario"},
		{[]string{"--html", filepath.Join(dir, "x.html")}, "--html is not supported by the http scenario"},
		{[]string{"--pcap", filepath.Join(dir, "x.pcapng")}, "--pcap is not supported by the http scenario"},
		{[]string{"--pcap-at", "server"}, "--pcap-at is not supported by the http scenario"},
		{[]string{"--timers"}, "--timers changes the ladders, which the http scenario draws only with --ladder"},
		{[]string{"--absolute"}, "--absolute changes the ladders, which the http scenario draws only with --ladder"},
		{[]string{"--ascii"}, "--ascii changes the ladders, which the http scenario draws only with --ladder"},
	} {
		out, errOut, code := http(c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %q, want 2 and %q (stdout %.100q)", c.args, code, errOut, c.want, out)
		}
	}
	for _, f := range []string{"x.svg", "x.html", "x.pcapng"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s was written", f)
		}
	}
	plain, _, _ := http("--ladder")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--ladder", "--timers"}, "retransmit timer set"},
		{[]string{"--ladder", "--absolute"}, "absolute sequence numbers"},
		{[]string{"--events"}, "\nEvents of HTTP/2 (h2c):\n"},
	} {
		out, errOut, code := http(c.args...)
		if code != 0 || out == plain || !strings.Contains(out, c.want) {
			t.Errorf("%q: exit %d %s; output lacks %q:\n%s", c.args, code, errOut, c.want, out)
		}
	}
}
