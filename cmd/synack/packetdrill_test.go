package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosynack/synack/pktdrill"
)

func TestPacketdrillCommand(t *testing.T) {
	own, _ := filepath.Glob("../../pktdrill/testdata/*.pkt")
	if len(own) == 0 {
		t.Fatal("no own scripts")
	}
	// The one own script that checks synack's profile only (pktdrill's
	// ownProfileOnly); synack fails none (ownKnownFailures is empty).
	failing := []string{"data-ack-every-second-segment.pkt"}
	out, errOut, code := runCLI(t, append([]string{"packetdrill", "--strict", "--profile", "linux"}, own...)...)
	if code != 1 || !strings.HasSuffix(out, fmt.Sprintf("%d passed, %d failed (profile linux: the Linux sysctls of the corpus's defaults.sh, where synack has a setting for them; strict matching)\n", len(own)-len(failing), len(failing))) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, f := range failing {
		if !strings.Contains(out, "FAIL ../../pktdrill/testdata/"+f+":") {
			t.Errorf("%s does not fail:\n%s", f, out)
		}
	}

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pkt")
	os.WriteFile(bad, []byte("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) win 65535 <mss 1460>\n"), 0o644)
	out, errOut, code = runCLI(t, "packetdrill", bad, own[0])
	want := "FAIL " + bad + ":2: at 120.004000s: timed out waiting for packet (expected at 0.000000s)\n" +
		"    script: > S 0:0(0) win 65535 <mss 1460>\n    actual: nothing sent\n" +
		"PASS " + own[0] + "\n1 passed, 1 failed (profile synack: synack's own defaults; tolerant matching)\n"
	if code != 1 || out != want || !strings.Contains(errOut, "1 of 2 scripts failed") {
		t.Errorf("exit %d\n%s\nwant\n%s\nstderr %s", code, out, want, errOut)
	}

	if _, errOut, code := runCLI(t, "packetdrill"); code != 2 || !strings.Contains(errOut, "at least one script") {
		t.Errorf("no files: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "packetdrill", "--profile", "bsd", own[0]); code != 2 || !strings.Contains(errOut, `--profile "bsd"`) {
		t.Errorf("bad profile: exit %d, %s", code, errOut)
	}
	out, _, code = runCLI(t, "packetdrill", filepath.Join(dir, "nope.pkt"))
	if code != 1 || !strings.Contains(out, "nope.pkt: cannot read script") {
		t.Errorf("missing file: exit %d, %s", code, out)
	}
}

// A backquoted shell line is never run, and the output says so at its
// line, without -v; the summary names the profile and the matching, and
// points at --profile linux when commands were skipped under another.
func TestPacketdrillSkippedCommands(t *testing.T) {
	script := filepath.Join(t.TempDir(), "cmds.pkt")
	os.WriteFile(script, []byte("`../common/defaults.sh`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = 0\n"), 0o644)
	out, errOut, code := runCLI(t, "packetdrill", script)
	want := "note: " + script + ":1: command not run: `../common/defaults.sh`\n" +
		"PASS " + script + "\n" +
		"1 passed, 0 failed (profile synack: synack's own defaults; tolerant matching)\n" +
		"note: 1 backquoted shell command was not run (in the public corpus they set Linux sysctls): --profile linux sets the stack as the corpus's defaults.sh sets Linux, where synack has a setting for it\n"
	if code != 0 || out != want {
		t.Errorf("exit %d %s\n%s\nwant\n%s", code, errOut, out, want)
	}
	out, _, _ = runCLI(t, "packetdrill", "--strict", "--profile", "linux", script)
	if !strings.HasSuffix(out, "1 passed, 0 failed (profile linux: the Linux sysctls of the corpus's defaults.sh, where synack has a setting for them; strict matching)\n") {
		t.Errorf("--strict --profile linux:\n%s", out)
	}
}

// The summary tells apart what the stack did wrong (failed), what the
// runner cannot express (unsupported) and what the script has wrong
// (malformed), each with the file and line.
func TestPacketdrillKinds(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(src), 0o644)
		return p
	}
	unsup := write("deferaccept.pkt", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, IPPROTO_TCP, TCP_DEFER_ACCEPT, [1], 4) = 0\n")
	bad := write("bad.pkt", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 poll([{fd=3, events=POLLIN, bogus=1}], 1, 0) = 0\n")
	v6 := write("v6.pkt", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > icmp unreachable port_unreachable\n")
	syntax := write("syntax.pkt", "0 socket(..., SOCK_STREAM, IPPROTO_TCP = 3\n")
	out, _, code := runCLI(t, "packetdrill", unsup, bad, v6, syntax)
	for _, want := range []string{
		unsup + ":2: at 0.000000s: setsockopt TCP_DEFER_ACCEPT is not supported by the runner (synack has no such option)",
		bad + ":2: at 0.000000s: poll: unknown field bogus (expected fd, events, revents)",
		"FAIL " + v6 + ":2: at 0.000000s: outbound ICMP (unreachable) is not supported: the runner matches TCP segments only",
		syntax + ":2: parse error",
		"0 passed, 0 failed, 2 unsupported, 2 malformed (profile synack",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
}

// --kernel runs scripts against the machine's TCP; it needs root and
// /dev/net/tun, and says so when they are missing.
func TestPacketdrillKernel(t *testing.T) {
	own := "../../pktdrill/testdata/linger-abort.pkt"
	if err := pktdrill.KernelAvailable(); err != nil {
		_, errOut, code := runCLI(t, "packetdrill", "--kernel", own)
		if code == 0 || !strings.Contains(errOut, "--kernel") {
			t.Errorf("--kernel where it cannot run: exit %d, %s", code, errOut)
		}
		t.Skipf("skipped: --kernel cannot run here: %v", err)
	}
	// A loaded machine wakes this process late: the kernel tests allow
	// 20 ms (packetdrill's --tolerance_usecs).
	out, errOut, code := runCLI(t, "packetdrill", "--kernel", "--tolerance_usecs=20000", own)
	if code != 0 || !strings.Contains(out, "PASS "+own) || !strings.Contains(out, "1 passed, 0 failed (the kernel's TCP (Linux ") {
		t.Errorf("--kernel: exit %d\n%s%s", code, out, errOut)
	}
	// --diff: the same script against both. synack's RST carries window
	// 0, Linux 6.18's its receive window.
	b, _ := os.ReadFile(own)
	script := filepath.Join(t.TempDir(), "rst-win.pkt")
	os.WriteFile(script, []byte(strings.Replace(string(b), "> R. 1:1(0) ack 1\n", "> R. 1:1(0) ack 1 win 0\n", 1)), 0o644)
	out, _, code = runCLI(t, "packetdrill", "--diff", "--strict", "--tolerance_usecs=20000", script, own)
	if code != 1 || !strings.Contains(out, "DIFF "+script) || !strings.Contains(out, "SAME "+own+": both pass") ||
		!strings.Contains(out, "  22  one stops here           +0 > R. 1:1(0) ack 1 win 0") || !strings.Contains(out, "1 the same, 1 different") {
		t.Errorf("--diff: exit %d\n%s", code, out)
	}
}

// --ip_version takes packetdrill's three values; the command line's
// applies to a script that sets none.
func TestPacketdrillIPVersion(t *testing.T) {
	if _, errOut, code := runCLI(t, "packetdrill", "--ip_version=ipv5", "x.pkt"); code != 2 || !strings.Contains(errOut, `--ip_version "ipv5": expected ipv4, ipv6 or ipv4-mapped-ipv6`) {
		t.Errorf("--ip_version=ipv5: exit %d, %s", code, errOut)
	}
	// An IPv6 handshake: the SYN-ACK announces 1440 (1500 - 40 - 20)
	// only when the run is IPv6.
	script := filepath.Join(t.TempDir(), "v6.pkt")
	os.WriteFile(script, []byte("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n"+
		"+0 < S 0:0(0) win 65535 <mss 1460>\n+0 > S. 0:0(0) ack 1 <mss 1440>\n"), 0o644)
	if out, _, code := runCLI(t, "packetdrill", "--strict", "--ip_version=ipv6", script); code != 0 || !strings.Contains(out, "PASS "+script) {
		t.Errorf("--ip_version=ipv6: exit %d\n%s", code, out)
	}
	if out, _, code := runCLI(t, "packetdrill", "--strict", "--ip_version=ipv4-mapped-ipv6", script); code != 1 || !strings.Contains(out, "expected <mss 1440>, got <mss 1460>") {
		t.Errorf("--ip_version=ipv4-mapped-ipv6: exit %d\n%s", code, out)
	}
}
