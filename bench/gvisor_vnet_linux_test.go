//go:build linux

package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// vnetEndpoint is a gVisor link endpoint on a TUN device opened with
// IFF_VNET_HDR and TUNSETOFFLOAD (TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6): gVisor
// at its best on a TUN, which its fdbased endpoint cannot be (fdbased turns
// GSO on only for a socket descriptor, and its GRO lives only in the
// recvmmsg dispatcher, sockets again). Every packet either way carries a
// virtio_net_hdr (linux/virtio_net.h, 10 bytes, little-endian):
//
//   - out: the endpoint says it supports host GSO (stack.HostGSOSupported,
//     up to vnetGSOMax bytes), so gVisor's TCP hands it segments of up to
//     64 KiB with only the pseudo-header checksum in the TCP header
//     (stack.GSO.NeedsCsum); the header says VIRTIO_NET_HDR_F_NEEDS_CSUM
//     with csum_start and csum_offset, and for a segment longer than the
//     MSS the GSO type (TCPV4, TCPV6) and gso_size = MSS, so the kernel
//     cuts it and fills in the checksums;
//   - in: the TUN's TSO features let the kernel send its TCP's large
//     segments as they are (a GSO type in the header, the checksum partial,
//     NEEDS_CSUM), and the endpoint hands each to gVisor as one segment of
//     up to 64 KiB. The device cannot corrupt, so the endpoint has
//     CapabilityRXChecksumOffload: no checksum is verified (one flagged
//     NEEDS_CSUM is only partial anyway).
//
// Other packets (UDP, ICMP, TCP packets gVisor sends without GSO options)
// go out with a zero header and the checksums gVisor computed. One
// goroutine reads (through Go's poller, one readv per packet); writes are
// one writev per packet, header and gVisor's views gathered. Packets of at
// most vnetCopyMax bytes are copied out of the 64 KiB read buffer into a
// buffer of their size; larger ones keep it, and a new one is taken.
type vnetEndpoint struct {
	file *os.File // the TUN's descriptor, non-blocking, in Go's poller
	mtu  atomic.Uint32

	mu         sync.RWMutex
	dispatcher stack.NetworkDispatcher
	linkAddr   tcpip.LinkAddress
	started    bool

	wg        sync.WaitGroup
	closeOnce sync.Once

	// Counts, for the tests: super-packets (a GSO type in the header)
	// written and read, and all packets written and read.
	gsoOut, gsoIn, pktsOut, pktsIn atomic.Uint64
	// writeErrs counts writes the device refused, lastErr the last errno.
	writeErrs atomic.Uint64
	lastErr   atomic.Value
}

const (
	vnetHdrLen = 10 // sizeof(struct virtio_net_hdr)
	// vnetGSOMax is the largest segment gVisor is given to send: an IPv4
	// packet's total length is 16 bits.
	vnetGSOMax = 1<<16 - 1
	// vnetReadBuf holds any packet the kernel sends (IPv4 or IPv6 up to
	// 65535 bytes): gVisor's largest pooled chunk.
	vnetReadBuf = 1 << 16
	// vnetCopyMax is the largest packet copied into a buffer of its own
	// size rather than handed to gVisor in the 64 KiB read buffer.
	vnetCopyMax = 2048
)

var (
	_ stack.LinkEndpoint = (*vnetEndpoint)(nil)
	_ stack.GSOEndpoint  = (*vnetEndpoint)(nil)
)

// openVnetTUN attaches to the TUN device name (in the calling thread's
// namespace) with IFF_VNET_HDR and the offloads TUN_F_CSUM, TUN_F_TSO4 and
// TUN_F_TSO6, and returns its descriptor, non-blocking. It is an error if
// the kernel refuses any of them: this endpoint is the measure of gVisor
// with them, and does not fall back.
func openVnetTUN(name string) (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("TUN name %q: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	steps := []struct {
		what string
		do   func() error
	}{
		{"TUNSETIFF IFF_TUN|IFF_NO_PI|IFF_VNET_HDR", func() error { return unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr) }},
		// The header's size is the device's, kept across attachments:
		// say it rather than take what the last user left.
		{"TUNSETVNETHDRSZ 10", func() error { return unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, vnetHdrLen) }},
		{"TUNSETOFFLOAD TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6", func() error {
			return unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, unix.TUN_F_CSUM|unix.TUN_F_TSO4|unix.TUN_F_TSO6)
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("%s: %s: %w", name, s.what, err)
		}
	}
	return fd, nil
}

// newVnetEndpoint opens the TUN device name (in the calling thread's
// namespace: call it inside netns.NS.Do) as openVnetTUN does and returns
// an endpoint on it with the given MTU. The endpoint owns the descriptor;
// removing the stack's NIC (or Close) closes it.
func newVnetEndpoint(name string, mtu uint32) (*vnetEndpoint, error) {
	fd, err := openVnetTUN(name)
	if err != nil {
		return nil, err
	}
	e := &vnetEndpoint{file: os.NewFile(uintptr(fd), "/dev/net/tun:"+name)}
	e.mtu.Store(mtu)
	return e, nil
}

// Attach starts the read loop on the first dispatcher; a nil one (the NIC
// being removed) closes the device and waits for the loop to end.
func (e *vnetEndpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	if d == nil {
		e.dispatcher = nil
		e.mu.Unlock()
		e.Close()
		e.Wait()
		return
	}
	e.dispatcher = d
	start := !e.started
	e.started = true
	e.mu.Unlock()
	if start {
		e.wg.Add(1)
		go e.readLoop()
	}
}

// IsAttached implements stack.LinkEndpoint.
func (e *vnetEndpoint) IsAttached() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.dispatcher != nil
}

// MTU implements stack.LinkEndpoint.
func (e *vnetEndpoint) MTU() uint32 { return e.mtu.Load() }

// SetMTU implements stack.LinkEndpoint.
func (e *vnetEndpoint) SetMTU(mtu uint32) { e.mtu.Store(mtu) }

// MaxHeaderLength implements stack.LinkEndpoint: a TUN has no link header
// (the virtio header is written from an array of its own).
func (*vnetEndpoint) MaxHeaderLength() uint16 { return 0 }

// LinkAddress implements stack.LinkEndpoint.
func (e *vnetEndpoint) LinkAddress() tcpip.LinkAddress {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.linkAddr
}

// SetLinkAddress implements stack.LinkEndpoint.
func (e *vnetEndpoint) SetLinkAddress(a tcpip.LinkAddress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.linkAddr = a
}

// Capabilities implements stack.LinkEndpoint: received checksums are not
// verified (see the type's doc). Transmit checksums are left to gVisor but
// for TCP under GSO, where NeedsCsum has the kernel finish them.
func (*vnetEndpoint) Capabilities() stack.LinkEndpointCapabilities {
	return stack.CapabilityRXChecksumOffload
}

// GSOMaxSize implements stack.GSOEndpoint.
func (*vnetEndpoint) GSOMaxSize() uint32 { return vnetGSOMax }

// SupportedGSO implements stack.GSOEndpoint: the host (the kernel, told by
// the virtio header) segments.
func (*vnetEndpoint) SupportedGSO() stack.SupportedGSO { return stack.HostGSOSupported }

// Wait implements stack.LinkEndpoint.
func (e *vnetEndpoint) Wait() { e.wg.Wait() }

// ARPHardwareType implements stack.LinkEndpoint.
func (*vnetEndpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareNone }

// AddHeader implements stack.LinkEndpoint.
func (*vnetEndpoint) AddHeader(*stack.PacketBuffer) {}

// ParseHeader implements stack.LinkEndpoint.
func (*vnetEndpoint) ParseHeader(*stack.PacketBuffer) bool { return true }

// Close implements stack.LinkEndpoint: it closes the device, which ends
// the read loop. It is safe to call more than once.
func (e *vnetEndpoint) Close() {
	e.closeOnce.Do(func() { e.file.Close() })
}

// SetOnCloseAction implements stack.LinkEndpoint.
func (*vnetEndpoint) SetOnCloseAction(func()) {}

// vnetHeader is a struct virtio_net_hdr.
type vnetHeader struct {
	flags, gsoType                         uint8
	hdrLen, gsoSize, csumStart, csumOffset uint16
}

func (h *vnetHeader) encode(b *[vnetHdrLen]byte) {
	b[0], b[1] = h.flags, h.gsoType
	binary.LittleEndian.PutUint16(b[2:], h.hdrLen)
	binary.LittleEndian.PutUint16(b[4:], h.gsoSize)
	binary.LittleEndian.PutUint16(b[6:], h.csumStart)
	binary.LittleEndian.PutUint16(b[8:], h.csumOffset)
}

func decodeVnetHeader(b []byte) vnetHeader {
	return vnetHeader{
		flags: b[0], gsoType: b[1],
		hdrLen:     binary.LittleEndian.Uint16(b[2:]),
		gsoSize:    binary.LittleEndian.Uint16(b[4:]),
		csumStart:  binary.LittleEndian.Uint16(b[6:]),
		csumOffset: binary.LittleEndian.Uint16(b[8:]),
	}
}

// vnetHeaderFor is the virtio header pkt is written with: for TCP under
// GSO, NEEDS_CSUM (the TCP header holds the pseudo-header checksum only)
// and, if the segment is longer than the MSS, the GSO type and size.
func vnetHeaderFor(pkt *stack.PacketBuffer) (vnetHeader, error) {
	var h vnetHeader
	g := pkt.GSOOptions
	var typ uint8
	switch g.Type {
	case stack.GSONone:
		return h, nil
	case stack.GSOTCPv4:
		typ = unix.VIRTIO_NET_HDR_GSO_TCPV4
	case stack.GSOTCPv6:
		typ = unix.VIRTIO_NET_HDR_GSO_TCPV6
	default:
		return h, fmt.Errorf("GSO type %v: this endpoint offers host GSO only", g.Type)
	}
	l3 := len(pkt.NetworkHeader().Slice())
	h.hdrLen = uint16(l3 + len(pkt.TransportHeader().Slice()))
	if g.NeedsCsum {
		h.flags = unix.VIRTIO_NET_HDR_F_NEEDS_CSUM
		h.csumStart = uint16(l3) // from the packet's first byte: no link header
		h.csumOffset = g.CsumOffset
	}
	if pkt.Data().Size() > int(g.MSS) {
		h.gsoType = typ
		h.gsoSize = g.MSS
	}
	return h, nil
}

// WritePackets implements stack.LinkWriter: one writev each, the virtio
// header first.
func (e *vnetEndpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n := 0
	for _, pkt := range pkts.AsSlice() {
		if err := e.writePacket(pkt); err != nil {
			if n == 0 {
				return 0, err
			}
			break
		}
		n++
	}
	return n, nil
}

func (e *vnetEndpoint) writePacket(pkt *stack.PacketBuffer) tcpip.Error {
	h, err := vnetHeaderFor(pkt)
	if err != nil {
		return &tcpip.ErrNotSupported{}
	}
	var hb [vnetHdrLen]byte
	h.encode(&hb)
	var arr [8]unix.Iovec
	iov := arr[:0]
	iov = appendIovec(iov, hb[:])
	for _, s := range pkt.AsSlices() {
		iov = appendIovec(iov, s)
	}
	rc, serr := e.file.SyscallConn()
	if serr != nil {
		return &tcpip.ErrClosedForSend{}
	}
	var errno syscall.Errno
	werr := rc.Write(func(fd uintptr) bool {
		_, _, errno = unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		return errno != unix.EAGAIN
	})
	if werr != nil {
		return &tcpip.ErrClosedForSend{}
	}
	if errno != 0 {
		e.writeErrs.Add(1)
		e.lastErr.Store(errno)
		return tcpip.TranslateErrno(errno)
	}
	e.pktsOut.Add(1)
	if h.gsoType != unix.VIRTIO_NET_HDR_GSO_NONE {
		e.gsoOut.Add(1)
	}
	return nil
}

func appendIovec(iov []unix.Iovec, b []byte) []unix.Iovec {
	if len(b) == 0 {
		return iov
	}
	v := unix.Iovec{Base: &b[0]}
	v.SetLen(len(b))
	return append(iov, v)
}

// readLoop reads packets until the device is closed and hands each to the
// dispatcher.
func (e *vnetEndpoint) readLoop() {
	defer e.wg.Done()
	rc, err := e.file.SyscallConn()
	if err != nil {
		return
	}
	var hb [vnetHdrLen]byte
	big := buffer.NewViewSize(vnetReadBuf)
	defer func() { big.Release() }()
	for {
		iov := [2]unix.Iovec{{Base: &hb[0]}, {Base: big.BasePtr()}}
		iov[0].SetLen(vnetHdrLen)
		iov[1].SetLen(vnetReadBuf)
		var n uintptr
		var errno syscall.Errno
		if err := rc.Read(func(fd uintptr) bool {
			n, _, errno = unix.Syscall(unix.SYS_READV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			return errno != unix.EAGAIN
		}); err != nil {
			return // closed
		}
		if errno != 0 {
			if errors.Is(errno, unix.EINTR) {
				continue
			}
			return
		}
		if n <= vnetHdrLen {
			continue
		}
		size := int(n) - vnetHdrLen
		var v *buffer.View
		if size <= vnetCopyMax {
			v = buffer.NewViewWithData(big.AsSlice()[:size])
		} else {
			v = big
			v.CapLength(size)
			big = buffer.NewViewSize(vnetReadBuf)
		}
		e.pktsIn.Add(1)
		if decodeVnetHeader(hb[:]).gsoType&^unix.VIRTIO_NET_HDR_GSO_ECN != unix.VIRTIO_NET_HDR_GSO_NONE {
			e.gsoIn.Add(1)
		}
		var proto tcpip.NetworkProtocolNumber
		switch header.IPVersion(v.AsSlice()) {
		case header.IPv4Version:
			proto = header.IPv4ProtocolNumber
		case header.IPv6Version:
			proto = header.IPv6ProtocolNumber
		default:
			v.Release()
			continue
		}
		e.mu.RLock()
		d := e.dispatcher
		e.mu.RUnlock()
		if d == nil {
			v.Release()
			continue
		}
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithView(v)})
		d.DeliverNetworkPacket(proto, pkt)
		pkt.DecRef()
	}
}
