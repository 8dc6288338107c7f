package wire

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strconv"
)

const udpHeaderLen = 8

// UDP is a UDP datagram (RFC 768): the header's ports, its checksum as
// read and the data. The Length field is not kept: ParseUDP checks it and
// Append writes 8+len(Payload).
type UDP struct {
	SrcPort, DstPort uint16
	Checksum         uint16 // the value read by ParseUDP (0 over IPv4: none was sent); Append computes its own
	Payload          []byte
}

// ParseUDP parses a UDP datagram carried from src to dst. The family is
// that of PseudoHeaderSum: IPv4 when both addresses are IPv4 (Is4), IPv6
// otherwise. Payload aliases b (capacity limited to it) and is nil when
// the datagram carries no data.
//
// Length must be at least 8, "the length in octets of this user datagram
// including this header and the data. (This means the minimum value of
// the length is eight.)" (RFC 768), and must not run past b (an error
// wrapping ErrTruncated). A Length of 0, an IPv6 jumbogram's (RFC 2675),
// is not supported. Bytes of b after Length are not an error but ignored:
// that surplus area is where RFC 9868 puts UDP options, which a receiver
// that does not implement them ignores, as Linux does; the IP layer has
// already made b end where the IP datagram does.
//
// The checksum covers the pseudo-header and the Length bytes; a failure
// is an error wrapping ErrChecksum. Over IPv4 a zero checksum is accepted
// unverified: "An all zero transmitted checksum value means that the
// transmitter generated no checksum" (RFC 768); whether to pass such a
// datagram on is the application's choice (RFC 1122 §4.1.3.4), so
// Checksum is 0 to tell. Over IPv6 it is an error
// wrapping ErrChecksum: "IPv6 receivers must discard UDP packets
// containing a zero checksum" (RFC 8200 §8.1). The exception that RFC
// 6935 and RFC 6936 allow for tunnel protocols on chosen ports (zero-
// checksum mode) is not implemented.
func ParseUDP(b []byte, src, dst netip.Addr) (UDP, error) {
	if len(b) < udpHeaderLen {
		return UDP{}, udpErr("header", 0, "truncated: "+strconv.Itoa(len(b))+" bytes, need at least 8", ErrTruncated)
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	switch {
	case n < udpHeaderLen:
		return UDP{}, udpErr("length", 4, strconv.Itoa(n)+", want at least 8", nil)
	case n > len(b):
		return UDP{}, udpErr("length", 4, strconv.Itoa(n)+" but datagram has only "+strconv.Itoa(len(b))+" bytes", ErrTruncated)
	}
	u := UDP{
		SrcPort:  binary.BigEndian.Uint16(b),
		DstPort:  binary.BigEndian.Uint16(b[2:]),
		Checksum: binary.BigEndian.Uint16(b[6:]),
	}
	switch ph := PseudoHeaderSum(src, dst, ProtocolUDP, n); {
	case u.Checksum == 0 && !(src.Is4() && dst.Is4()):
		return UDP{}, udpErr("checksum", 6, "zero over IPv6, where the checksum is not optional", ErrChecksum)
	case u.Checksum != 0 && Checksum(b[:n], ph) != 0:
		return UDP{}, checksumErr("udp", "checksum", 6, u.Checksum, udpChecksum(b[udpHeaderLen:n], Sum(b[:6], ph)))
	}
	if n > udpHeaderLen {
		u.Payload = b[udpHeaderLen:n:n]
	}
	return u, nil
}

// udpChecksum returns the checksum of data with the partial sum initial,
// written as all ones when it computes to zero: "If the computed checksum
// is zero, it is transmitted as all ones (the equivalent in one's
// complement arithmetic)" (RFC 768).
func udpChecksum(data []byte, initial uint32) uint16 {
	if c := Checksum(data, initial); c != 0 {
		return c
	}
	return 0xffff
}

// Len returns the length of the encoded datagram: 8+len(Payload).
func (u *UDP) Len() int { return udpHeaderLen + len(u.Payload) }

// Append appends the datagram to b, with Length 8+len(Payload) and the
// checksum computed over the pseudo-header of src and dst (IPv4 or IPv6
// as PseudoHeaderSum chooses), 0xffff if it computes to 0 (RFC 768);
// u.Checksum is ignored. A checksum is always sent, over IPv4 too ("it
// MUST default to checksumming on", RFC 1122 §4.1.3.4).
//
// Append panics if 8+len(Payload) exceeds 65535, the largest Length: that
// is a bug in the caller.
func (u *UDP) Append(b []byte, src, dst netip.Addr) []byte {
	n := u.Len()
	if n > 0xffff {
		panic("wire: UDP payload of " + strconv.Itoa(len(u.Payload)) + " bytes does not fit in Length")
	}
	b = slices.Grow(b, n)
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, u.SrcPort)
	b = binary.BigEndian.AppendUint16(b, u.DstPort)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	b = append(b, 0, 0)
	b = append(b, u.Payload...)
	binary.BigEndian.PutUint16(b[start+6:], udpChecksum(b[start:], PseudoHeaderSum(src, dst, ProtocolUDP, n)))
	return b
}

// String prints the ports and the length of the data:
//
//	UDP 53>40000 len=32
func (u *UDP) String() string {
	return "UDP " + strconv.Itoa(int(u.SrcPort)) + ">" + strconv.Itoa(int(u.DstPort)) + " len=" + strconv.Itoa(len(u.Payload))
}

func udpErr(field string, off int, msg string, err error) error {
	return &ParseError{Layer: "udp", Field: field, Offset: off, Msg: msg, Err: err}
}
