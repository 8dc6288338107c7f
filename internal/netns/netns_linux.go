//go:build linux

package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/link/tun"
)

func available() error {
	if !isRoot() {
		return fmt.Errorf("netns: making a network namespace and a TUN device needs root (euid is %d)", os.Geteuid())
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("netns: no TUN support (load the driver with modprobe tun, or in a container pass /dev/net/tun in): %w", err)
	}
	return nil
}

var counter atomic.Int64

// errRemoved is returned by calls on a namespace after Remove.
var errRemoved = errors.New("namespace removed")

// NS is a network namespace holding a TUN device.
type NS struct {
	name      string
	tunName   string
	mtu       int
	persist   bool
	noOffload bool
	// named: Remove deletes the name, which New made or Open found.
	named bool
	h     vnetns.NsHandle

	mu      sync.Mutex
	dev     *tun.Device // synack's side of the TUN, when this process holds it
	removed bool
}

// New makes a namespace with a TUN device configured as the package doc
// says; TUN returns synack's side of it (nil with Persist, where the device
// is left for another process to open with OpenTUN). On error nothing it
// made is left behind, and nothing it did not make is touched: a name that
// is taken is an error that is os.ErrExist.
func New(opts Options) (*NS, error) {
	if err := available(); err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = fmt.Sprintf("synack-%d-%d", os.Getpid(), counter.Add(1))
	}
	if err := CheckName(opts.Name); err != nil {
		return nil, fmt.Errorf("netns: namespace name %q: %w", opts.Name, err)
	}
	if opts.TUN == "" {
		opts.TUN = DefaultTUN
	}
	if err := CheckDeviceName(opts.TUN); err != nil {
		return nil, fmt.Errorf("netns: device name %q: %w", opts.TUN, err)
	}
	if opts.MTU == 0 {
		opts.MTU = 1500
	}
	n := &NS{name: opts.Name, tunName: opts.TUN, mtu: opts.MTU, persist: opts.Persist, noOffload: opts.NoOffload, h: vnetns.None()}
	err := onThread(func() error {
		var h vnetns.NsHandle
		var err error
		if opts.Persist {
			h, err = newNamed(opts.Name)
			n.named = err == nil
		} else {
			h, err = vnetns.New()
		}
		if err != nil {
			return err
		}
		n.h = h
		// The thread is now in the new namespace.
		return n.setup()
	})
	if err != nil {
		n.Remove()
		return nil, err
	}
	if opts.Persist {
		n.mu.Lock()
		n.dev.Close()
		n.dev = nil
		n.mu.Unlock()
	}
	return n, nil
}

// runDir holds the names of namespaces, as `ip netns` keeps them.
const runDir = "/run/netns"

// newNamed makes a namespace, enters it on the calling thread and names it
// as `ip netns add` does: a bind mount of it on runDir/name. The name file
// is made exclusively, so a name that exists is an error (os.ErrExist) and
// is left alone; on any other error the file this call made is removed.
func newNamed(name string) (vnetns.NsHandle, error) {
	if err := mountRunDir(); err != nil {
		return vnetns.None(), err
	}
	path := filepath.Join(runDir, name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return vnetns.None(), fmt.Errorf("netns: namespace %q exists already: %w", name, err)
		}
		return vnetns.None(), fmt.Errorf("netns: create namespace %q: %w", name, err)
	}
	f.Close()
	h, err := vnetns.New()
	if err != nil {
		os.Remove(path)
		return vnetns.None(), fmt.Errorf("netns: create namespace %q: %w", name, err)
	}
	self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
	if err := unix.Mount(self, path, "bind", unix.MS_BIND, ""); err != nil {
		h.Close()
		os.Remove(path)
		return vnetns.None(), fmt.Errorf("netns: name namespace %q (bind mount on %s): %w", name, path, err)
	}
	return h, nil
}

// mountRunDir makes runDir a mount point of its own with shared
// propagation, as `ip netns add` does before it names a namespace, so that
// the names are seen from every mount namespace. It must come before the
// first name is mounted: when runDir is not a mount point yet, iproute2
// bind-mounts it on itself, and a name mounted under it before that is
// hidden, where neither `ip netns del` nor Remove can unmount it.
func mountRunDir() error {
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	share := func() error { return unix.Mount("", runDir, "none", unix.MS_SHARED|unix.MS_REC, "") }
	err := share()
	if errors.Is(err, unix.EINVAL) {
		// Not a mount point yet: bind the directory on itself, then
		// share that.
		if err := unix.Mount(runDir, runDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("netns: bind mount %s on itself: %w", runDir, err)
		}
		err = share()
	}
	if err != nil {
		return fmt.Errorf("netns: make %s a shared mount: %w", runDir, err)
	}
	return nil
}

// setup runs inside the namespace.
func (n *NS) setup() error {
	// IPv6 on, but quiet: no link-local addresses, router solicitations or
	// duplicate address detection on devices made from now on (the TUN),
	// so the kernel sends nothing through the TUN by itself and 2001:2::1
	// is usable at once. (The thread's /proc/sys/net is its namespace's.)
	for _, conf := range []string{"all", "default"} {
		for _, kv := range [][2]string{
			{"disable_ipv6", "0"}, {"addr_gen_mode", "1"}, {"accept_dad", "0"},
			{"router_solicitations", "0"}, {"accept_ra", "0"},
		} {
			p := "/proc/sys/net/ipv6/conf/" + conf + "/" + kv[0]
			if err := os.WriteFile(p, []byte(kv[1]), 0o644); err != nil && !(conf == "all" && kv[0] == "addr_gen_mode") {
				return fmt.Errorf("netns %s: IPv6 setting %s: %w", n.name, p, err)
			}
		}
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("netns %s: loopback: %w", n.name, err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("netns %s: bring lo up: %w", n.name, err)
	}
	dev, err := tun.OpenOptions(n.tunName, tun.Options{MTU: n.mtu, NoOffload: n.noOffload})
	if err != nil {
		return fmt.Errorf("netns %s: %w", n.name, err)
	}
	n.dev = dev
	if n.persist {
		if err := dev.SetPersist(true); err != nil {
			return fmt.Errorf("netns %s: %w", n.name, err)
		}
	}
	l, err := netlink.LinkByName(n.tunName)
	if err != nil {
		return fmt.Errorf("netns %s: %w", n.name, err)
	}
	a6 := &netlink.Addr{IPNet: prefixNet(KernelPrefix6, false), Flags: unix.IFA_F_NODAD}
	if err := netlink.AddrAdd(l, a6); err != nil {
		return fmt.Errorf("netns %s: add address %v to %s: %w", n.name, KernelPrefix6, n.tunName, err)
	}
	if err := tun.Configure(n.tunName, KernelPrefix); err != nil {
		return fmt.Errorf("netns %s: %w", n.name, err)
	}
	for _, p := range []netip.Prefix{RoutedPrefix, RoutedPrefix6} {
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Scope: netlink.SCOPE_LINK, Dst: prefixNet(p, true)}
		if p.Addr().Is6() {
			r.Scope = netlink.SCOPE_UNIVERSE
		}
		if err := netlink.RouteAdd(r); err != nil {
			return fmt.Errorf("netns %s: route %v to %s: %w", n.name, p, n.tunName, err)
		}
	}
	return nil
}

// prefixNet converts p to a net.IPNet, masked if masked.
func prefixNet(p netip.Prefix, masked bool) *net.IPNet {
	if masked {
		p = p.Masked()
	}
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// Open finds the named namespace that New with Persist (or `synack netns
// up`, or `ip netns add`) made. It needs no privilege; entering the
// namespace (Do, OpenTUN) needs CAP_SYS_ADMIN, and fails with an error
// that is os.ErrPermission without it.
func Open(name string) (*NS, error) {
	if err := CheckExistingName(name); err != nil {
		return nil, fmt.Errorf("netns: %q: %w", name, err)
	}
	h, err := vnetns.GetFromName(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("netns: no namespace %q: %w", name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("netns: open namespace %q: %w", name, err)
	}
	return &NS{name: name, tunName: DefaultTUN, persist: true, named: true, h: h}, nil
}

// OpenTUN attaches to the TUN device name in the namespace (a persistent
// one, as New with Persist leaves) and returns synack's side of it; the
// errors are tun.Attach's.
func (n *NS) OpenTUN(name string) (*tun.Device, error) {
	var dev *tun.Device
	err := n.Do(func() error {
		var err error
		dev, err = tun.Attach(name)
		if err != nil {
			return fmt.Errorf("netns %s: %w", n.name, err)
		}
		return nil
	})
	return dev, err
}

// RemoveNamed deletes the named namespace and the TUN devices in it.
func RemoveNamed(name string) error {
	n, err := Open(name)
	if err != nil {
		return err
	}
	return n.Remove()
}

// Name returns the namespace's name.
func (n *NS) Name() string { return n.name }

// TUNName returns the name of the namespace's TUN device.
func (n *NS) TUNName() string { return n.tunName }

// TUN returns synack's side of the TUN device, or nil. Remove closes it.
func (n *NS) TUN() *tun.Device {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dev
}

// Do runs f on an OS thread inside the namespace. The thread goes back to
// its namespace afterwards; if it cannot, it is discarded, never reused.
// Sockets f creates stay in the namespace; goroutines f starts do not run
// in it.
func (n *NS) Do(f func() error) error {
	return onThread(func() error {
		// The handle is read under n.mu: Remove closes it, and a thread
		// entering the namespace must not use a closed (or reused) fd.
		n.mu.Lock()
		if n.removed {
			n.mu.Unlock()
			return fmt.Errorf("netns: enter %s: %w", n.name, errRemoved)
		}
		err := vnetns.Set(n.h)
		n.mu.Unlock()
		if err != nil {
			return fmt.Errorf("netns: enter %s: %w", n.name, err)
		}
		return f()
	})
}

// Start starts cmd inside the namespace (the child inherits the namespace
// of the thread that forks it). Wait for it as usual.
func (n *NS) Start(cmd *exec.Cmd) error {
	return n.Do(cmd.Start)
}

// Listen opens a kernel socket listening inside the namespace.
func (n *NS) Listen(network, address string) (net.Listener, error) {
	var ln net.Listener
	err := n.Do(func() error {
		var err error
		ln, err = net.Listen(network, address)
		return err
	})
	return ln, err
}

// DialContext connects a kernel socket from inside the namespace.
func (n *NS) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() error {
		var err error
		var d net.Dialer
		c, err = d.DialContext(ctx, network, address)
		return err
	})
	return c, err
}

// Remove closes synack's side of the TUN, deletes the TUN devices in the
// namespace and, for a named one, the namespace's name; the namespace dies
// with its last user. Removing twice is not an error. A namespace whose
// New failed before it had its name does not delete the name: it may be
// another's.
func (n *NS) Remove() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.removed {
		return nil
	}
	n.removed = true
	var errs []error
	if n.dev != nil {
		errs = append(errs, n.dev.Close())
		n.dev = nil
	}
	if n.h.IsOpen() {
		if n.persist {
			errs = append(errs, deleteTUNs(n.h, n.name))
		}
		errs = append(errs, n.h.Close())
	}
	if n.named {
		if err := vnetns.DeleteNamed(n.name); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("netns: delete %s: %w", n.name, err))
		}
	}
	return errors.Join(errs...)
}

func deleteTUNs(h vnetns.NsHandle, name string) error {
	nh, err := netlink.NewHandleAt(h)
	if err != nil {
		return fmt.Errorf("netns %s: netlink: %w", name, err)
	}
	defer nh.Close()
	links, err := nh.LinkList()
	if err != nil {
		return fmt.Errorf("netns %s: list links: %w", name, err)
	}
	var errs []error
	for _, l := range links {
		if l.Type() == "tuntap" {
			if err := nh.LinkDel(l); err != nil {
				errs = append(errs, fmt.Errorf("netns %s: delete %s: %w", name, l.Attrs().Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// onThread runs f on a fresh goroutine locked to its OS thread, then
// returns the thread to the namespace it started in. If that fails the
// goroutine exits still locked, and the runtime ends the thread.
func onThread(f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := vnetns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- fmt.Errorf("netns: current namespace: %w", err)
			return
		}
		defer orig.Close()
		ferr := f()
		if err := vnetns.Set(orig); err != nil {
			ch <- errors.Join(ferr, fmt.Errorf("netns: return to the original namespace: %w", err))
			return
		}
		runtime.UnlockOSThread()
		ch <- ferr
	}()
	return <-ch
}

// ForTest makes a namespace for t, removed when t ends (whether it passed or
// not), or skips t saying why namespaces are not available.
func ForTest(t testing.TB, opts Options) *NS {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	n, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Remove(); err != nil {
			t.Errorf("removing namespace: %v", err)
		}
	})
	return n
}
