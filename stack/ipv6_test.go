package stack

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

var (
	host6 = netip.MustParseAddr("2001:2::1")
	peer6 = netip.MustParseAddr("2001:2::2")
)

// newDual is a host with both an IPv4 and an IPv6 address.
func newDual(t *testing.T, cfg Config) *Stack {
	t.Helper()
	cfg.Name, cfg.Addr, cfg.Addr6, cfg.Rand = "dual", hostAddr, host6, rand.New(rand.NewPCG(1, 2))
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// packet6 builds an IPv6 packet from peer6:srcPort to the host.
func packet6(srcPort, dstPort uint16, flags wire.Flags, sq, ack seq.Value, payload string, opts wire.Options) []byte {
	s := wire.Segment{SrcPort: srcPort, DstPort: dstPort, Seq: sq, Ack: ack, Flags: flags, Window: 65535, Payload: []byte(payload), Options: opts}
	ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: peer6, Dst: host6}
	b := ip.Append(nil, s.Len())
	return s.Append(b, peer6, host6)
}

// describe prints a packet of either family: TCP as the canonical line with
// addresses, ICMP and ICMPv6 as their String.
func describe(t *testing.T, b []byte) string {
	t.Helper()
	ip, payload, err := wire.ParseIP(b)
	if err != nil {
		t.Fatalf("stack sent a packet that does not parse: %v", err)
	}
	src, dst := ip.Src(), ip.Dst()
	switch ip.Protocol() {
	case wire.ProtocolTCP:
		s, err := wire.ParseTCP(payload, src, dst)
		if err != nil {
			t.Fatalf("stack sent a segment that does not parse: %v", err)
		}
		if ip.Version == 4 && !ip.V4.DontFragment {
			t.Fatalf("IPv4 TCP packet without DF (RFC 1191 §3): %v", ip.String())
		}
		return fmt.Sprintf("%v > %v %v", netip.AddrPortFrom(src, s.SrcPort), netip.AddrPortFrom(dst, s.DstPort), s.String())
	case wire.ProtocolICMP:
		m, err := wire.ParseICMPv4(payload)
		if err != nil {
			t.Fatalf("stack sent ICMP that does not parse: %v", err)
		}
		return fmt.Sprintf("%v > %v %v", src, dst, m.String())
	case wire.ProtocolICMPv6:
		m, err := wire.ParseICMPv6(payload, src, dst)
		if err != nil {
			t.Fatalf("stack sent ICMPv6 that does not parse: %v", err)
		}
		return fmt.Sprintf("%v > %v %v", src, dst, m.String())
	}
	t.Fatalf("stack sent protocol %d", ip.Protocol())
	return ""
}

// outAny collects what a stack sends, of either family; raw keeps the
// packets' bytes.
func outAny(t *testing.T, s *Stack, now clock.Time, raw *[][]byte) []string {
	t.Helper()
	var lines []string
	s.Output(now, func(b []byte) {
		lines = append(lines, describe(t, b))
		if raw != nil {
			*raw = append(*raw, append([]byte(nil), b...))
		}
	})
	return lines
}

// RFC 9293 §3.10.7.1 over IPv6: "If the ACK bit is off, sequence number
// zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"; the checksum
// covers the IPv6 pseudo-header (RFC 8200 §8.1), which describe verifies.
func TestIPv6ResetForClosedPort(t *testing.T) {
	s := newDual(t, Config{})
	s.Input(0, packet6(40000, 81, wire.SYN, 7000, 0, "", wire.Options{}))
	wantOut(t, outAny(t, s, 0, nil), "[2001:2::1]:81 > [2001:2::2]:40000 RA seq=0 ack=7001 win=0 len=0")
	// "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"
	s.Input(0, packet6(40000, 81, wire.ACK, 7000, 555, "", wire.Options{}))
	wantOut(t, outAny(t, s, 0, nil), "[2001:2::1]:81 > [2001:2::2]:40000 R seq=555 ack=- win=0 len=0")
	// "An incoming segment containing a RST is discarded."
	s.Input(0, packet6(40000, 81, wire.RST, 7000, 0, "", wire.Options{}))
	wantOut(t, outAny(t, s, 0, nil))
	if c := s.Counters(); c.OutRsts != 2 || c.InSegs != 3 || c.InErrs != 0 {
		t.Fatalf("counters %+v", c)
	}
}

// A passive open over IPv6: the SYN-ACK announces an MSS of the MTU less 60
// bytes of IPv6 and TCP headers (RFC 9293 §3.7.1: "the IP MTU minus the IP
// and TCP headers"), 1440 on a 1500-byte link; data flows both ways; the
// LISTEN rules (§3.10.7.2) answer an ACK with a RST as over IPv4.
func TestIPv6PassiveOpenAndData(t *testing.T) {
	s := newDual(t, Config{TCP: tcp.Config{NoTimestamps: true, NoSACK: true, NoWindowScale: true, DelayedACK: -1}})
	l, err := s.Listen(80, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Input(0, packet6(40000, 80, wire.ACK, 7000, 999, "", wire.Options{}))
	wantOut(t, outAny(t, s, 0, nil), "[2001:2::1]:80 > [2001:2::2]:40000 R seq=999 ack=- win=0 len=0")
	s.Input(0, packet6(40000, 80, wire.SYN, 7000, 0, "", wire.Options{HasMSS: true, MSS: 1440}))
	if len(s.Conns()) != 1 {
		t.Fatalf("%d connections after the SYN", len(s.Conns()))
	}
	c := s.Conns()[0]
	iss := c.ISS()
	wantOut(t, outAny(t, s, 0, nil), fmt.Sprintf("[2001:2::1]:80 > [2001:2::2]:40000 SA seq=%d ack=7001 win=65535 len=0 <mss 1440>", iss))
	s.Input(0, packet6(40000, 80, wire.ACK|wire.PSH, 7001, iss.Add(1), "hello", wire.Options{}))
	a := l.Accept()
	if a != c || a.State() != tcp.Established {
		t.Fatalf("accept gave %v", a)
	}
	if got := a.Tuple(); got.Local != netip.AddrPortFrom(host6, 80) || got.Remote != netip.AddrPortFrom(peer6, 40000) {
		t.Fatalf("tuple %v", got)
	}
	wantOut(t, outAny(t, s, 0, nil), fmt.Sprintf("[2001:2::1]:80 > [2001:2::2]:40000 A seq=%d ack=7006 win=65530 len=0", iss.Add(1)))
	buf := make([]byte, 10)
	if n := s.Read(0, a, buf); string(buf[:n]) != "hello" {
		t.Fatalf("read %q", buf[:n])
	}
	s.Write(0, a, []byte("world"))
	wantOut(t, outAny(t, s, 0, nil), fmt.Sprintf("[2001:2::1]:80 > [2001:2::2]:40000 PA seq=%d ack=7006 win=65530 len=5", iss.Add(1)))
	if got := s.Lookup(tcp.Tuple{Local: netip.AddrPortFrom(host6, 80), Remote: netip.AddrPortFrom(peer6, 40000)}); got != a {
		t.Fatalf("Lookup of the IPv6 tuple: %v", got)
	}
	// The same ports over IPv4 are another connection.
	s.Input(0, packet(40000, 80, wire.SYN, 9000, 0, ""))
	if got := outAny(t, s, 0, nil); len(got) != 1 || !strings.Contains(got[0], "198.18.0.1:80 > 198.18.0.2:40000 SA") || !strings.Contains(got[0], "<mss 1460>") {
		t.Fatalf("IPv4 SYN on the dual-stack listener: %v", got)
	}
	if n := len(s.Conns()); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// An active open over IPv6 from the RFC 6056 range, and the handshake.
func TestIPv6ActiveOpen(t *testing.T) {
	s := newDual(t, Config{TCP: tcp.Config{NoTimestamps: true, NoSACK: true, NoWindowScale: true}})
	c, err := s.Connect(0, netip.AddrPortFrom(peer6, 80))
	if err != nil {
		t.Fatal(err)
	}
	lp := c.Tuple().Local.Port()
	if c.Tuple().Local.Addr() != host6 || lp < 32768 || lp > 60999 {
		t.Fatalf("local %v", c.Tuple().Local)
	}
	wantOut(t, outAny(t, s, 0, nil), fmt.Sprintf("[2001:2::1]:%d > [2001:2::2]:80 S seq=%d ack=- win=65535 len=0 <mss 1440>", lp, c.ISS()))
	s.Input(0, packet6(80, lp, wire.SYN|wire.ACK, 5000, c.ISS().Add(1), "", wire.Options{HasMSS: true, MSS: 1440}))
	wantOut(t, outAny(t, s, 0, nil), fmt.Sprintf("[2001:2::1]:%d > [2001:2::2]:80 A seq=%d ack=5001 win=65535 len=0", lp, c.ISS().Add(1)))
	if c.State() != tcp.Established || c.Info().MSS != 1440 {
		t.Fatalf("state %v, MSS %d", c.State(), c.Info().MSS)
	}
	// An IPv4-mapped address connects over IPv4.
	c4, err := s.Connect(0, netip.MustParseAddrPort("[::ffff:198.18.0.2]:80"))
	if err != nil {
		t.Fatal(err)
	}
	if r := c4.Tuple().Remote; r != netip.AddrPortFrom(peerAddr, 80) || c4.Tuple().Local.Addr() != hostAddr {
		t.Fatalf("mapped connect: %v", c4.Tuple())
	}
	if ctr := s.Counters(); ctr.ActiveOpens != 2 || ctr.CurrEstab != 1 {
		t.Fatalf("counters %+v", ctr)
	}
}

// "tcp4" and "tcp6" listeners: each takes its family's SYNs and leaves the
// port free for the other; a dual-stack listener conflicts with both.
func TestListenFamily(t *testing.T) {
	s := newDual(t, Config{})
	l6, err := s.ListenFamily(IPv6, 80, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Input(0, packet(40000, 80, wire.SYN, 7000, 0, ""))
	wantOut(t, outAny(t, s, 0, nil), "198.18.0.1:80 > 198.18.0.2:40000 RA seq=0 ack=7001 win=0 len=0")
	if _, err := s.Listen(80, 0); err == nil {
		t.Fatal("a dual-stack listener on a port with an IPv6 listener")
	}
	l4, err := s.ListenFamily(IPv4, 80, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Input(0, packet(40000, 80, wire.SYN, 7000, 0, ""))
	s.Input(0, packet6(40000, 80, wire.SYN, 7000, 0, "", wire.Options{}))
	outAny(t, s, 0, nil)
	if l4.pending() != 1 || l6.pending() != 1 {
		t.Fatalf("pending: IPv4 %d, IPv6 %d", l4.pending(), l6.pending())
	}
	l6.Close(0)
	if _, err := s.ListenFamily(IPv6, 80, 0); err != nil {
		t.Fatalf("IPv6 listen after Close: %v", err)
	}
}

// An IPv6 fragment goes to reassembly (frag.go): this one, with M set and
// 20 bytes, is dropped there with a Parameter Problem pointing at its
// Payload Length (RFC 8200 §4.5: "If the length of a fragment ... is not
// a multiple of 8 octets and the M flag of that fragment is 1, then that
// fragment must be discarded and an ICMP Parameter Problem, Code 0,
// message should be sent to the source of the fragment, pointing to the
// Payload Length field of the fragment packet"). A packet with an
// IPv4-mapped address is dropped.
func TestIPv6FragmentAndMapped(t *testing.T) {
	var log trace.Log
	s := newDual(t, Config{Recorder: &log})
	s.Listen(80, 0)
	seg := wire.Segment{SrcPort: 40000, DstPort: 80, Seq: 7000, Flags: wire.SYN, Window: 65535}
	ip := wire.IPv6{HopLimit: 64, NextHeader: 44, Src: peer6, Dst: host6}
	body := seg.Append(nil, peer6, host6)
	// Fragment header: next header TCP, offset 0, M set, identification 1.
	frag := []byte{wire.ProtocolTCP, 0, 0, 1, 0, 0, 0, 1}
	b := ip.Append(nil, len(frag)+len(body))
	b = append(append(b, frag...), body...)
	s.Input(0, b)
	mapped := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: netip.MustParseAddr("::ffff:198.18.0.2"), Dst: host6}
	seg2 := seg
	b2 := mapped.Append(nil, seg2.Len())
	s.Input(0, seg2.Append(b2, mapped.Src, host6))
	wantOut(t, outAny(t, s, 0, nil),
		"2001:2::1 > 2001:2::2 ICMPv6 parameter-problem erroneous-header-field pointer=4 quoting [2001:2::2]:40000>[2001:2::1]:80 TCP seq=7000")
	if c := s.Counters(); c.InErrs != 1 || c.PassiveOpens != 0 || c.ReasmReqds != 1 || c.ReasmFails != 1 || c.IcmpOutParmProbs != 1 {
		t.Fatalf("counters %+v", c)
	}
	if !strings.Contains(logText(&log), "not a multiple of 8") || !strings.Contains(logText(&log), "IPv4-mapped") {
		t.Fatalf("log:\n%s", logText(&log))
	}
}

// RFC 6056 per family: an IPv4 and an IPv6 connection to the same port
// may share a local port; a third to the same IPv6 peer may not.
func TestEphemeralPortsPerFamily(t *testing.T) {
	s := newDual(t, Config{EphemeralLow: 50000, EphemeralHigh: 50000})
	if _, err := s.Connect(0, netip.AddrPortFrom(peerAddr, 80)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Connect(0, netip.AddrPortFrom(peer6, 80)); err != nil {
		t.Fatalf("IPv6 connection with the IPv4 connection's port: %v", err)
	}
	if _, err := s.Connect(0, netip.AddrPortFrom(peer6, 80)); err == nil {
		t.Fatal("a second IPv6 connection to the same peer and port from the only port")
	}
}

// logText prints a log's events, one a line.
func logText(l *trace.Log) string {
	var b strings.Builder
	for i := range l.Events {
		b.WriteString(l.Events[i].String())
		b.WriteByte('\n')
	}
	return b.String()
}
