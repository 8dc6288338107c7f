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

// openDevice attaches to the TUN device dev in the namespace ns, or in the
// namespace synack runs in if ns is "". Nothing is checked up front: a
// user who owns the device needs no root to attach to it, and the errors
// say what to do.
func openDevice(dev, ns string) (*tun.Device, error) {
	if ns == "" {
		d, err := tun.Attach(dev)
		if err != nil {
			return nil, deviceHint(err, dev, ns)
		}
		return d, nil
	}
	n, err := netns.Open(ns)
	if err == nil {
		err = n.Do(func() error { return nil })
	}
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
	switch {
	case errors.Is(err, os.ErrNotExist):
		make := "(ip netns list shows the namespaces there are)"
		if netns.CheckName(ns) == nil {
			make = "make it with 'sudo synack netns up --name " + ns + "'"
		}
		return failure{fmt.Errorf("no namespace %s: %s", shq(ns), make)}
	case errors.Is(err, os.ErrPermission):
		return failure{fmt.Errorf("entering namespace %s needs root: run it with sudo, or give --netns '' to use a TUN device of yours in the namespace synack is started in", shq(ns))}
	}
	return failure{err}
}

// deviceHint adds to an error opening the device dev in the namespace ns
// ("" for synack's own) what to do.
func deviceHint(err error, dev, ns string) error {
	add := "sudo ip tuntap add %s mode tun user $USER"
	if ns != "" {
		add = "sudo ip netns exec " + shq(ns) + " ip tuntap add %s mode tun"
	}
	switch {
	case errors.Is(err, tun.ErrNotTUN):
		return failure{fmt.Errorf("%w: name a TUN device ('synack netns up' makes %s in namespace %s), or make one with: "+add, err, netns.DefaultTUN, defaultNetns, "NAME")}
	case errors.Is(err, tun.ErrNoDevice):
		return failure{fmt.Errorf("%w: make one with: "+add+" ('synack netns up' makes %s in namespace %s)", err, shq(dev), netns.DefaultTUN, defaultNetns)}
	case errors.Is(err, tun.ErrBusy):
		return failure{fmt.Errorf("%w: stop the synack serve or get running on it first", err)}
	case errors.Is(err, os.ErrPermission):
		return failure{fmt.Errorf("%w: run it with sudo", err)}
	}
	return failure{err}
}
