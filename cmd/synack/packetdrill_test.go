package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPacketdrillCommand(t *testing.T) {
	own, _ := filepath.Glob("../../pktdrill/testdata/*.pkt")
	if len(own) == 0 {
		t.Fatal("no own scripts")
	}
	out, errOut, code := runCLI(t, append([]string{"packetdrill", "--strict", "--profile", "linux"}, own...)...)
	if code != 0 || !strings.HasSuffix(out, fmt.Sprintf("%d passed, 0 failed (profile linux: the Linux sysctls of the corpus's defaults.sh, where synack has a setting for them; strict matching)\n", len(own))) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
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
