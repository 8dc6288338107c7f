package netsim

import (
	"testing"
	"time"

	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Fragments cross the network as any packet does, routed by their
// addresses: reassembly is the destination's (RFC 791 §3.2, RFC 8200
// §4.5). An IPv6 fragment over a path's MTU is answered with a Packet Too
// Big as any IPv6 packet is (RFC 8200 §5: routers do not fragment); an
// IPv4 fragment without DF is dropped with no message, as any IPv4 packet
// without DF is here (the network does not fragment).
func TestFragmentsCross(t *testing.T) {
	log := &trace.Log{}
	n := newNet6(t, log)
	setPath(t, n, "client", "server", Impairment{Latency: 10 * time.Millisecond, MTU: 1280})
	setPath(t, n, "server", "client", Impairment{Latency: 10 * time.Millisecond})
	h4 := wire.IPv4{ID: 9, TTL: 64, Protocol: wire.ProtocolUDP, Src: clientAddr, Dst: serverAddr}
	h6 := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolUDP, Src: client6, Dst: server6}
	for _, p := range [][]byte{
		append(h4.AppendFragment(nil, 1000, 0, true), make([]byte, 1000)...),
		append(h4.AppendFragment(nil, 8, 1000, false), make([]byte, 8)...),
		append(h6.AppendFragment(nil, 1000, 0, true, 7), make([]byte, 1000)...),
		append(h6.AppendFragment(nil, 8, 1000, false, 7), make([]byte, 8)...),
	} {
		if id := n.Send(0, "client", p); id == 0 {
			t.Fatalf("a fragment was rejected: %v", eventStrings(log))
		}
	}
	if got := drain(n, ms(100)); len(got) != 4 {
		t.Fatalf("%d of 4 fragments delivered: %v", len(got), got)
	}
	n.Send(ms(200), "client", append(h4.AppendFragment(nil, 1400, 0, true), make([]byte, 1400)...))
	n.Send(ms(200), "client", append(h6.AppendFragment(nil, 1400, 0, true, 8), make([]byte, 1400)...))
	got := drain(n, ms(300))
	if len(got) != 1 || got[0].to != "client" {
		t.Fatalf("deliveries %v, want only the Packet Too Big to the client", got)
	}
	ip, payload, err := wire.ParseIP(got[0].data)
	if err != nil || ip.Protocol() != wire.ProtocolICMPv6 {
		t.Fatalf("%v %v", ip.String(), err)
	}
	m, err := wire.ParseICMPv6(payload, ip.Src(), ip.Dst())
	if err != nil || m.Type != wire.ICMPv6PacketTooBig || m.MTU != 1280 || !m.Quote.HasPorts {
		t.Errorf("%v, %v: want a Packet Too Big of MTU 1280 quoting the first fragment's ports", m.String(), err)
	}
	if st := n.Stats("client", "server"); st.TooBig != 2 || st.ICMPSent != 1 {
		t.Errorf("stats %v", st)
	}
}
