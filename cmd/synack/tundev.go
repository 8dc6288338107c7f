package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

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

// inNamespace runs f in the namespace ns ("" for synack's own).
func inNamespace(ns string, f func() error) error {
	if ns == "" {
		return f()
	}
	n, err := netns.Open(ns)
	if err != nil {
		return err
	}
	return n.Do(f)
}

// routeWarning says, when the kernel in the namespace ns does not route
// addr through the device dev, that what it sends there does not reach
// synack, and what to do; "" when it does.
func routeWarning(dev, ns string, addr netip.Addr) string {
	where, exec := "this namespace", "sudo "
	if ns != "" {
		where, exec = "namespace "+shq(ns), "sudo ip netns exec "+shq(ns)+" "
	}
	var warn string
	err := inNamespace(ns, func() error {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			return err
		}
		rs, err := netlink.RouteGet(addr.AsSlice())
		if err != nil || len(rs) == 0 {
			warn = fmt.Sprintf("nothing routes %v in %s: route it to the device with: %sip route add %v dev %s", addr, where, exec, addr, shq(dev))
			return nil
		}
		if rs[0].LinkIndex == l.Attrs().Index {
			return nil
		}
		via := fmt.Sprintf("interface %d", rs[0].LinkIndex)
		if o, err := netlink.LinkByIndex(rs[0].LinkIndex); err == nil {
			via = o.Attrs().Name
		}
		own := ""
		if rs[0].Type == unix.RTN_LOCAL {
			own = " (it is the kernel's own address)"
		}
		warn = fmt.Sprintf("the kernel routes %v to %s, not %s%s, so what it sends there does not reach synack: give --addr an address routed to %s", addr, via, dev, own, dev)
		return nil
	})
	if err != nil {
		return fmt.Sprintf("could not read the routes of %s: %v", where, err)
	}
	return warn
}

// routedTo lists the IPv4 prefixes the main routing table of the
// namespace ns sends to the device dev.
func routedTo(dev, ns string) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	err := inNamespace(ns, func() error {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			return err
		}
		rs, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{LinkIndex: l.Attrs().Index, Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_OIF|netlink.RT_FILTER_TABLE)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Dst == nil {
				ps = append(ps, netip.PrefixFrom(netip.IPv4Unspecified(), 0))
				continue
			}
			a, _ := netip.AddrFromSlice(r.Dst.IP.To4())
			bits, _ := r.Dst.Mask.Size()
			ps = append(ps, netip.PrefixFrom(a, bits))
		}
		return nil
	})
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return ps, err
}
