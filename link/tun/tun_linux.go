//go:build linux

package tun

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/link"
)

// Device is an open TUN device; it implements link.Link.
type Device struct {
	f      *os.File
	name   string
	mtu    int
	closed atomic.Bool
}

var _ link.Link = (*Device)(nil)

// Open creates the TUN device name (or attaches to it, if a persistent one
// of that name exists) in the network namespace of the calling OS thread,
// and sets its MTU to mtu (0 keeps the device's MTU, 1500 for a new one).
// An empty name lets the kernel choose one (tun0, tun1...); Name tells which.
// The device is not configured: see Configure.
//
// To open a device in another network namespace, call Open from a goroutine
// locked to an OS thread that has entered that namespace; the device stays
// there, and its Device works from any goroutine.
func Open(name string, mtu int) (*Device, error) {
	if name != "" {
		if err := CheckName(name); err != nil {
			return nil, fmt.Errorf("tun: %q: %w", name, err)
		}
	}
	if mtu < 0 || (mtu > 0 && mtu < 68) || mtu > 65535 {
		return nil, fmt.Errorf("tun: MTU %d out of range (68 to 65535, or 0 to keep the device's)", mtu)
	}
	// Every step must run in the same network namespace: stay on this
	// thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("tun: open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tun: interface name %q: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tun: TUNSETIFF %q: %w", name, err)
	}
	d := &Device{name: ifr.Name()}
	// A non-blocking descriptor is registered with the runtime poller, so
	// Close unblocks a pending Read.
	d.f = os.NewFile(uintptr(fd), "/dev/net/tun:"+d.name)
	l, err := netlink.LinkByName(d.name)
	if err != nil {
		d.f.Close()
		return nil, fmt.Errorf("tun: look up %q: %w", d.name, err)
	}
	d.mtu = l.Attrs().MTU
	if mtu > 0 && mtu != d.mtu {
		if err := netlink.LinkSetMTU(l, mtu); err != nil {
			d.f.Close()
			return nil, fmt.Errorf("tun: set MTU of %q to %d: %w", d.name, mtu, err)
		}
		d.mtu = mtu
	}
	return d, nil
}

// Configure gives the interface name, in the network namespace of the
// calling OS thread, the address addr (the kernel's side of the link, e.g.
// 198.18.0.1/24, which also routes the prefix to the device) and brings it
// up. An invalid addr only brings the interface up.
func Configure(name string, addr netip.Prefix) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("tun: look up %q: %w", name, err)
	}
	if addr.IsValid() {
		a := &netlink.Addr{IPNet: &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), addr.Addr().BitLen())}}
		if err := netlink.AddrAdd(l, a); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("tun: add address %v to %q: %w", addr, name, err)
		}
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("tun: bring %q up: %w", name, err)
	}
	return nil
}

// SetPersist makes the device outlive its file descriptor (TUNSETPERSIST),
// so that another process can attach to it by name, or ends that.
func (d *Device) SetPersist(on bool) error {
	v := 0
	if on {
		v = 1
	}
	rc, err := d.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("tun: %s: %w", d.name, err)
	}
	var ioErr error
	if err := rc.Control(func(fd uintptr) {
		ioErr = unix.IoctlSetInt(int(fd), unix.TUNSETPERSIST, v)
	}); err != nil {
		return fmt.Errorf("tun: %s: %w", d.name, err)
	}
	if ioErr != nil {
		return fmt.Errorf("tun: TUNSETPERSIST %s: %w", d.name, ioErr)
	}
	return nil
}

// Name returns the interface's name.
func (d *Device) Name() string { return d.name }

// MTU returns the device's MTU.
func (d *Device) MTU() int { return d.mtu }

// Send writes one IPv4 packet to the kernel.
func (d *Device) Send(pkt []byte) error {
	if d.closed.Load() {
		return link.ErrClosed
	}
	if _, err := d.f.Write(pkt); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return link.ErrClosed
		}
		return fmt.Errorf("tun: write %d bytes to %s: %w", len(pkt), d.name, err)
	}
	return nil
}

// Receive blocks until the kernel routes a packet to the device, or Close.
func (d *Device) Receive(buf []byte) (int, error) {
	for {
		n, err := d.f.Read(buf)
		if err == nil {
			if n == 0 {
				continue
			}
			return n, nil
		}
		if errors.Is(err, os.ErrClosed) || d.closed.Load() {
			return 0, link.ErrClosed
		}
		return 0, fmt.Errorf("tun: read from %s: %w", d.name, err)
	}
}

// Close closes the device's descriptor, which unblocks a pending Receive.
// A device that is not persistent disappears.
func (d *Device) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	return d.f.Close()
}
