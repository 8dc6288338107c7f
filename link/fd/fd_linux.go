//go:build linux

package fd

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/link"
)

// Link is a link.Link on one packet file descriptor, or on two (NewPipe).
type Link struct {
	r, w      *os.File // the same File for one descriptor
	rc, wc    syscall.RawConn
	name      string
	mtu       int
	zeroIsEOF bool // a read of 0 bytes means the other end is gone (sequenced-packet socket, pipe)
	closed    atomic.Bool
	drops     atomic.Uint64
}

var _ link.Link = (*Link)(nil)

// ErrPeerClosed is wrapped by Receive's and Send's errors once the other
// end of a socket or pipe is gone: nothing more will arrive.
var ErrPeerClosed = errors.New("the other end is closed")

// New makes a Link on fd, a descriptor that carries IP packets in both
// directions: a TUN device's, or a connected datagram or sequenced-packet
// socket. mtu is the largest packet the descriptor carries, from 68 to
// 65535; 0 asks a TUN device's interface for its MTU (the interface must be
// in this process's network namespace), and is an error for anything else.
//
// New takes fd over: the Link's Close closes it, and nothing else may read
// or write it. An error leaves fd open and as it was.
func New(fd int, mtu int) (*Link, error) {
	k, err := inspect(fd, unix.O_RDWR)
	if err != nil {
		return nil, err
	}
	if mtu, err = checkMTU(mtu, k); err != nil {
		return nil, err
	}
	f, rc, err := open(fd, k.name)
	if err != nil {
		return nil, err
	}
	return &Link{r: f, w: f, rc: rc, wc: rc, name: k.name, mtu: mtu, zeroIsEOF: k.zeroIsEOF}, nil
}

// NewPipe makes a Link that reads packets from readFD and writes them to
// writeFD: two packet-mode pipes (pipe2(2) with O_DIRECT), say, one each
// way, or any two descriptors New would take. mtu is as for New, 0 taking
// the MTU of readFD's TUN device. NewPipe takes both descriptors over (an
// error leaves both as they were); readFD == writeFD is New.
func NewPipe(readFD, writeFD int, mtu int) (*Link, error) {
	if readFD == writeFD {
		return New(readFD, mtu)
	}
	rk, err := inspect(readFD, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	wk, err := inspect(writeFD, unix.O_WRONLY)
	if err != nil {
		return nil, err
	}
	if mtu, err = checkMTU(mtu, rk); err != nil {
		return nil, err
	}
	r, rc, err := open(readFD, rk.name)
	if err != nil {
		return nil, err
	}
	w, wc, err := open(writeFD, wk.name)
	if err != nil {
		r.Close()
		return nil, err
	}
	name := rk.name + " and " + wk.name
	return &Link{r: r, w: w, rc: rc, wc: wc, name: name, mtu: mtu, zeroIsEOF: rk.zeroIsEOF}, nil
}

// kind is what inspect found a descriptor to be.
type kind struct {
	name      string // for errors and Name: "TUN device tun0 (fd 7)"
	tun       string // the TUN interface's name, if it is one
	zeroIsEOF bool
}

// inspect checks that fd can carry packets in the direction mode says
// (O_RDONLY, O_WRONLY or O_RDWR) and tells what it is.
func inspect(fd int, mode int) (kind, error) {
	if fd < 0 {
		return kind{}, fmt.Errorf("fd: descriptor %d is negative", fd)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		if errors.Is(err, unix.EBADF) {
			return kind{}, fmt.Errorf("fd: descriptor %d is not open: %w", fd, err)
		}
		return kind{}, fmt.Errorf("fd: fstat descriptor %d: %w", fd, err)
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return kind{}, fmt.Errorf("fd: fcntl(F_GETFL) descriptor %d: %w", fd, err)
	}
	var k kind
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFSOCK:
		if k, err = inspectSocket(fd); err != nil {
			return kind{}, err
		}
	case unix.S_IFCHR:
		if k, err = inspectDevice(fd); err != nil {
			return kind{}, err
		}
	case unix.S_IFIFO:
		k = kind{name: fmt.Sprintf("pipe (fd %d)", fd), zeroIsEOF: true}
	case unix.S_IFREG:
		return kind{}, fmt.Errorf("fd: descriptor %d is a regular file, not a packet device", fd)
	case unix.S_IFDIR:
		return kind{}, fmt.Errorf("fd: descriptor %d is a directory, not a packet device", fd)
	default:
		return kind{}, fmt.Errorf("fd: descriptor %d is a block device or other special file (mode %#o), not a packet device", fd, st.Mode&unix.S_IFMT)
	}
	acc := fl & unix.O_ACCMODE
	if acc != unix.O_RDWR && acc != mode {
		switch {
		case mode == unix.O_RDWR && (acc == unix.O_RDONLY || acc == unix.O_WRONLY):
			return kind{}, fmt.Errorf("fd: %s is open for %s only; a Link reads and writes: for one descriptor each way (two pipes), use NewPipe", k.name, direction(acc))
		default:
			return kind{}, fmt.Errorf("fd: %s is open for %s only, but is used for %s", k.name, direction(acc), direction(mode))
		}
	}
	// A pipe keeps packet boundaries when its writer's end is in packet
	// mode (pipe(7): O_DIRECT); the reader's end does not show it.
	if st.Mode&unix.S_IFMT == unix.S_IFIFO && mode != unix.O_RDONLY && fl&unix.O_DIRECT == 0 {
		return kind{}, fmt.Errorf("fd: descriptor %d is a pipe without O_DIRECT, which does not keep packet boundaries: make it with pipe2(O_DIRECT) (packet mode)", fd)
	}
	return k, nil
}

func direction(acc int) string {
	switch acc {
	case unix.O_RDONLY:
		return "reading"
	case unix.O_WRONLY:
		return "writing"
	}
	return "reading and writing"
}

func inspectSocket(fd int) (kind, error) {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return kind{}, fmt.Errorf("fd: getsockopt(SO_TYPE) descriptor %d: %w", fd, err)
	}
	var k kind
	switch typ {
	case unix.SOCK_DGRAM:
		k = kind{name: fmt.Sprintf("datagram socket (fd %d)", fd)}
	case unix.SOCK_SEQPACKET:
		k = kind{name: fmt.Sprintf("sequenced-packet socket (fd %d)", fd), zeroIsEOF: true}
	case unix.SOCK_STREAM:
		return kind{}, fmt.Errorf("fd: descriptor %d is a stream socket, which does not keep packet boundaries: use SOCK_DGRAM or SOCK_SEQPACKET", fd)
	default:
		return kind{}, fmt.Errorf("fd: descriptor %d is a socket of type %d; want SOCK_DGRAM or SOCK_SEQPACKET", fd, typ)
	}
	if _, err := unix.Getpeername(fd); errors.Is(err, unix.ENOTCONN) {
		return kind{}, fmt.Errorf("fd: %s is not connected: Send writes with write(2), which needs a peer (connect(2), or socketpair(2))", k.name)
	}
	return k, nil
}

// inspectDevice accepts a TUN device that gives bare IP packets, refuses
// one that gives anything else, and accepts another character device as
// it is (the caller knows what it carries).
func inspectDevice(fd int) (kind, error) {
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return kind{}, fmt.Errorf("fd: %w", err)
	}
	err = unix.IoctlIfreq(fd, unix.TUNGETIFF, ifr)
	switch {
	case errors.Is(err, unix.EBADFD):
		return kind{}, fmt.Errorf("fd: descriptor %d is the TUN control device (/dev/net/tun) attached to no interface: TUNSETIFF it first", fd)
	case err != nil:
		// Not a TUN device (ENOTTY, EINVAL): taken as it is.
		return kind{name: fmt.Sprintf("character device (fd %d)", fd)}, nil
	}
	name, flags := ifr.Name(), ifr.Uint16()
	switch {
	case flags&unix.IFF_TAP != 0:
		return kind{}, fmt.Errorf("fd: descriptor %d is TAP device %s, which carries Ethernet frames, not IP packets: open it with IFF_TUN", fd, name)
	case flags&unix.IFF_NO_PI == 0:
		return kind{}, fmt.Errorf("fd: descriptor %d is TUN device %s with a 4-byte packet-information header before each packet: open it with IFF_NO_PI", fd, name)
	case flags&unix.IFF_VNET_HDR != 0:
		return kind{}, fmt.Errorf("fd: descriptor %d is TUN device %s with virtio-net headers (IFF_VNET_HDR), which package fd does not read: open it without", fd, name)
	}
	return kind{name: fmt.Sprintf("TUN device %s (fd %d)", name, fd), tun: name}, nil
}

func checkMTU(mtu int, k kind) (int, error) {
	if mtu == 0 {
		if k.tun == "" {
			return 0, fmt.Errorf("fd: MTU 0 for %s: only a TUN device's MTU can be asked for; give the MTU its packets fit in", k.name)
		}
		return tunMTU(k)
	}
	if mtu < 68 || mtu > 65535 {
		return 0, fmt.Errorf("fd: MTU %d out of range (68 to 65535, or 0 for a TUN device's own)", mtu)
	}
	return mtu, nil
}

// tunMTU asks the kernel for the MTU of k's interface (SIOCGIFMTU), which
// must be in this network namespace.
func tunMTU(k kind) (int, error) {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("fd: the MTU of %s: socket: %w; give the MTU to New", k.name, err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(k.tun)
	if err != nil {
		return 0, fmt.Errorf("fd: the MTU of %s: %w", k.name, err)
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFMTU, ifr); err != nil {
		return 0, fmt.Errorf("fd: the MTU of %s: SIOCGIFMTU: %w (is the interface in another network namespace?); give the MTU to New", k.name, err)
	}
	mtu := int(ifr.Uint32())
	if mtu < 68 || mtu > 65535 {
		return 0, fmt.Errorf("fd: %s has MTU %d, out of range (68 to 65535)", k.name, mtu)
	}
	return mtu, nil
}

// open makes fd non-blocking and an *os.File, which registers it with the
// runtime poller.
func open(fd int, name string) (*os.File, syscall.RawConn, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, nil, fmt.Errorf("fd: make %s non-blocking: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("fd: %s: %w", name, err)
	}
	return f, rc, nil
}

// Name says what the descriptor is ("TUN device tun0 (fd 7)").
func (l *Link) Name() string { return l.name }

// MTU returns the MTU given to New (or the TUN device's).
func (l *Link) MTU() int { return l.mtu }

// Drops returns how many packets Send dropped because the descriptor
// could not take them at once.
func (l *Link) Drops() uint64 { return l.drops.Load() }

// Send writes pkt with one non-blocking write. A descriptor that cannot
// take it at once (EAGAIN, ENOBUFS) drops it and counts it in Drops.
func (l *Link) Send(pkt []byte) error {
	if l.closed.Load() {
		return link.ErrClosed
	}
	var n int
	var werr error
	err := l.wc.Write(func(fd uintptr) bool {
		for {
			n, werr = unix.Write(int(fd), pkt)
			if werr != unix.EINTR {
				return true // never wait for room: a full queue drops
			}
		}
	})
	switch {
	case l.closed.Load():
		return link.ErrClosed
	case err != nil:
		return fmt.Errorf("fd: write to %s: %w", l.name, err)
	case werr == unix.EAGAIN || werr == unix.ENOBUFS:
		l.drops.Add(1)
		return nil
	case werr == unix.EPIPE || werr == unix.ECONNREFUSED || werr == unix.ECONNRESET:
		return fmt.Errorf("fd: write to %s: %w (%w)", l.name, ErrPeerClosed, werr)
	case werr != nil:
		return fmt.Errorf("fd: write %d bytes to %s: %w", len(pkt), l.name, werr)
	case n != len(pkt):
		return fmt.Errorf("fd: wrote %d of %d bytes to %s: the descriptor split a packet", n, len(pkt), l.name)
	}
	return nil
}

// read is one read(2) into buf; when wait is set, it waits on the poller
// until the descriptor is readable.
func (l *Link) read(buf []byte, wait bool) (int, error) {
	var n int
	var rerr error
	err := l.rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = unix.Read(int(fd), buf)
			if rerr != unix.EINTR {
				break
			}
		}
		return !wait || rerr != unix.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, rerr
	}
	return n, nil
}

// Receive blocks until a packet arrives or Close is called.
func (l *Link) Receive(buf []byte) (int, error) {
	if len(buf) == 0 {
		// A read of 0 bytes would take a packet and say nothing: take it
		// into a byte of scratch, truncated to buf's nothing.
		var one [1]byte
		_, err := l.Receive(one[:])
		return 0, err
	}
	for {
		if l.closed.Load() {
			return 0, link.ErrClosed
		}
		n, err := l.read(buf, true)
		switch {
		case l.closed.Load():
			return 0, link.ErrClosed
		case err != nil:
			return 0, fmt.Errorf("fd: read from %s: %w", l.name, err)
		case n == 0 && l.zeroIsEOF:
			return 0, fmt.Errorf("fd: read from %s: %w", l.name, ErrPeerClosed)
		case n == 0:
			continue // an empty datagram is no packet
		}
		return n, nil
	}
}

// TryReceive reads a packet that has arrived already, without blocking:
// ok is false when none has (or the link is closed, or the read failed,
// which the next Receive reports).
func (l *Link) TryReceive(buf []byte) (n int, ok bool) {
	for len(buf) > 0 && !l.closed.Load() {
		n, err := l.read(buf, false)
		if err != nil || l.closed.Load() || n == 0 && l.zeroIsEOF {
			return 0, false
		}
		if n > 0 {
			return n, true
		}
	}
	return 0, false
}

// Close closes the descriptor (both, for NewPipe), which unblocks a
// pending Receive. Closing twice is not an error.
func (l *Link) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	err := l.r.Close()
	if l.w != l.r {
		err = errors.Join(err, l.w.Close())
	}
	if err != nil {
		return fmt.Errorf("fd: close %s: %w", l.name, err)
	}
	return nil
}
