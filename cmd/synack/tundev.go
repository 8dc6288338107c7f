package main

import (
	"fmt"

	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link/tun"
)

// checkDeviceFlags validates --tun and --netns without touching the
// system: any name the kernel and `ip netns` take, since the device and
// the namespace may be someone else's.
func checkDeviceFlags(dev, ns string) error {
	if err := tun.CheckName(dev); err != nil {
		return usageError{fmt.Errorf("--tun %q: %v", dev, err)}
	}
	if ns == "" {
		return nil
	}
	if err := netns.CheckExistingName(ns); err != nil {
		return usageError{fmt.Errorf("--netns %q: %v", ns, err)}
	}
	return nil
}
