package synack_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/netip"
	"time"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/link/tun"
)

// ForwardTCP is a transparent proxy's TCP half (package relay is the
// whole of one): each SYN routed to the device waits while the handler
// dials its original destination, then the handshake completes, or the
// client is refused as the destination refused the proxy. Compile-only:
// it needs a TUN device.
func ExampleStack_ForwardTCP() {
	dev, err := tun.Open("synack0", 1500)
	if err != nil {
		log.Fatal(err)
	}
	st, err := synack.New(dev, synack.Config{Addr: netip.MustParseAddr("198.18.0.2"), AnyDestination: true})
	if err != nil {
		dev.Close()
		log.Fatal(err)
	}
	defer st.Close()
	_, err = st.ForwardTCP(0, 0, func(r *synack.TCPRequest) {
		ctx, cancel := context.WithDeadline(context.Background(), r.Deadline())
		defer cancel()
		var d net.Dialer
		up, err := d.DialContext(ctx, "tcp", r.Destination().String())
		if err != nil {
			r.Refuse(synack.RefuseReset) // the client sees "connection refused"
			return
		}
		defer up.Close()
		c, err := r.Complete(ctx)
		if err != nil {
			return
		}
		defer c.Close()
		go io.Copy(up, c)
		io.Copy(c, up)
	})
	if err != nil {
		log.Fatal(err)
	}
	time.Sleep(time.Hour)
}
