package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// liveSnaplen is what a live capture keeps of each packet: libpcap's
// MAXIMUM_SNAPLEN, more than any frame a packet socket hands over, GSO's
// merged ones included.
const liveSnaplen = 262144

// Source reads the packets that cross one network interface as they do,
// with a Linux packet socket (AF_PACKET, packet(7)) bound to it: what
// tcpdump -i sees. Read is safe to call from one goroutine while another
// calls Close.
type Source struct {
	// Name is the interface's name, LinkType how its frames begin:
	// Ethernet for Ethernet, veth and loopback devices, raw IP for TUN
	// devices, Linux cooked (SLL) for any other, whose link header the
	// kernel takes off and describes instead.
	Name     string
	LinkType layers.LinkType

	f        *os.File
	ifindex  int
	loopback bool // a loopback device: each packet is seen leaving and arriving, and kept once
	cooked   bool
	buf, oob []byte
}

// ErrNotPermitted is the error of OpenLive run without the privilege to
// open a packet socket (CAP_NET_RAW: root).
var ErrNotPermitted = errors.New("opening a packet socket (AF_PACKET) needs root (CAP_NET_RAW)")

// ErrNoInterface is the error of OpenLive given the name of no interface
// of this network namespace.
var ErrNoInterface = errors.New("no such network interface")

// OpenLive starts capturing on the interface called name of this network
// namespace.
func OpenLive(name string) (*Source, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("%w %q in this network namespace (its interfaces: %s; ip link lists them)", ErrNoInterface, name, interfaceNames())
	}
	hatype, err := hardwareType(name)
	if err != nil {
		return nil, err
	}
	s := &Source{Name: name, ifindex: ifc.Index}
	typ := unix.SOCK_RAW
	switch hatype {
	case unix.ARPHRD_ETHER:
		s.LinkType = layers.LinkTypeEthernet
	case unix.ARPHRD_LOOPBACK:
		s.LinkType, s.loopback = layers.LinkTypeEthernet, true
	case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP:
		s.LinkType = layers.LinkTypeRaw
	default:
		s.LinkType, s.cooked, typ = layers.LinkTypeLinuxSLL, true, unix.SOCK_DGRAM
	}
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return nil, ErrNotPermitted
	}
	if err != nil {
		return nil, fmt.Errorf("opening a packet socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding a packet socket to %s: %w", name, err)
	}
	// The original length of a packet cut by the buffer, and the kernel's
	// time of its arrival or departure.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("packet socket: PACKET_AUXDATA: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("packet socket: SO_TIMESTAMPNS: %w", err)
	}
	s.f = os.NewFile(uintptr(fd), "packet socket on "+name)
	s.buf = make([]byte, liveSnaplen)
	s.oob = make([]byte, 256)
	return s, nil
}

// htons is the network byte order of a 16-bit value read as a native one,
// as socket, bind and the socket address hold the protocol; it is its own
// inverse.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// hardwareType asks the kernel for interface name's ARPHRD type.
func hardwareType(name string) (uint16, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("asking the type of %s: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("interface %q: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, fmt.Errorf("asking the type of %s (SIOCGIFHWADDR): %w", name, err)
	}
	return ifr.Uint16(), nil // the sa_family of ifr_hwaddr
}

// interfaceNames lists this namespace's interfaces.
func interfaceNames() string {
	ifs, err := net.Interfaces()
	if err != nil || len(ifs) == 0 {
		return "none found"
	}
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Read waits for the next packet and returns it, its Dir saying whether
// the interface received or sent it, its N zero. After Close it returns
// an error that wraps os.ErrClosed.
func (s *Source) Read() (Packet, error) {
	rc, err := s.f.SyscallConn()
	if err != nil {
		return Packet{}, err
	}
	for {
		var (
			n, oobn int
			from    unix.Sockaddr
			rerr    error
		)
		err := rc.Read(func(fd uintptr) bool {
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), s.buf, s.oob, unix.MSG_TRUNC)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		if err != nil {
			return Packet{}, err
		}
		if errors.Is(rerr, syscall.EINTR) {
			continue
		}
		if rerr != nil {
			return Packet{}, fmt.Errorf("reading from the packet socket on %s: %w", s.Name, rerr)
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || ll.Ifindex != s.ifindex {
			continue // queued before the socket was bound
		}
		if s.loopback && ll.Pkttype == unix.PACKET_OUTGOING {
			continue // its arrival is seen too, as tcpdump -i lo shows it once
		}
		p := Packet{LinkType: s.LinkType, Length: n, Dir: DirIn}
		if ll.Pkttype == unix.PACKET_OUTGOING {
			p.Dir = DirOut
		}
		s.control(s.oob[:oobn], &p)
		if p.Time.IsZero() {
			p.Time = time.Now()
		}
		data := s.buf[:min(n, len(s.buf))]
		if s.cooked {
			p.Data = sllHeader(ll, data)
			p.Length += 16
		} else {
			p.Data = append([]byte(nil), data...)
		}
		return p, nil
	}
}

// control reads a packet's time and original length from its socket
// control messages.
func (s *Source) control(oob []byte, p *Packet) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			p.Time = time.Unix(int64(ts.Sec), int64(ts.Nsec))
		case m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA && len(m.Data) >= int(unsafe.Sizeof(unix.TpacketAuxdata{})):
			aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&m.Data[0]))
			p.Length = int(aux.Len)
		}
	}
}

// sllHeader puts the Linux cooked header (LINKTYPE_LINUX_SLL) libpcap
// writes before a packet read without its link header.
func sllHeader(ll *unix.SockaddrLinklayer, data []byte) []byte {
	b := make([]byte, 16, 16+len(data))
	binary.BigEndian.PutUint16(b[0:], uint16(ll.Pkttype))
	binary.BigEndian.PutUint16(b[2:], ll.Hatype)
	binary.BigEndian.PutUint16(b[4:], uint16(ll.Halen))
	copy(b[6:14], ll.Addr[:min(int(ll.Halen), 8)])
	binary.BigEndian.PutUint16(b[14:], htons(ll.Protocol)) // the socket address has it in network order
	return append(b, data...)
}

// Drops returns how many packets the kernel dropped since the previous
// call because the reader did not keep up (PACKET_STATISTICS).
func (s *Source) Drops() (int, error) {
	rc, err := s.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var st *unix.TpacketStats
	var serr error
	if err := rc.Control(func(fd uintptr) {
		st, serr = unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
	}); err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, serr
	}
	return int(st.Drops), nil
}

// Close stops the capture; a Read waiting returns.
func (s *Source) Close() error { return s.f.Close() }
