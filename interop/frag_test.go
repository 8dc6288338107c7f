package interop

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/internal/netns"
)

// The kernel's UDP against synack's through a real TUN in a namespace,
// with devices of 1280 and 1500 bytes and offloads on and off: a kernel
// socket sends datagrams of 1473 to 30000 bytes, which the kernel sends in
// fragments (its default IP_PMTUDISC_WANT; IPv6 with Fragment headers);
// synack reassembles each, its echo server sends it back in fragments of
// its own, and the kernel reassembles those for the socket. Both
// families.
func TestUDPFragmentsWithKernel(t *testing.T) {
	for _, mtu := range []int{1280, 1500} {
		for _, plain := range []bool{false, true} {
			t.Run(fmt.Sprintf("MTU %d plain %v", mtu, plain), func(t *testing.T) {
				ns := netns.ForTest(t, netns.Options{Name: fmt.Sprintf("frag-%d-%d", os.Getpid(), mtu), MTU: mtu, NoOffload: plain})
				st, err := synack.New(ns.TUN(), synack.Config{Addr: netns.StackAddr, Addr6: netns.StackAddr6})
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				srv, err := st.ListenUDP("udp", ":7")
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				go func() {
					buf := make([]byte, 65536)
					for {
						k, from, err := srv.ReadFrom(buf)
						if err != nil {
							return
						}
						srv.WriteTo(buf[:k], from)
					}
				}()
				for _, fam := range []struct {
					kernel, stack netip.Addr
				}{{netns.KernelAddr, netns.StackAddr}, {netns.KernelAddr6, netns.StackAddr6}} {
					var pc net.PacketConn
					if err := ns.Do(func() (err error) {
						pc, err = net.ListenPacket("udp", netip.AddrPortFrom(fam.kernel, 0).String())
						return err
					}); err != nil {
						t.Fatal(err)
					}
					to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(fam.stack, 7))
					buf := make([]byte, 65536)
					// A small datagram first, resent until echoed (at most
					// 10 times): in a fresh namespace the kernel loses the
					// first IPv6 datagram synack sends it about half the
					// time, fragmented or not (seen with 100 bytes too).
					for i := 0; ; i++ {
						pc.WriteTo([]byte("hello"), to)
						pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
						if k, _, err := pc.ReadFrom(buf); err == nil && string(buf[:k]) == "hello" {
							break
						}
						if i == 9 {
							t.Fatalf("%v: no echo of a small datagram in 10 tries", to)
						}
					}
					for _, size := range []int{1473, 4000, 9000, 30000} {
						q := make([]byte, size)
						for i := range q {
							q[i] = byte(i*13 + size)
						}
						if _, err := pc.WriteTo(q, to); err != nil {
							t.Fatalf("kernel send of %d bytes to %v: %v", size, to, err)
						}
						pc.SetReadDeadline(time.Now().Add(5 * time.Second))
						k, _, err := pc.ReadFrom(buf)
						if err != nil || !bytes.Equal(buf[:k], q) {
							t.Fatalf("%v: echo of %d bytes: %d bytes back, %v; synack %+v", to, size, k, err, st.Counters())
						}
					}
					pc.Close()
				}
				c := st.Counters()
				if c.ReasmOKs < 8 || c.FragOKs < 8 || c.ReasmFails != 0 {
					t.Errorf("ReasmOKs %d FragOKs %d ReasmFails %d, want at least 8 and 8, and 0", c.ReasmOKs, c.FragOKs, c.ReasmFails)
				}
				t.Logf("synack: ReasmReqds %d ReasmOKs %d FragOKs %d FragCreates %d", c.ReasmReqds, c.ReasmOKs, c.FragOKs, c.FragCreates)
			})
		}
	}
}
