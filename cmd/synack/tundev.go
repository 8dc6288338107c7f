package main

import (
	"errors"
	"fmt"
	"os"

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

// openDevice attaches to the TUN device dev in the namespace ns. The
// errors say what to do.
func openDevice(dev, ns string) (*tun.Device, error) {
	n, err := netns.Open(ns)
	if err != nil {
		return nil, namespaceHint(err, ns)
	}
	d, err := n.OpenTUN(dev)
	if err != nil {
		return nil, deviceHint(err, dev, ns)
	}
	return d, nil
}

// namespaceHint adds to an error entering the namespace ns what to do.
func namespaceHint(err error, ns string) error {
	if errors.Is(err, os.ErrNotExist) {
		make := "(ip netns list shows the namespaces there are)"
		if netns.CheckName(ns) == nil {
			make = "make it with 'sudo synack netns up --name " + ns + "'"
		}
		return failure{fmt.Errorf("no namespace %s: %s", shq(ns), make)}
	}
	return failure{err}
}

// deviceHint adds to an error opening the device dev in the namespace ns
// what to do.
func deviceHint(err error, dev, ns string) error {
	exec := "ip netns exec " + shq(ns) + " "
	switch {
	case errors.Is(err, tun.ErrNotTUN):
		return failure{fmt.Errorf("%w: name a TUN device ('synack netns up' makes %s in namespace %s), or make one with: %sip tuntap add NAME mode tun", err, netns.DefaultTUN, defaultNetns, exec)}
	case errors.Is(err, tun.ErrNoDevice):
		return failure{fmt.Errorf("%w: make one with: %sip tuntap add %s mode tun ('synack netns up' makes %s in namespace %s)", err, exec, shq(dev), netns.DefaultTUN, defaultNetns)}
	case errors.Is(err, tun.ErrBusy):
		return failure{fmt.Errorf("%w: stop the synack serve or get running on it first", err)}
	}
	return failure{err}
}
