package main

import (
	"strings"
	"testing"
)

// Bad flags of serve, get and netns are refused before anything touches
// the system (no root needed), with exit status 2 and a message naming the
// flag.
func TestRealFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--echo"}, "--tun is required"},
		{[]string{"serve", "--tun", "synack0"}, "exactly one of --http DIR, --echo and --discard"},
		{[]string{"serve", "--tun", "synack0", "--echo", "--discard"}, "exactly one of"},
		{[]string{"serve", "--tun", "synack0", "--http", dir + "/nope"}, `--http "` + dir + `/nope"`},
		{[]string{"serve", "--tun", "synack0", "--echo", "--addr", "10.0.0.300"}, `--addr "10.0.0.300": not an IPv4 address`},
		{[]string{"serve", "--tun", "synack0", "--echo", "--addr", "::1"}, `--addr "::1": not an IPv4 address`},
		{[]string{"serve", "--tun", "synack0", "--echo", "--port", "70000"}, "--port 70000"},
		{[]string{"serve", "--tun", "a-name-longer-than-15", "--echo"}, "at most 15 bytes"},
		{[]string{"serve", "--tun", "synack0", "--echo", "--netns", ""}, "--netns is empty"},
		{[]string{"serve", "--tun", "synack0", "--echo", "extra"}, "takes no arguments"},
		{[]string{"get", "--tun", "synack0"}, "takes 1 argument(s) (URL)"},
		{[]string{"get", "http://198.18.0.1/"}, "--tun is required"},
		{[]string{"get", "ftp://198.18.0.1/", "--tun", "synack0"}, `scheme "ftp", want http or https`},
		{[]string{"get", "http://example.com/", "--tun", "synack0"}, `host "example.com" is not an IPv4 address`},
		{[]string{"get", "http://198.18.0.1/", "--tun", "synack0", "-o", dir + "/no/such/dir/f"}, "-o"},
		{[]string{"netns", "up", "--mtu", "10"}, "--mtu 10"},
		{[]string{"netns", "up", "extra"}, "takes no arguments"},
		{[]string{"serve", "--bogus"}, "unknown flag: --bogus"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
		})
	}
}
