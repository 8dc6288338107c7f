package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// synack ladder draws the ICMP errors a kernel capture holds on the
// connection they quote; --icmp adds the echoes between its hosts and
// lists every ICMP message.
func TestLadderICMP(t *testing.T) {
	file := filepath.Join("..", "..", "capture", "testdata", "icmp-errors.pcapng")
	out, errOut, code := runCLI(t, "ladder", file, "--conn", "[2001:2:0:1::2]:43094-[2001:2:0:2::2]:8082")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"#15 ICMPv6 Destination Unreachable (port unreachable) ~~", "└ quotes #14 (seq=0)", "synack ladder --icmp draws those"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "Echo") {
		t.Errorf("echoes drawn without --icmp:\n%s", out)
	}
	out, errOut, code = runCLI(t, "ladder", file, "--icmp", "--port", "8082")
	if code != 0 {
		t.Fatalf("--icmp: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ICMP messages:\n", "#22 3.913753s 2001:2:0:1::2>2001:2:0:2::2 ICMPv6 Echo Request id=7 seq=1 len=48; about no connection",
		"ICMPv6 Echo Reply id=7 seq=1 len=48 ~~", "about connection 5"} {
		if !strings.Contains(out, want) {
			t.Errorf("--icmp: no %q in\n%s", want, out)
		}
	}
}
