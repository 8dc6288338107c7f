//go:build linux

package tun_test

import (
	"bytes"
	"context"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link/tun"
)

// transfer moves size bytes each way between synack on dev (address
// local) and a kernel socket listening on kernel:port in ns, and checks
// every byte arrived.
func transfer(t *testing.T, ns *netns.NS, dev *tun.Device, local, kernel netip.Addr, size int) {
	t.Helper()
	var mu sync.Mutex
	var drops []string
	rec := trace.Func(func(e *trace.Event) {
		if e.Kind == trace.Drop && len(drops) < 5 {
			mu.Lock()
			drops = append(drops, e.Reason)
			mu.Unlock()
		}
	})
	t.Cleanup(func() { t.Log(drops) })
	st, err := synack.New(dev, synack.Config{Addr: local, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ln, err := ns.Listen("tcp", netip.AddrPortFrom(kernel, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	down := make([]byte, size)
	up := make([]byte, size)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(down)
	r.Read(up)
	errc := make(chan error, 1)
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		go func() {
			_, err := c.Write(down)
			c.(*net.TCPConn).CloseWrite()
			errc <- err
		}()
		b, err := io.ReadAll(c)
		got <- b
		errc <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := st.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	go func() {
		_, err := c.Write(up)
		c.(*synack.Conn).CloseWrite()
		errc <- err
	}()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("synack reading: %v", err)
	}
	if !bytes.Equal(b, down) {
		t.Errorf("synack read %d bytes, not the %d the kernel wrote", len(b), len(down))
	}
	if k := <-got; !bytes.Equal(k, up) {
		t.Errorf("the kernel read %d bytes, not the %d synack wrote", len(k), len(up))
	}
	for range 3 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if c := st.Counters(); c.InErrs != 0 {
		t.Errorf("synack counted %d segments in error from the kernel", c.InErrs)
	}
}

// TestOffload: with IFF_VNET_HDR and TUNSETOFFLOAD, data moves both ways
// with the kernel's TCP, the kernel hands synack TSO packets (taken whole,
// their checksums partial and not verified) and synack's bursts of
// segments go out as GSO packets.
func TestOffload(t *testing.T) {
	ns := netns.ForTest(t, netns.Options{})
	dev := ns.TUN()
	o := dev.Offloads()
	if !o.VnetHdr || !o.Csum || !o.TSO4 {
		t.Skipf("skipped: this kernel's TUN driver does not take IFF_VNET_HDR with TUN_F_CSUM|TUN_F_TSO4 (got %+v)", o)
	}
	transfer(t, ns, dev, netns.StackAddr, netns.KernelAddr, 8<<20)
	s := dev.Stats()
	t.Logf("%+v", s)
	if s.GSOIn == 0 || s.ChecksumsPartial == 0 {
		t.Errorf("the kernel handed over no TSO packet or no partial checksum: %+v", s)
	}
	if s.GSOOut == 0 || s.SegmentsOut <= s.PacketsOut {
		t.Errorf("synack wrote no GSO packet: %+v", s)
	}
	// The Stack took the checksum offload (link.ChecksumOffloader): its
	// lone segments (the ACKs of the download, the handshake) went out
	// with their checksums for the kernel to complete.
	if s.ChecksumsLeft == 0 {
		t.Errorf("no lone TCP packet left its checksum to the kernel: %+v", s)
	}
	if s.BadHeaders != 0 || s.BadChecksums != 0 || s.WriteErrors != 0 {
		t.Errorf("bad headers or write errors: %+v", s)
	}
}

// TestNoOffload: a device opened with NoOffload is in plain mode and
// moves the same data, one packet per read and write.
func TestNoOffload(t *testing.T) {
	ns := netns.ForTest(t, netns.Options{})
	kernel, local := netip.MustParseAddr("198.18.2.1"), netip.MustParseAddr("198.18.2.2")
	var dev *tun.Device
	if err := ns.Do(func() error {
		var err error
		if dev, err = tun.OpenOptions("synack1", tun.Options{NoOffload: true}); err != nil {
			return err
		}
		return tun.Configure("synack1", netip.PrefixFrom(kernel, 24))
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	if o := dev.Offloads(); o != (tun.Offloads{}) {
		t.Fatalf("NoOffload device has offloads %+v", o)
	}
	transfer(t, ns, dev, local, kernel, 2<<20)
	s := dev.Stats()
	if s.GSOIn != 0 || s.GSOOut != 0 || s.SegmentsOut != s.PacketsOut || s.ChecksumsPartial != 0 || s.ChecksumsLeft != 0 {
		t.Errorf("plain mode used an offload: %+v", s)
	}
}

// A burst longer than the writer's queue does not wait for its own end:
// a full queue wakes the writer (in plain mode nothing merges, so every
// packet takes a slot). Then, with every slot made, sending allocates
// nothing.
func TestLongBurst(t *testing.T) {
	ns := netns.ForTest(t, netns.Options{NoOffload: true})
	dev := ns.TUN()
	// To an address routed to the device: the kernel takes each one
	// in and drops it (no socket), and nothing comes back.
	pkt := segment4(netip.MustParseAddr("198.18.0.9"), netns.KernelAddr)
	done := make(chan struct{})
	go func() {
		defer close(done)
		dev.BeginBurst()
		for range 3 * tun.MaxQueue {
			if err := dev.Send(pkt); err != nil {
				t.Error(err)
				break
			}
		}
		dev.EndBurst()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a burst of 3 queues' worth of packets is stuck")
	}
	if a := testing.AllocsPerRun(1000, func() { dev.Send(pkt) }); a != 0 {
		t.Errorf("Send allocates %v times per packet once warm", a)
	}
}

// segment4 is a bare TCP ACK from src to dst.
func segment4(src, dst netip.Addr) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: src, Dst: dst},
		TCP: wire.Segment{SrcPort: 1, DstPort: 9, Flags: wire.ACK, Window: 100},
	}
	return p.Append(nil)
}
