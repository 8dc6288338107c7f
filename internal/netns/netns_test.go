package netns_test

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/internal/netns"
)

// A persistent namespace is visible by name (as `ip netns` sees it), holds
// the configured TUN device, and RemoveNamed leaves nothing behind.
func TestPersistRemove(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	ns, err := netns.New(netns.Options{Persist: true})
	if err != nil {
		t.Fatal(err)
	}
	path := "/var/run/netns/" + ns.Name()
	t.Cleanup(func() { netns.RemoveNamed(ns.Name()) })
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("named namespace: %v", err)
	}
	if ns.TUN() != nil {
		t.Fatal("a persistent namespace kept synack's side of the device open")
	}
	again, err := netns.Open(ns.Name())
	if err != nil {
		t.Fatal(err)
	}
	err = again.Do(func() error {
		l, err := netlink.LinkByName(netns.DefaultTUN)
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		if len(addrs) != 1 || addrs[0].IPNet.String() != netns.KernelPrefix.String() {
			t.Errorf("addresses %v, want %v", addrs, netns.KernelPrefix)
		}
		if l.Attrs().MTU != 1500 {
			t.Errorf("MTU %d", l.Attrs().MTU)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := again.OpenTUN(netns.DefaultTUN)
	if err != nil {
		t.Fatal(err)
	}
	dev.Close()
	if _, err := again.OpenTUN("nosuch0"); err == nil {
		t.Fatal("OpenTUN of a missing device succeeded")
	}
	again.Remove()
	if err := netns.RemoveNamed(ns.Name()); err == nil {
		t.Fatal("RemoveNamed of a removed namespace succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after RemoveNamed: %v", err)
	}
}

// Names New gives are ones that need no quoting in a shell and that both
// `ip netns` and the kernel's interface names take; the error says the
// rule.
func TestCheckName(t *testing.T) {
	for _, ok := range []string{"synack", "synack-1234-5", "a.b_c", "0"} {
		if err := netns.CheckName(ok); err != nil {
			t.Errorf("CheckName(%q): %v", ok, err)
		}
		if err := netns.CheckDeviceName(ok); err != nil {
			t.Errorf("CheckDeviceName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "bad name!", "../etc", "a/b", ".", "..", "-x", ".hidden", "tab\there", "x$y", strings.Repeat("n", 256)} {
		err := netns.CheckName(bad)
		if err == nil || !strings.Contains(err.Error(), "letters, digits") {
			t.Errorf("CheckName(%q): %v, want an error stating the rule", bad, err)
		}
	}
	for _, bad := range []string{"", "bad name!", "a:b", "a-name-longer-than-15", "-x"} {
		err := netns.CheckDeviceName(bad)
		if err == nil || !strings.Contains(err.Error(), "15 bytes") {
			t.Errorf("CheckDeviceName(%q): %v, want an error stating the rule", bad, err)
		}
	}
}

// New refuses a bad name before it makes anything.
func TestBadName(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	for _, opts := range []netns.Options{
		{Name: "../etc"},
		{Name: "bad name!", Persist: true},
		{TUN: "bad tun!", Persist: true},
	} {
		n, err := netns.New(opts)
		if err == nil {
			n.Remove()
			t.Errorf("New accepted %+v", opts)
		}
	}
	if _, err := os.Stat("/var/run/netns/bad name!"); !errors.Is(err, os.ErrNotExist) {
		netns.RemoveNamed("bad name!")
		t.Fatalf("a namespace named %q was made", "bad name!")
	}
}

// A second New of a name that exists fails, saying so (errors.Is
// os.ErrExist), and leaves the first namespace as it was: a failed New
// removes only what it made.
func TestNewExisting(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	first, err := netns.New(netns.Options{Persist: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netns.RemoveNamed(first.Name()) })
	_, err = netns.New(netns.Options{Name: first.Name(), Persist: true})
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("second New of %s: %v, want an error that is os.ErrExist", first.Name(), err)
	}
	again, err := netns.Open(first.Name())
	if err != nil {
		t.Fatalf("the first namespace is gone after the failed New: %v", err)
	}
	dev, err := again.OpenTUN(netns.DefaultTUN)
	if err != nil {
		t.Fatalf("the first namespace lost its device after the failed New: %v", err)
	}
	dev.Close()
	again.Remove()
}

// The TUN's IPv6 side: 2001:2::1/64, not tentative (no duplicate address
// detection, so usable at once), no link-local address (the kernel sends
// nothing through the device by itself), and 2001:2::/48 routed to it.
func TestIPv6(t *testing.T) {
	ns := netns.ForTest(t, netns.Options{})
	err := ns.Do(func() error {
		l, err := netlink.LinkByName(ns.TUNName())
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V6)
		if err != nil {
			return err
		}
		if len(addrs) != 1 || addrs[0].IPNet.String() != netns.KernelPrefix6.String() {
			t.Errorf("IPv6 addresses of %s: %v, want only %v", ns.TUNName(), addrs, netns.KernelPrefix6)
		}
		for _, a := range addrs {
			if a.Flags&unix.IFA_F_TENTATIVE != 0 {
				t.Errorf("%v is tentative (duplicate address detection is on)", a.IPNet)
			}
		}
		rs, err := netlink.RouteGet(net.ParseIP("2001:2:0:7::9"))
		if err != nil {
			return err
		}
		if len(rs) == 0 || rs[0].LinkIndex != l.Attrs().Index {
			t.Errorf("2001:2:0:7::9 is routed by %v, want %s (%v routed to it)", rs, ns.TUNName(), netns.RoutedPrefix6)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
