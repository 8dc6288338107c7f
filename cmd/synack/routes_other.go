//go:build !linux

package main

import "net/netip"

// routeWarning returns "": there are no TUN devices here (openDevice has
// failed already).
func routeWarning(dev, ns string, addr netip.Addr) string { return "" }

// routedTo returns nothing.
func routedTo(dev, ns string) ([]netip.Prefix, error) { return nil, nil }
