// Package netns makes a private Linux network namespace holding a TUN
// device, for synack's interop tests and for the synack netns command: the
// kernel's side of the device is 198.18.0.1/24 and 2001:2::1/64 (with
// 198.18.0.0/15 and 2001:2::/48 routed to the device, for any-destination
// tests), synack's side is 198.18.0.2 and 2001:2::2, and nothing in the
// caller's own namespace is touched.
//
// IPv6 in the namespace is on the TUN device and loopback only: the device
// gets no link-local address, sends no router solicitations and does no
// duplicate address detection (so 2001:2::1 is usable at once); a TUN is
// layer 3, so there is no neighbour discovery on it either.
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
	"errors"
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

	// The same in IPv6, in RFC 5180's benchmarking range 2001:2::/48.
	KernelAddr6   = netip.MustParseAddr("2001:2::1")
	StackAddr6    = netip.MustParseAddr("2001:2::2")
	KernelPrefix6 = netip.PrefixFrom(KernelAddr6, 64)
	RoutedPrefix6 = netip.MustParsePrefix("2001:2::/48")
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
	// NoOffload opens the device in plain mode (tun.Options.NoOffload):
	// every packet a capture on the device shows then has complete
	// checksums, where with offloads the kernel's own show partial ones.
	NoOffload bool
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

// CheckName says why New refuses to give a namespace the name s, or
// returns nil. The names are a subset of what `ip netns` takes that needs no
// quoting in a shell and cannot be taken for an option.
func CheckName(s string) error {
	if !safeName(s, 255) {
		return errors.New("a namespace name is letters, digits, '.', '_' and '-', starting with a letter or digit, at most 255 bytes")
	}
	return nil
}

// CheckDeviceName says why New refuses to give a TUN device the name s, or
// returns nil: the kernel's interface names, less those that need quoting.
func CheckDeviceName(s string) error {
	if !safeName(s, 15) {
		return errors.New("an interface name is 1 to 15 bytes: letters, digits, '.', '_' and '-', starting with a letter or digit")
	}
	return nil
}

// CheckExistingName says why s cannot name a namespace that exists, or
// returns nil: `ip netns add` takes any name of 1 to 255 bytes (NAME_MAX)
// that is a file name, not '.' or '..'.
func CheckExistingName(s string) error {
	if s == "" || len(s) > 255 || strings.ContainsAny(s, "/\x00") || s == "." || s == ".." {
		return errors.New("not a namespace name (one has 1 to 255 bytes, no '/', and is not '.' or '..')")
	}
	return nil
}

func safeName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
