package tun_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/tun"
	"github.com/gosynack/synack/wire"
)

// TestCloseUnblocksReceive: a Receive blocked on an idle device returns
// link.ErrClosed once Close is called.
func TestCloseUnblocksReceive(t *testing.T) {
	ns := netns.ForTest(t, netns.Options{})
	dev := ns.TUN()
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, dev.MTU())
		_, err := dev.Receive(buf)
		done <- err
	}()
	// Nothing is sent to the device, so Receive is blocked (or about to
	// be); Close must end it either way.
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Receive after Close: %v, want link.ErrClosed", err)
	}
	if err := dev.Send(make([]byte, 40)); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Send after Close: %v, want link.ErrClosed", err)
	}
	if err := dev.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestKernelSYN: a kernel socket in the namespace connecting to synack's
// address sends a SYN through the device, a bare IPv4 packet (IFF_NO_PI)
// whose checksums wire.ParsePacket verifies.
func TestKernelSYN(t *testing.T) {
	ns := netns.ForTest(t, netns.Options{})
	dev := ns.TUN()
	if dev.MTU() != 1500 || dev.Name() != netns.DefaultTUN {
		t.Fatalf("device %q MTU %d, want %q MTU 1500", dev.Name(), dev.MTU(), netns.DefaultTUN)
	}
	errc := make(chan error, 1)
	go func() {
		// Nobody answers: the dial times out after the SYN has left.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := ns.DialContext(ctx, "tcp", netns.StackAddr.String()+":7")
		errc <- err
	}()
	buf := make([]byte, dev.MTU())
	for {
		n, err := dev.Receive(buf)
		if err != nil {
			t.Fatal(err)
		}
		p, err := wire.ParsePacket(buf[:n])
		if err != nil {
			// The kernel may send other packets (none expected: IPv6 is
			// not configured); a TCP packet that fails to parse is a bug.
			t.Fatalf("kernel packet %x: %v", buf[:n], err)
		}
		if p.TCP.Flags&wire.SYN == 0 {
			continue
		}
		if p.IP.Src != netns.KernelAddr || p.IP.Dst != netns.StackAddr || p.TCP.DstPort != 7 {
			t.Fatalf("SYN %v:%d -> %v:%d, want %v -> %v:7", p.IP.Src, p.TCP.SrcPort, p.IP.Dst, p.TCP.DstPort, netns.KernelAddr, netns.StackAddr)
		}
		break
	}
	dev.Close()
	ns.Remove()
	<-errc
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
