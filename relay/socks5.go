package relay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// SOCKS5 dials through a SOCKS5 proxy (RFC 1928): CONNECT for TCP and UDP
// ASSOCIATE for UDP, with no authentication or with a user name and
// password (RFC 1929).
//
// It is synack's own client rather than golang.org/x/net/proxy's, which has
// no UDP ASSOCIATE and reports a refusal only as an error string, so that
// a refused destination could not be told from an unreachable one.
type SOCKS5 struct {
	Addr           string // the proxy, HOST:PORT
	User, Password string // RFC 1929, if User is not empty
	// Timeout bounds each negotiation with the proxy (default 10 s); the
	// context given to a dial bounds it too.
	Timeout time.Duration
}

// The SOCKS5 reply codes (RFC 1928 §6).
const (
	socksSucceeded          = 0x00
	socksGeneralFailure     = 0x01
	socksNotAllowed         = 0x02
	socksNetUnreachable     = 0x03
	socksHostUnreachable    = 0x04
	socksConnRefused        = 0x05
	socksTTLExpired         = 0x06
	socksCmdNotSupported    = 0x07
	socksAddrTypeNotSupport = 0x08
)

// ReplyError is a SOCKS5 reply other than "succeeded".
type ReplyError struct {
	Code byte
}

func (e *ReplyError) Error() string {
	what := map[byte]string{
		socksGeneralFailure:     "general SOCKS server failure",
		socksNotAllowed:         "connection not allowed by ruleset",
		socksNetUnreachable:     "network unreachable",
		socksHostUnreachable:    "host unreachable",
		socksConnRefused:        "connection refused",
		socksTTLExpired:         "TTL expired",
		socksCmdNotSupported:    "command not supported",
		socksAddrTypeNotSupport: "address type not supported",
	}[e.Code]
	if what == "" {
		what = "unassigned reply code"
	}
	return fmt.Sprintf("socks5 reply %#02x: %s", e.Code, what)
}

// errMalformed marks a proxy's answer that breaks RFC 1928.
var errMalformed = errors.New("malformed socks5 reply")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errMalformed}, a...)...)
}

func (s *SOCKS5) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 10 * time.Second
}

// Check connects to the proxy and negotiates a method, to tell early
// whether it is there and speaks SOCKS5.
func (s *SOCKS5) Check(ctx context.Context) error {
	c, err := s.negotiate(ctx)
	if err != nil {
		return err
	}
	return c.Close()
}

// negotiate connects to the proxy and does the method selection (RFC 1928
// §3) and, if asked for, the user name and password (RFC 1929 §2).
func (s *SOCKS5) negotiate(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return nil, fmt.Errorf("socks5 proxy %s: %w", s.Addr, err)
	}
	dl := time.Now().Add(s.timeout())
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	c.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := s.greet(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("socks5 proxy %s: %w", s.Addr, err)
	}
	if err := ctx.Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("socks5 proxy %s: %w", s.Addr, err)
	}
	return c, nil
}

// greet does the method selection and the authentication on c.
func (s *SOCKS5) greet(c io.ReadWriter) error {
	method := byte(0x00) // NO AUTHENTICATION REQUIRED
	if s.User != "" {
		method = 0x02 // USERNAME/PASSWORD
	}
	if _, err := c.Write([]byte{5, 1, method}); err != nil {
		return err
	}
	var b [2]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return fmt.Errorf("reading the method selection: %w", noEOF(err))
	}
	if err := parseMethodReply(b[:], method); err != nil {
		return err
	}
	if s.User != "" {
		if len(s.User) > 255 || len(s.Password) > 255 {
			return errors.New("user name or password longer than 255 bytes (RFC 1929)")
		}
		m := append([]byte{1, byte(len(s.User))}, s.User...)
		m = append(append(m, byte(len(s.Password))), s.Password...)
		if _, err := c.Write(m); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return fmt.Errorf("reading the authentication status: %w", noEOF(err))
		}
		// RFC 1929 §2: "A STATUS field of X'00' indicates success."
		if b[0] != 1 || b[1] != 0 {
			return fmt.Errorf("user name and password refused (status %#02x)", b[1])
		}
	}
	return nil
}

// parseMethodReply checks the proxy's METHOD selection message.
func parseMethodReply(b []byte, want byte) error {
	switch {
	case len(b) != 2:
		return malformed("method selection of %d bytes, want 2", len(b))
	case b[0] != 5:
		return malformed("version %d in the method selection, want 5", b[0])
	case b[1] == 0xff:
		return errors.New("no acceptable authentication method (proxy answered X'FF')")
	case b[1] != want:
		return malformed("method %#02x selected, which was not offered (%#02x)", b[1], want)
	}
	return nil
}

// request sends a request (RFC 1928 §4) for cmd and dst and reads its
// reply (§6), returning the bound address.
func (s *SOCKS5) request(ctx context.Context, c net.Conn, cmd byte, dst netip.AddrPort) (netip.AddrPort, error) {
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.Write(appendRequest(nil, cmd, dst)); err != nil {
		return netip.AddrPort{}, err
	}
	bnd, err := readReply(c)
	if err == nil {
		err = ctx.Err()
	}
	return bnd, err
}

// appendRequest appends a request: VER CMD RSV ATYP DST.ADDR DST.PORT.
func appendRequest(b []byte, cmd byte, dst netip.AddrPort) []byte {
	b = append(b, 5, cmd, 0)
	return appendAddr(b, dst)
}

// appendAddr appends ATYP, the address and the port.
func appendAddr(b []byte, a netip.AddrPort) []byte {
	ip := a.Addr().Unmap()
	if ip.Is4() {
		v := ip.As4()
		b = append(append(b, 1), v[:]...)
	} else {
		v := ip.As16()
		b = append(append(b, 4), v[:]...)
	}
	return binary.BigEndian.AppendUint16(b, a.Port())
}

// readReply reads a reply: VER REP RSV ATYP BND.ADDR BND.PORT. A domain
// name as BND.ADDR gives the zero address with the port.
func readReply(r io.Reader) (netip.AddrPort, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return netip.AddrPort{}, fmt.Errorf("reading the reply: %w", noEOF(err))
	}
	if h[0] != 5 {
		return netip.AddrPort{}, malformed("version %d in the reply, want 5", h[0])
	}
	if h[2] != 0 {
		return netip.AddrPort{}, malformed("reserved byte %#02x in the reply, want 0", h[2])
	}
	var n int
	switch h[3] {
	case 1:
		n = 4
	case 4:
		n = 16
	case 3:
		var l [1]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return netip.AddrPort{}, fmt.Errorf("reading the reply's domain length: %w", noEOF(err))
		}
		n = int(l[0])
	default:
		return netip.AddrPort{}, malformed("address type %d in the reply, want 1, 3 or 4", h[3])
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return netip.AddrPort{}, fmt.Errorf("reading the reply's bound address: %w", noEOF(err))
	}
	if h[1] != socksSucceeded {
		return netip.AddrPort{}, &ReplyError{Code: h[1]}
	}
	port := binary.BigEndian.Uint16(buf[n:])
	var ip netip.Addr
	switch h[3] {
	case 1:
		ip = netip.AddrFrom4([4]byte(buf[:4]))
	case 4:
		ip = netip.AddrFrom16([16]byte(buf[:16])).Unmap()
	}
	return netip.AddrPortFrom(ip, port), nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// DialTCP connects to dst with CONNECT. A refusal by the proxy is a
// *ReplyError.
func (s *SOCKS5) DialTCP(ctx context.Context, dst netip.AddrPort) (net.Conn, error) {
	c, err := s.negotiate(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.request(ctx, c, 1, dst); err != nil {
		c.Close()
		return nil, fmt.Errorf("socks5 connect to %v via %s: %w", dst, s.Addr, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// DialUDP makes a UDP association for dst (UDP ASSOCIATE): datagrams
// written go to dst through the proxy's relay, and Read returns dst's
// datagrams. The association lasts while the control connection does
// (RFC 1928 §7); Close ends both.
func (s *SOCKS5) DialUDP(ctx context.Context, dst netip.AddrPort) (net.Conn, error) {
	c, err := s.negotiate(ctx)
	if err != nil {
		return nil, err
	}
	// The client's address and port are not known before the socket is
	// bound to reach the relay: all zeros (RFC 1928 §4, "If the client is
	// not in possesion of the information at the time of the UDP
	// ASSOCIATE, the client MUST use a port number and address of all
	// zeros"), of the family the client sends from, its side of the
	// control connection ("the address and port that the client expects
	// to use to send UDP datagrams on"), whatever dst's family.
	zero := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if la, ok := c.LocalAddr().(*net.TCPAddr); ok {
		if a := la.AddrPort().Addr(); a.Is6() && !a.Is4In6() {
			zero = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
		}
	}
	bnd, err := s.request(ctx, c, 3, zero)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("socks5 udp associate for %v via %s: %w", dst, s.Addr, err)
	}
	if !bnd.Addr().IsValid() || bnd.Addr().IsUnspecified() {
		// A relay at "0.0.0.0" is the proxy's own address.
		host := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr()
		bnd = netip.AddrPortFrom(host.Unmap(), bnd.Port())
	}
	u, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(bnd))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("socks5 udp relay %v via %s: %w", bnd, s.Addr, err)
	}
	c.SetDeadline(time.Time{})
	a := &udpAssoc{ctrl: c, u: u, dst: dst, relay: bnd}
	go a.watch()
	return a, nil
}

// udpAssoc is a UDP association for one destination.
type udpAssoc struct {
	ctrl  net.Conn
	u     *net.UDPConn
	dst   netip.AddrPort
	relay netip.AddrPort
	once  sync.Once
	buf   []byte
	mu    sync.Mutex // guards buf
}

// watch closes the association when the proxy closes the control
// connection.
func (a *udpAssoc) watch() {
	io.Copy(io.Discard, a.ctrl)
	a.Close()
}

func (a *udpAssoc) Write(b []byte) (int, error) {
	// RFC 1928 §7: RSV(2) FRAG(1) ATYP DST.ADDR DST.PORT DATA.
	m := appendAddr([]byte{0, 0, 0}, a.dst)
	if _, err := a.u.Write(append(m, b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Read returns the next datagram from dst; others (from elsewhere, or
// fragments) are dropped.
func (a *udpAssoc) Read(b []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.buf == nil {
		a.buf = make([]byte, 65536)
	}
	for {
		n, err := a.u.Read(a.buf)
		if err != nil {
			return 0, err
		}
		src, payload, err := parseUDPHeader(a.buf[:n])
		if err != nil || src != a.dst {
			continue
		}
		return copy(b, payload), nil
	}
}

// parseUDPHeader parses the header the relay puts on each datagram: RFC
// 1928 §7, "RSV Reserved X'0000', FRAG Current fragment number, ATYP,
// DST.ADDR, DST.PORT, DATA". Fragments are refused ("An implementation
// that does not support fragmentation MUST drop any datagram whose FRAG
// field is other than X'00'"), and so are domain names (the relay answers
// with addresses).
func parseUDPHeader(b []byte) (netip.AddrPort, []byte, error) {
	if len(b) < 4 {
		return netip.AddrPort{}, nil, malformed("udp datagram of %d bytes, shorter than its header", len(b))
	}
	if b[2] != 0 {
		return netip.AddrPort{}, nil, malformed("udp fragment %d: fragmentation is not supported", b[2])
	}
	var n int
	switch b[3] {
	case 1:
		n = 4
	case 4:
		n = 16
	default:
		return netip.AddrPort{}, nil, malformed("udp datagram address type %d, want 1 or 4", b[3])
	}
	if len(b) < 4+n+2 {
		return netip.AddrPort{}, nil, malformed("udp datagram of %d bytes, its %d-byte header cut", len(b), 4+n+2)
	}
	var ip netip.Addr
	if n == 4 {
		ip = netip.AddrFrom4([4]byte(b[4:8]))
	} else {
		ip = netip.AddrFrom16([16]byte(b[4:20])).Unmap()
	}
	port := binary.BigEndian.Uint16(b[4+n:])
	return netip.AddrPortFrom(ip, port), b[4+n+2:], nil
}

func (a *udpAssoc) Close() error {
	var err error
	a.once.Do(func() {
		err = a.u.Close()
		a.ctrl.Close()
	})
	return err
}

func (a *udpAssoc) LocalAddr() net.Addr  { return a.u.LocalAddr() }
func (a *udpAssoc) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(a.dst) }
func (a *udpAssoc) SetDeadline(t time.Time) error {
	return a.u.SetDeadline(t)
}
func (a *udpAssoc) SetReadDeadline(t time.Time) error  { return a.u.SetReadDeadline(t) }
func (a *udpAssoc) SetWriteDeadline(t time.Time) error { return a.u.SetWriteDeadline(t) }
