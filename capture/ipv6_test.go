package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace/ladder"
	"github.com/gosynack/synack/wire"
)

var (
	v6Client = netip.MustParseAddrPort("[2001:2::2]:40000")
	v6Server = netip.MustParseAddrPort("[2001:2::1]:80")
	v6Router = netip.MustParseAddr("2001:2:0:9::1")
	v4Router = netip.MustParseAddr("198.18.9.1")
)

// ext is an IPv6 extension header: its Next Header value and its bytes
// after the first two (Next Header and Hdr Ext Len, filled in by tcp6).
type ext struct {
	nh   uint8
	body []byte // 6 bytes, or 6 + a multiple of 8
}

// tcp6 is an IPv6 packet of a TCP segment, with extension headers.
func tcp6(src, dst netip.AddrPort, flags wire.Flags, sq, ack seq.Value, n int, o wire.Options, exts ...ext) []byte {
	seg := wire.Segment{SrcPort: src.Port(), DstPort: dst.Port(), Seq: sq, Ack: ack, Flags: flags, Window: 500, Options: o, Payload: make([]byte, n)}
	tcp := seg.Append(nil, src.Addr(), dst.Addr())
	var chain []byte
	for i, e := range exts {
		next := uint8(wire.ProtocolTCP)
		if i+1 < len(exts) {
			next = exts[i+1].nh
		}
		chain = append(chain, next, uint8((len(e.body)+2)/8-1))
		chain = append(chain, e.body...)
	}
	first := uint8(wire.ProtocolTCP)
	if len(exts) > 0 {
		first = exts[0].nh
	}
	ip := wire.IPv6{NextHeader: first, HopLimit: 64, Src: src.Addr(), Dst: dst.Addr()}
	b := ip.Append(nil, len(chain)+len(tcp))
	return append(append(b, chain...), tcp...)
}

// padN is the body of a Hop-by-Hop or Destination Options header holding
// only a PadN option (RFC 8200 §4.2).
var padN = []byte{1, 4, 0, 0, 0, 0}

// v6Conn is a handshake, one data segment each way and a close, over
// IPv6 with a Hop-by-Hop and a Destination Options header on every packet
// of the client's.
func v6Conn() [][]byte {
	const ciss, siss = 100, 900
	c, s := v6Client, v6Server
	hx := []ext{{0, padN}, {60, padN}}
	return [][]byte{
		tcp6(c, s, wire.SYN, ciss, 0, 0, wire.Options{HasMSS: true, MSS: 1440}, hx...),
		tcp6(s, c, wire.SYN|wire.ACK, siss, ciss+1, 0, wire.Options{HasMSS: true, MSS: 1440}),
		tcp6(c, s, wire.ACK, ciss+1, siss+1, 0, wire.Options{}, hx...),
		tcp6(c, s, wire.PSH|wire.ACK, ciss+1, siss+1, 100, wire.Options{}, hx...),
		tcp6(s, c, wire.PSH|wire.ACK, siss+1, ciss+101, 1400, wire.Options{}),
		tcp6(c, s, wire.FIN|wire.ACK, ciss+101, siss+1401, 0, wire.Options{}, hx...),
		tcp6(s, c, wire.FIN|wire.ACK, siss+1401, ciss+102, 0, wire.Options{}),
		tcp6(c, s, wire.ACK, ciss+102, siss+1402, 0, wire.Options{}, hx...),
	}
}

// icmp6Packet is an ICMPv6 message from src to dst in an IPv6 packet.
func icmp6Packet(src, dst netip.Addr, m wire.ICMPv6) []byte {
	body := m.Append(nil, src, dst)
	ip := wire.IPv6{NextHeader: wire.ProtocolICMPv6, HopLimit: 64, Src: src, Dst: dst}
	return append(ip.Append(nil, len(body)), body...)
}

// icmp4Packet is an ICMP message from src to dst in an IPv4 packet.
func icmp4Packet(src, dst netip.Addr, m wire.ICMPv4) []byte {
	body := m.Append(nil)
	ip := wire.IPv4{Protocol: wire.ProtocolICMP, TTL: 64, Src: src, Dst: dst}
	return append(ip.Append(nil, len(body)), body...)
}

func analyzeFrames(t *testing.T, lt layers.LinkType, frames ...[]byte) *Analysis {
	t.Helper()
	f, err := Read(bytes.NewReader(pcapOf(t, lt, 65535, frames...)))
	if err != nil {
		t.Fatal(err)
	}
	return Analyze(f)
}

func textOf(t *testing.T, a *Analysis) string {
	t.Helper()
	var b bytes.Buffer
	if err := a.WriteText(&b, "test", a.Conns, ladder.Options{NoLegend: true}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// An IPv6 connection whose packets carry Hop-by-Hop and Destination
// Options headers is one connection keyed by its IPv6 addresses and
// ports, whatever the link type, with the handshake's states and
// addresses written [v6]:port. RFC 8200 §4.1: "IPv6 nodes must accept
// and attempt to process extension headers in any order and occurring
// any number of times in the same packet".
func TestIPv6ExtensionHeaders(t *testing.T) {
	pkts := v6Conn()
	sll2 := func(p []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h, 0x86dd)
		return append(h, p...)
	}
	null := func(af uint32) func([]byte) []byte {
		return func(p []byte) []byte { return append(binary.LittleEndian.AppendUint32(nil, af), p...) }
	}
	for _, c := range []struct {
		name string
		lt   layers.LinkType
		wrap func([]byte) []byte
	}{
		{"ethernet", layers.LinkTypeEthernet, func(p []byte) []byte { return ethernet(0x86dd, p) }},
		{"raw", layers.LinkTypeRaw, func(p []byte) []byte { return p }},
		{"ipv6", layers.LinkTypeIPv6, func(p []byte) []byte { return p }},
		{"sll2", layers.LinkTypeLinuxSLL2, sll2},
		{"null-linux", layers.LinkTypeNull, null(10)},
		{"null-darwin", layers.LinkTypeNull, null(30)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var frames [][]byte
			for _, p := range pkts {
				frames = append(frames, c.wrap(p))
			}
			a := analyzeFrames(t, c.lt, frames...)
			if len(a.Conns) != 1 || a.Conns[0].Packets != 8 || a.NBad != 0 {
				t.Fatalf("%d connections, bad %v, skipped %v", len(a.Conns), a.Bad, a.Skipped)
			}
			if got := a.Conns[0].String(); got != "[2001:2::2]:40000-[2001:2::1]:80" {
				t.Errorf("connection %s", got)
			}
			out := textOf(t, a)
			for _, want := range []string{"SYN-SENT", "ESTABLISHED", "TIME-WAIT", "#5 PA seq=1 ack=101 win=500 len=1400"} {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in\n%s", want, out)
				}
			}
			if conns, err := a.Select("[2001:2::1]:80-[2001:2::2]:40000", 0); err != nil || len(conns) != 1 {
				t.Errorf("--conn with IPv6 addresses: %v, %v", conns, err)
			}
		})
	}
}

// An IPv6 fragment is counted and left out, as an IPv4 fragment is; a
// packet the snaplen cut after its TCP header is read, its payload length
// from the Payload Length.
func TestIPv6FragmentAndSnaplen(t *testing.T) {
	pkts := v6Conn()
	frag := tcp6(v6Client, v6Server, wire.ACK, 101, 901, 10, wire.Options{}, ext{44, []byte{0, 8 | 1, 0, 0, 0, 1}})
	cut := pkts[4][:40+20+8]
	a := analyzeFrames(t, layers.LinkTypeRaw, pkts[0], pkts[1], pkts[2], pkts[3], cut, frag)
	if a.Skipped[string(skipFragment6)] != 1 || a.Truncated != 1 || a.NBad != 0 {
		t.Fatalf("skipped %v, truncated %d, bad %v", a.Skipped, a.Truncated, a.Bad)
	}
	if out := textOf(t, a); !strings.Contains(out, "#5 PA seq=1 ack=101 win=500 len=1400") {
		t.Errorf("the cut segment is not drawn with its length:\n%s", out)
	}
	// Cut inside the TCP header: an error naming the frame.
	a = analyzeFrames(t, layers.LinkTypeRaw, pkts[0], pkts[4][:40+10])
	if a.NBad != 1 || !strings.Contains(a.Bad[0], "frame 2: cut by the snaplen inside the headers") {
		t.Errorf("bad %v", a.Bad)
	}
}

// pmtuConn is v6Conn with the server's response too big for a 1280-byte
// link on the way: the router's Packet Too Big quoting it, and the
// response resent in two.
func pmtuConn(t *testing.T, problem func([]byte) []byte) [][]byte {
	t.Helper()
	pkts := v6Conn()
	ptb := wire.ICMPv6{Type: wire.ICMPv6PacketTooBig, MTU: 1280, Body: pkts[4][:1232]}
	m := icmp6Packet(v6Router, v6Server.Addr(), ptb)
	if problem != nil {
		m = problem(m)
	}
	resent := [][]byte{
		tcp6(v6Server, v6Client, wire.ACK, 901, 201, 1220, wire.Options{}),
		tcp6(v6Server, v6Client, wire.PSH|wire.ACK, 901+1220, 201, 180, wire.Options{}),
	}
	out := append([][]byte{}, pkts[:5]...)
	out = append(out, m)
	out = append(out, resent...)
	return append(out, pkts[5:]...)
}

// A Packet Too Big quoting the server's segment is drawn on the
// connection's ladder, to the server, from the router, with its MTU and
// the packet it quotes. RFC 4443 §3.2: "A Packet Too Big MUST be sent by
// a router in response to a packet that it cannot forward because the
// packet is larger than the MTU of the outgoing link."
func TestICMPv6PacketTooBig(t *testing.T) {
	a := analyzeFrames(t, layers.LinkTypeRaw, pmtuConn(t, nil)...)
	if len(a.Conns) != 1 || len(a.Conns[0].ICMP) != 1 {
		t.Fatalf("%d connections, ICMP %v", len(a.Conns), a.ICMP)
	}
	out := textOf(t, a)
	for _, want := range []string{
		"│◇~~ #6 ICMPv6 Packet Too Big mtu=1280 from 2001:2:0:9::1 ~~▶┤",
		"└ quotes #5 (seq=1)",
		"1 ICMP message quotes this connection's segments",
		", 1 ICMP message;",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "segmentation offload") {
		t.Errorf("a note on offload, though the later segments fit:\n%s", out)
	}
}

// An error quoting a segment already acknowledged is drawn with a note
// that a host discards it: RFC 5927 §4.1 has TCP check the quoted
// sequence number against SND.UNA..SND.NXT. The Packet Too Big of
// pmtuConn comes again after the client acknowledged the data it quotes.
func TestICMPQuoteAcknowledged(t *testing.T) {
	pkts := pmtuConn(t, nil)
	late := append([][]byte{}, pkts[:9]...) // through the client's FIN, which acknowledges the response
	late = append(late, pkts[5])            // the Packet Too Big again
	late = append(late, pkts[9:]...)
	a := analyzeFrames(t, layers.LinkTypeRaw, late...)
	out := textOf(t, a)
	if n := strings.Count(out, "└ its quoted seq is already acknowledged (below SND.UNA): a host discards it (RFC 5927 §4.1)"); n != 1 {
		t.Errorf("%d notes on a stale quote, want 1 (#10's):\n%s", n, out)
	}
	if !strings.Contains(out, "#10 ICMPv6 Packet Too Big") {
		t.Errorf("no #10:\n%s", out)
	}
}

// In a capture of both hosts (synack's pcapng with --pcap-at both) an
// ICMP message is seen twice, sent and received: it is drawn once.
func TestICMPDirectionalOnce(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, "client", "server")
	if err != nil {
		t.Fatal(err)
	}
	conn := linuxConn(10, 10, 1448)
	pu := wire.ICMPv4{Type: wire.ICMPv4DestUnreachable, Code: wire.ICMPv4PortUnreachable, Body: conn[0][14 : 14+28]}
	msg := icmp4Packet(genServer.Addr(), genClient.Addr(), pu)
	at := clock.Time(0)
	tap := func(from, to string, p []byte) {
		w.Tap(at, from, true, p)
		at += clock.Time(time.Millisecond)
		w.Tap(at, to, false, p)
		at += clock.Time(time.Millisecond)
	}
	tap("client", "server", conn[0][14:])
	tap("server", "client", msg)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	a := Analyze(f)
	if !a.Directional || len(a.Conns) != 1 || len(a.Conns[0].ICMP) != 1 || len(a.ICMP) != 2 {
		t.Fatalf("directional %v, %d connections, ICMP %v", a.Directional, len(a.Conns), a.ICMP)
	}
	out := textOf(t, a)
	if n := strings.Count(out, "ICMP Destination Unreachable (port unreachable)"); n != 1 {
		t.Errorf("drawn %d times:\n%s", n, out)
	}
}

// A malformed ICMP message in a capture is drawn with what is wrong with
// it, never a refusal of the file: a bad checksum (the receiver discards
// it: "The checksum is the 16-bit one's complement of the one's
// complement sum of the entire ICMPv6 message", RFC 4443 §2.3), a quote
// cut short; one too short to be read is a note on the frame.
func TestICMPMalformed(t *testing.T) {
	badSum := func(m []byte) []byte { m[42] ^= 0xff; return m }
	a := analyzeFrames(t, layers.LinkTypeRaw, pmtuConn(t, badSum)...)
	out := textOf(t, a)
	if !strings.Contains(out, "#6 ICMPv6 Packet Too Big mtu=1280") || !strings.Contains(out, "└ bad ICMPv6 checksum: the receiver discards it") {
		t.Errorf("the bad checksum is not drawn:\n%s", out)
	}

	// The quote holds only the IPv6 header: no ports, so no connection.
	shortQuote := func(m []byte) []byte {
		ptb := wire.ICMPv6{Type: wire.ICMPv6PacketTooBig, MTU: 1280, Body: v6Conn()[4][:40]}
		return icmp6Packet(v6Router, v6Server.Addr(), ptb)
	}
	a = analyzeFrames(t, layers.LinkTypeRaw, pmtuConn(t, shortQuote)...)
	if len(a.Conns) != 1 || len(a.Conns[0].ICMP) != 0 || len(a.ICMP) != 1 || a.NBad != 0 {
		t.Fatalf("ICMP %v, bad %v", a.ICMP, a.Bad)
	}
	if p := a.ICMP[0].Msg.Problem; !strings.Contains(p, "quote of the packet that caused it is incomplete") {
		t.Errorf("problem %q", p)
	}
	a.AllICMP = true
	out = textOf(t, a)
	if !strings.Contains(out, "#6 ") || !strings.Contains(out, "about no connection") {
		t.Errorf("--icmp does not list the message:\n%s", out)
	}

	// Three bytes: not an ICMPv6 message at all.
	tiny := func(m []byte) []byte {
		ip := wire.IPv6{NextHeader: wire.ProtocolICMPv6, HopLimit: 64, Src: v6Router, Dst: v6Server.Addr()}
		return append(ip.Append(nil, 3), 2, 0, 0)
	}
	a = analyzeFrames(t, layers.LinkTypeRaw, pmtuConn(t, tiny)...)
	if a.NBad != 1 || !strings.Contains(a.Bad[0], "frame 6: icmpv6") || len(a.Conns) != 1 {
		t.Errorf("bad %v", a.Bad)
	}
}

// IPv4: a Fragmentation Needed with its next-hop MTU (RFC 1191 §4), from
// a router, and a port unreachable from the server itself about the
// client's SYN, drawn from the
// server's lifeline to the client; an echo request and reply between the hosts only
// with AllICMP. A quoted sequence number no segment of the capture has is
// said to be missing.
func TestICMPv4OnLadder(t *testing.T) {
	conn := linuxConn(100, 3000, 1448)
	quote := func(frame []byte) []byte { return frame[14 : 14+28] } // IP header and 8 bytes of TCP
	fn := wire.ICMPv4{Type: wire.ICMPv4DestUnreachable, Code: wire.ICMPv4FragmentationNeeded, MTU: 1400, Body: quote(conn[4])}
	pu := wire.ICMPv4{Type: wire.ICMPv4DestUnreachable, Code: wire.ICMPv4PortUnreachable, Body: quote(conn[0])}
	bogus := append([]byte(nil), quote(conn[4])...)
	binary.BigEndian.PutUint32(bogus[24:], 12345)
	gone := wire.ICMPv4{Type: wire.ICMPv4DestUnreachable, Code: wire.ICMPv4HostUnreachable, Body: bogus}
	req := wire.ICMPv4{Type: wire.ICMPv4EchoRequest, ID: 7, Seq: 1, Body: make([]byte, 56)}
	rep := wire.ICMPv4{Type: wire.ICMPv4EchoReply, ID: 7, Seq: 1, Body: make([]byte, 56)}
	c, s := genClient.Addr(), genServer.Addr()
	frames := append([][]byte{}, conn[:5]...)
	frames = append(frames,
		ethernet(0x0800, icmp4Packet(v4Router, s, fn)),
		ethernet(0x0800, icmp4Packet(s, c, pu)),
		ethernet(0x0800, icmp4Packet(v4Router, s, gone)),
		ethernet(0x0800, icmp4Packet(c, s, req)),
		ethernet(0x0800, icmp4Packet(s, c, rep)))
	frames = append(frames, conn[5:]...)
	a := analyzeFrames(t, layers.LinkTypeEthernet, frames...)
	out := textOf(t, a)
	for _, want := range []string{
		"#6 ICMP Fragmentation Needed mtu=1400 from 198.18.9.1",
		"├◀~~~", "~ #7 ICMP Destination Unreachable (port unreachable) ~~┤",
		"└ quotes #1 (seq=0)",
		"#8 ICMP Destination Unreachable (host unreachable) from 198.18.9.1",
		"└ quotes the segment with seq=7345, not in the capture",
		"└ its quoted seq was never sent (above SND.NXT): a host discards it (RFC 5927 §4.1)",
		"2 ICMP messages quote no TCP segment",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "Echo") {
		t.Errorf("echo drawn without AllICMP:\n%s", out)
	}
	a.AllICMP = true
	out = textOf(t, a)
	for _, want := range []string{"├~~ #9 ICMP Echo Request id=7 seq=1 len=56 ~", "◀~", "#10 ICMP Echo Reply id=7 seq=1 len=56", "ICMP messages:\n  #6 "} {
		if !strings.Contains(out, want) {
			t.Errorf("with AllICMP, no %q in\n%s", want, out)
		}
	}
}

// FuzzDecode feeds raw IP packets to decode: never a panic, an error that
// says something, and a message that can be put into words.
func FuzzDecode(f *testing.F) {
	for _, p := range v6Conn() {
		f.Add(p)
	}
	pkts := v6Conn()
	f.Add(icmp6Packet(v6Router, v6Server.Addr(), wire.ICMPv6{Type: wire.ICMPv6PacketTooBig, MTU: 1280, Body: pkts[4][:200]}))
	conn := linuxConn(10, 10, 1448)
	f.Add(icmp4Packet(v4Router, genServer.Addr(), wire.ICMPv4{Type: wire.ICMPv4DestUnreachable, Code: 4, MTU: 1280, Body: conn[4][14:]}))
	f.Add(icmp4Packet(v4Router, genServer.Addr(), wire.ICMPv4{Type: wire.ICMPv4EchoRequest, Body: []byte("hi")}))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, m, sk, err := decode(&Packet{LinkType: layers.LinkTypeRaw, Data: data})
		switch {
		case err != nil:
			if err.Error() == "" {
				t.Fatal("empty error")
			}
		case m != nil:
			if !strings.HasPrefix(m.Words(), "ICMP") {
				t.Fatalf("words %q", m.Words())
			}
			_ = (&ICMP{Msg: *m}).String()
		case s == nil && sk == "":
			t.Fatal("no segment, no message, no reason to skip, no error")
		}
	})
}
