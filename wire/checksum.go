package wire

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Sum adds the bytes of b, as big-endian 16-bit words, to the partial sum
// initial using ones' complement arithmetic (RFC 1071 §1) and returns the
// partial sum folded to 16 bits. A trailing odd byte is padded on its right
// with a zero byte (RFC 9293 §3.1, Checksum), so when a message is summed
// in pieces, every piece except the last must have an even length.
//
// Sums chain: Sum(b2, Sum(b1, s)) == Sum(append(b1, b2...), s) when b1 has
// an even length.
func Sum(b []byte, initial uint32) uint32 {
	return uint32(fold(sum64(b, uint64(initial))))
}

// Checksum returns the Internet checksum of b: the ones' complement of the
// ones' complement sum of initial and the 16-bit words of b (RFC 1071 §1).
// To fill a checksum field, sum the message with the field set to zero; to
// verify one, sum the message as received: the result is 0 when it is valid.
func Checksum(b []byte, initial uint32) uint16 {
	return ^fold(sum64(b, uint64(initial)))
}

// sum64 accumulates 64-bit big-endian words with end-around carry. The
// ones' complement sum is the same whatever the word size, as long as the
// words are folded back to 16 bits at the end, because 2^16-1 divides
// 2^64-1 (RFC 1071 §2(C), "Parallel Summation").
func sum64(b []byte, acc uint64) uint64 {
	var c uint64
	for len(b) >= 32 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[0:8]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[8:16]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[16:24]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[24:32]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	if len(b) > 0 {
		var tail [8]byte
		copy(tail[:], b)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(tail[:]), c)
	}
	acc, c = bits.Add64(acc, 0, c)
	return acc + c
}

// fold reduces a 64-bit ones' complement sum to 16 bits.
func fold(acc uint64) uint16 {
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>16 + acc&0xffff
	acc = acc>>16 + acc&0xffff
	return uint16(acc)
}

// PseudoHeaderSum returns the partial sum of the pseudo-header that the TCP
// and UDP checksums cover, and over IPv6 the ICMPv6 checksum (RFC 4443
// §2.3): for IPv4 (RFC 9293 §3.1, Figure 2) the source and
// destination addresses, the protocol and the 16-bit length; for IPv6
// (RFC 8200 §8.1) the 128-bit addresses, the 32-bit upper-layer length and
// the next header. The IPv4 form is used when both addresses are IPv4
// (Is4); anything else, including IPv4-mapped IPv6 addresses, uses the IPv6
// form, and an invalid (zero) Addr counts as all zeros. length is the
// upper-layer header plus data in bytes (for TCP, the TCP header plus
// data). Pass the result as Checksum's initial value.
func PseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	var s uint32
	if src.Is4() && dst.Is4() {
		a, b := src.As4(), dst.As4()
		s = uint32(a[0])<<8 | uint32(a[1])
		s += uint32(a[2])<<8 | uint32(a[3])
		s += uint32(b[0])<<8 | uint32(b[1])
		s += uint32(b[2])<<8 | uint32(b[3])
	} else {
		a, b := src.As16(), dst.As16()
		for i := 0; i < 16; i += 2 {
			s += uint32(a[i])<<8 | uint32(a[i+1])
			s += uint32(b[i])<<8 | uint32(b[i+1])
		}
	}
	n := uint32(length)
	return s + uint32(proto) + n>>16 + n&0xffff
}
