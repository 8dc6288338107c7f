// Package netns makes a private Linux network namespace holding a TUN
// device, for synack's interop tests and for the synack netns command: the
// kernel's side of the device is 198.18.0.1/24 (with 198.18.0.0/15 routed
// to the device, for any-destination tests), synack's side is 198.18.0.2,
// and nothing in the caller's own namespace is touched.
//
// A namespace made without Persist is anonymous: it lives as long as this
// process holds it, so it and its device disappear even if the process is
// killed. Remove takes everything down at once.
//
// Code runs inside the namespace through Do, on an OS thread that enters
// the namespace and leaves it afterwards. A socket stays in the namespace it
// was created in, so Listen and Dial give kernel-side sockets in the
// namespace that work from any goroutine; Start runs a command (curl, ss,
// nft, tshark) inside it.
package netns

import (
	"net/netip"
	"os"
	"strings"
)

// Addresses inside a namespace: the kernel's and synack's ends of the TUN.
var (
	KernelAddr = netip.MustParseAddr("198.18.0.1")
	StackAddr  = netip.MustParseAddr("198.18.0.2")
	// KernelPrefix is the address given to the kernel's side of the TUN.
	KernelPrefix = netip.PrefixFrom(KernelAddr, 24)
	// RoutedPrefix is routed to the TUN in the namespace: every address in
	// it but KernelAddr is reached through synack (RFC 2544's
	// benchmarking range).
	RoutedPrefix = netip.MustParsePrefix("198.18.0.0/15")
)

// DefaultTUN is the device name a namespace gets unless told otherwise.
const DefaultTUN = "synack0"

// Options describe a namespace.
type Options struct {
	// Name is the namespace's name; default synack-<pid>-<n>.
	Name string
	// TUN is the device's name; default DefaultTUN.
	TUN string
	// MTU of the device; default 1500.
	MTU int
	// Persist makes a named namespace (/var/run/netns/NAME, what
	// `ip netns add` makes) and a persistent device, both of which outlive
	// this process until Remove or RemoveNamed. Without it, the namespace
	// is anonymous and dies with the process.
	Persist bool
}

// Available reports why namespaces with a TUN cannot be made here, or nil
// if they can: it needs Linux, root and /dev/net/tun.
func Available() error { return available() }

func isRoot() bool { return os.Geteuid() == 0 }

func validName(s string) bool {
	return s != "" && len(s) < 200 && !strings.ContainsAny(s, "/\x00") && s != "." && s != ".."
}
