package wgtun_test

import (
	"fmt"
	"log"
	"net/netip"

	"github.com/gosynack/synack/link/wgtun"
)

// CreateNetTUN is the drop-in for wireguard-go's netstack.CreateNetTUN:
// hand dev to device.NewDevice(dev, conn.NewDefaultBind(), logger), and
// dial through the tunnel with the Stack. (wgtun.New, the other way, puts
// a synack Stack on any tun.Device, such as tun.CreateTUN's.)
func ExampleCreateNetTUN() {
	dev, stack, err := wgtun.CreateNetTUN([]netip.Addr{netip.MustParseAddr("10.64.0.2")}, []netip.Addr{netip.MustParseAddr("10.64.0.1")}, 1420)
	if err != nil {
		log.Fatal(err)
	}
	defer stack.Close()
	mtu, _ := dev.MTU()
	fmt.Println(stack.Addr(), mtu, dev.BatchSize())
	// Output: 10.64.0.2 1420 32
}
