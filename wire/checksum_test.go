package wire

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// RFC 1071 §3 works an example by hand: the bytes 00 01 f2 03 f4 f5 f6 f7
// have the ones' complement sum ddf2, so their checksum is ^ddf2 = 220d.
func TestChecksumRFC1071Example(t *testing.T) {
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if s := Sum(b, 0); s != 0xddf2 {
		t.Errorf("Sum = %#04x, want 0xddf2", s)
	}
	if c := Checksum(b, 0); c != 0x220d {
		t.Errorf("Checksum = %#04x, want 0x220d", c)
	}
	// With the checksum appended the sum is all ones, so Checksum is 0:
	// the receiver's test.
	if c := Checksum(append(b, 0x22, 0x0d), 0); c != 0 {
		t.Errorf("Checksum with checksum appended = %#04x, want 0", c)
	}
}

// Checksum against the word-at-a-time reference for every length up to a
// few unrolled blocks, every alignment, odd lengths ("padding the last
// octet with zeros on its right", RFC 9293 §3.1) and arbitrary initial sums.
func TestChecksumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 300)
	for trial := range 4 {
		for i := range buf {
			switch trial {
			case 0:
				buf[i] = byte(r.Uint32())
			case 1:
				buf[i] = 0xff
			case 2:
				buf[i] = 0
			case 3:
				buf[i] = byte(0xf0 | r.IntN(16))
			}
		}
		for off := range 8 {
			for n := 0; off+n <= len(buf); n++ {
				b := buf[off : off+n]
				for _, init := range []uint32{0, 1, 0xffff, 0x1fffe, r.Uint32(), 0xffffffff} {
					if got, want := Checksum(b, init), refChecksum(b, init); got != want {
						t.Fatalf("trial %d: Checksum(buf[%d:%d], %#x) = %#04x, want %#04x", trial, off, off+n, init, got, want)
					}
				}
			}
		}
	}
}

// A long run of 0xff bytes carries out of every 64-bit add.
func TestChecksumLongCarries(t *testing.T) {
	b := bytes.Repeat([]byte{0xff}, 1<<20+3)
	if got, want := Checksum(b, 0xffffffff), refChecksum(b, 0xffffffff); got != want {
		t.Errorf("Checksum of 1 MiB of 0xff = %#04x, want %#04x", got, want)
	}
}

func TestSumChains(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 1001)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	for cut := 0; cut < len(b); cut += 2 {
		whole := Checksum(b, 0x1234)
		parts := Checksum(b[cut:], Sum(b[:cut], 0x1234))
		if whole != parts {
			t.Fatalf("cut at %d: Checksum in two parts %#04x, whole %#04x", cut, parts, whole)
		}
	}
}

func TestPseudoHeaderSumIPv4(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		src, dst := randAddr4(r), randAddr4(r)
		seg := make([]byte, r.IntN(100))
		for i := range seg {
			seg[i] = byte(r.Uint32())
		}
		got := Checksum(seg, PseudoHeaderSum(src, dst, ProtocolTCP, len(seg)))
		want := refChecksum(append(refPseudoHeader(src, dst, len(seg)), seg...), 0)
		if got != want {
			t.Fatalf("%v > %v, %d bytes: checksum %#04x, want %#04x", src, dst, len(seg), got, want)
		}
	}
}

// RFC 8200 §8.1: the IPv6 pseudo-header holds the 128-bit addresses, a
// 32-bit "Upper-Layer Packet Length", three zero bytes and "Next Header".
func TestPseudoHeaderSumIPv6(t *testing.T) {
	src := netip.MustParseAddr("2001:db8::1")
	dst := netip.MustParseAddr("2001:db8:ffff:ffff:ffff:ffff:ffff:fffe")
	mapped := netip.MustParseAddr("::ffff:192.0.2.1")
	for _, tt := range []struct {
		src, dst netip.Addr
		length   int
	}{
		{src, dst, 40},
		{dst, src, 1440},
		{src, dst, 70000}, // a jumbogram length needs all 32 bits
		{mapped, dst, 20},
		{mapped, server, 20}, // one IPv4 address is not enough for the IPv4 form
	} {
		a, b := tt.src.As16(), tt.dst.As16()
		n := tt.length
		ph := append(append(a[:], b[:]...), byte(n>>24), byte(n>>16), byte(n>>8), byte(n), 0, 0, 0, 6)
		if got, want := Checksum(nil, PseudoHeaderSum(tt.src, tt.dst, 6, n)), refChecksum(ph, 0); got != want {
			t.Errorf("%v > %v len %d: %#04x, want %#04x", tt.src, tt.dst, n, got, want)
		}
	}
}

func BenchmarkChecksum1460(b *testing.B) {
	buf := make([]byte, 1460)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		Checksum(buf, 0)
	}
}
