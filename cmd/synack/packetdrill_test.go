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
	if code != 0 || !strings.HasSuffix(out, fmt.Sprintf("%d passed, 0 failed\n", len(own))) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pkt")
	os.WriteFile(bad, []byte("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) win 65535 <mss 1460>\n"), 0o644)
	out, errOut, code = runCLI(t, "packetdrill", bad, own[0])
	want := "FAIL " + bad + ":2: at 120.004000s: timed out waiting for packet (expected at 0.000000s)\n" +
		"    script: > S 0:0(0) win 65535 <mss 1460>\n    actual: nothing sent\n" +
		"PASS " + own[0] + "\n1 passed, 1 failed\n"
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
