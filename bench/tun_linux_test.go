//go:build linux

package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/internal/netns"
)

// BenchmarkTUN moves data between synack on a TUN device and the kernel's
// TCP in a namespace the benchmark makes and removes: dir=down the kernel
// sends and synack reads, dir=up synack sends and the kernel reads. One op
// is 1 MiB of one connection. The kernel's side is another process (this
// test binary run as the peer, in the namespace), so cpu-s/GiB is synack's
// process only (with what the kernel does in its system calls).
// tun-drops/op counts the packets the kernel dropped at the TUN's queue
// (the device's tx_dropped: the kernel sends, synack did not read in
// time). It is skipped without root or /dev/net/tun.
func BenchmarkTUN(b *testing.B) {
	for _, dir := range []string{"down", "up"} {
		b.Run("dir="+dir, func(b *testing.B) { benchTUN(b, dir) })
	}
}

func benchTUN(b *testing.B, dir string) {
	if err := netns.Available(); err != nil {
		b.Skipf("skipped: %v", err)
	}
	ns := netns.ForTest(b, tunNS)
	st, err := synack.New(ns.TUN(), synack.Config{Addr: netns.StackAddr})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ln, err := st.Listen("tcp", ":5001")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	total := int64(b.N) << 20
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, self, "-test.run=^TestTUNPeer$")
	cmd.Env = append(os.Environ(), "SYNACK_TUN_PEER="+dir, "SYNACK_TUN_BYTES="+strconv.FormatInt(total, 10),
		"SYNACK_TUN_ADDR="+netns.StackAddr.String()+":5001")
	cmd.Stderr = os.Stderr
	drops0 := tunDrops(b, ns)
	b.SetBytes(1 << 20)
	b.ResetTimer()
	ru0 := rusage()
	start := time.Now()
	if err := ns.Start(cmd); err != nil {
		b.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	var n int64
	if dir == "down" {
		n, err = io.Copy(io.Discard, c)
		c.(*synack.Conn).CloseWrite()
	} else {
		n, err = io.CopyN(c, zeros{}, total)
		c.(*synack.Conn).CloseWrite()
		io.Copy(io.Discard, c)
	}
	if err != nil || n != total {
		b.Fatalf("moved %d of %d bytes: %v", n, total, err)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("peer: %v", err)
	}
	el := time.Since(start)
	cpu := rusage() - ru0
	b.StopTimer()
	c.Close()
	gib := float64(total) / (1 << 30)
	b.ReportMetric(float64(total)/(1<<20)/el.Seconds(), "MiB/s")
	b.ReportMetric(cpu.Seconds()/gib, "cpu-s/GiB")
	b.ReportMetric(float64(tunDrops(b, ns)-drops0)/float64(b.N), "tun-drops/op")
}

// TestTUNPeer is the kernel's side of BenchmarkTUN, run by it in the
// namespace; it does nothing otherwise.
func TestTUNPeer(t *testing.T) {
	dir := os.Getenv("SYNACK_TUN_PEER")
	if dir == "" {
		t.Skip("skipped: the kernel's side of BenchmarkTUN, run by it")
	}
	total, _ := strconv.ParseInt(os.Getenv("SYNACK_TUN_BYTES"), 10, 64)
	c, err := net.DialTimeout("tcp", os.Getenv("SYNACK_TUN_ADDR"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	var n int64
	if dir == "down" {
		n, err = io.CopyN(c, zeros{}, total)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	} else {
		n, err = io.Copy(io.Discard, c)
	}
	if err != nil || n != total {
		t.Fatalf("moved %d of %d bytes: %v", n, total, err)
	}
}

// tunNS describes BenchmarkTUN's namespace; tun_plain_linux_test.go
// (not copied into an old tree by tun.sh) sets it from the environment.
var tunNS netns.Options

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func rusage() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// tunDrops is the TUN device's tx_dropped: packets the kernel meant for
// synack and dropped at the device's queue.
func tunDrops(b *testing.B, ns *netns.NS) uint64 {
	var d uint64
	err := ns.Do(func() error {
		l, err := netlink.LinkByName(ns.TUNName())
		if err != nil {
			return err
		}
		if s := l.Attrs().Statistics; s != nil {
			d = s.TxDropped
		}
		return nil
	})
	if err != nil {
		b.Fatal(fmt.Errorf("TUN statistics: %w", err))
	}
	return d
}
