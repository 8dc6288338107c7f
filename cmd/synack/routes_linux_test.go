//go:build linux

package main

import (
	"net"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/gosynack/synack/internal/netns"
)

// serve says where it serves, and warns when the kernel does not route
// that address through the device (so nothing it sends there reaches
// synack): the kernel's own address, an address with no route.
func TestServeRoutes(t *testing.T) {
	ns := testNetns(t, "routes")
	n := ns.Name()
	serve := func(want, warn string, args ...string) {
		t.Helper()
		b := startCLI(t, nil, append([]string{"serve", "--tun", netns.DefaultTUN, "--netns", n, "--echo"}, args...)...)
		b.waitFor(t, "synack serve: ")
		if code := b.stop(); code != 0 {
			t.Fatalf("serve %s: exit %d:\n%s", strings.Join(args, " "), code, b.err)
		}
		if !strings.Contains(b.out.String(), want) {
			t.Errorf("serve %s printed %q, without %q", strings.Join(args, " "), b.out, want)
		}
		if warn == "" && strings.Contains(b.err.String(), "warning") {
			t.Errorf("serve %s warned: %s", strings.Join(args, " "), b.err)
		}
		if warn != "" && !strings.Contains(b.err.String(), "warning: "+warn) {
			t.Errorf("serve %s: stderr %q, without %q", strings.Join(args, " "), b.err, "warning: "+warn)
		}
	}
	serve("listening on [::]:7", "")
	serve("listening on 198.18.0.2:7", "", "--addr6", "")
	serve("listening on [2001:2::2]:7", "", "--addr", "")
	serve("accepting connections to any address routed to synack0 (198.18.0.0/15, 198.18.0.0/24, 2001:2::/48, 2001:2::/64)", "", "--any")
	serve("listening on 198.18.0.1:7", "the kernel routes 198.18.0.1 to lo, not synack0 (it is the kernel's own address)", "--addr", "198.18.0.1", "--addr6", "")
	serve("listening on [::]:7", "the kernel routes 2001:2::1 to lo, not synack0 (it is the kernel's own address)", "--addr6", "2001:2::1")
	err := ns.Do(func() error {
		l, err := netlink.LinkByName(netns.DefaultTUN)
		if err != nil {
			return err
		}
		return netlink.RouteDel(&netlink.Route{LinkIndex: l.Attrs().Index, Scope: netlink.SCOPE_LINK,
			Dst: &net.IPNet{IP: net.IPv4(198, 18, 0, 0).To4(), Mask: net.CIDRMask(15, 32)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	serve("listening on 198.19.0.2:7", "nothing routes 198.19.0.2 in namespace "+n+": route it to the device with: sudo ip netns exec "+n+" ip route add 198.19.0.2 dev synack0", "--addr", "198.19.0.2", "--addr6", "")
}
