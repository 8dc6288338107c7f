package stack

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// udp4 is a UDP datagram from src to dst over IPv4.
func udp4(src, dst netip.AddrPort, data string) []byte {
	u := wire.UDP{SrcPort: src.Port(), DstPort: dst.Port(), Payload: []byte(data)}
	ip := wire.IPv4{TTL: 64, Protocol: wire.ProtocolUDP, Src: src.Addr(), Dst: dst.Addr()}
	return u.Append(ip.Append(nil, u.Len()), src.Addr(), dst.Addr())
}

// udp6 is a UDP datagram from src to dst over IPv6.
func udp6(src, dst netip.AddrPort, data string) []byte {
	u := wire.UDP{SrcPort: src.Port(), DstPort: dst.Port(), Payload: []byte(data)}
	ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolUDP, Src: src.Addr(), Dst: dst.Addr()}
	return u.Append(ip.Append(nil, u.Len()), src.Addr(), dst.Addr())
}

func ap(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

// outUDP collects what s sends: UDP as "src > dst UDP sport>dport len=n
// data", the rest as describe prints it; raw keeps the bytes.
func outUDP(t *testing.T, s *Stack, now clock.Time, raw *[][]byte) []string {
	t.Helper()
	var lines []string
	s.Output(now, func(b []byte) {
		if raw != nil {
			*raw = append(*raw, append([]byte(nil), b...))
		}
		ip, payload, err := wire.ParseIP(b)
		if err != nil {
			t.Fatalf("stack sent a packet that does not parse: %v", err)
		}
		if ip.Protocol() != wire.ProtocolUDP {
			lines = append(lines, describe(t, b))
			return
		}
		u, err := wire.ParseUDP(payload, ip.Src(), ip.Dst())
		if err != nil {
			t.Fatalf("stack sent UDP that does not parse: %v", err)
		}
		lines = append(lines, fmt.Sprintf("%v > %v %v %q", ip.Src(), ip.Dst(), u.String(), u.Payload))
	})
	return lines
}

func recv(t *testing.T, e *UDPEndpoint) string {
	t.Helper()
	d, ok, err := e.Recv()
	switch {
	case err != nil:
		return "error: " + err.Error()
	case !ok:
		return "nothing"
	}
	return fmt.Sprintf("%v > %v %q", d.Src, d.Dst, d.Payload)
}

// RFC 768: "Destination Port has a meaning within the context of a
// particular internet destination address." A datagram goes to the
// endpoint that matches it most exactly: connected before unconnected,
// bound to the address before the wildcard; both families.
func TestUDPDemux(t *testing.T) {
	s := newDual(t, Config{})
	wild, err := s.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := s.BindUDP(AnyFamily, ap(netip.Addr{}, 54))
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Connect(ap(peerAddr, 999)); err != nil {
		t.Fatal(err)
	}
	if got := conn.LocalAddr(); got != ap(hostAddr, 54) {
		t.Errorf("connected endpoint's local address %v, want %v (connect chooses the host's address)", got, ap(hostAddr, 54))
	}
	s.Input(0, udp4(ap(peerAddr, 1000), ap(hostAddr, 53), "v4"))
	s.Input(0, udp6(ap(peer6, 1000), ap(host6, 53), "v6"))
	s.Input(0, udp4(ap(peerAddr, 999), ap(hostAddr, 54), "from the peer"))
	s.Input(0, udp4(ap(peerAddr, 998), ap(hostAddr, 54), "from another port"))
	for _, c := range []struct {
		e    *UDPEndpoint
		want string
	}{
		{wild, `198.18.0.2:1000 > 198.18.0.1:53 "v4"`},
		{wild, fmt.Sprintf("%v > %v %q", ap(peer6, 1000), ap(host6, 53), "v6")},
		{wild, "nothing"},
		{conn, `198.18.0.2:999 > 198.18.0.1:54 "from the peer"`},
		{conn, "nothing"},
	} {
		if got := recv(t, c.e); got != c.want {
			t.Errorf("recv: %s, want %s", got, c.want)
		}
	}
	got := s.UDPCounters()
	if got.InDatagrams != 3 || got.NoPorts != 1 {
		t.Errorf("counters %+v, want InDatagrams 3, NoPorts 1", got)
	}
}

// The first datagram of TestUDPDemux, read exactly.
func TestUDPRecvExact(t *testing.T) {
	s := newDual(t, Config{})
	e, _ := s.BindUDP(IPv4, ap(hostAddr, 53))
	s.Input(0, udp4(ap(peerAddr, 1000), ap(hostAddr, 53), "query"))
	if got, want := recv(t, e), `198.18.0.2:1000 > 198.18.0.1:53 "query"`; got != want {
		t.Errorf("recv %s, want %s", got, want)
	}
	// IPv6 datagrams do not reach an IPv4 endpoint: a port unreachable.
	s.Input(0, udp6(ap(peer6, 1000), ap(host6, 53), "v6"))
	got := outUDP(t, s, 0, nil)
	wantOut(t, got, fmt.Sprintf("%v > %v ICMPv6 dest-unreachable port-unreachable quoting [%v]:1000>[%v]:53 UDP", host6, peer6, peer6, host6))
}

func TestUDPBindConflicts(t *testing.T) {
	s := newDual(t, Config{})
	if _, err := s.BindUDP(AnyFamily, ap(netip.Addr{}, 53)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		fam Family
		a   netip.AddrPort
	}{
		{AnyFamily, ap(netip.Addr{}, 53)},
		{IPv4, ap(netip.Addr{}, 53)},
		{IPv6, ap(host6, 53)},
	} {
		if _, err := s.BindUDP(c.fam, c.a); !errors.Is(err, ErrAddrInUse) {
			t.Errorf("bind %v %v: %v, want ErrAddrInUse", c.fam, c.a, err)
		}
	}
	if _, err := s.BindUDP(IPv4, ap(peerAddr, 60)); !errors.Is(err, ErrInvalidTarget) {
		t.Errorf("bind to another host's address: %v, want ErrInvalidTarget", err)
	}
	// One family's binding leaves the port free for the other's.
	a, err := s.BindUDP(IPv4, ap(netip.Addr{}, 70))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BindUDP(IPv6, ap(netip.Addr{}, 70)); err != nil {
		t.Errorf("IPv6 bind beside an IPv4 one: %v", err)
	}
	a.Close()
	if _, err := s.BindUDP(IPv4, ap(hostAddr, 70)); err != nil {
		t.Errorf("bind after Close: %v", err)
	}
	// TCP's ports are another space.
	if _, err := s.Listen(53, 0); err != nil {
		t.Errorf("TCP listen on a UDP port: %v", err)
	}
}

// RFC 6056 §3.3.1, Algorithm 1: ephemeral ports in the configured range,
// a random start and then the next free port.
func TestUDPEphemeral(t *testing.T) {
	s := newDual(t, Config{EphemeralLow: 40000, EphemeralHigh: 40002})
	seen := map[uint16]bool{}
	for range 3 {
		e, err := s.BindUDP(IPv4, netip.AddrPort{})
		if err != nil {
			t.Fatal(err)
		}
		p := e.LocalAddr().Port()
		if p < 40000 || p > 40002 || seen[p] {
			t.Fatalf("ephemeral port %d: outside 40000-40002 or reused", p)
		}
		seen[p] = true
	}
	if _, err := s.BindUDP(IPv4, netip.AddrPort{}); !errors.Is(err, ErrNoPorts) {
		t.Errorf("fourth ephemeral bind in a range of 3: %v, want ErrNoPorts", err)
	}
	if _, err := s.BindUDP(IPv6, netip.AddrPort{}); err != nil {
		t.Errorf("IPv6 ephemeral bind with every IPv4 port taken: %v", err)
	}
}

// Send builds the datagram exactly: source is the host's address of the
// destination's family, DF set over IPv4, the checksum (verified by
// ParseUDP in outUDP) always sent (RFC 1122 §4.1.3.4).
func TestUDPSend(t *testing.T) {
	s := newDual(t, Config{})
	e, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 5000))
	if err := e.Send(0, ap(peerAddr, 53), []byte("q4")); err != nil {
		t.Fatal(err)
	}
	if err := e.Send(0, ap(peer6, 53), []byte("q6")); err != nil {
		t.Fatal(err)
	}
	if err := e.Send(0, netip.AddrPort{}, []byte("x")); !errors.Is(err, ErrNotConnected) {
		t.Errorf("send with no destination: %v, want ErrNotConnected", err)
	}
	e.SetDontFragment(true) // IP_PMTUDISC_DO: no fragments (TestUDPSendFragments has them)
	if err := e.Send(0, ap(peerAddr, 53), make([]byte, 1500-28+1)); !errors.Is(err, ErrMessageTooLong) {
		t.Errorf("send of 1473 bytes over a 1500-byte MTU with DF: %v, want ErrMessageTooLong", err)
	}
	e.SetDontFragment(false)
	if err := e.Send(0, ap(peerAddr, 53), make([]byte, 1500-28)); err != nil {
		t.Errorf("send of 1472 bytes over a 1500-byte MTU: %v", err)
	}
	var raw [][]byte
	got := outUDP(t, s, 0, &raw)
	wantOut(t, got[:2],
		`198.18.0.1 > 198.18.0.2 UDP 5000>53 len=2 "q4"`,
		fmt.Sprintf(`%v > %v UDP 5000>53 len=2 "q6"`, host6, peer6))
	if ip, _, _ := wire.ParseIP(raw[0]); !ip.V4.DontFragment {
		t.Error("IPv4 UDP without DF (synack does not fragment)")
	}
	if len(raw[2]) != 1500 {
		t.Errorf("largest datagram's packet is %d bytes, want 1500", len(raw[2]))
	}
	if c := s.UDPCounters(); c.OutDatagrams != 3 {
		t.Errorf("OutDatagrams %d, want 3", c.OutDatagrams)
	}
	c, _ := s.BindUDP(AnyFamily, netip.AddrPort{})
	c.Connect(ap(peerAddr, 53))
	if err := c.Send(0, ap(peerAddr, 54), []byte("x")); !errors.Is(err, ErrIsConnected) {
		t.Errorf("send elsewhere on a connected endpoint: %v, want ErrIsConnected", err)
	}
	c.Close()
	if err := c.Send(0, netip.AddrPort{}, []byte("x")); !errors.Is(err, ErrEndpointClosed) {
		t.Errorf("send after Close: %v, want ErrEndpointClosed", err)
	}
}

// RFC 1122 §4.1.3.1: "If a datagram arrives addressed to a UDP port for
// which there is no pending LISTEN call, UDP SHOULD send an ICMP Port
// Unreachable message." The quote holds the whole datagram (RFC 1812
// §4.3.2.3), and the messages are rate-limited: EchoBurst 2 at EchoRate 10
// a second sends two, then one per 100 ms.
func TestUDPPortUnreachable(t *testing.T) {
	s := newDual(t, Config{EchoRate: 10, EchoBurst: 2})
	in := udp4(ap(peerAddr, 1000), ap(hostAddr, 9), "hello")
	var raw [][]byte
	for range 3 {
		s.Input(ms(0), in)
	}
	wantOut(t, outUDP(t, s, ms(0), &raw),
		"198.18.0.1 > 198.18.0.2 ICMP dest-unreachable port-unreachable quoting 198.18.0.2:1000>198.18.0.1:9 UDP",
		"198.18.0.1 > 198.18.0.2 ICMP dest-unreachable port-unreachable quoting 198.18.0.2:1000>198.18.0.1:9 UDP")
	ip, payload, _ := wire.ParseIP(raw[0])
	m, err := wire.ParseICMPv4(payload)
	if err != nil || ip.Dst() != peerAddr {
		t.Fatalf("port unreachable: %v %v", ip.String(), err)
	}
	if string(m.Body) != string(in) {
		t.Errorf("quote % x, want the whole invoking packet % x", m.Body, in)
	}
	s.Input(ms(99), in)
	wantOut(t, outUDP(t, s, ms(99), nil))
	s.Input(ms(100), in)
	wantOut(t, outUDP(t, s, ms(100), nil), "198.18.0.1 > 198.18.0.2 ICMP dest-unreachable port-unreachable quoting 198.18.0.2:1000>198.18.0.1:9 UDP")
	// IPv6: RFC 4443 §3.1 code 4, port unreachable.
	s.Input(ms(1000), udp6(ap(peer6, 1000), ap(host6, 9), "hello"))
	wantOut(t, outUDP(t, s, ms(1000), nil), fmt.Sprintf("%v > %v ICMPv6 dest-unreachable port-unreachable quoting [%v]:1000>[%v]:9 UDP", host6, peer6, peer6, host6))
	c := s.UDPCounters()
	if c.NoPorts != 6 || c.OutDestUnreachs != 4 || c.OutRateLimited != 2 {
		t.Errorf("counters %+v, want NoPorts 6, OutDestUnreachs 4, OutRateLimited 2", c)
	}
	// RFC 1122 §3.2.2: none for a multicast destination.
	s.Input(ms(2000), udp4(ap(peerAddr, 1000), ap(netip.MustParseAddr("224.0.0.251"), 5353), "mdns"))
	wantOut(t, outUDP(t, s, ms(2000), nil))
}

// RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing a
// zero checksum". A bad checksum is dropped over either family; both count
// in InErrors and InCsumErrors, and neither is answered.
func TestUDPChecksumDrops(t *testing.T) {
	s := newDual(t, Config{})
	e, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
	zero := udp6(ap(peer6, 1000), ap(host6, 53), "x")
	zero[40+6], zero[40+7] = 0, 0
	s.Input(0, zero)
	bad := udp4(ap(peerAddr, 1000), ap(hostAddr, 53), "x")
	bad[len(bad)-1] ^= 1
	s.Input(0, bad)
	// Over IPv4 a zero checksum means none was sent (RFC 768): accepted.
	none := udp4(ap(peerAddr, 1000), ap(hostAddr, 53), "no sum")
	none[20+6], none[20+7] = 0, 0
	s.Input(0, none)
	if got, want := recv(t, e), `198.18.0.2:1000 > 198.18.0.1:53 "no sum"`; got != want {
		t.Errorf("recv %s, want %s", got, want)
	}
	if got := recv(t, e); got != "nothing" {
		t.Errorf("recv %s, want nothing", got)
	}
	wantOut(t, outUDP(t, s, 0, nil))
	if c := s.UDPCounters(); c.InErrors != 2 || c.InCsumErrors != 2 || c.InDatagrams != 1 {
		t.Errorf("counters %+v, want InErrors 2, InCsumErrors 2, InDatagrams 1", c)
	}
}

// The receive queue is bounded in datagrams and in bytes; what does not
// fit is dropped and counted in RcvbufErrors and InErrors, as Linux does.
func TestUDPRecvQueueBounds(t *testing.T) {
	s := newDual(t, Config{})
	e, _ := s.BindUDP(IPv4, ap(netip.Addr{}, 53))
	e.SetRecvBuffer(2, 10)
	for _, d := range []string{"aaaa", "bbbb", "c"} { // two datagrams: the third is over the count
		s.Input(0, udp4(ap(peerAddr, 1000), ap(hostAddr, 53), d))
	}
	recv(t, e)
	s.Input(0, udp4(ap(peerAddr, 1000), ap(hostAddr, 53), "dddddddd")) // 4+8 > 10 bytes
	s.Input(0, udp4(ap(peerAddr, 1000), ap(hostAddr, 53), "eeeeee"))   // 4+6 = 10: fits
	for _, want := range []string{`"bbbb"`, `"eeeeee"`, "nothing"} {
		if got := recv(t, e); !strings.HasSuffix(got, want) {
			t.Errorf("recv %s, want %s", got, want)
		}
	}
	if c := s.UDPCounters(); c.RcvbufErrors != 2 || c.InErrors != 2 || c.InDatagrams != 3 {
		t.Errorf("counters %+v, want RcvbufErrors 2, InErrors 2, InDatagrams 3", c)
	}
}

// An ICMP Port Unreachable quoting a datagram of a connected endpoint is
// reported by its next Recv, once (Linux without IP_RECVERR: ECONNREFUSED
// on a connected socket); an unconnected endpoint does not hear it, and a
// soft error (Time Exceeded) is not reported.
func TestUDPICMPErrors(t *testing.T) {
	s := newDual(t, Config{})
	c, _ := s.BindUDP(AnyFamily, netip.AddrPort{})
	c.Connect(ap(peerAddr, 53))
	u, _ := s.BindUDP(AnyFamily, netip.AddrPort{})
	c.Send(0, netip.AddrPort{}, []byte("q"))
	u.Send(0, ap(peerAddr, 53), []byte("q"))
	var raw [][]byte
	outUDP(t, s, 0, &raw)
	s.Input(ms(1), icmp4Error(wire.ICMPv4TimeExceeded, 0, 0, raw[0]))
	if got := recv(t, c); got != "nothing" {
		t.Errorf("after Time Exceeded: %s, want nothing", got)
	}
	s.Input(ms(1), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4PortUnreachable, 0, raw[0]))
	s.Input(ms(1), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4PortUnreachable, 0, raw[1]))
	if _, _, err := c.Recv(); !errors.Is(err, tcp.ErrConnRefused) {
		t.Errorf("connected endpoint after Port Unreachable: %v, want ErrConnRefused", err)
	}
	if got := recv(t, c); got != "nothing" {
		t.Errorf("second Recv: %s, want nothing (the error is reported once)", got)
	}
	if got := recv(t, u); got != "nothing" {
		t.Errorf("unconnected endpoint: %s, want nothing", got)
	}
	// ICMPv6 likewise, reported by Send.
	c6, _ := s.BindUDP(IPv6, netip.AddrPort{})
	c6.Connect(ap(peer6, 53))
	c6.Send(0, netip.AddrPort{}, []byte("q"))
	raw = raw[:0]
	outUDP(t, s, 0, &raw)
	s.Input(ms(2), icmp6Error(wire.ICMPv6DestUnreachable, wire.ICMPv6PortUnreachable, 0, raw[0]))
	if err := c6.Send(ms(2), netip.AddrPort{}, []byte("q")); !errors.Is(err, tcp.ErrConnRefused) {
		t.Errorf("IPv6 Send after Port Unreachable: %v, want ErrConnRefused", err)
	}
	if got := s.UDPCounters().IcmpErrors; got != 2 {
		t.Errorf("IcmpErrors %d, want 2", got)
	}
	// RFC 1191: a Fragmentation Needed lowers the path MTU; an endpoint
	// that does not fragment (IP_PMTUDISC_DO) refuses a datagram over it.
	raw = raw[:0]
	c.Send(ms(3), netip.AddrPort{}, make([]byte, 1000))
	outUDP(t, s, ms(3), &raw)
	s.Input(ms(3), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 1000, raw[0]))
	c.SetDontFragment(true)
	if err := c.Send(ms(3), netip.AddrPort{}, make([]byte, 1000-28+1)); !errors.Is(err, ErrMessageTooLong) {
		t.Errorf("973 bytes over a path MTU of 1000: %v, want ErrMessageTooLong", err)
	}
	if err := c.Send(ms(3), netip.AddrPort{}, make([]byte, 1000-28)); err != nil {
		t.Errorf("972 bytes over a path MTU of 1000: %v", err)
	}
	if got := s.Counters().PathMTUChanges; got != 1 {
		t.Errorf("PathMTUChanges %d, want 1", got)
	}
}

// With AnyDestination, ListenUDPAny takes datagrams for any address and
// port that no endpoint takes, each with its original destination, and
// answers from it with SendFrom.
func TestUDPAnyDestination(t *testing.T) {
	s := newAnyHost(t)
	if _, err := newDual(t, Config{}).ListenUDPAny(); err == nil {
		t.Error("ListenUDPAny without AnyDestination succeeded")
	}
	bound, _ := s.BindUDP(IPv4, ap(netip.Addr{}, 53))
	a, err := s.ListenUDPAny()
	if err != nil {
		t.Fatal(err)
	}
	far := netip.MustParseAddr("198.19.7.7")
	s.Input(0, udp4(ap(peerAddr, 1000), ap(far, 53), "to far"))
	s.Input(0, udp4(ap(peerAddr, 1000), ap(hostAddr, 53), "to us"))
	s.Input(0, udp4(ap(peerAddr, 1000), ap(hostAddr, 54), "to us, no port"))
	if got, want := recv(t, a), `198.18.0.2:1000 > 198.19.7.7:53 "to far"`; got != want {
		t.Errorf("any: %s, want %s", got, want)
	}
	if got, want := recv(t, a), `198.18.0.2:1000 > 198.18.0.1:54 "to us, no port"`; got != want {
		t.Errorf("any: %s, want %s", got, want)
	}
	if got, want := recv(t, bound), `198.18.0.2:1000 > 198.18.0.1:53 "to us"`; got != want {
		t.Errorf("bound: %s, want %s", got, want)
	}
	if err := a.SendFrom(0, ap(far, 53), ap(peerAddr, 1000), []byte("answer")); err != nil {
		t.Fatal(err)
	}
	a.Unreachable(0, Datagram{Src: ap(peerAddr, 1000), Dst: ap(far, 54), Payload: []byte("refused")})
	wantOut(t, outUDP(t, s, 0, nil),
		`198.19.7.7 > 198.18.0.2 UDP 53>1000 len=6 "answer"`,
		"198.19.7.7 > 198.18.0.2 ICMP dest-unreachable port-unreachable quoting 198.18.0.2:1000>198.19.7.7:54 UDP")
	a.Close()
	s.Input(0, udp4(ap(peerAddr, 1000), ap(far, 53), "to far"))
	wantOut(t, outUDP(t, s, 0, nil), "198.19.7.7 > 198.18.0.2 ICMP dest-unreachable port-unreachable quoting 198.18.0.2:1000>198.19.7.7:53 UDP")
}
