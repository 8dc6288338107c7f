package synack

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
)

// Large UDP datagrams end to end through the Go API over link/mem, with
// links of 1280 and 1500 bytes in both families: the client's datagrams of
// 1,500 to 30,000 bytes leave in fragments no larger than the MTU (the
// IPv4 path drops anything larger, as netsim does with Impairment.MTU,
// and counts it), the server's stack reassembles them, echoes each, and
// the client's reassembles the echo.
func TestUDPFragmentsEndToEnd(t *testing.T) {
	for _, mtu := range []int{1280, 1500} {
		for _, network := range []string{"udp4", "udp6"} {
			t.Run(fmt.Sprintf("%s MTU %d", network, mtu), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					imp := netsim.Impairment{Latency: time.Millisecond}
					if network == "udp4" {
						imp.MTU = mtu // link/mem impairs IPv4 paths only
					} else {
						imp = netsim.Impairment{}
					}
					n, cp, sp, err := mem.Pair(3, imp)
					if err != nil {
						t.Fatal(err)
					}
					defer n.Close()
					n.AddAddr6("client", client6)
					n.AddAddr6("server", server6)
					cp.SetMTU(mtu)
					sp.SetMTU(mtu)
					client, err := New(cp, Config{Name: "client", Seed: 1})
					if err != nil {
						t.Fatal(err)
					}
					defer client.Close()
					server, err := New(sp, Config{Name: "server", Seed: 2})
					if err != nil {
						t.Fatal(err)
					}
					defer server.Close()
					srv, err := server.ListenUDP(network, ":7")
					if err != nil {
						t.Fatal(err)
					}
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
					addr := "198.18.0.1:7"
					if network == "udp6" {
						addr = "[2001:2::1]:7"
					}
					c, err := client.Dial(network, addr)
					if err != nil {
						t.Fatal(err)
					}
					buf := make([]byte, 65536)
					for _, size := range []int{1500, 4000, 9000, 30000} {
						q := make([]byte, size)
						for i := range q {
							q[i] = byte(i*7 + size)
						}
						if _, err := c.Write(q); err != nil {
							t.Fatalf("write of %d bytes: %v", size, err)
						}
						c.SetReadDeadline(time.Now().Add(time.Second))
						k, err := c.Read(buf)
						if err != nil || !bytes.Equal(buf[:k], q) {
							t.Fatalf("echo of %d bytes: %d bytes back, %v; client %+v server %+v udp %+v path %+v", size, k, err, client.Counters(), server.Counters(), server.UDPCounters(), n.Stats("client", "server"))
						}
					}
					// SetDontFragment: EMSGSIZE, as IP_PMTUDISC_DO gives.
					c.(*UDPConn).SetDontFragment(true)
					if _, err := c.Write(make([]byte, mtu)); !errors.Is(err, syscall.EMSGSIZE) {
						t.Errorf("a %d-byte datagram with SetDontFragment: %v, want EMSGSIZE", mtu, err)
					}
					srv.Close()
					if st := n.Stats("client", "server"); st.TooBig != 0 {
						t.Errorf("%d packets over the MTU on the path", st.TooBig)
					}
					cc, sc := client.Counters(), server.Counters()
					if sc.ReasmOKs != 4 || cc.ReasmOKs != 4 || sc.ReasmFails+cc.ReasmFails != 0 || cc.FragOKs != 4 || sc.FragOKs != 4 {
						t.Errorf("server ReasmOKs %d FragOKs %d, client ReasmOKs %d FragOKs %d, ReasmFails %d and %d; want 4 each and no failure",
							sc.ReasmOKs, sc.FragOKs, cc.ReasmOKs, cc.FragOKs, sc.ReasmFails, cc.ReasmFails)
					}
				})
			})
		}
	}
}
