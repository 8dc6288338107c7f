package stack

import (
	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// pmtuPeer is the far end of one connection of a path MTU test: the host's
// connection to peer:port, which the test acknowledges by hand.
type pmtuPeer struct {
	s    *Stack
	c    *tcp.Conn
	peer netip.Addr
	port uint16
}

// dialPMTU opens a connection from s to peerAddr:port at now and completes
// its handshake with a SYN-ACK announcing an MSS of 1460, returning the SYN
// it sent.
func dialPMTU(t *testing.T, s *Stack, now clock.Time, port uint16) (*pmtuPeer, string) {
	t.Helper()
	return dialPMTUTo(t, s, now, peerAddr, port, 1460)
}

// dialPMTUTo is dialPMTU to peer (peerAddr or peer6), the SYN-ACK
// announcing mss.
func dialPMTUTo(t *testing.T, s *Stack, now clock.Time, peer netip.Addr, port, mss uint16) (*pmtuPeer, string) {
	t.Helper()
	c, err := s.Connect(now, netip.AddrPortFrom(peer, port))
	if err != nil {
		t.Fatal(err)
	}
	syn := outAny(t, s, now, nil)
	if len(syn) != 1 {
		t.Fatalf("connect: sent %v", syn)
	}
	p := &pmtuPeer{s: s, c: c, peer: peer, port: port}
	s.Input(now, p.packet(wire.SYN|wire.ACK, 5000, c.ISS().Add(1), wire.Options{HasMSS: true, MSS: mss}))
	outAny(t, s, now, nil)
	if c.State() != tcp.Established {
		t.Fatalf("handshake: %v", c.State())
	}
	return p, syn[0]
}

// packet is a segment from the peer to the connection.
func (p *pmtuPeer) packet(flags wire.Flags, sq, ack seq.Value, opts wire.Options) []byte {
	lp := p.c.Tuple().Local.Port()
	if !p.peer.Is4() {
		return packet6(p.port, lp, flags, sq, ack, "", opts)
	}
	pkt := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: p.peer, Dst: hostAddr},
		TCP: wire.Segment{SrcPort: p.port, DstPort: lp, Seq: sq, Ack: ack, Flags: flags, Window: 65535, Options: opts},
	}
	return pkt.Append(nil)
}

// ack acknowledges everything sent, at now, and returns what goes then.
func (p *pmtuPeer) ack(t *testing.T, now clock.Time, raw *[][]byte) []string {
	t.Helper()
	p.s.Input(now, p.packet(wire.ACK, 5001, p.c.Info().SndNxt, wire.Options{}))
	return outAny(t, p.s, now, raw)
}

// lens is the payload lengths of the segments lines describe.
func lens(lines []string) string {
	var n []string
	for _, l := range lines {
		_, after, ok := strings.Cut(l, " len=")
		if !ok {
			n = append(n, "?")
			continue
		}
		n = append(n, strings.Fields(after)[0])
	}
	return strings.Join(n, " ")
}

// blackHoled takes a connection from s to peerAddr:80 through a black
// hole (TestPathMTUCacheBlackHole): 3000 bytes written at 200 ms, whose
// full-sized segments time out three times; the third timeout, at 1.6 s,
// re-cuts them to BaseMSS.
func blackHoled(t *testing.T, s *Stack) *pmtuPeer {
	t.Helper()
	a, _ := dialPMTU(t, s, 0, 80)
	if n, err := s.Write(ms(200), a.c, make([]byte, 3000)); n != 3000 || err != nil {
		t.Fatal(n, err)
	}
	if got := lens(outAny(t, s, ms(200), nil)); got != "1460 1460 80" {
		t.Fatalf("first flight: %s", got)
	}
	// The retransmission timer: 200 ms (the floor, after a handshake
	// RTT of 0), backed off to 400 and 800 ms.
	for _, at := range []clock.Time{ms(400), ms(800)} {
		if d := s.NextDeadline(); d != at {
			t.Fatalf("deadline %v, want %v", d, at)
		}
		s.HandleTimeout(at)
		if got := lens(outAny(t, s, at, nil)); got != "1460" {
			t.Fatalf("timeout at %v: %s", at, got)
		}
		if m := s.PathMTU(at, peerAddr); m != 1500 {
			t.Fatalf("path MTU %d at %v, before the black hole", m, at)
		}
	}
	s.HandleTimeout(ms(1600))
	if got := lens(outAny(t, s, ms(1600), nil)); got != "1024 436" {
		t.Fatalf("third timeout: %s, want the first segment re-cut to BaseMSS", got)
	}
	return a
}

// RFC 1191 §6.2: "the IP layer should associate each PMTU value that it
// has learned with a specific path" (RFC 4821 §5.2 has PLPMTUD's results
// shared the same way, among the flows to a destination). A black hole
// one connection found (RFC 4821 §7.7: tcp.BlackHoleRTOs timeouts of
// full-sized segments, and its SendMSS falls to tcp.BaseMSS) lowers the
// path MTU the stack keeps for the destination to 1024 + 40, and the next
// connection's first segments are of 1024 bytes.
// Its SYN still announces the link's MSS: RFC 1191 §6.4, "PMTU Discovery
// does not affect the value sent in the TCP MSS option, because that value
// is used by the other end of the connection, which may be using an
// unrelated PMTU value."
func TestPathMTUCacheBlackHole(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	blackHoled(t, s)
	if m := s.PathMTU(ms(1600), peerAddr); m != 1064 {
		t.Fatalf("path MTU %d after the black hole, want 1064 (BaseMSS + 40)", m)
	}
	want := []PathMTUEntry{{Dst: peerAddr, MTU: 1064, From: FromBlackHole, Learnt: ms(1600), Expires: ms(1600).Add(10 * time.Minute)}}
	if got := s.PathMTUs(ms(1600)); len(got) != 1 || got[0] != want[0] {
		t.Fatalf("cache %+v, want %+v", got, want)
	}
	if c := s.Counters(); c.PathMTUBlackHoles != 1 || c.PathMTUChanges != 0 {
		t.Fatalf("counters %+v", c)
	}
	b, syn := dialPMTU(t, s, ms(1700), 443)
	if !strings.HasSuffix(syn, "<mss 1460>") {
		t.Fatalf("the next connection's SYN: %s, want the link's MSS of 1460", syn)
	}
	s.Write(ms(1700), b.c, make([]byte, 3000))
	if got := lens(outAny(t, s, ms(1700), nil)); got != "1024 1024 952" {
		t.Fatalf("the next connection's first segments: %s, want 1024 1024 952", got)
	}
	// The IPv6 path is another destination.
	if m := s.PathMTU(ms(1700), peer6); m != 1500 {
		t.Fatalf("IPv6 path MTU %d", m)
	}
}

// probed drives blackHoled's connection on to its first probe upward, on
// a path whose hop forwards at most 1300 bytes (the flights of tcp's
// TestProbeDeliveredRaisesMSS, tcp/plpmtud_test.go): 40000 bytes more
// written at 1.6 s, the peer acknowledging what arrived 100 ms after each
// flight. The probe goes at 2.0 s (RFC 4821 §7.2: the middle of
// search_low, BaseMSS, and search_high, the first SendMSS of 1460: 1242
// bytes, then the three segments whose duplicate ACKs would tell of its
// loss); it fits the hop and is acknowledged at 2.1 s. probed returns the
// connection, the time of that ACK and the flight it let go.
func probed(t *testing.T, s *Stack) (*pmtuPeer, clock.Time, [][]byte) {
	t.Helper()
	a := blackHoled(t, s)
	if n, err := s.Write(ms(1600), a.c, make([]byte, 40000)); n != 40000 || err != nil {
		t.Fatal(n, err)
	}
	// The re-cut 1024 + 436 arrived; the rest of the first flight goes
	// again, re-cut, with one new segment.
	s.Input(ms(1700), a.packet(wire.ACK, 5001, a.c.ISS().Add(1461), wire.Options{}))
	if got := lens(outAny(t, s, ms(1700), nil)); got != "1024 436 80 1024" {
		t.Fatalf("at 1.7 s: %s", got)
	}
	at := ms(1700)
	for _, want := range []string{
		"1024 1024 1024",      // slow start, at SendMSS
		"1024 1024 1024 1024", // not yet room for a probe and three segments
		"1242 1024 1024 1024", // the probe and three segments
	} {
		at = at.Add(100 * time.Millisecond)
		if got := lens(a.ack(t, at, nil)); got != want {
			t.Fatalf("at %v: %s, want %s", at, got, want)
		}
		if m := s.PathMTU(at, peerAddr); m != 1064 {
			t.Fatalf("path MTU %d at %v, before the probe is acknowledged", m, at)
		}
	}
	at = at.Add(100 * time.Millisecond)
	var raw [][]byte
	// The next probe, the middle of 1242..1460, and three segments of the
	// new SendMSS.
	if got := lens(a.ack(t, at, &raw)); got != "1351 1242 1242 1242" {
		t.Fatalf("at %v: %s", at, got)
	}
	if m := a.c.Info().MSS; m != 1242 {
		t.Fatalf("SendMSS %d after the probe's ACK, want 1242", m)
	}
	return a, at, raw
}

// RFC 4821 §7.6.1: "When the probe is delivered, it is an indication that
// the Path MTU is at least as large as the probe size": the probe's
// acknowledgement raises the destination's path MTU to 1242 + 40, and the
// next connection's first segments are of 1242 bytes.
func TestPathMTUCacheProbeRaises(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	_, at, _ := probed(t, s)
	if at != ms(2100) {
		t.Fatalf("probe acknowledged at %v", at)
	}
	if m := s.PathMTU(at, peerAddr); m != 1282 {
		t.Fatalf("path MTU %d after the probe of 1242, want 1282", m)
	}
	want := PathMTUEntry{Dst: peerAddr, MTU: 1282, From: FromProbe, Learnt: at, Expires: at.Add(PathMTUExpiry)}
	if got := s.PathMTUs(at); len(got) != 1 || got[0] != want {
		t.Fatalf("cache %+v, want %+v", got, want)
	}
	if c := s.Counters(); c.PathMTUBlackHoles != 1 || c.PathMTUProbeRaises != 1 {
		t.Fatalf("counters %+v", c)
	}
	c, syn := dialPMTU(t, s, at, 443)
	if !strings.HasSuffix(syn, "<mss 1460>") {
		t.Fatalf("SYN %s", syn)
	}
	s.Write(at, c.c, make([]byte, 3000))
	if got := lens(outAny(t, s, at, nil)); got != "1242 1242 516" {
		t.Fatalf("the next connection's first segments: %s, want 1242 1242 516", got)
	}
}

// RFC 1191 §3: "A host MUST not increase its estimate of the Path MTU in
// response to the contents of a Datagram Too Big message" (RFC 8201 §4: "A
// node MUST NOT increase its estimate of the Path MTU in response to the
// contents of a Packet Too Big message"): after the probe found 1282, the
// hop's Fragmentation Needed for the next probe (1391 bytes, over its 1300)
// changes nothing, nor does one naming 1400; one naming 1200 lowers the
// path MTU and the connection's MSS.
func TestPathMTUCacheICMPNeverRaises(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	a, at, raw := probed(t, s)
	for _, mtu := range []uint16{1300, 1400} {
		s.Input(at, icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, mtu, raw[0]))
		if m := s.PathMTU(at, peerAddr); m != 1282 {
			t.Fatalf("path MTU %d after a Fragmentation Needed of %d, want the probe's 1282", m, mtu)
		}
	}
	if c := s.Counters(); c.PathMTUChanges != 0 || c.OutOfWindowIcmps != 0 {
		t.Fatalf("counters %+v", c)
	}
	d, _ := dialPMTU(t, s, at, 443)
	s.Write(at, d.c, make([]byte, 2000))
	if got := lens(outAny(t, s, at, nil)); got != "1242 758" {
		t.Fatalf("a new connection after the messages: %s, want 1242 758", got)
	}
	s.Input(at, icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 1200, raw[1]))
	if m := s.PathMTU(at, peerAddr); m != 1200 || a.c.Info().MSS != 1160 {
		t.Fatalf("path MTU %d, MSS %d after a Fragmentation Needed of 1200", m, a.c.Info().MSS)
	}
	if got := s.PathMTUs(at); len(got) != 1 || got[0].From != FromICMP || got[0].Expires != at.Add(PathMTUExpiry) {
		t.Fatalf("cache %+v", got)
	}
	if c := s.Counters(); c.PathMTUChanges != 1 {
		t.Fatalf("counters %+v", c)
	}
}

// RFC 1191 §6.3: "When a PMTU value has not been decreased for a while (on
// the order of 10 minutes), the PMTU estimate should be set to the
// first-hop data-link MTU": the probe's entry, written at 2.1 s, holds
// until 10 min 2.1 s and is gone then; a connection made at that time
// starts from the link's MSS. A connection that started from the entry
// searches upward from its deadline (tcp.Conn.SetPathMSS).
func TestPathMTUCacheAges(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	_, at, _ := probed(t, s)
	c, _ := dialPMTU(t, s, at, 443)
	if m := c.c.Info().MSS; m != 1242 {
		t.Fatalf("SendMSS %d from the cache", m)
	}
	end := at.Add(PathMTUExpiry)
	if m := s.PathMTU(end-1, peerAddr); m != 1282 {
		t.Fatalf("path MTU %d a nanosecond before the deadline", m)
	}
	if m := s.PathMTU(end, peerAddr); m != 1500 {
		t.Fatalf("path MTU %d at the deadline, want the link's 1500", m)
	}
	if got := s.PathMTUs(end); len(got) != 0 {
		t.Fatalf("cache %+v at the deadline", got)
	}
	e, syn := dialPMTU(t, s, end, 8080)
	if !strings.HasSuffix(syn, "<mss 1460>") {
		t.Fatalf("SYN %s", syn)
	}
	s.Write(end, e.c, make([]byte, 3000))
	if got := lens(outAny(t, s, end, nil)); got != "1460 1460 80" {
		t.Fatalf("a connection at the deadline: %s, want 1460 1460 80", got)
	}
	// c searches upward from the deadline: enough data and window, and
	// its first flight then holds a probe of the middle of 1242..1460.
	s.Write(end, c.c, make([]byte, 20000))
	if got := lens(outAny(t, s, end, nil)); !strings.HasPrefix(got, "1351 1242 1242 1242") {
		t.Fatalf("the connection made from the cache, at the deadline: %s, want a probe of 1351 first", got)
	}
}

// Config.PathMTUExpiry negative keeps an entry for ever: RFC 1191 §6.3,
// "an implementation should provide a means for changing the timeout
// duration, including setting it to "infinity"".
func TestPathMTUCacheNoExpiry(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP, PathMTUExpiry: -1})
	blackHoled(t, s)
	if got := s.PathMTUs(ms(1600)); len(got) != 1 || got[0].Expires != clock.Never {
		t.Fatalf("cache %+v", got)
	}
	if m := s.PathMTU(clock.Time(24*time.Hour), peerAddr); m != 1064 {
		t.Fatalf("path MTU %d a day later", m)
	}
}

// Config.PathMTUCacheSize bounds the cache: with room for two, a third
// destination's Fragmentation Needed evicts the entry learnt longest ago
// (Counters.PathMTUEvictions); an entry past its deadline makes room
// first, without an eviction.
func TestPathMTUCacheBound(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP, PathMTUCacheSize: 2, PathMTUExpiry: time.Second})
	peers := []netip.Addr{peerAddr, netip.MustParseAddr("198.18.0.3"), netip.MustParseAddr("198.18.0.4")}
	var raw [][]byte
	for _, p := range peers {
		c := established(t, s, p, 1460)
		raw = append(raw, sendData(t, s, c, ms(10), 1460)[0])
	}
	for i, mtu := range []uint16{1000, 1100, 1200} {
		s.Input(ms(20+10*i), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, mtu, raw[i]))
	}
	got := []int{s.PathMTU(ms(40), peers[0]), s.PathMTU(ms(40), peers[1]), s.PathMTU(ms(40), peers[2])}
	if fmt := []int{1500, 1100, 1200}; got[0] != fmt[0] || got[1] != fmt[1] || got[2] != fmt[2] {
		t.Fatalf("path MTUs %v, want %v: the first, oldest, evicted", got, fmt)
	}
	if c := s.Counters(); c.PathMTUEvictions != 1 || c.PathMTUChanges != 3 {
		t.Fatalf("counters %+v", c)
	}
	// At 1.035 s the entry of 30 ms is past its deadline, the one of 40
	// ms is not: the first destination's new entry takes the stale one's
	// place.
	now := ms(1035)
	s.Input(now, icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 900, raw[0]))
	if e := s.PathMTUs(now); len(e) != 2 || e[0].Dst != peers[0] || e[0].MTU != 900 || e[1].Dst != peers[2] || e[1].MTU != 1200 {
		t.Fatalf("cache %+v", e)
	}
	if c := s.Counters(); c.PathMTUEvictions != 1 {
		t.Fatalf("counters %+v", c)
	}
}

// Over IPv6 the black hole's fallback, BaseMSS with 60 bytes of headers,
// is below the IPv6 minimum link MTU, and the cache keeps 1280: RFC 8201
// §4, "A node MUST NOT reduce its estimate of the Path MTU below the IPv6
// minimum link MTU." The next connection's segments are of 1220 bytes.
func TestPathMTUCacheBlackHoleIPv6Floor(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	a, _ := dialPMTUTo(t, s, 0, peer6, 80, 1440)
	s.Write(ms(200), a.c, make([]byte, 3000))
	if got := lens(outAny(t, s, ms(200), nil)); got != "1440 1440 120" {
		t.Fatalf("first flight: %s", got)
	}
	for _, at := range []clock.Time{ms(400), ms(800), ms(1600)} {
		s.HandleTimeout(at)
		outAny(t, s, at, nil)
	}
	if m := a.c.Info().MSS; m != tcp.BaseMSS {
		t.Fatalf("SendMSS %d after three timeouts, want BaseMSS", m)
	}
	if m := s.PathMTU(ms(1600), peer6); m != 1280 {
		t.Fatalf("IPv6 path MTU %d after the black hole, want the minimum 1280", m)
	}
	b, _ := dialPMTUTo(t, s, ms(1700), peer6, 443, 1440)
	s.Write(ms(1700), b.c, make([]byte, 3000))
	if got := lens(outAny(t, s, ms(1700), nil)); got != "1220 1220 560" {
		t.Fatalf("the next IPv6 connection: %s, want 1220 1220 560", got)
	}
	if m := s.PathMTU(ms(1700), peerAddr); m != 1500 {
		t.Fatalf("IPv4 path MTU %d", m)
	}
}

// A passive connection to a destination the cache holds starts from it
// too, made from the SYN queue or from a SYN cookie (RFC 4987 §3.6): its
// SYN-ACK offers the link's 1460 (RFC 1191 §6.4), its data goes in
// segments of the cached path MTU, 1200 less 40 bytes of headers.
func TestPathMTUCachePassive(t *testing.T) {
	for _, mode := range []SynCookieMode{CookiesOff, CookiesAlways} {
		s := cookieHost(t, mode, 0)
		s.pmtu.put(0, peerAddr, 1200)
		l, _ := s.Listen(80, 0)
		at := clock.Time(10 * time.Second)
		seg := func(flags wire.Flags, sq, ack seq.Value, o wire.Options) []byte {
			p := wire.Packet{
				IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
				TCP: wire.Segment{SrcPort: 40000, DstPort: 80, Seq: sq, Ack: ack, Flags: flags, Window: 65535, Options: o},
			}
			return p.Append(nil)
		}
		s.Input(at, seg(wire.SYN, 7000, 0, wire.Options{HasMSS: true, MSS: 1460}))
		sa := sent(t, s, at)
		if !sa.Options.HasMSS || sa.Options.MSS != 1460 {
			t.Fatalf("mode %v: SYN-ACK %v, want the link's MSS of 1460", mode, &sa)
		}
		s.Input(at, seg(wire.ACK, 7001, sa.Seq+1, wire.Options{}))
		c := l.Accept()
		if c == nil {
			t.Fatalf("mode %v: no connection", mode)
		}
		s.Write(at, c, make([]byte, 3000))
		if got := lens(outAny(t, s, at, nil)); got != "1160 1160 680" {
			t.Fatalf("mode %v: %s, want 1160 1160 680", mode, got)
		}
	}
}

// The bound under churn: a hot destination written again at every step
// stays, the others go oldest first, each drop of a live entry is counted,
// and the record of writes stays within twice the bound (so that making
// room costs the same however many writes came before).
func TestPathMTUCacheChurn(t *testing.T) {
	p := pmtuCache{size: 4, expiry: time.Hour}
	hot := netip.MustParseAddr("198.18.1.1")
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)}) }
	for i := range 100 {
		p.write(ms(i), addr(i), 1000+i, FromICMP)
		p.write(ms(i), hot, 1200, FromProbe)
		if len(p.m) > 4 || len(p.order) >= 2*4+16 {
			t.Fatalf("after %d writes: %d entries, %d records", i+1, len(p.m), len(p.order))
		}
	}
	for _, a := range []netip.Addr{hot, addr(97), addr(98), addr(99)} {
		if _, ok := p.get(ms(100), a); !ok {
			t.Errorf("%v is gone, want it kept", a)
		}
	}
	// 101 destinations through a cache of 4: 97 live entries evicted.
	if len(p.m) != 4 || p.evictions != 97 {
		t.Fatalf("%d entries, %d evictions; want 4 and 97", len(p.m), p.evictions)
	}
}
