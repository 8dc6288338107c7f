package wire

import (
	"errors"
	"strconv"
)

// Sentinel errors that a *ParseError wraps, for errors.Is.
var (
	// ErrFragment: the packet is a fragment, not a whole datagram (RFC
	// 791 §3.2, RFC 8200 §4.5): ParseIP rejects an IPv4 packet with MF set
	// or a nonzero fragment offset, and an IPv6 packet whose Fragment
	// header has M set or a nonzero offset, with an error wrapping it;
	// ParseFragment then reads the fragment for a reassembler (package
	// stack's). An ICMP quote of a fragment other than the first says so
	// with it too.
	ErrFragment = errors.New("IP fragments are not supported")

	// ErrChecksum: an IPv4 header checksum or a TCP, UDP, ICMP or ICMPv6
	// checksum did not verify, or a UDP datagram over IPv6 had none.
	ErrChecksum = errors.New("bad checksum")

	// ErrTruncated: the input ends before a length field says it should,
	// e.g. a capture cut short by its snap length.
	ErrTruncated = errors.New("truncated")
)

// ParseError says what was wrong with a packet and where. Offset is the
// byte offset of the offending field from the start of the Layer's header
// (for "tcp", the first byte of the TCP header, also within ParsePacket;
// for "ipv6", the first byte of the fixed header, also for a fault in an
// extension header; for "icmp" and "icmpv6", the first byte of the
// message, also for a fault in the packet it quotes).
type ParseError struct {
	Layer  string // "ip", "ipv4", "ipv6", "tcp", "udp", "icmp" or "icmpv6"
	Field  string // the field or option at fault, e.g. "option 3 (wscale)"
	Offset int
	Msg    string // what is wrong with it
	Err    error  // ErrFragment, ErrChecksum, ErrTruncated or nil
}

// Error reads like "tcp: option 3 (wscale) at offset 37: length 2, want 3".
func (e *ParseError) Error() string {
	return e.Layer + ": " + e.Field + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap returns the sentinel error, if any.
func (e *ParseError) Unwrap() error { return e.Err }
