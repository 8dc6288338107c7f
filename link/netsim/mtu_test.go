package netsim

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

var (
	client6 = netip.MustParseAddr("2001:2::2")
	server6 = netip.MustParseAddr("2001:2::1")
)

// seg6 builds an IPv6 packet carrying a TCP segment of payload bytes.
func seg6(src, dst netip.Addr, flags wire.Flags, sn uint32, payload int) []byte {
	s := wire.Segment{SrcPort: 40000, DstPort: 80, Seq: seq.Value(sn), Ack: 1, Flags: flags, Window: 65535, Payload: make([]byte, payload)}
	h := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: src, Dst: dst}
	return s.Append(h.Append(nil, s.Len()), src, dst)
}

// segDF is seg with the IPv4 Don't Fragment bit set, as synack sends.
func segDF(src, dst netip.Addr, sn uint32, payload int) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, DontFragment: true, Src: src, Dst: dst},
		TCP: wire.Segment{SrcPort: 40000, DstPort: 80, Seq: seq.Value(sn), Ack: 1, Flags: wire.ACK, Window: 65535, Payload: make([]byte, payload)},
	}
	return p.Append(nil)
}

// newNet6 is newNet with IPv6 addresses for the client and the server.
func newNet6(t *testing.T, rec trace.Recorder) *Network {
	t.Helper()
	n := newNet(t, 1, rec)
	if err := n.AddAddr("client", client6); err != nil {
		t.Fatal(err)
	}
	if err := n.AddAddr("server", server6); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIPv6Routed(t *testing.T) {
	log := &trace.Log{}
	n := newNet6(t, log)
	setPath(t, n, "client", "server", Impairment{Latency: 10 * time.Millisecond})
	if id := n.Send(0, "client", seg6(client6, server6, wire.SYN, 7, 0)); id == 0 {
		t.Fatalf("an IPv6 segment was rejected: %v", eventStrings(log))
	}
	got := drain(n, ms(100))
	if len(got) != 1 || got[0].to != "server" || got[0].at != ms(10) {
		t.Fatalf("deliveries: %v", got)
	}
	ev := eventStrings(log, trace.LinkSend)
	if len(ev) != 1 || !strings.Contains(ev[0], "[2001:2::2]:40000") {
		t.Errorf("LinkSend events: %q, want one naming [2001:2::2]:40000", ev)
	}
	if a := n.Addrs("client"); len(a) != 2 || a[0] != clientAddr || a[1] != client6 {
		t.Errorf("Addrs(client) = %v", a)
	}
	if h, ok := n.HostByAddr(server6); !ok || h != "server" {
		t.Errorf("HostByAddr(%v) = %q, %v", server6, h, ok)
	}
}

func TestAddAddrErrors(t *testing.T) {
	n := newNet6(t, nil)
	for _, c := range []struct {
		host, addr, want string
	}{
		{"nobody", "2001:2::9", `no host "nobody"`},
		{"client", "2001:2::1", `already belongs to "server"`},
		{"client", "2001:2::9", "already has the address 2001:2::2"},
		{"other", "2001:2:0:ffff::fe", "is the routers'"},
		{"other", "fe80::1%eth0", "has a zone"},
	} {
		err := n.AddAddr(c.host, netip.MustParseAddr(c.addr))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("AddAddr(%q, %s) = %v, want %q", c.host, c.addr, err, c.want)
		}
	}
	if err := n.SetRouterAddrs(serverAddr, netip.MustParseAddr("2001:2::fe")); err == nil || !strings.Contains(err.Error(), `belongs to host "server"`) {
		t.Errorf("SetRouterAddrs(a host's address) = %v", err)
	}
	if err := n.SetRouterAddrs(server6, server6); err == nil || !strings.Contains(err.Error(), "is not IPv4") {
		t.Errorf("SetRouterAddrs(v6, v6) = %v", err)
	}
	if err := (Impairment{MTU: 67}).Validate(); err == nil || !strings.Contains(err.Error(), "Impairment.MTU is 67") {
		t.Errorf("MTU 67: %v", err)
	}
}

// RFC 1191 §4: a router that cannot forward a datagram with DF set "MUST
// include the MTU of that next-hop network in the low-order 16 bits of the
// ICMP header field that is labelled "unused" in the ICMP specification".
func TestFragmentationNeeded(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 1, log)
	setPath(t, n, "client", "server", Impairment{Latency: 10 * time.Millisecond, MTU: 1280})
	setPath(t, n, "server", "client", Impairment{Latency: 10 * time.Millisecond})
	n.Send(0, "client", segDF(clientAddr, serverAddr, 100, 1460)) // 1500 bytes
	n.Send(ms(1), "client", segDF(clientAddr, serverAddr, 200, 1240))
	got := drain(n, ms(100))
	if len(got) != 2 {
		t.Fatalf("deliveries: %v, want the ICMP error to the client and the 1280-byte segment to the server", got)
	}
	// The router is on the path at its sending end: its error takes the
	// reverse path's 10 ms.
	icmp, fits := got[0], got[1]
	if icmp.to != "client" || icmp.at != ms(10) || fits.to != "server" || fits.at != ms(11) {
		t.Fatalf("deliveries: %v", got)
	}
	ip, payload, err := wire.ParseIPv4(icmp.data)
	if err != nil || ip.Protocol != wire.ProtocolICMP || ip.Src != DefaultRouter4 || ip.Dst != clientAddr {
		t.Fatalf("the error's IP header: %+v, %v", ip, err)
	}
	m, err := wire.ParseICMPv4(payload)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != wire.ICMPv4DestUnreachable || m.Code != 4 || m.MTU != 1280 {
		t.Errorf("ICMP %v code %d mtu %d, want Destination Unreachable code 4 mtu 1280", m.Type, m.Code, m.MTU)
	}
	if !m.Quote.HasSeq || m.Quote.Seq != 100 || m.Quote.SrcPort != 40000 {
		t.Errorf("quote %v, want the dropped segment's ports and seq 100", m.Quote.String())
	}
	// RFC 1812 §4.3.2.3: no more than 576 bytes in all.
	if len(icmp.data) != 576 {
		t.Errorf("the error is %d bytes, want 576", len(icmp.data))
	}
	st := n.Stats("client", "server")
	if st.TooBig != 1 || st.ICMPSent != 1 || st.Delivered != 1 {
		t.Errorf("stats %v", st)
	}
	drops := eventStrings(log, trace.LinkDrop)
	if len(drops) != 1 || !strings.Contains(drops[0], "too big: 1500 bytes, MTU 1280") {
		t.Errorf("LinkDrop events %q", drops)
	}
}

// RFC 4443 §3.2: a Packet Too Big "MUST be sent by a router in response to
// a packet that it cannot forward because the packet is larger than the MTU
// of the outgoing link", with "As much of invoking packet as possible
// without the ICMPv6 packet exceeding the minimum IPv6 MTU".
func TestPacketTooBig(t *testing.T) {
	n := newNet6(t, nil)
	setPath(t, n, "client", "server", Impairment{MTU: 1280})
	n.Send(0, "client", seg6(client6, server6, wire.ACK, 300, 1440))
	got := drain(n, ms(100))
	if len(got) != 1 || got[0].to != "client" {
		t.Fatalf("deliveries: %v, want only the Packet Too Big to the client", got)
	}
	ip, payload, err := wire.ParseIPv6(got[0].data)
	if err != nil || ip.NextHeader != wire.ProtocolICMPv6 || ip.Src != DefaultRouter6 || ip.Dst != client6 {
		t.Fatalf("IPv6 header %+v, %v", ip, err)
	}
	m, err := wire.ParseICMPv6(payload, ip.Src, ip.Dst)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != wire.ICMPv6PacketTooBig || m.MTU != 1280 || !m.Quote.HasSeq || m.Quote.Seq != 300 {
		t.Errorf("ICMPv6 %v mtu %d quote %s", m.Type, m.MTU, m.Quote.String())
	}
	if len(got[0].data) != 1280 {
		t.Errorf("the Packet Too Big is %d bytes, want 1280", len(got[0].data))
	}
}

// RFC 2923 §2.1: a black hole drops the packet and the ICMP with it.
func TestICMPBlackhole(t *testing.T) {
	n := newNet6(t, nil)
	setPath(t, n, "client", "server", Impairment{MTU: 1280, ICMPBlackhole: true})
	n.Send(0, "client", seg6(client6, server6, wire.ACK, 1, 1440))
	n.Send(0, "client", segDF(clientAddr, serverAddr, 1, 1460))
	n.Send(0, "client", seg(clientAddr, serverAddr, wire.ACK, 1, 1460)) // no DF
	if got := drain(n, ms(100)); len(got) != 0 {
		t.Fatalf("deliveries %v, want none", got)
	}
	if st := n.Stats("client", "server"); st.TooBig != 3 || st.ICMPSent != 0 {
		t.Errorf("stats %v", st)
	}
	// Without DF the network does not fragment, and says nothing.
	n2 := newNet(t, 1, nil)
	setPath(t, n2, "client", "server", Impairment{MTU: 1280})
	n2.Send(0, "client", seg(clientAddr, serverAddr, wire.ACK, 1, 1460))
	if got := drain(n2, ms(100)); len(got) != 0 || n2.Stats("client", "server").ICMPSent != 0 {
		t.Errorf("a packet without DF: deliveries %v, stats %v", got, n2.Stats("client", "server"))
	}
}

// ICMP crosses the network as bytes: impaired like any packet, unseen by
// the rules (which match TCP segments) and by the trace (which has no
// event for it).
func TestNonTCPCrosses(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 1, log)
	addRule(t, n, "client", "server", Rule{Action: Drop})
	m := wire.ICMPv4{Type: wire.ICMPv4EchoRequest, ID: 1, Seq: 1, Body: []byte("ping")}
	h := wire.IPv4{TTL: 64, Protocol: wire.ProtocolICMP, Src: clientAddr, Dst: serverAddr}
	n.Send(0, "client", m.Append(h.Append(nil, m.Len())))
	got := drain(n, ms(1))
	if len(got) != 1 || got[0].to != "server" {
		t.Fatalf("deliveries %v", got)
	}
	if ev := eventStrings(log); len(ev) != 0 {
		t.Errorf("events %q, want none", ev)
	}
}

// A flipped bit of an IPv6 packet is always caught by the receiver: the
// network flips only bits the TCP checksum covers.
func TestCorruptIPv6Caught(t *testing.T) {
	n := newNet6(t, nil)
	setPath(t, n, "client", "server", Impairment{Corrupt: 1})
	for i := range 2000 {
		n.Send(ms(float64(i)), "client", seg6(client6, server6, wire.ACK, uint32(i), 20))
	}
	got := drain(n, ms(3000))
	if len(got) != 2000 {
		t.Fatalf("%d deliveries", len(got))
	}
	for _, d := range got {
		ip, payload, err := wire.ParseIPv6(d.data)
		if err != nil {
			continue
		}
		if ip.NextHeader != wire.ProtocolTCP {
			continue
		}
		if _, err := wire.ParseTCP(payload, ip.Src, ip.Dst); err == nil {
			t.Fatalf("a corrupted IPv6 packet parses: % x", d.data)
		}
	}
}
