//go:build linux

package tun_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link/tun"
)

// Without /dev/net/tun the error says so and what to do.
func TestNoControlDevice(t *testing.T) {
	defer tun.SetDevPath(filepath.Join(t.TempDir(), "tun"))()
	_, err := tun.Open("synack9", 0)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "modprobe tun") {
		t.Fatalf("Open without the control device: %v", err)
	}
}

// Opening what is not a free TUN device fails with an error that says what
// the name is instead, in a namespace of the test's own: an interface of
// another kind (lo, a TAP device), a TUN device another descriptor holds,
// a name the kernel would refuse, a device that does not exist (Attach).
func TestOpenErrors(t *testing.T) {
	ns := netns.ForTest(t, netns.Options{})
	err := ns.Do(func() error {
		tap := &netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Name: "tap9"}, Mode: netlink.TUNTAP_MODE_TAP}
		return netlink.LinkAdd(tap)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		open   func(string, int) (*tun.Device, error)
		is     error
		substr string
	}{
		{"lo", tun.Open, tun.ErrNotTUN, `"lo" exists and is a loopback device, not a TUN device`},
		{"tap9", tun.Open, tun.ErrNotTUN, `"tap9" exists and is a TAP device (Ethernet frames), not a TUN device`},
		{"lo", attach, tun.ErrNotTUN, `"lo" exists and is a loopback device, not a TUN device`},
		{netns.DefaultTUN, tun.Open, tun.ErrBusy, `"synack0" is in use: another descriptor has it open`},
		{"nosuch0", attach, tun.ErrNoDevice, `no device "nosuch0"`},
		{"a-name-longer-than-15", tun.Open, nil, `"a-name-longer-than-15": not an interface name (one has 1 to 15 bytes`},
		{"a:b", attach, nil, `"a:b": not an interface name`},
	} {
		var dev *tun.Device
		err := ns.Do(func() error {
			var err error
			dev, err = tc.open(tc.name, 0)
			return err
		})
		if err == nil {
			dev.Close()
			t.Errorf("opening %q succeeded", tc.name)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.substr) {
			t.Errorf("opening %q: %v; want %v and %q", tc.name, err, tc.is, tc.substr)
		}
	}
}

func attach(name string, _ int) (*tun.Device, error) { return tun.Attach(name) }
