package stack

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// udpBytes is a UDP datagram (header and data) from src to dst, the
// payload of the IP datagram that fragments cut.
func udpBytes(src, dst netip.AddrPort, data []byte) []byte {
	u := wire.UDP{SrcPort: src.Port(), DstPort: dst.Port(), Payload: data}
	return u.Append(nil, src.Addr(), dst.Addr())
}

// pattern is n bytes that differ at every offset mod 251, so that a piece
// put in the wrong place shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// frag4 is an IPv4 fragment from src to dst of datagram id: d[off:end].
func frag4(src, dst netip.Addr, id uint16, proto uint8, d []byte, off, end int, more bool) []byte {
	ip := wire.IPv4{ID: id, TTL: 64, Protocol: proto, Src: src, Dst: dst}
	return append(ip.AppendFragment(nil, end-off, off, more), d[off:end]...)
}

// frag6 is an IPv6 fragment from src to dst of packet id: d[off:end], the
// fragmentable part's first header being nh.
func frag6(src, dst netip.Addr, id uint32, nh uint8, d []byte, off, end int, more bool) []byte {
	ip := wire.IPv6{HopLimit: 64, NextHeader: nh, Src: src, Dst: dst}
	return append(ip.AppendFragment(nil, end-off, off, more, id), d[off:end]...)
}

// piece is one fragment of a test datagram: bytes [off, end), more set
// unless it is the last.
type piece struct {
	off, end int
	more     bool
}

// fragFamily builds fragments from the peer to the host, over IPv4 or
// IPv6.
type fragFamily struct {
	name     string
	src, dst netip.Addr
	v6       bool
}

var fragFamilies = []fragFamily{{"IPv4", peerAddr, hostAddr, false}, {"IPv6", peer6, host6, true}}

func (f fragFamily) frag(id uint32, proto uint8, d []byte, p piece) []byte {
	if f.v6 {
		return frag6(f.src, f.dst, id, proto, d, p.off, p.end, p.more)
	}
	return frag4(f.src, f.dst, uint16(id), proto, d, p.off, p.end, p.more)
}

// checkFragState checks the reassembly queues' bookkeeping: the memory
// counted is the sum of the queues', every queue is in its family's list,
// and the bounds hold.
func checkFragState(t testing.TB, s *Stack) {
	t.Helper()
	fs := &s.frag
	mem := 0
	for k, q := range fs.queues {
		if q.key != k {
			t.Fatalf("queue under key %v has key %v", k, q.key)
		}
		if q.mem != q.account() {
			t.Fatalf("queue %v counts %d bytes, holds %d", q, q.mem, q.account())
		}
		mem += q.mem
		have := 0
		for i, p := range q.pieces {
			if p.start >= p.end || i > 0 && q.pieces[i-1].end > p.start {
				t.Fatalf("queue %v pieces %v not sorted and disjoint", q, q.pieces)
			}
			have += p.end - p.start
		}
		if have != q.have {
			t.Fatalf("queue %v: pieces hold %d bytes, have says %d", q, have, q.have)
		}
	}
	if mem != fs.mem {
		t.Fatalf("reassembly memory %d, queues hold %d", fs.mem, mem)
	}
	if n := len(fs.order4) + len(fs.order6); n != len(fs.queues) {
		t.Fatalf("%d queues in the lists, %d in the map", n, len(fs.queues))
	}
	if fs.mem > s.fragMemory() || len(fs.queues) > s.fragQueues() {
		t.Fatalf("%d bytes in %d queues, over the bounds %d and %d", fs.mem, len(fs.queues), s.fragMemory(), s.fragQueues())
	}
}

// RFC 791 §2.3: "To assemble the fragments of an internet datagram, an
// internet protocol module (for example at a destination host) combines
// internet datagrams that all have the same value for the four fields:
// identification, source, destination, and protocol. The combination is
// done by placing the data portion of each fragment in the relative
// position indicated by the fragment offset in that fragment's internet
// header." RFC 8200 §4.5 the same for IPv6. In order, in reverse, shuffled,
// with an exact duplicate ("an implementation may choose to detect this
// case and drop exact duplicate fragments while keeping the other
// fragments belonging to the same packet"), and interleaved with a second
// datagram of another ID: each time the endpoint gets the 4000 bytes.
func TestReassembleOrders(t *testing.T) {
	cuts := []piece{{0, 1480, true}, {1480, 2960, true}, {2960, 4008, false}}
	orders := []struct {
		name  string
		order []int
		dups  int
	}{
		{"in order", []int{0, 1, 2}, 0},
		{"reversed", []int{2, 1, 0}, 0},
		{"shuffled", []int{1, 2, 0}, 0},
		{"with a duplicate", []int{1, 0, 1, 2}, 1},
		{"last twice", []int{2, 2, 0, 1}, 1},
	}
	for _, fam := range fragFamilies {
		for _, o := range orders {
			t.Run(fam.name+" "+o.name, func(t *testing.T) {
				var log trace.Log
				s := newDual(t, Config{Recorder: &log})
				e, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
				data := pattern(4000)
				d := udpBytes(ap(fam.src, 40000), ap(fam.dst, 53), data)
				other := udpBytes(ap(fam.src, 40001), ap(fam.dst, 53), pattern(3000)[1000:])
				for i, k := range o.order {
					if got := e.Queued(); i > 0 && got != 1 {
						t.Fatalf("%d datagrams queued after %d fragments of the first, want 1 (the second)", got, i)
					}
					s.Input(clock.Time(i), fam.frag(7, wire.ProtocolUDP, d, cuts[k]))
					if i == 0 {
						// A second datagram, another ID, in between.
						s.Input(clock.Time(i), fam.frag(8, wire.ProtocolUDP, other, piece{1480, len(other), false}))
						s.Input(clock.Time(i), fam.frag(8, wire.ProtocolUDP, other, piece{0, 1480, true}))
					}
					checkFragState(t, s)
				}
				got1, _, _ := e.Recv()
				got2, _, _ := e.Recv()
				if got1.Src != ap(fam.src, 40001) || !bytes.Equal(got1.Payload, pattern(3000)[1000:]) {
					t.Errorf("first datagram from %v, %d bytes, want the second datagram's 2000", got1.Src, len(got1.Payload))
				}
				if got2.Src != ap(fam.src, 40000) || !bytes.Equal(got2.Payload, data) {
					t.Errorf("second datagram from %v, %d bytes, want the 4000 bytes", got2.Src, len(got2.Payload))
				}
				c := s.Counters()
				if c.ReasmReqds != uint64(len(o.order)+2) || c.ReasmOKs != 2 || c.ReasmFails != 0 || len(s.frag.queues) != 0 || s.frag.mem != 0 {
					t.Errorf("ReasmReqds %d ReasmOKs %d ReasmFails %d, queues %d, memory %d; want %d 2 0 0 0",
						c.ReasmReqds, c.ReasmOKs, c.ReasmFails, len(s.frag.queues), s.frag.mem, len(o.order)+2)
				}
				if n := strings.Count(logText(&log), "exact duplicate"); n != o.dups {
					t.Errorf("%d exact duplicates logged, want %d:\n%s", n, o.dups, logText(&log))
				}
				wantOut(t, outAny(t, s, 0, nil))
			})
		}
	}
}

// RFC 8200 §4.5: "If any of the fragments being reassembled overlap with
// any other fragments being reassembled for the same packet, reassembly of
// that packet must be abandoned and all the fragments that have been
// received for that packet must be discarded, and no ICMP error messages
// should be sent." synack does the same for IPv4, as Linux does. The
// fragments that come after start a datagram of their own, which never
// completes (its first fragment was dropped with the rest), and times out
// with no Time Exceeded, since its first fragment never came to it.
func TestReassembleOverlap(t *testing.T) {
	for _, fam := range fragFamilies {
		for _, tc := range []struct {
			name   string
			pieces []piece
		}{
			{"overlapping the end", []piece{{0, 1480, true}, {1472, 2960, true}}},
			{"overlapping the start", []piece{{1480, 2960, true}, {1472, 2000, true}}},
			{"inside another", []piece{{0, 2960, true}, {1480, 1488, true}}},
			{"covering another", []piece{{1480, 1488, true}, {0, 2960, true}}},
			{"a last fragment inside", []piece{{0, 2960, true}, {8, 16, false}}},
		} {
			t.Run(fam.name+" "+tc.name, func(t *testing.T) {
				var log trace.Log
				s := newDual(t, Config{Recorder: &log})
				e, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
				d := udpBytes(ap(fam.src, 40000), ap(fam.dst, 53), pattern(4000))
				for _, p := range tc.pieces {
					s.Input(0, fam.frag(7, wire.ProtocolUDP, d, p))
				}
				c := s.Counters()
				if len(s.frag.queues) != 0 || c.ReasmFails != 1 || c.ReasmOKs != 0 {
					t.Fatalf("after the overlap: %d queues, ReasmFails %d, ReasmOKs %d; want 0 1 0\n%s", len(s.frag.queues), c.ReasmFails, c.ReasmOKs, logText(&log))
				}
				if tc.name != "a last fragment inside" && c.ReasmOverlaps != 1 {
					t.Errorf("ReasmOverlaps %d, want 1", c.ReasmOverlaps)
				}
				// The rest of the datagram, without its first fragment.
				s.Input(0, fam.frag(7, wire.ProtocolUDP, d, piece{2960, 4008, false}))
				checkFragState(t, s)
				s.HandleTimeout(clock.Time(61 * time.Second))
				wantOut(t, outAny(t, s, 0, nil))
				if e.Queued() != 0 || s.Counters().ReasmTimeout != 1 {
					t.Errorf("queued %d, ReasmTimeout %d; want 0 and 1", e.Queued(), s.Counters().ReasmTimeout)
				}
			})
		}
	}
}

// RFC 8200 §4.5: "If insufficient fragments are received to complete
// reassembly of a packet within 60 seconds of the reception of the first-
// arriving fragment of that packet, reassembly of that packet must be
// abandoned and all the fragments that have been received for that packet
// must be discarded. If the first fragment (i.e., the one with a Fragment
// Offset of zero) has been received, an ICMP Time Exceeded -- Fragment
// Reassembly Time Exceeded message should be sent to the source of that
// fragment." For IPv4, Linux's 30 s (RFC 791 §3.2 recommends at least 15)
// and RFC 792: "If a host reassembling a fragmented datagram cannot
// complete the reassembly due to missing fragments within its time limit
// it discards the datagram, and it may send a time exceeded message. If
// fragment zero is not available then no time exceeded need be sent at
// all." The timeout counts from the first-arriving fragment, not the
// last: a fragment at 10 s does not extend it.
func TestReassembleTimeout(t *testing.T) {
	for _, fam := range fragFamilies {
		t.Run(fam.name, func(t *testing.T) {
			s := newDual(t, Config{})
			d := udpBytes(ap(fam.src, 40000), ap(fam.dst, 53), pattern(4000))
			start := clock.Time(time.Second)
			timeout := 30 * time.Second
			want := "198.18.0.1 > 198.18.0.2 ICMP time-exceeded reassembly-time-exceeded quoting 198.18.0.2:40000>198.18.0.1:53 UDP"
			if fam.v6 {
				timeout = 60 * time.Second
				want = "2001:2::1 > 2001:2::2 ICMPv6 time-exceeded reassembly-time-exceeded quoting [2001:2::2]:40000>[2001:2::1]:53 UDP"
			}
			s.Input(start, fam.frag(7, wire.ProtocolUDP, d, piece{0, 1480, true}))
			s.Input(start.Add(10*time.Second), fam.frag(7, wire.ProtocolUDP, d, piece{2960, 4008, false}))
			// A datagram without its first fragment, a second later.
			s.Input(start.Add(time.Second), fam.frag(9, wire.ProtocolUDP, d, piece{1480, 2960, true}))
			if got, want := s.NextDeadline(), start.Add(timeout); got != want {
				t.Fatalf("NextDeadline %v, want %v (the first fragment's arrival plus %v)", got, want, timeout)
			}
			s.HandleTimeout(start.Add(timeout - 1))
			wantOut(t, outAny(t, s, start.Add(timeout-1), nil))
			s.HandleTimeout(start.Add(timeout))
			var raw [][]byte
			wantOut(t, outAny(t, s, start.Add(timeout), &raw), want)
			// The quote is the first fragment itself, MF and offset as sent.
			m := raw[0][20+8:]
			if fam.v6 {
				m = raw[0][40+8:]
			}
			first := fam.frag(7, wire.ProtocolUDP, d, piece{0, 1480, true})
			if !bytes.Equal(m, first[:len(m)]) || len(m) < 28 {
				t.Errorf("the Time Exceeded quotes % x..., want the first fragment % x...", m[:min(len(m), 48)], first[:48])
			}
			if got := s.NextDeadline(); got != start.Add(time.Second+timeout) {
				t.Fatalf("NextDeadline %v, want the second datagram's %v", got, start.Add(time.Second+timeout))
			}
			s.HandleTimeout(start.Add(time.Second + timeout))
			wantOut(t, outAny(t, s, start.Add(time.Second+timeout), nil)) // no fragment zero: no Time Exceeded
			c := s.Counters()
			if c.ReasmTimeout != 2 || c.ReasmFails != 2 || c.IcmpOutTimeExcds != 1 || s.NextDeadline() != clock.Never {
				t.Errorf("ReasmTimeout %d ReasmFails %d IcmpOutTimeExcds %d NextDeadline %v; want 2 2 1 never",
					c.ReasmTimeout, c.ReasmFails, c.IcmpOutTimeExcds, s.NextDeadline())
			}
		})
	}
}

// The bounds: at most FragQueues datagrams, FragMemory bytes; the oldest
// goes. The newest datagram then completes.
func TestReassembleEviction(t *testing.T) {
	for _, fam := range fragFamilies {
		t.Run(fam.name+" count", func(t *testing.T) {
			s := newDual(t, Config{FragQueues: 2})
			e, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
			d := udpBytes(ap(fam.src, 40000), ap(fam.dst, 53), pattern(2000))
			for id := uint32(1); id <= 3; id++ {
				s.Input(clock.Time(id), fam.frag(id, wire.ProtocolUDP, d, piece{0, 1480, true}))
				checkFragState(t, s)
			}
			if c := s.Counters(); c.ReasmEvicted != 1 || c.ReasmFails != 1 || len(s.frag.queues) != 2 {
				t.Fatalf("ReasmEvicted %d ReasmFails %d queues %d, want 1 1 2", c.ReasmEvicted, c.ReasmFails, len(s.frag.queues))
			}
			s.Input(4, fam.frag(1, wire.ProtocolUDP, d, piece{1480, len(d), false})) // the evicted one's: a new datagram
			s.Input(4, fam.frag(3, wire.ProtocolUDP, d, piece{1480, len(d), false}))
			if e.Queued() != 1 {
				t.Fatalf("queued %d, want 1 (datagram 3)", e.Queued())
			}
			if c := s.Counters(); c.ReasmEvicted != 2 || c.ReasmOKs != 1 {
				t.Errorf("ReasmEvicted %d ReasmOKs %d, want 2 (datagram 2 for datagram 1's new start) and 1", c.ReasmEvicted, c.ReasmOKs)
			}
		})
		t.Run(fam.name+" memory", func(t *testing.T) {
			// Each datagram's first fragment counts its data (1480 bytes),
			// its quote (548 bytes of IPv4, 1232 of IPv6) and 64 bytes:
			// three fit, not four.
			per := 1480 + 548 + 64
			if fam.v6 {
				per = 1480 + 1232 + 64
			}
			s := newDual(t, Config{FragMemory: 3*per + 100})
			d := udpBytes(ap(fam.src, 40000), ap(fam.dst, 53), pattern(2000))
			for id := uint32(1); id <= 4; id++ {
				s.Input(clock.Time(id), fam.frag(id, wire.ProtocolUDP, d, piece{0, 1480, true}))
				checkFragState(t, s)
			}
			if c := s.Counters(); c.ReasmEvicted != 1 || len(s.frag.queues) != 3 {
				t.Fatalf("ReasmEvicted %d queues %d memory %d, want 1 and 3", c.ReasmEvicted, len(s.frag.queues), s.frag.mem)
			}
			if s.frag.queues[fragKey{src: fam.src, dst: fam.dst, id: 1, proto: protoKey(fam, wire.ProtocolUDP)}] != nil {
				t.Error("datagram 1, the oldest, still in reassembly")
			}
		})
	}
}

// A fragment costs its data and 64 bytes, wherever it lies: 8 bytes at
// offset 65000 hold 72, not a 64 KiB buffer.
func TestReassembleFarFragment(t *testing.T) {
	s := newDual(t, Config{})
	s.Input(0, frag4(peerAddr, hostAddr, 1, wire.ProtocolUDP, pattern(65008), 65000, 65008, true))
	if s.frag.mem != 8+fragOverhead {
		t.Errorf("memory %d, want %d", s.frag.mem, 8+fragOverhead)
	}
	checkFragState(t, s)
}

func protoKey(fam fragFamily, p uint8) uint8 {
	if fam.v6 {
		return 0
	}
	return p
}

// Faults of one fragment: each is dropped with a clear reason and counted
// in ReasmFails, never a panic; over IPv6 a Parameter Problem answers the
// three that RFC 8200 §4.5 names.
func TestReassembleBadFragments(t *testing.T) {
	d := pattern(70000)
	for _, tc := range []struct {
		name   string
		fam    fragFamily
		pkts   [][]byte
		reason string
		icmp   string
	}{
		{"empty", fragFamilies[0], [][]byte{frag4(peerAddr, hostAddr, 1, wire.ProtocolUDP, d, 8, 8, true)}, "no data", ""},
		{"MF and not a multiple of 8", fragFamilies[0], [][]byte{frag4(peerAddr, hostAddr, 1, wire.ProtocolUDP, d, 0, 1479, true)},
			"the length is not a multiple of 8", ""},
		{"over 65535 bytes", fragFamilies[0], [][]byte{frag4(peerAddr, hostAddr, 1, wire.ProtocolUDP, d, 65512, 65520, false)},
			"would exceed 65535 bytes", ""},
		{"a first fragment without the TCP header", fragFamilies[0], [][]byte{frag4(peerAddr, hostAddr, 1, wire.ProtocolTCP, d, 0, 16, true)},
			"holds 16 bytes of the upper-layer header, need 20", ""},
		{"past the end", fragFamilies[0], [][]byte{
			frag4(peerAddr, hostAddr, 1, wire.ProtocolUDP, d, 16, 24, false),
			frag4(peerAddr, hostAddr, 1, wire.ProtocolUDP, d, 24, 32, true)}, "ends past the datagram's end at 24", ""},
		{"a second last fragment", fragFamilies[0], [][]byte{
			frag4(peerAddr, hostAddr, 1, wire.ProtocolUDP, d, 16, 24, false),
			frag4(peerAddr, hostAddr, 1, wire.ProtocolUDP, d, 8, 16, false)}, "a second last fragment, the first ended at 24", ""},
		{"IPv6 M and not a multiple of 8", fragFamilies[1], [][]byte{frag6(peer6, host6, 1, wire.ProtocolUDP, d, 0, 1001, true)},
			"the length is not a multiple of 8",
			"2001:2::1 > 2001:2::2 ICMPv6 parameter-problem erroneous-header-field pointer=4 quoting [2001:2::2]:1>[2001:2::1]:515 UDP"},
		{"IPv6 over 65535 bytes", fragFamilies[1], [][]byte{frag6(peer6, host6, 1, wire.ProtocolUDP, d, 65528, 65536, false)},
			"the reassembled payload would exceed 65535 bytes",
			"2001:2::1 > 2001:2::2 ICMPv6 parameter-problem erroneous-header-field pointer=42 quoting 2001:2::2>2001:2::1 UDP (later fragment)"},
		{"IPv6 a first fragment without the UDP header", fragFamilies[1], [][]byte{incompleteChain()},
			"first fragment holds 0 bytes of the UDP header, need 8",
			"2001:2::1 > 2001:2::2 ICMPv6 parameter-problem incomplete-header-chain pointer=0 quoting 2001:2::2>2001:2::1 UDP (cut short)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log trace.Log
			s := newDual(t, Config{Recorder: &log})
			for _, p := range tc.pkts {
				s.Input(0, p)
				checkFragState(t, s)
			}
			if !strings.Contains(logText(&log), tc.reason) {
				t.Errorf("log does not say %q:\n%s", tc.reason, logText(&log))
			}
			if c := s.Counters(); c.ReasmFails != 1 || c.ReasmOKs != 0 {
				t.Errorf("ReasmFails %d ReasmOKs %d, want 1 and 0", c.ReasmFails, c.ReasmOKs)
			}
			var want []string
			if tc.icmp != "" {
				want = append(want, tc.icmp)
			}
			wantOut(t, outAny(t, s, 0, nil), want...)
		})
	}
}

// incompleteChain is an IPv6 first fragment whose fragmentable part is a
// Destination Options header and no more: the UDP header is in a later
// fragment.
func incompleteChain() []byte {
	opts := []byte{wire.ProtocolUDP, 0, 1, 4, 0, 0, 0, 0} // PadN
	return frag6(peer6, host6, 1, 60, opts, 0, 8, true)
}

// RFC 8200 §4.5: "If the fragment is a whole datagram (that is, both the
// Fragment Offset field and the M flag are zero), then it does not need
// any further reassembly and should be processed as a fully reassembled
// packet ... Any other fragments that match this packet (i.e., the same
// IPv6 Source Address, IPv6 Destination Address, and Fragment
// Identification) should be processed independently." (RFC 6946.)
func TestReassembleAtomicFragment(t *testing.T) {
	s := newDual(t, Config{})
	e, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
	d := udpBytes(ap(peer6, 40000), ap(host6, 53), pattern(2000))
	s.Input(0, frag6(peer6, host6, 7, wire.ProtocolUDP, d, 0, 1232, true))
	atomic := udpBytes(ap(peer6, 40000), ap(host6, 53), []byte("atomic"))
	s.Input(0, frag6(peer6, host6, 7, wire.ProtocolUDP, atomic, 0, len(atomic), false))
	if got := recv(t, e); got != `[2001:2::2]:40000 > [2001:2::1]:53 "atomic"` {
		t.Fatalf("atomic fragment: %s", got)
	}
	s.Input(0, frag6(peer6, host6, 7, wire.ProtocolUDP, d, 1232, len(d), false))
	if got, _, _ := e.Recv(); len(got.Payload) != 2000 {
		t.Fatalf("the fragmented datagram with the atomic fragment's ID: %d bytes, want 2000", len(got.Payload))
	}
	if c := s.Counters(); c.ReasmReqds != 2 || c.ReasmOKs != 1 {
		t.Errorf("ReasmReqds %d ReasmOKs %d, want 2 and 1 (the atomic fragment is not reassembled)", c.ReasmReqds, c.ReasmOKs)
	}
}

// Reassembled datagrams go to TCP and ICMP too. A SYN with options in two
// fragments to a closed port is answered with a RST; one whose first
// fragment holds only 8 bytes of its header is dropped (RFC 8200 §4.5's
// rule, applied to IPv4 as RFC 1858 §3 does against filters that look at
// ports and flags). An echo request in three fragments is answered with
// all its data.
func TestReassembleTCPAndICMP(t *testing.T) {
	s := newDual(t, Config{})
	seg := wire.Segment{SrcPort: 40000, DstPort: 81, Seq: 7000, Flags: wire.SYN, Window: 65535,
		Options: wire.Options{HasMSS: true, MSS: 1460, SACKPermitted: true, HasWScale: true, WScale: 7}}
	tb := seg.Append(nil, peerAddr, hostAddr)
	s.Input(0, frag4(peerAddr, hostAddr, 5, wire.ProtocolTCP, tb, 8, len(tb), false))
	s.Input(0, frag4(peerAddr, hostAddr, 5, wire.ProtocolTCP, tb, 0, 8, true)) // the header in two: dropped
	s.Input(0, frag4(peerAddr, hostAddr, 6, wire.ProtocolTCP, tb, 24, len(tb), false))
	s.Input(0, frag4(peerAddr, hostAddr, 6, wire.ProtocolTCP, tb, 0, 24, true))
	wantOut(t, outAny(t, s, 0, nil), "198.18.0.1:81 > 198.18.0.2:40000 RA seq=0 ack=7001 win=0 len=0")

	echo := wire.ICMPv4{Type: wire.ICMPv4EchoRequest, ID: 1, Seq: 2, Body: pattern(1400)}
	eb := echo.Append(nil)
	s.Input(0, frag4(peerAddr, hostAddr, 9, wire.ProtocolICMP, eb, 1000, len(eb), false))
	s.Input(0, frag4(peerAddr, hostAddr, 9, wire.ProtocolICMP, eb, 0, 504, true))
	s.Input(0, frag4(peerAddr, hostAddr, 9, wire.ProtocolICMP, eb, 504, 1000, true))
	var raw [][]byte
	wantOut(t, outAny(t, s, 0, &raw), "198.18.0.1 > 198.18.0.2 ICMP echo-reply id=1 seq=2 len=1400")
	if !bytes.Equal(raw[0][28:], pattern(1400)) {
		t.Error("the echo reply's data is not the request's")
	}
	if c := s.Counters(); c.ReasmOKs != 2 || c.ReasmFails != 1 {
		t.Errorf("ReasmOKs %d ReasmFails %d, want 2 and 1", c.ReasmOKs, c.ReasmFails)
	}
}

// A fragment not for us is not kept, as an unfragmented packet is not.
func TestReassembleNotAddressed(t *testing.T) {
	s := newDual(t, Config{})
	d := pattern(100)
	s.Input(0, frag4(peerAddr, netip.MustParseAddr("198.18.0.9"), 1, wire.ProtocolUDP, d, 0, 16, true))
	if len(s.frag.queues) != 0 || s.Counters().ReasmReqds != 0 {
		t.Errorf("a fragment for another host kept: %d queues", len(s.frag.queues))
	}
}

// A reassembled IPv6 packet whose fragmentable part holds another Fragment
// header is an error (the first fragment check refuses it first), never a
// second round of reassembly.
func TestReassembleNested(t *testing.T) {
	var log trace.Log
	s := newDual(t, Config{Recorder: &log})
	inner := frag6(peer6, host6, 2, wire.ProtocolUDP, pattern(64), 0, 16, true)[40:]
	s.Input(0, frag6(peer6, host6, 1, 44, inner, 0, 8, true))
	if !strings.Contains(logText(&log), "a second Fragment header") || s.Counters().ReasmFails != 1 {
		t.Errorf("ReasmFails %d, log:\n%s", s.Counters().ReasmFails, logText(&log))
	}
}

// RFC 1122 §3.2.2: "An ICMP error message MUST NOT be sent as the result
// of receiving: * an ICMP error message". A Destination Unreachable in
// fragments whose first fragment came times out with no Time Exceeded.
func TestReassembleTimeoutOfICMPError(t *testing.T) {
	for _, fam := range fragFamilies {
		s := newDual(t, Config{})
		var d []byte
		proto := uint8(wire.ProtocolICMP)
		if fam.v6 {
			m := wire.ICMPv6{Type: wire.ICMPv6DestUnreachable, Body: pattern(2000)}
			d, proto = m.Append(nil, fam.src, fam.dst), wire.ProtocolICMPv6
		} else {
			m := wire.ICMPv4{Type: wire.ICMPv4DestUnreachable, Body: pattern(2000)}
			d = m.Append(nil)
		}
		s.Input(0, fam.frag(3, proto, d, piece{0, 1232, true}))
		s.HandleTimeout(clock.Time(time.Minute))
		wantOut(t, outAny(t, s, clock.Time(time.Minute), nil))
		if c := s.Counters(); c.ReasmTimeout != 1 || c.IcmpOutTimeExcds != 0 {
			t.Errorf("%s: ReasmTimeout %d IcmpOutTimeExcds %d, want 1 and 0", fam.name, c.ReasmTimeout, c.IcmpOutTimeExcds)
		}
	}
}
