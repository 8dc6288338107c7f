// Package tun is a link.Link on a Linux TUN device: synack's packets go to
// the kernel, which routes them like any others, and the kernel's packets to
// the TUN's addresses come back to synack. With it, synack talks to the
// kernel's own TCP and to real tools (curl, a net/http server).
//
// The device is opened with IFF_TUN|IFF_NO_PI: each read or write is one
// bare IPv4 packet, without the 4-byte packet-information header. Offloads
// (IFF_VNET_HDR) are not enabled, so the kernel hands over whole packets
// with complete checksums, never GSO bursts or partial checksums.
//
// The file descriptor is non-blocking and registered with the Go runtime's
// poller, so a Receive blocked in a read returns link.ErrClosed as soon as
// Close is called.
//
// Interface setup (MTU, an address, up) goes through netlink
// (github.com/vishvananda/netlink), never through the ip command.
//
// On systems other than Linux, Open returns an error saying TUN devices are
// only supported on Linux.
package tun
