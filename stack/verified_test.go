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
