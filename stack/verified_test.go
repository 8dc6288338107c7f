package stack

import (
	"math/rand/v2"
	"testing"

	"github.com/gosynack/synack/wire"
)

// With Config.LinkVerifiesChecksums the TCP checksum is the link's
// business: a SYN whose checksum field is not the checksum (a partial one,
// as the kernel leaves it on a TUN with offloads) is answered; without it,
// the same SYN is dropped and counted in InErrs. A bad IPv4 header
// checksum is dropped either way.
func TestLinkVerifiesChecksums(t *testing.T) {
	syn := packet(40000, 80, wire.SYN, 7000, 0, "")
	syn[len(syn)-3] ^= 0xff // the TCP checksum's low byte (no payload, no options: bytes 36-37)
	for _, trust := range []bool{false, true} {
		s, err := New(Config{Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), LinkVerifiesChecksums: trust})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Listen(80, 0); err != nil {
			t.Fatal(err)
		}
		s.Input(0, syn)
		got := out(t, s, 0)
		if c := s.Counters(); trust && (len(got) != 1 || c.InErrs != 0) || !trust && (len(got) != 0 || c.InErrs != 1) {
			t.Errorf("trust %v: sent %q, counters %+v", trust, got, c)
		}
		badIP := append([]byte(nil), syn...)
		badIP[10] ^= 0xff
		s.Input(0, badIP)
		if c := s.Counters(); c.InErrs != map[bool]uint64{false: 2, true: 1}[trust] {
			t.Errorf("trust %v: a bad IPv4 header checksum: InErrs %d", trust, c.InErrs)
		}
	}
}

// With Config.LinkOffloadsChecksums the stack sends its TCP segments with
// the checksum field zero and takes the peer's without verifying them (an
// in-memory link between two stacks, which cannot corrupt); without it,
// the checksum is computed, and a segment whose checksum is wrong is
// dropped ("A TCP implementation MUST verify the TCP checksum on received
// segments", RFC 9293 §3.1, MUST-3 is kept wherever checksums are on).
func TestLinkOffloadsChecksums(t *testing.T) {
	syn := packet(40000, 80, wire.SYN, 7000, 0, "")
	zero := append([]byte(nil), syn...)
	zero[36], zero[37] = 0, 0 // the TCP checksum field, left as a peer with offload leaves it
	for _, offload := range []bool{false, true} {
		s, err := New(Config{Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), LinkOffloadsChecksums: offload})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Listen(80, 0); err != nil {
			t.Fatal(err)
		}
		s.Input(0, zero)
		var sent [][]byte
		s.Output(0, func(b []byte) { sent = append(sent, append([]byte(nil), b...)) })
		c := s.Counters()
		if !offload {
			if len(sent) != 0 || c.InErrs != 1 {
				t.Errorf("checksums on: a SYN with a zero checksum drew %d packets, InErrs %d; want it dropped", len(sent), c.InErrs)
			}
			s.Input(0, syn)
			s.Output(0, func(b []byte) { sent = append(sent, append([]byte(nil), b...)) })
		}
		if len(sent) != 1 {
			t.Fatalf("offload %v: sent %d packets, want a SYN-ACK", offload, len(sent))
		}
		b := sent[0]
		ck := uint16(b[36])<<8 | uint16(b[37])
		_, perr := wire.ParsePacket(b)
		if offload && (ck != 0 || perr == nil) {
			t.Errorf("offload: the SYN-ACK's TCP checksum is %#04x (parses: %v), want 0", ck, perr)
		}
		if !offload && perr != nil {
			t.Errorf("checksums on: the SYN-ACK does not parse: %v", perr)
		}
		if _, _, err := wire.ParseIP(b); err != nil {
			t.Errorf("offload %v: the IPv4 header of the SYN-ACK: %v", offload, err)
		}
	}
}

// OutputTo builds each TCP packet in the buffer alloc lends (a zero-copy
// link's), so emit gets that very array; when alloc declines (nil), the
// packet is built in the stack's own buffer, and is the same bytes.
func TestOutputToBuildsInPlace(t *testing.T) {
	syn := packet(40000, 80, wire.SYN, 7000, 0, "")
	for _, lend := range []bool{true, false} {
		s, err := New(Config{Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Listen(80, 0); err != nil {
			t.Fatal(err)
		}
		s.Input(0, syn)
		arr := make([]byte, 0, 1500)
		var asked []int
		var got [][]byte
		s.OutputTo(0, func(n int) []byte {
			asked = append(asked, n)
			if !lend {
				return nil
			}
			return arr
		}, func(b []byte) { got = append(got, b) })
		if len(got) != 1 || len(asked) != 1 || asked[0] != len(got[0]) {
			t.Fatalf("lend %v: alloc asked for %v, emitted %d packets", lend, asked, len(got))
		}
		if inPlace := &got[0][:1][0] == &arr[:1][0]; inPlace != lend {
			t.Errorf("lend %v: the SYN-ACK was built in the lent array: %v", lend, inPlace)
		}
		p, err := wire.ParsePacket(got[0])
		if err != nil || p.TCP.Flags != wire.SYN|wire.ACK {
			t.Errorf("lend %v: emitted %v, %v; want a SYN-ACK", lend, p.String(), err)
		}
	}
}
