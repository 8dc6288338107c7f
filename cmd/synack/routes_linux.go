//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/internal/netns"
)

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
		rs, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{LinkIndex: l.Attrs().Index, Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_OIF|netlink.RT_FILTER_TABLE)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Dst == nil {
				if r.Family == netlink.FAMILY_V6 {
					ps = append(ps, netip.PrefixFrom(netip.IPv6Unspecified(), 0))
				} else {
					ps = append(ps, netip.PrefixFrom(netip.IPv4Unspecified(), 0))
				}
				continue
			}
			a, _ := netip.AddrFromSlice(r.Dst.IP)
			a = a.Unmap()
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
