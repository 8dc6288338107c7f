package stack

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// peerOther is a destination no path MTU message names.
var peerOther = netip.MustParseAddr("198.18.0.3")

// segLine is the line of p's connection's segment of n bytes at offset
// off of its data.
func (p *pmtuPeer) segLine(off, n int) string {
	return p.segFlags("A", off, n)
}

// segFlags is segLine with flags.
func (p *pmtuPeer) segFlags(flags string, off, n int) string {
	tu := p.c.Tuple()
	return fmt.Sprintf("%v > %v %s seq=%d ack=5001 win=65535 len=%d", tu.Local, tu.Remote, flags, p.c.ISS().Add(seq.Size(1+off)), n)
}

// write has p's connection write n bytes at now and returns what goes.
func (p *pmtuPeer) write(t *testing.T, now clock.Time, n int, raw *[][]byte) []string {
	t.Helper()
	if k, err := p.s.Write(now, p.c, make([]byte, n)); k != n || err != nil {
		t.Fatalf("write: %d, %v", k, err)
	}
	return outAny(t, p.s, now, raw)
}

// RFC 1191 §6.2: "The packetization layers must be notified about
// decreases in the PMTU. Any packetization layer instance (for example, a
// TCP connection) that is actively using the path must be notified if the
// PMTU estimate is decreased." Connections a and b to 198.18.0.2, c to
// 198.18.0.3, each with 3000 bytes in flight at 10 ms; a Fragmentation
// Needed of 1000 at 20 ms quoting a's second segment re-cuts and resends
// a's (TestFragmentationNeededLowersMSS), and nothing else goes then.
// b is told at its next send, at 30 ms: its 2000 new bytes go as 960-byte
// segments, and what it has in flight is not resent ("Retransmission
// should be done for only for those packets that are known to be dropped,
// as indicated by a Datagram Too Big message") but re-cut: its
// retransmission timer, at 210 ms, resends the first 960 bytes, not 1460
// that the hop would drop again. c's path is another: its segments stay
// of 1460 bytes.
func TestPathMTUDecreaseTellsEveryConnection(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	a, _ := dialPMTUTo(t, s, 0, peerAddr, 80, 1460)
	b, _ := dialPMTUTo(t, s, 0, peerAddr, 81, 1460)
	c, _ := dialPMTUTo(t, s, 0, peerOther, 80, 1460)
	var rawA [][]byte
	wantOut(t, a.write(t, ms(10), 3000, &rawA), a.segLine(0, 1460), a.segLine(1460, 1460), a.segFlags("PA", 2920, 80))
	wantOut(t, b.write(t, ms(10), 3000, nil), b.segLine(0, 1460), b.segLine(1460, 1460), b.segFlags("PA", 2920, 80))
	wantOut(t, c.write(t, ms(10), 3000, nil), c.segLine(0, 1460), c.segLine(1460, 1460), c.segFlags("PA", 2920, 80))

	s.Input(ms(20), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 1000, rawA[1]))
	wantOut(t, outAny(t, s, ms(20), nil), a.segLine(0, 960), a.segLine(960, 500), a.segLine(1460, 960), a.segLine(2420, 500))

	wantOut(t, b.write(t, ms(30), 2000, nil), b.segLine(3000, 960), b.segLine(3960, 960))
	wantOut(t, c.write(t, ms(30), 2000, nil), c.segLine(3000, 1460))
	if ma, mb, mc := a.c.Info().MSS, b.c.Info().MSS, c.c.Info().MSS; ma != 960 || mb != 960 || mc != 1460 {
		t.Fatalf("send MSS %d, %d, %d; want 960, 960 and 1460", ma, mb, mc)
	}
	if ctr := s.Counters(); ctr.PathMTUChanges != 1 || ctr.PathMTUNotified != 1 || ctr.RetransSegs != 4 {
		t.Fatalf("counters %+v", ctr)
	}
	if d := s.NextDeadline(); d != ms(210) {
		t.Fatalf("next deadline %v, want 210 ms (b's and c's retransmission timers)", d)
	}
	s.HandleTimeout(ms(210))
	wantOut(t, outAny(t, s, ms(210), nil),
		a.segLine(0, 960), a.segLine(960, 500),
		b.segLine(0, 960), b.segLine(960, 500),
		c.segLine(0, 1460))
}

// RFC 5927 §4.1: "TCP SHOULD check that the TCP sequence number contained
// in the payload of the ICMP error message is within the range SND.UNA =<
// SEG.SEQ < SND.NXT." A Fragmentation Needed quoting a's segment with a
// sequence number outside that range lowers no path MTU, and so tells no
// connection: b's next segments are still of 1460 bytes, and no connection
// even looks at the cache.
func TestPathMTUForgedDecreaseTellsNone(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	a, _ := dialPMTUTo(t, s, 0, peerAddr, 80, 1460)
	b, _ := dialPMTUTo(t, s, 0, peerAddr, 81, 1460)
	var rawA [][]byte
	a.write(t, ms(10), 3000, &rawA)
	b.write(t, ms(10), 1460, nil)
	una := a.c.Info().SndUna
	s.Input(ms(20), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 1000, withSeq(rawA[0], 20, una.Add(3000))))
	s.Input(ms(20), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 1000, withSeq(rawA[0], 20, una-1)))
	wantOut(t, outAny(t, s, ms(20), nil))
	wantOut(t, b.write(t, ms(30), 1460, nil), b.segFlags("PA", 1460, 1460))
	if ctr := s.Counters(); ctr.OutOfWindowIcmps != 2 || ctr.PathMTUChanges != 0 || ctr.PathMTUNotified != 0 {
		t.Fatalf("counters %+v", ctr)
	}
	if ma, mb := a.c.Info().MSS, b.c.Info().MSS; ma != 1460 || mb != 1460 {
		t.Fatalf("send MSS %d and %d, want 1460", ma, mb)
	}
	if s.pmtu.epoch != 0 || s.pmtu.checks != 0 {
		t.Fatalf("cache epoch %d, %d checks: the forged messages moved it", s.pmtu.epoch, s.pmtu.checks)
	}
}

// The work a flood of valid Fragmentation Needed messages costs is
// bounded, counted rather than timed: 1000 messages quoting a, each naming
// an MTU one byte below the last (from 1400), lower the path MTU 849
// times (down to the floor, 552) and tell nobody while they arrive (no
// connection compares its SendMSS to the cache then: O(1) per message,
// whatever the number of connections). At the next Output each connection
// sent on compares once (4 checks, not 4 x 849): b and d, to the same
// destination, fall to 512 (552 - 40) and are counted as told; c, to
// another, stays at 1460.
func TestPathMTUDecreaseFloodBoundedWork(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	a, _ := dialPMTUTo(t, s, 0, peerAddr, 80, 1460)
	b, _ := dialPMTUTo(t, s, 0, peerAddr, 81, 1460)
	c, _ := dialPMTUTo(t, s, 0, peerOther, 80, 1460)
	d, _ := dialPMTUTo(t, s, 0, peerAddr, 82, 1460)
	var rawA [][]byte
	a.write(t, ms(10), 1460, &rawA)
	for i := range 1000 {
		s.Input(ms(20), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, uint16(1400-i), rawA[0]))
	}
	if got := s.pmtu.checks; got != 0 {
		t.Fatalf("%d connections compared their SendMSS while the messages arrived, want 0", got)
	}
	if ctr := s.Counters(); ctr.PathMTUChanges != 849 || s.pmtu.epoch != 849 || s.PathMTU(ms(20), peerAddr) != 552 {
		t.Fatalf("%d path MTU changes, epoch %d, path MTU %d; want 849, 849 and 552", ctr.PathMTUChanges, s.pmtu.epoch, s.PathMTU(ms(20), peerAddr))
	}
	for _, p := range []*pmtuPeer{b, c, d} {
		if k, err := s.Write(ms(30), p.c, make([]byte, 600)); k != 600 || err != nil {
			t.Fatal(k, err)
		}
	}
	// a's data goes as three pieces, not as the many a re-cut at each
	// message would leave (each one's remainder kept apart).
	wantOut(t, outAny(t, s, ms(30), nil),
		a.segLine(0, 512), a.segLine(512, 512), a.segFlags("PA", 1024, 436),
		b.segLine(0, 512), b.segFlags("PA", 512, 88), c.segFlags("PA", 0, 600),
		d.segLine(0, 512), d.segFlags("PA", 512, 88))
	if got := s.pmtu.checks; got != 4 {
		t.Fatalf("%d checks at the Output after the flood, want 4 (one per connection sent on)", got)
	}
	if ctr := s.Counters(); ctr.PathMTUNotified != 2 {
		t.Fatalf("%d connections told, want 2 (b and d)", ctr.PathMTUNotified)
	}
	if mb, mc, md := b.c.Info().MSS, c.c.Info().MSS, d.c.Info().MSS; mb != 512 || mc != 1460 || md != 512 {
		t.Fatalf("send MSS %d, %d, %d; want 512, 1460, 512", mb, mc, md)
	}
}

// RFC 8201 for IPv6 as RFC 1191 §6.2 for IPv4: a Packet Too Big of 1280
// quoting a's segment lowers b's SendMSS too, to 1220 (1280 - 40 - 20), at
// b's next send.
func TestPacketTooBigTellsEveryConnection(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	a, _ := dialPMTUTo(t, s, 0, peer6, 80, 1440)
	b, _ := dialPMTUTo(t, s, 0, peer6, 81, 1440)
	var rawA [][]byte
	a.write(t, ms(10), 1440, &rawA)
	s.Input(ms(20), icmp6Error(wire.ICMPv6PacketTooBig, 0, 1280, rawA[0]))
	wantOut(t, outAny(t, s, ms(20), nil), a.segLine(0, 1220), a.segFlags("PA", 1220, 220))
	wantOut(t, b.write(t, ms(30), 1440, nil), b.segLine(0, 1220), b.segFlags("PA", 1220, 220))
	if ma, mb := a.c.Info().MSS, b.c.Info().MSS; ma != 1220 || mb != 1220 {
		t.Fatalf("send MSS %d and %d, want 1220", ma, mb)
	}
}

// RFC 1191 §6.2: "even if the Datagram Too Big message contains an
// Original Datagram Header that refers to a UDP packet, the TCP layer must
// be notified if any of its connections use the given path." A
// Fragmentation Needed of 1000 quoting a connected UDP endpoint's datagram
// to 198.18.0.2 lowers the TCP connection's SendMSS to 960 at its next
// send.
func TestPathMTUDecreaseFromUDPTellsTCP(t *testing.T) {
	s := newDual(t, Config{TCP: plainTCP})
	a, _ := dialPMTUTo(t, s, 0, peerAddr, 80, 1460)
	u, err := s.BindUDP(IPv4, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Connect(ap(peerAddr, 53)); err != nil {
		t.Fatal(err)
	}
	if err := u.Send(ms(10), netip.AddrPort{}, make([]byte, 1200)); err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	outUDP(t, s, ms(10), &raw)
	s.Input(ms(20), icmp4Error(wire.ICMPv4DestUnreachable, wire.ICMPv4FragmentationNeeded, 1000, raw[0]))
	wantOut(t, a.write(t, ms(30), 1460, nil), a.segLine(0, 960), a.segFlags("PA", 960, 500))
	if ctr := s.Counters(); ctr.PathMTUChanges != 1 || ctr.PathMTUNotified != 1 {
		t.Fatalf("counters %+v", ctr)
	}
}
