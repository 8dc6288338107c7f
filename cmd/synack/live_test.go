package main

import (
	"strings"
	"testing"
)

// Without root, ladder -i says it needs root, for what, and what to do;
// nothing is tried. (The user id is faked.)
func TestLadderLiveNeedsRoot(t *testing.T) {
	defer func(f func() int) { euid = f }(euid)
	euid = func() int { return 1000 }
	_, stderr, code := runCLI(t, "ladder", "-i", "lo")
	want := "synack ladder -i needs root (to open a packet socket (AF_PACKET) on lo): run it with sudo"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("ladder -i lo as uid 1000: exit %d, stderr %q; want exit 1 and %q", code, stderr, want)
	}
}

// A missing interface is named, with the interfaces there are.
func TestLadderLiveNoInterface(t *testing.T) {
	if euid() != 0 {
		t.Skip("skipped: not root, and without root ladder -i stops at that first (TestLadderLiveNeedsRoot)")
	}
	_, stderr, code := runCLI(t, "ladder", "-i", "nosuch0")
	want := `-i nosuch0: no such network interface "nosuch0" in this network namespace (its interfaces: `
	if code != 2 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "lo") {
		t.Errorf("ladder -i nosuch0: exit %d, stderr %q; want exit 2 and %q with lo among them", code, stderr, want)
	}
}

// The live flags are refused where they mean nothing, with what to do.
func TestLadderLiveFlags(t *testing.T) {
	// As root, so that each is refused for the flag, not for the user.
	defer func(f func() int) { euid = f }(euid)
	euid = func() int { return 0 }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ladder", "--count", "3", "x.pcap"}, "--count is for a live capture: give -i IFACE"},
		{[]string{"ladder", "--pcap", "out.pcapng", "x.pcap"}, "--pcap is for a live capture: give -i IFACE"},
		{[]string{"ladder", "-i", "lo", "x.pcap"}, `-i lo captures live: give no capture file too (got ["x.pcap"])`},
		{[]string{"ladder", "-i", "lo", "--icmp"}, "--icmp is not drawn live: keep the capture with --pcap FILE and draw it with synack ladder FILE --icmp"},
		{[]string{"ladder", "-i", "lo", "--count", "-1"}, "--count -1: want a number of packets, or 0 for no limit"},
		{[]string{"ladder", "-i", "lo", "--duration", "-1s"}, "--duration -1s: want a positive duration, or 0 for no limit"},
		{[]string{"ladder", "-i", "lo", "--conn", "nonsense"}, `--conn "nonsense": write the connection as ADDR:PORT-ADDR:PORT`},
		{[]string{"ladder"}, "a capture file, or - for standard input; or -i IFACE"},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}
