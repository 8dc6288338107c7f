//go:build linux

package tun_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link/tun"
	"github.com/gosynack/synack/wire"
)

// A persistent device attached in plain mode after a descriptor with
// offloads has closed gets complete checksums. The device keeps
// TUNSETOFFLOAD's flags after the descriptor that set them is gone, and
// with TUN_F_CSUM on, the kernel leaves checksums partial for a "hardware"
// to complete, which a reader without the virtio header cannot know: plain
// mode turns the offloads off. (Seen with BenchmarkRelay's rounds on one
// device: a gVisor reader after synack's dropped every UDP datagram.)
func TestPlainAfterOffloads(t *testing.T) {
	ns := netns.ForTest(t, netns.Options{Persist: true})
	dev, err := ns.OpenTUN(netns.DefaultTUN)
	if err != nil {
		t.Fatal(err)
	}
	o := dev.Offloads()
	dev.Close()
	if !o.Csum {
		t.Skipf("skipped: this kernel's TUN driver took no TUN_F_CSUM (got %+v)", o)
	}
	var plain *tun.Device
	if err := ns.Do(func() error {
		var err error
		plain, err = tun.OpenOptions(netns.DefaultTUN, tun.Options{NoOffload: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if o := plain.Offloads(); o.VnetHdr || o.Csum {
		t.Fatalf("plain mode: %+v", o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ns.DialContext(ctx, "udp", netns.StackAddr.String()+":9")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("complete checksum?")); err != nil {
		t.Fatal(err)
	}
	go func() { <-ctx.Done(); plain.Close() }()
	buf := make([]byte, 65536)
	for range 100 {
		n, err := plain.Receive(buf)
		if err != nil {
			t.Fatalf("no UDP datagram read from the device: %v", err)
		}
		ip, payload, err := wire.ParseIPv4(buf[:n])
		if err != nil || ip.Protocol != wire.ProtocolUDP {
			continue // not IPv4 UDP: something else the kernel sent
		}
		if _, err := wire.ParseUDP(payload, ip.Src, ip.Dst); err != nil {
			if errors.Is(err, wire.ErrChecksum) {
				t.Fatalf("the kernel's UDP datagram in plain mode: %v (its checksum left partial for an offload)", err)
			}
			t.Fatal(err)
		}
		return
	}
	t.Fatal("no UDP datagram among the first 100 packets")
}
