package tun_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link"
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
// whose checksums wire.ParsePacket verifies: in plain mode the kernel's,
// with offloads the one the device completed (nobody called
// VerifyChecksums, as when a wrapper sits between the device and a Stack).
func TestKernelSYN(t *testing.T) {
	for _, plain := range []bool{true, false} {
		t.Run(map[bool]string{true: "plain", false: "offload"}[plain], func(t *testing.T) { kernelSYN(t, plain) })
	}
}

func kernelSYN(t *testing.T, plain bool) {
	ns := netns.ForTest(t, netns.Options{NoOffload: plain})
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
	if s := dev.Stats(); !plain && s.ChecksumsPartial == 0 {
		t.Errorf("with offloads the kernel's SYN came with a complete checksum: %+v", s)
	}
	dev.Close()
	ns.Remove()
	<-errc
}
