package main

import (
	"strings"
	"testing"
)

// A simulated run's ladder draws the ICMP errors the hosts received, from
// the router that sent them, with the packet each quotes.
func TestSoakLadderDrawsPacketTooBig(t *testing.T) {
	out, errOut, code := runCLI(t, "soak", "--case", "mtu-drop-v6", "--seed", "1", "--ladder")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"◀~~ ICMPv6 packet-too-big mtu=1280 from 2001:2:0:ffff::fe ~~◇", "quotes #28 ("} {
		if !strings.Contains(out, want) {
			t.Errorf("the ladder has no %q", want)
		}
	}
}
