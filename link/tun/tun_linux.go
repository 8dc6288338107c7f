//go:build linux

package tun

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/link"
)

// Device is an open TUN device; it implements link.Link, link.Burster
// and TryReceive.
type Device struct {
	f      *os.File
	rc     syscall.RawConn
	name   string
	mtu    int
	closed atomic.Bool
	vnet   bool // IFF_VNET_HDR: a virtio_net_hdr before every packet
	verify bool // VerifyChecksums or OffloadChecksums was called in vnet mode: the device verifies, the stack does not
	offl   int  // the TUN_F_* flags TUNSETOFFLOAD took

	// The reader's (one goroutine at a time).
	rhdr           [vnetHdrLen]byte
	riov           [2]unix.Iovec
	rbuf           []byte
	rn             int
	rerr           error
	tryFn, blockFn func(fd uintptr) bool

	w writer
}

var _ link.Link = (*Device)(nil)

// devPath is the TUN driver's control device.
var devPath = "/dev/net/tun"

// Open creates the TUN device name (or attaches to it, if a persistent one
// of that name exists) in the network namespace of the calling OS thread,
// and sets its MTU to mtu (0 keeps the device's MTU, 1500 for a new one).
// An empty name lets the kernel choose one (tun0, tun1...); Name tells which.
// The device is not configured: see Configure.
//
// To open a device in another network namespace, call Open from a goroutine
// locked to an OS thread that has entered that namespace; the device stays
// there, and its Device works from any goroutine.
//
// The errors say what was wrong: no /dev/net/tun; not allowed (creating a
// device needs CAP_NET_ADMIN, attaching to one needs it or to be the
// device's owner); a name that is another kind of interface (ErrNotTUN) or
// a device another descriptor holds (ErrBusy).
func Open(name string, mtu int) (*Device, error) {
	return OpenOptions(name, Options{MTU: mtu})
}

// OpenOptions is Open with options: the MTU, and whether to try the
// virtio-net offloads.
func OpenOptions(name string, o Options) (*Device, error) {
	return open(name, o.MTU, false, !o.NoOffload)
}

// Attach attaches to the TUN device name that exists in the network
// namespace of the calling OS thread (a persistent one, as `ip tuntap add`
// or `synack netns up` leave), keeping its MTU; unlike Open, it never
// creates one (ErrNoDevice). Attaching needs CAP_NET_ADMIN or to be the
// device's owner (`ip tuntap add NAME mode tun user USER`).
func Attach(name string) (*Device, error) {
	return open(name, 0, true, true)
}

func open(name string, mtu int, existing, offload bool) (*Device, error) {
	if name != "" || existing {
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
	if existing {
		if _, err := netlink.LinkByName(name); err != nil {
			var nf netlink.LinkNotFoundError
			if errors.As(err, &nf) {
				return nil, &openError{fmt.Sprintf("tun: no device %q in this network namespace", name), []error{ErrNoDevice, err}}
			}
			return nil, fmt.Errorf("tun: look up %q: %w", name, err)
		}
	}
	fd, err := unix.Open(devPath, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, controlError(err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tun: interface name %q: %w", name, err)
	}
	vnet, offl := false, 0
	if offload {
		vnet, offl = negotiate(fd, ifr)
	}
	if !vnet {
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return nil, setIffError(name, err)
		}
		// A persistent device keeps the offloads an earlier descriptor
		// set: with TUN_F_CSUM still on, the kernel would leave
		// checksums partial, which a reader without the virtio header
		// cannot tell. A driver that knows no TUNSETOFFLOAD (ENOTTY) has
		// no offloads to turn off.
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, 0); err != nil && !errors.Is(err, unix.ENOTTY) {
			unix.Close(fd)
			return nil, fmt.Errorf("tun: %s: turn the offloads off (TUNSETOFFLOAD 0): %w", name, err)
		}
	}
	d := &Device{name: ifr.Name(), vnet: vnet, offl: offl}
	// A non-blocking descriptor is registered with the runtime poller, so
	// Close unblocks a pending Read.
	d.f = os.NewFile(uintptr(fd), devPath+":"+d.name)
	if d.rc, err = d.f.SyscallConn(); err != nil {
		d.f.Close()
		return nil, fmt.Errorf("tun: %s: %w", d.name, err)
	}
	d.tryFn = func(fd uintptr) bool { d.read(fd); return true }
	d.blockFn = func(fd uintptr) bool { return d.read(fd) }
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
	d.w.start(d)
	return d, nil
}

// negotiate asks for IFF_VNET_HDR with the offloads synack takes
// (checksum, TSO for IPv4 and IPv6), falling back to fewer offloads and
// then to none, and reports what the kernel granted. It leaves the device
// unattached only when IFF_VNET_HDR itself was refused (the caller then
// attaches in plain mode, whose errors say what was wrong).
func negotiate(fd int, ifr *unix.Ifreq) (vnet bool, offl int) {
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr) != nil {
		return false, 0
	}
	// The header's fields in little-endian order on every host (the
	// default is the host's order, the same thing on little-endian ones).
	if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETLE, 1); err != nil && !littleEndian() {
		// A big-endian host whose kernel cannot: the device must stay in
		// plain mode, but IFF_VNET_HDR cannot be taken back on this
		// descriptor: the caller's TUNSETIFF fails and says so.
		return false, 0
	}
	for _, f := range []int{
		unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6,
		unix.TUN_F_CSUM | unix.TUN_F_TSO4,
		unix.TUN_F_CSUM,
	} {
		if unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, f) == nil {
			return true, f
		}
	}
	return true, 0
}

func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// VerifyChecksums makes the device, in vnet mode, verify every TCP
// checksum it hands over or know it good, and leave a checksum the kernel
// left partial unfilled; it reports whether it will (false in plain mode).
// See link.ChecksumVerifier. Call it before the first Receive.
func (d *Device) VerifyChecksums() bool {
	d.verify = d.vnet
	return d.verify
}

// OffloadChecksums makes the device, in vnet mode, take the TCP checksum
// over both ways (link.ChecksumOffloader): received packets as
// VerifyChecksums does (the device verifies those the kernel neither left
// partial nor verified), and every TCP packet sent goes to the kernel with
// its checksum left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM, the field
// holding the pseudo-header's sum, as GSO packets already do), which the
// kernel completes or, delivering locally, takes as good, as it does a
// NIC's. The stack then leaves the checksum field of what it sends unset
// and computes no checksum over the data (stack.Config.
// LinkOffloadsChecksums); whatever the field holds, the device replaces
// it. It reports whether it will (false in plain mode). Call it before
// the first Send and Receive.
func (d *Device) OffloadChecksums() bool {
	if d.vnet {
		d.verify = true
		d.w.csumOut = true
	}
	return d.vnet
}

// Offloads reports what the device does for synack: whether packets carry a
// virtio_net_hdr (IFF_VNET_HDR), and which of TUNSETOFFLOAD's TUN_F_CSUM,
// TUN_F_TSO4 and TUN_F_TSO6 the kernel took.
func (d *Device) Offloads() Offloads {
	return Offloads{VnetHdr: d.vnet, Csum: d.offl&unix.TUN_F_CSUM != 0, TSO4: d.offl&unix.TUN_F_TSO4 != 0, TSO6: d.offl&unix.TUN_F_TSO6 != 0}
}

// controlError explains why the control device did not open.
func controlError(err error) error {
	var msg string
	switch {
	case errors.Is(err, unix.ENOENT):
		msg = fmt.Sprintf("tun: %s does not exist: load the TUN driver (modprobe tun), or in a container pass the device in (docker run --device /dev/net/tun)", devPath)
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		msg = fmt.Sprintf("tun: %s: the kernel has no TUN driver (modprobe tun)", devPath)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		msg = fmt.Sprintf("tun: opening %s: permission denied (it is normally crw-rw-rw-, open to all)", devPath)
	default:
		return fmt.Errorf("tun: open %s: %w", devPath, err)
	}
	return &openError{msg, []error{err}}
}

// setIffError explains why TUNSETIFF refused name (tun_set_iff in Linux's
// drivers/net/tun.c): EINVAL for an interface of another kind, EPERM for
// a caller without CAP_NET_ADMIN who is not the device's owner, EBUSY for
// a device attached to another descriptor. It runs on the thread that
// tried, in the same namespace.
func setIffError(name string, err error) error {
	l, lerr := netlink.LinkByName(name)
	switch {
	case errors.Is(err, unix.EINVAL) && lerr == nil:
		if t, ok := l.(*netlink.Tuntap); ok {
			switch {
			case t.Mode == netlink.TUNTAP_MODE_TAP:
				return &openError{fmt.Sprintf("tun: %q exists and is a TAP device (Ethernet frames), not a TUN device", name), []error{ErrNotTUN, err}}
			case t.Flags&netlink.TUNTAP_MULTI_QUEUE != 0:
				return &openError{fmt.Sprintf("tun: %q is a multi-queue TUN device; synack opens single-queue ones (ip tuntap add NAME mode tun, without multi_queue)", name), []error{ErrNotTUN, err}}
			}
			break
		}
		kind := l.Type()
		if kind == "device" {
			kind = l.Attrs().EncapType // loopback, ether...
		}
		if kind == "ether" {
			kind = "Ethernet"
		}
		article := "a"
		if kind != "" && strings.ContainsRune("aeiouAEIOU", rune(kind[0])) {
			article = "an"
		}
		return &openError{fmt.Sprintf("tun: %q exists and is %s %s device, not a TUN device", name, article, kind), []error{ErrNotTUN, err}}
	case errors.Is(err, unix.EBUSY):
		return &openError{fmt.Sprintf("tun: %q is in use: another descriptor has it open (one program at a time per device)", name), []error{ErrBusy, err}}
	case errors.Is(err, unix.EPERM) && lerr != nil:
		return &openError{fmt.Sprintf("tun: creating TUN device %q needs root (CAP_NET_ADMIN)", name), []error{err}}
	case errors.Is(err, unix.EPERM):
		return &openError{fmt.Sprintf("tun: attaching to %q needs root (CAP_NET_ADMIN) or to be %s; this process is uid %d", name, owner(l), os.Geteuid()), []error{err}}
	}
	return fmt.Errorf("tun: TUNSETIFF %q: %w", name, err)
}

// owner says who, besides root, may attach to the device: its owner or
// the members of its group (a device with neither is anyone's, and
// attaching to it is not refused). The kernel reports an owner and a group
// only when the device has them, which netlink leaves as 0: root's.
func owner(l netlink.Link) string {
	t, ok := l.(*netlink.Tuntap)
	if !ok {
		return "its owner"
	}
	var who []string
	if t.Owner != 0 || t.Group == 0 {
		who = append(who, fmt.Sprintf("its owner, uid %d", t.Owner))
	}
	if t.Group != 0 {
		who = append(who, fmt.Sprintf("in its group, gid %d", t.Group))
	}
	return strings.Join(who, " or ")
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

// Send queues one IPv4 packet for the device's writer goroutine, which
// writes it to the kernel outside the caller's locks, in the order Send
// was called. Between BeginBurst and EndBurst the writer is not woken, so
// that a burst is written together; in vnet mode, consecutive TCP
// segments of one connection in it are merged into one GSO packet that
// the kernel cuts again. Send blocks while the queue is full (maxQueue
// packets), until the writer has written some. Write errors are counted
// (WriteErrors), since the call that queued the packet has returned.
func (d *Device) Send(pkt []byte) error { return d.w.send(pkt) }

// BeginBurst holds the writer until EndBurst: the packets sent in between
// are written together.
func (d *Device) BeginBurst() { d.w.begin() }

// EndBurst ends a burst and wakes the writer.
func (d *Device) EndBurst() { d.w.end() }

// Flush returns once every packet sent so far has been written to the
// kernel: for a caller that must know the kernel has a packet before it
// goes on (the packetdrill runner's --kernel mode, where the next line
// may be a call the packet decides).
func (d *Device) Flush() { d.w.flush() }

// Stats returns the device's counts.
func (d *Device) Stats() Stats {
	w := &d.w
	return Stats{
		PacketsOut: w.pktsOut.Load(), SegmentsOut: w.segsOut.Load(), PacketsIn: w.pktsIn.Load(),
		GSOOut: w.gsoOut.Load(), GSOIn: w.gsoIn.Load(), ChecksumsPartial: w.csumIn.Load(),
		BadHeaders: w.badHdr.Load(), BadChecksums: w.badCsum.Load(), WriteErrors: w.errs.Load(),
		EmptyReads: w.emptyIn.Load(), ChecksumsLeft: w.csumLeft.Load(),
	}
}

// WriteErrors returns how many packets the kernel refused, and the last
// error.
func (d *Device) WriteErrors() (uint64, error) { return d.w.errors() }

// Receive blocks until the kernel routes a packet to the device, or Close.
// In vnet mode, a checksum the kernel left partial is completed, and a
// GSO packet (up to 64 KiB of TCP) is handed over whole: buf of 65535
// bytes holds any.
func (d *Device) Receive(buf []byte) (int, error) {
	for {
		d.rbuf = buf
		err := d.rc.Read(d.blockFn)
		n, rerr := d.rn, d.rerr
		d.rbuf, d.rerr = nil, nil
		if err == nil && rerr == nil {
			if n, ok := d.packet(buf, n); ok {
				return n, nil
			}
			continue
		}
		if err == nil {
			err = rerr
		}
		if errors.Is(err, os.ErrClosed) || d.closed.Load() {
			return 0, link.ErrClosed
		}
		return 0, fmt.Errorf("tun: read from %s: %w", d.name, err)
	}
}

// TryReceive is Receive for a packet the kernel has queued already: it
// never blocks, and reports false when there is none (or on any error,
// which the next Receive reports).
func (d *Device) TryReceive(buf []byte) (int, bool) {
	for {
		d.rbuf = buf
		err := d.rc.Read(d.tryFn)
		n, rerr := d.rn, d.rerr
		d.rbuf, d.rerr = nil, nil
		if err != nil || rerr != nil {
			return 0, false
		}
		if n, ok := d.packet(buf, n); ok {
			return n, true
		}
	}
}

// ReceiveBursts reads packets into bufs and calls handle with each burst
// (at least one packet, at most len(bufs): those the kernel had queued),
// until handle returns false (ReceiveBursts then returns nil) or the
// device is closed (link.ErrClosed). The packets are valid during the
// call only. It is Receive followed by TryReceive until there is none,
// but the whole loop runs in one wait of the runtime poller: after a
// burst that found the queue empty it waits for the next packet at once,
// where Receive must first read again, finding nothing, since a new wait
// forgets the readiness seen before it (three reads per lone packet
// instead of two). handle runs with the device's read side held: Close,
// from another goroutine, waits for it to return, so handle must not
// wait for a lock that Close's caller holds.
func (d *Device) ReceiveBursts(bufs [][]byte, handle func(pkts [][]byte) bool) error {
	if len(bufs) == 0 {
		return errors.New("tun: ReceiveBursts with no buffer")
	}
	pkts := make([][]byte, len(bufs))
	var done bool
	var rerr error
	k := 0
	f := func(fd uintptr) bool {
		for {
			for k < len(bufs) {
				d.rbuf = bufs[k]
				got := d.read(fd)
				n, err := d.rn, d.rerr
				d.rbuf, d.rerr = nil, nil
				if !got {
					break // EAGAIN: the queue is empty
				}
				if err != nil {
					rerr = err
					return true
				}
				if n, ok := d.packet(bufs[k], n); ok {
					pkts[k] = bufs[k][:n]
					k++
				}
			}
			if k == 0 {
				return false // wait for the next packet
			}
			full := k == len(bufs)
			more := handle(pkts[:k])
			clear(pkts[:k])
			k = 0
			if !more {
				done = true
				return true
			}
			if !full {
				// The last read found the queue empty: wait, without
				// reading again first, for what arrives after it.
				return false
			}
		}
	}
	err := d.rc.Read(f)
	if done {
		return nil
	}
	if err == nil {
		err = rerr
	}
	if errors.Is(err, os.ErrClosed) || d.closed.Load() {
		return link.ErrClosed
	}
	return fmt.Errorf("tun: read from %s: %w", d.name, err)
}

// read is one read(2) (readv(2) of the virtio_net_hdr and the packet in
// vnet mode) on the non-blocking descriptor; it reports false when
// nothing is there yet (EAGAIN), for RawConn.Read to wait.
func (d *Device) read(fd uintptr) bool {
	var n uintptr
	var errno syscall.Errno
	buf := d.rbuf
	if len(buf) == 0 {
		d.rn, d.rerr = 0, errors.New("empty buffer")
		return true
	}
	if d.vnet {
		d.riov[0].Base = &d.rhdr[0]
		d.riov[0].SetLen(vnetHdrLen)
		d.riov[1].Base = &buf[0]
		d.riov[1].SetLen(len(buf))
		n, _, errno = unix.Syscall(unix.SYS_READV, fd, uintptr(unsafe.Pointer(&d.riov[0])), 2)
		d.riov[1].Base = nil
	} else {
		n, _, errno = unix.Syscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	}
	switch errno {
	case 0:
		d.rn, d.rerr = int(n), nil
		return true
	case unix.EAGAIN:
		d.w.emptyIn.Add(1)
		d.rn, d.rerr = 0, unix.EAGAIN
		return false
	case unix.EINTR:
		return d.read(fd)
	}
	d.rn, d.rerr = 0, errno
	return true
}

// packet makes what read read into buf[:n] a packet for the stack; false
// drops it (empty, or a header that does not fit the packet).
func (d *Device) packet(buf []byte, n int) (int, bool) {
	d.w.pktsIn.Add(1)
	if !d.vnet {
		return n, n > 0
	}
	if n < vnetHdrLen {
		return 0, false
	}
	n -= vnetHdrLen
	h := decodeVnetHdr(d.rhdr[:])
	if h.check(n) != nil {
		d.w.badHdr.Add(1)
		return 0, false
	}
	switch {
	case h.Flags&unix.VIRTIO_NET_HDR_F_NEEDS_CSUM != 0:
		// The kernel's own packet, its checksum left to the "hardware":
		// nothing between it and synack can corrupt it. Completed, unless
		// the stack has left checksums to the device (VerifyChecksums).
		d.w.csumIn.Add(1)
		if !d.verify || !isTCP(buf[:n]) {
			h.completeChecksum(buf[:n]) // the stack verifies only TCP's
		}
	case h.Flags&unix.VIRTIO_NET_HDR_F_DATA_VALID != 0:
		// Verified already (by the kernel, or the NIC it came from).
	case d.verify && !tcpChecksumOK(buf[:n]):
		// Neither, and the stack does not verify: verified here, once.
		d.w.badCsum.Add(1)
		return 0, false
	}
	if h.GSOType != unix.VIRTIO_NET_HDR_GSO_NONE {
		d.w.gsoIn.Add(1)
	}
	return n, n > 0
}

// Close writes what is queued, closes the device's descriptor, which
// unblocks a pending Receive, and waits for the writer. A device that is
// not persistent disappears.
func (d *Device) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	d.w.stop()
	return d.f.Close()
}
