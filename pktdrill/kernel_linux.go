//go:build linux

package pktdrill

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/internal/netns"
)

func kernelAvailable() error { return netns.Available() }

// kernel is a private, anonymous network namespace (it dies with the
// process, even one that is killed) holding a TUN device whose far end is
// the scripted peer.
type kernel struct {
	ns      *netns.NS
	tunFD   int    // the device packetdrill's way (tun0, openTUN)
	tunName string // its name
	mss     int    // --mss: the gso_size of injected TCP packets, or 0
	cc      string // TCP_CONGESTION set on each socket, or ""
	start   time.Time
	socks   map[int64]*ksock
	capFD   int    // the capture socket
	capBuf  []byte // its packet and control buffers
	capOOB  []byte
	calls   chan func() // run on a thread that stays in the namespace
	startMu sync.Mutex
	closed  atomic.Bool
	drained chan struct{} // closed when the drain goroutine returns
}

type ksock struct {
	fd       int
	nonblock bool // as the script set it; the real socket is always non-blocking
}

// kernelTUN is the device's name: packetdrill's, which its scripts'
// commands (tc qdisc add dev tun0 ...) name.
const kernelTUN = "tun0"

func newKernel(mss int) (kernelBackend, error) {
	ns, err := netns.New(netns.Options{NoOffload: true})
	if err != nil {
		return nil, err
	}
	k := &kernel{ns: ns, mss: mss, start: time.Now(), capBuf: make([]byte, 65536), capOOB: make([]byte, 256), socks: map[int64]*ksock{}, tunFD: -1}
	k.calls = make(chan func())
	go k.ns.Do(func() error {
		for f := range k.calls {
			f()
		}
		return nil
	})
	if err := k.openTUN(); err != nil {
		k.release()
		return nil, err
	}
	capFD, err := k.openCapture()
	if err != nil {
		k.release()
		return nil, fmt.Errorf("capture socket on %s: %w", k.tunName, err)
	}
	k.capFD = capFD
	k.drained = make(chan struct{})
	go k.drain()
	return k, nil
}

// openTUN replaces the namespace's own device by one made as packetdrill
// makes its tun0 (netdev.c): IFF_TUN|IFF_NO_PI|IFF_VNET_HDR with
// TUNSETOFFLOAD's checksum and TSO offloads "like a typical ethernet
// device", so that the kernel sends TSO packets of up to 64 KiB, which the
// capture sees whole (a script's "> P. 1:10001(10000)" is one of them),
// and the runner can inject packets with a gso_size (--mss). The kernel's
// side is KernelLocalAddr/24; the peer, KernelRemoteAddr, is on the link.
func (k *kernel) openTUN() error {
	if d := k.ns.TUN(); d != nil {
		d.Close() // the plain device netns made: gone with its addresses
	}
	return k.inNS(func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(kernelTUN)
		if err != nil {
			unix.Close(fd)
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("TUNSETIFF %s: %w", kernelTUN, err)
		}
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, unix.TUN_F_CSUM|unix.TUN_F_TSO4|unix.TUN_F_TSO6|unix.TUN_F_TSO_ECN); err != nil {
			unix.Close(fd)
			return fmt.Errorf("TUNSETOFFLOAD %s: %w", kernelTUN, err)
		}
		k.tunFD, k.tunName = fd, ifr.Name()
		l, err := netlink.LinkByName(k.tunName)
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return fmt.Errorf("bring %s up: %w", k.tunName, err)
		}
		a := &netlink.Addr{IPNet: &net.IPNet{IP: KernelLocalAddr.AsSlice(), Mask: net.CIDRMask(24, 32)}}
		if err := netlink.AddrAdd(l, a); err != nil {
			return fmt.Errorf("add %v/24 to %s: %w", KernelLocalAddr, k.tunName, err)
		}
		return nil
	})
}

// drain reads what the kernel queues on the device and drops it (the
// capture socket reports it), as packetdrill reads its tun: the kernel
// frees a packet only when it has been read, and its small-queue limits
// (TSQ) wait for that.
func (k *kernel) drain() {
	defer close(k.drained)
	buf := make([]byte, 65536+vnetHdrLen)
	for !k.closed.Load() {
		pfd := []unix.PollFd{{Fd: int32(k.tunFD), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, 100); err != nil && !errors.Is(err, unix.EINTR) {
			return
		} else if n == 0 {
			continue
		}
		for {
			if _, err := unix.Read(k.tunFD, buf); err != nil {
				break
			}
		}
	}
}

// vnetHdrLen is the size of struct virtio_net_hdr, which leads every
// packet read from or written to an IFF_VNET_HDR device.
const vnetHdrLen = 10

// openCapture opens a packet socket on the TUN device that sees what the
// kernel sends through it stamped with the kernel's own clock
// (SO_TIMESTAMPNS), as packetdrill's pcap does: the time a packet was sent
// does not depend on when this process is scheduled to read it.
func (k *kernel) openCapture() (int, error) {
	var fd int
	err := k.ns.Do(func() error {
		ifi, err := net.InterfaceByName(k.tunName)
		if err != nil {
			return err
		}
		proto := int(htons(unix.ETH_P_ALL))
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			return err
		}
		// Room for a burst of TSO packets the runner reads late.
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			unix.Close(fd)
			return err
		}
		return nil
	})
	return fd, err
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// capture takes the next packet the kernel sent through the device from
// the capture socket, waiting up to wait for one, with the time the
// kernel stamped on it: it is read when the runner asks, and its time
// does not depend on when this process ran. Packets the runner wrote are
// skipped.
func (k *kernel) capture(wait time.Duration) ([]byte, clock.Time, bool) {
	deadline := time.Now().Add(wait)
	for {
		n, oobn, _, from, err := unix.Recvmsg(k.capFD, k.capBuf, k.capOOB, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) {
			left := time.Until(deadline)
			if left <= 0 {
				return nil, 0, false
			}
			pfd := []unix.PollFd{{Fd: int32(k.capFD), Events: unix.POLLIN}}
			unix.Poll(pfd, int(max(left/time.Millisecond, 1)))
			continue
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, 0, false
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); !ok || ll.Pkttype != unix.PACKET_OUTGOING {
			continue // a packet the runner wrote
		}
		at := k.elapsed()
		if msgs, err := unix.ParseSocketControlMessage(k.capOOB[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
					ts := *(*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
					at = k.since(time.Unix(ts.Unix()))
				}
			}
		}
		return append([]byte(nil), k.capBuf[:n]...), at, true
	}
}

func (k *kernel) elapsed() clock.Time {
	k.startMu.Lock()
	defer k.startMu.Unlock()
	return clock.Time(time.Since(k.start))
}

func (k *kernel) since(t time.Time) clock.Time {
	k.startMu.Lock()
	defer k.startMu.Unlock()
	return clock.Time(t.Sub(k.start))
}

// begin starts the script's clock as packetdrill's
// schedule_start_time_usecs does: 250 µs after a tick of the kernel's
// jiffies clock (seen through times(2)), so that the script's events,
// at whole milliseconds, fall inside a jiffy rather than on its edge, and
// the kernel's jiffy-based timers (a delayed ACK, an RTO) fire where the
// script expects them. packetdrill waits for ten ticks to warm up; one
// is enough to find an edge. It gives up after 100 ms (no tick seen) and
// starts then.
func (k *kernel) begin() {
	var tms unix.Tms
	last, _ := unix.Times(&tms)
	edge := time.Now()
	for deadline := edge.Add(100 * time.Millisecond); time.Now().Before(deadline); {
		if t, _ := unix.Times(&tms); t != last {
			edge = time.Now()
			break
		}
	}
	start := edge.Add(250 * time.Microsecond)
	for time.Now().Before(start) {
	}
	k.startMu.Lock()
	k.start = start
	k.startMu.Unlock()
}

// inNS runs f on the thread that stays in the namespace (no thread is
// made and switched for each socket).
func (k *kernel) inNS(f func() error) error {
	ch := make(chan error, 1)
	k.calls <- func() { ch <- f() }
	return <-ch
}

func (k *kernel) recv(wait time.Duration) ([]byte, clock.Time, bool) {
	return k.capture(wait)
}

// send writes b to the TUN device as packetdrill does (linux_tun_write):
// whole checksums, and a virtio_net_hdr asking for GSO at --mss for a TCP
// packet when the script gives one. The write returns once the kernel has
// taken the packet through its receive path, so that the script's next
// call sees its effect.
func (k *kernel) send(b []byte) error {
	var hdr [vnetHdrLen]byte
	if k.mss > 0 && len(b) > 0 {
		switch {
		case b[0]>>4 == 4 && len(b) > 9 && b[9] == unix.IPPROTO_TCP:
			hdr[1] = unix.VIRTIO_NET_HDR_GSO_TCPV4
		case b[0]>>4 == 6 && len(b) > 6 && b[6] == unix.IPPROTO_TCP:
			hdr[1] = unix.VIRTIO_NET_HDR_GSO_TCPV6
		}
		if hdr[1] != 0 {
			binary.LittleEndian.PutUint16(hdr[4:], uint16(k.mss)) // gso_size
		}
	}
	for {
		_, err := unix.Writev(k.tunFD, [][]byte{hdr[:], b})
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("write to %s: %w", k.tunName, err)
		}
		return nil
	}
}

func (k *kernel) release() {
	for _, s := range k.socks {
		unix.Close(s.fd)
	}
	k.socks = nil
	k.closed.Store(true)
	close(k.calls)
	if k.drained != nil {
		<-k.drained // within its poll timeout
	}
	if k.tunFD >= 0 {
		unix.Close(k.tunFD)
	}
	k.ns.Remove()
	if k.capFD > 0 {
		unix.Close(k.capFD)
	}
}

// sysctl writes /proc/sys/net/ipv4/NAME from a thread inside the
// namespace, where only the per-namespace sysctls exist: a global one is
// not there to write (and so never reaches the host).
func (k *kernel) sysctl(name, value string) error {
	if filepath.Base(name) != name {
		return fmt.Errorf("bad sysctl name %q", name)
	}
	return k.inNS(func() error {
		p := "/proc/sys/net/ipv4/" + name
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("not a per-namespace sysctl on this kernel")
		}
		if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
			if name == "tcp_congestion_control" && errors.Is(err, unix.EPERM) {
				// Only the host's namespace may default to an
				// algorithm tcp_allowed_congestion_control does not
				// list; each socket gets it instead, as a root
				// process may.
				k.cc = value
				return fmt.Errorf("%w: set on each socket instead (TCP_CONGESTION)", errPerSocket)
			}
			return fmt.Errorf("the kernel refused it: %v", errors.Unwrap(err))
		}
		return nil
	})
}

// errPerSocket says a sysctl was applied per socket.
var errPerSocket = errors.New("the namespace refused it")

func kerr(err error) callResult {
	var e unix.Errno
	if errors.As(err, &e) {
		name := unix.ErrnoName(e)
		if name == "EWOULDBLOCK" {
			name = "EAGAIN"
		}
		return errno(name)
	}
	return errno("EIO")
}

func isAgain(err error) bool { return errors.Is(err, unix.EAGAIN) }

// prepare performs a script's call on real sockets in the namespace. A
// blocking call is a non-blocking one retried until it completes (the
// runner retries a pending call every millisecond of the real clock).
func (k *kernel) prepare(r *runner, ev *Event) (attemptFn, *Failure) {
	sc := ev.Syscall
	switch sc.Name {
	case "socket":
		if f := r.needArgs(ev, 3); f != nil {
			return nil, f
		}
		typ, proto := sc.Args[1].String(), sc.Args[2].String()
		if (typ != "SOCK_STREAM" && typ != "...") || (proto != "IPPROTO_TCP" && proto != "0" && proto != "...") {
			return done(errno("EPROTONOSUPPORT")), nil
		}
		want, _ := r.intArg(sc.Result)
		return func() (bool, callResult) {
			var fd int
			err := k.inNS(func() error {
				var err error
				fam := unix.AF_INET
				if r.ipv != IPv4 {
					fam = unix.AF_INET6
				}
				fd, err = unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
				if err == nil && k.cc != "" {
					if err := unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, k.cc); err != nil {
						unix.Close(fd)
						return fmt.Errorf("TCP_CONGESTION %s: %w", k.cc, err)
					}
				}
				return err
			})
			if err != nil {
				return true, kerr(err)
			}
			s := &ksock{fd: fd}
			id := r.newFD(want, nil)
			k.socks[id] = s
			return true, ok(id)
		}, nil
	case "poll":
		return k.poll(r, ev)
	}
	call, f := r.resolveFD(ev)
	if f != nil {
		return nil, f
	}
	s := k.socks[call.fd]
	if s == nil {
		return done(errno("EBADF")), nil
	}
	args := sc.Args
	switch sc.Name {
	case "bind":
		return func() (bool, callResult) {
			if err := unix.Bind(s.fd, r.ksockaddr(r.localAddr)); err != nil {
				return true, kerr(err)
			}
			return true, ok(0)
		}, nil
	case "listen":
		backlog := int64(0)
		if len(args) > 1 {
			backlog, _ = r.intArg(args[1])
		}
		return func() (bool, callResult) {
			if err := unix.Listen(s.fd, int(backlog)); err != nil {
				return true, kerr(err)
			}
			return true, ok(0)
		}, nil
	case "accept":
		want, _ := r.intArg(sc.Result)
		return func() (bool, callResult) {
			nfd, _, err := unix.Accept4(s.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			if isAgain(err) && !s.nonblock {
				return false, callResult{}
			}
			if err != nil {
				return true, kerr(err)
			}
			id := r.newFD(want, nil)
			k.socks[id] = &ksock{fd: nfd}
			return true, ok(id)
		}, nil
	case "connect":
		started := false
		return func() (bool, callResult) {
			if !started {
				started = true
				err := unix.Connect(s.fd, r.ksockaddr(r.remoteAddr))
				if sa, e := unix.Getsockname(s.fd); e == nil {
					switch in := sa.(type) {
					case *unix.SockaddrInet4:
						if in.Port != 0 {
							r.activePort = uint16(in.Port)
						}
					case *unix.SockaddrInet6:
						if in.Port != 0 {
							r.activePort = uint16(in.Port)
						}
					}
				}
				if !errors.Is(err, unix.EINPROGRESS) || s.nonblock {
					if err != nil {
						return true, kerr(err)
					}
					return true, ok(0)
				}
			}
			// A blocking connect: done when the socket is writable or
			// has an error.
			pfd := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLOUT}}
			if n, _ := unix.Poll(pfd, 0); n == 0 {
				return false, callResult{}
			}
			v, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err != nil {
				return true, kerr(err)
			}
			if v != 0 {
				return true, kerr(unix.Errno(v))
			}
			return true, ok(0)
		}, nil
	case "write", "send", "writev":
		n, f := r.transferSize(ev)
		if f != nil {
			return nil, f
		}
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = 'x'
		}
		written := 0
		return func() (bool, callResult) {
			for written < n {
				m, err := unix.SendmsgN(s.fd, buf[written:], nil, nil, unix.MSG_NOSIGNAL)
				if isAgain(err) {
					break
				}
				if err != nil {
					if written > 0 {
						return true, ok(int64(written))
					}
					return true, kerr(err)
				}
				written += m
			}
			switch {
			case written == n || (s.nonblock && written > 0):
				return true, ok(int64(written))
			case s.nonblock:
				return true, errno("EAGAIN")
			}
			return false, callResult{}
		}, nil
	case "read", "recv", "readv":
		n, f := r.transferSize(ev)
		if f != nil {
			return nil, f
		}
		buf := make([]byte, n)
		return func() (bool, callResult) {
			m, err := unix.Read(s.fd, buf)
			if isAgain(err) && !s.nonblock {
				return false, callResult{}
			}
			if err != nil {
				return true, kerr(err)
			}
			return true, ok(int64(m))
		}, nil
	case "close":
		return func() (bool, callResult) {
			delete(k.socks, call.fd)
			delete(r.socks, call.fd)
			if err := unix.Close(s.fd); err != nil {
				return true, kerr(err)
			}
			return true, ok(0)
		}, nil
	case "shutdown":
		if len(args) != 2 {
			return nil, r.fail(ev.Line, "shutdown takes 2 arguments, the script gives %d", len(args))
		}
		how, okv := r.intArg(args[1])
		if !okv || how < 0 || how > 2 {
			return nil, r.fail(ev.Line, "shutdown: expected SHUT_RD, SHUT_WR or SHUT_RDWR, found %s", args[1])
		}
		return func() (bool, callResult) {
			if err := unix.Shutdown(s.fd, int(how)); err != nil {
				return true, kerr(err)
			}
			return true, ok(0)
		}, nil
	case "fcntl":
		return r.fcntl(ev, args, &s.nonblock)
	case "setsockopt":
		return k.setsockopt(r, ev, s)
	case "getsockopt":
		return k.getsockopt(r, ev, s)
	case "ioctl":
		if f := r.needArgs(ev, 3); f != nil {
			return nil, f
		}
		var req uint
		switch args[1].String() {
		case "SIOCINQ", "FIONREAD":
			req = unix.SIOCINQ
		case "SIOCOUTQ", "TIOCOUTQ":
			req = unix.SIOCOUTQ
		default:
			return nil, r.unsupported(ev.Line, "ioctl %s is not supported by the runner", args[1])
		}
		var ioErr error
		a := r.checkValue(args[2], args[1].String()+": expected", func() int64 {
			v, err := unix.IoctlGetInt(s.fd, req)
			ioErr = err
			return int64(v)
		})
		return func() (bool, callResult) {
			d, res := a()
			if ioErr != nil {
				return true, kerr(ioErr)
			}
			return d, res
		}, nil
	}
	return nil, r.unsupported(ev.Line, "system call %s is not supported by the runner", sc.Name)
}

// sockoptLevel maps an option name onto its level and number; the level
// the script writes (SOL_SOCKET, SOL_TCP, IPPROTO_TCP) is checked against
// it by the kernel only in that a wrong one is ENOPROTOOPT.
func sockoptLevel(name string) (level, opt int, ok bool) {
	switch name {
	case "SO_REUSEADDR":
		return unix.SOL_SOCKET, unix.SO_REUSEADDR, true
	case "SO_REUSEPORT":
		return unix.SOL_SOCKET, unix.SO_REUSEPORT, true
	case "SO_KEEPALIVE":
		return unix.SOL_SOCKET, unix.SO_KEEPALIVE, true
	case "SO_RCVBUF":
		return unix.SOL_SOCKET, unix.SO_RCVBUF, true
	case "SO_SNDBUF":
		return unix.SOL_SOCKET, unix.SO_SNDBUF, true
	case "SO_ERROR":
		return unix.SOL_SOCKET, unix.SO_ERROR, true
	case "SO_LINGER":
		return unix.SOL_SOCKET, unix.SO_LINGER, true
	case "SO_OOBINLINE":
		return unix.SOL_SOCKET, unix.SO_OOBINLINE, true
	case "TCP_NODELAY":
		return unix.IPPROTO_TCP, unix.TCP_NODELAY, true
	case "TCP_MAXSEG":
		return unix.IPPROTO_TCP, unix.TCP_MAXSEG, true
	case "TCP_USER_TIMEOUT":
		return unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, true
	case "TCP_KEEPIDLE":
		return unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, true
	case "TCP_KEEPINTVL":
		return unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, true
	case "TCP_KEEPCNT":
		return unix.IPPROTO_TCP, unix.TCP_KEEPCNT, true
	case "TCP_QUICKACK":
		return unix.IPPROTO_TCP, unix.TCP_QUICKACK, true
	case "TCP_CONGESTION":
		return unix.IPPROTO_TCP, unix.TCP_CONGESTION, true
	case "TCP_CORK":
		return unix.IPPROTO_TCP, unix.TCP_CORK, true
	}
	return 0, 0, false
}

func (k *kernel) setsockopt(r *runner, ev *Event, s *ksock) (attemptFn, *Failure) {
	args := ev.Syscall.Args
	if f := r.needArgs(ev, 5); f != nil {
		return nil, f
	}
	name := args[2].String()
	level, opt, known := sockoptLevel(name)
	if !known {
		return nil, r.unsupported(ev.Line, "setsockopt %s is not supported by the runner", name)
	}
	switch name {
	case "SO_LINGER":
		on, secs, f := r.lingerArg(ev, args[3])
		if f != nil {
			return nil, f
		}
		return func() (bool, callResult) {
			if err := unix.SetsockoptLinger(s.fd, level, opt, &unix.Linger{Onoff: int32(on), Linger: int32(secs)}); err != nil {
				return true, kerr(err)
			}
			return true, ok(0)
		}, nil
	case "TCP_CONGESTION":
		str, okv := args[3].(String)
		if !okv {
			return nil, r.malformed(ev.Line, "setsockopt TCP_CONGESTION: expected a string such as \"cubic\", found %s", args[3])
		}
		return func() (bool, callResult) {
			if err := unix.SetsockoptString(s.fd, level, opt, str.S); err != nil {
				return true, kerr(err)
			}
			return true, ok(0)
		}, nil
	}
	v, f := r.intValueArg(ev, name, args[3])
	if f != nil {
		return nil, f
	}
	return func() (bool, callResult) {
		if err := unix.SetsockoptInt(s.fd, level, opt, int(v)); err != nil {
			return true, kerr(err)
		}
		return true, ok(0)
	}, nil
}

func (k *kernel) getsockopt(r *runner, ev *Event, s *ksock) (attemptFn, *Failure) {
	args := ev.Syscall.Args
	if f := r.needArgs(ev, 5); f != nil {
		return nil, f
	}
	name := args[2].String()
	level, opt, known := sockoptLevel(name)
	if !known {
		return nil, r.unsupported(ev.Line, "getsockopt %s is not supported by the runner", name)
	}
	switch name {
	case "SO_LINGER":
		return func() (bool, callResult) {
			l, err := unix.GetsockoptLinger(s.fd, level, opt)
			if err != nil {
				return true, kerr(err)
			}
			return true, r.checkLinger(args[3], int64(l.Onoff), int64(l.Linger))
		}, nil
	case "TCP_CONGESTION":
		return func() (bool, callResult) {
			v, err := unix.GetsockoptString(s.fd, level, opt)
			if err != nil {
				return true, kerr(err)
			}
			if str, okv := args[3].(String); okv && str.S != v {
				return true, argBad(fmt.Sprintf("TCP_CONGESTION: expected %q, got %q", str.S, v))
			}
			return true, ok(0)
		}, nil
	}
	var gerr error
	a := r.checkValue(args[3], name+": expected value", func() int64 {
		v, err := unix.GetsockoptInt(s.fd, level, opt)
		gerr = err
		return int64(v)
	})
	return func() (bool, callResult) {
		d, res := a()
		if gerr != nil {
			return true, kerr(gerr)
		}
		return d, res
	}, nil
}

// poll performs poll() on the kernel's sockets, retried until an event or
// the timeout.
func (k *kernel) poll(r *runner, ev *Event) (attemptFn, *Failure) {
	fds, timeout, f := r.pollArgs(ev)
	if f != nil {
		return nil, f
	}
	start := r.now
	return func() (bool, callResult) {
		pfds := make([]unix.PollFd, len(fds))
		for i, p := range fds {
			pfds[i] = unix.PollFd{Fd: -1, Events: int16(p.events)}
			if s := k.socks[p.fd]; s != nil {
				pfds[i].Fd = int32(s.fd)
			}
		}
		n, err := unix.Poll(pfds, 0)
		if err != nil {
			return true, kerr(err)
		}
		got := make([]int64, len(fds))
		for i, p := range fds {
			got[i] = int64(uint16(pfds[i].Revents))
			if k.socks[p.fd] == nil {
				got[i] = symbols["POLLNVAL"]
				n++
			}
		}
		if n == 0 && timeout != 0 && (timeout < 0 || r.now < start.Add(time.Duration(timeout)*time.Millisecond)) {
			return false, callResult{}
		}
		return true, checkRevents(fds, got, int64(n))
	}, nil
}

// tcpInfo reads a field of the kernel's struct tcp_info.
func (k *kernel) tcpInfo(fd int64, name string) (int64, error) {
	s := k.socks[fd]
	if s == nil {
		return 0, fmt.Errorf("fd %d is not open", fd)
	}
	i, err := unix.GetsockoptTCPInfo(s.fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, fmt.Errorf("getsockopt TCP_INFO: %v", err)
	}
	switch name {
	case "tcpi_state":
		return int64(i.State), nil
	case "tcpi_ca_state":
		return int64(i.Ca_state), nil
	case "tcpi_rto":
		return int64(i.Rto), nil
	case "tcpi_rtt":
		return int64(i.Rtt), nil
	case "tcpi_rttvar":
		return int64(i.Rttvar), nil
	case "tcpi_snd_cwnd":
		return int64(i.Snd_cwnd), nil
	case "tcpi_snd_ssthresh":
		return int64(i.Snd_ssthresh), nil
	case "tcpi_snd_mss":
		return int64(i.Snd_mss), nil
	case "tcpi_retransmits":
		return int64(i.Retransmits), nil
	case "tcpi_total_retrans":
		return int64(i.Total_retrans), nil
	case "tcpi_unacked":
		return int64(i.Unacked), nil
	}
	return 0, fmt.Errorf("%s is not supported by the runner", name)
}

// ksockaddr is a's ServerPort as the script's socket names it: IPv4 for
// ipv4, IPv6 for ipv6, IPv4-mapped IPv6 for ipv4-mapped-ipv6.
func (r *runner) ksockaddr(a netip.Addr) unix.Sockaddr {
	if r.ipv == IPv4 {
		return &unix.SockaddrInet4{Port: ServerPort, Addr: a.As4()}
	}
	return &unix.SockaddrInet6{Port: ServerPort, Addr: r.sockAddr(a).As16()}
}

// enableIPv6 turns IPv6 on for the TUN only (internal/netns turns it off
// in the namespace), quietly: no router solicitations, no DAD (the
// address is usable at once), then gives the kernel KernelLocalAddr6/64
// on the device. The peer, KernelRemoteAddr6, is on that link.
func (k *kernel) enableIPv6() error {
	name := k.tunName
	return k.inNS(func() error {
		for _, kv := range [][2]string{
			{"all/disable_ipv6", "0"},
			{name + "/router_solicitations", "0"},
			{name + "/accept_ra", "0"},
			{name + "/accept_dad", "0"},
			// The namespace makes devices without a link-local
			// address (addr_gen_mode 1); tun0 gets a random one.
			{name + "/addr_gen_mode", "3"},
			{name + "/disable_ipv6", "0"},
		} {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+kv[0], []byte(kv[1]), 0o644); err != nil {
				return err
			}
		}
		l, err := netlink.LinkByName(name)
		if err != nil {
			return err
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: KernelLocalAddr6.AsSlice(), Mask: net.CIDRMask(64, 128)}, Flags: unix.IFA_F_NODAD}
		if err := netlink.AddrAdd(l, addr); err != nil {
			return err
		}
		// Even without DAD the addresses are tentative until the
		// kernel's address work runs, and until the link-local one is
		// up the device drops what arrives: wait until both are usable
		// (bounded).
		for i := 0; i < 200; i++ {
			addrs, err := netlink.AddrList(l, netlink.FAMILY_V6)
			if err != nil {
				return err
			}
			global, linkLocal := false, false
			for _, a := range addrs {
				if a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0 {
					continue
				}
				global = global || a.IP.Equal(addr.IP)
				linkLocal = linkLocal || a.IP.IsLinkLocalUnicast()
			}
			if global && linkLocal {
				return nil
			}
			time.Sleep(5 * time.Millisecond)
		}
		return fmt.Errorf("%v or the link-local address on %s still tentative after 1 s", KernelLocalAddr6, name)
	})
}
