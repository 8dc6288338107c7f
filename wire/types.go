// Package wire holds the headers synack speaks as plain values, their parsers
// and encoders, and checksums: IPv4 and IPv6 (with its extension headers
// walked to the upper-layer header), either behind IP, TCP with its options,
// UDP, ICMP and ICMPv6 (echo and the error messages, with the packet they
// quote). A parser returns a value or an error and never panics; an encoder
// appends to a slice. A parsed payload (a Segment's, a UDP datagram's, an ICMP
// message's Body) aliases the input buffer and is valid only as long as that
// buffer is.
package wire

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/gosynack/synack/seq"
)

// Flags are the TCP control bits (RFC 9293 §3.1, RFC 3168 for ECE and CWR).
type Flags uint8

const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// flagLetters lists the letters of the canonical line in print order.
var flagLetters = [...]struct {
	f Flags
	c byte
}{{SYN, 'S'}, {FIN, 'F'}, {RST, 'R'}, {PSH, 'P'}, {ACK, 'A'}, {URG, 'U'}, {ECE, 'E'}, {CWR, 'C'}}

// String prints the flags as letters in a fixed order: S F R P A U E C, so a
// SYN-ACK is "SA", a FIN-ACK "FA", data with push "PA"; no flags print ".".
func (f Flags) String() string {
	var b [8]byte
	n := 0
	for _, l := range flagLetters {
		if f&l.f != 0 {
			b[n] = l.c
			n++
		}
	}
	if n == 0 {
		return "."
	}
	return string(b[:n])
}

// Has reports whether all of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// ParseFlags reads the letters that String prints; it is the inverse of
// String and is used by scenario descriptions and tests.
func ParseFlags(s string) (Flags, bool) {
	if s == "." {
		return 0, true
	}
	var f Flags
	for i := 0; i < len(s); i++ {
		found := false
		for _, l := range flagLetters {
			if s[i] == l.c {
				f |= l.f
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return f, s != ""
}

// SACKBlock is one block of a SACK option (RFC 2018 §3): bytes [Left, Right)
// have been received.
type SACKBlock struct {
	Left, Right seq.Value
}

// MaxSACKBlocks is how many blocks fit in the 40 bytes of TCP options.
const MaxSACKBlocks = 4

// Options are the TCP options synack understands. Unknown options are skipped
// by their length when parsing and never emitted.
type Options struct {
	HasMSS bool
	MSS    uint16 // RFC 9293 §3.7.1

	HasWScale bool
	WScale    uint8 // RFC 7323 §2

	SACKPermitted bool // RFC 2018 §2

	NumSACK uint8 // number of valid entries in SACK
	SACK    [MaxSACKBlocks]SACKBlock

	HasTimestamps bool // RFC 7323 §3
	TSVal, TSEcr  uint32
}

// SACKBlocks returns the valid SACK blocks.
func (o *Options) SACKBlocks() []SACKBlock { return o.SACK[:o.NumSACK] }

// Segment is a TCP segment: the header's fields, its options and its payload.
// Checksum holds the value read by a parser; encoders compute their own.
type Segment struct {
	SrcPort, DstPort uint16
	Seq, Ack         seq.Value
	Flags            Flags
	Window           uint16
	Urgent           uint16
	Checksum         uint16
	// GSOSize, not on the wire, is set on a super-segment an offloading
	// link is to cut (a segment whose payload is larger than GSOSize): the
	// MSS each piece carries, as virtio-net's gso_size. 0 for an ordinary
	// segment.
	GSOSize uint16
	Options Options
	Payload []byte
}

// SeqLen is the segment's length in sequence space: its payload plus one for
// each of SYN and FIN (RFC 9293 §3.4, SEG.LEN).
func (s *Segment) SeqLen() seq.Size {
	n := seq.Size(len(s.Payload))
	if s.Flags&SYN != 0 {
		n++
	}
	if s.Flags&FIN != 0 {
		n++
	}
	return n
}

// String is the canonical one-line form of a segment with absolute sequence
// numbers, used in logs, ladders and test failures:
//
//	SA seq=1000 ack=2001 win=65535 len=0 <mss 1460,wscale 7>
func (s *Segment) String() string { return s.format(0, 0, false) }

// Relative prints the canonical line with seq shown relative to seqBase and
// ack relative to ackBase, as Wireshark shows them (the sender's ISN and the
// receiver's ISN). SACK edges and the urgent pointer follow the same bases.
func (s *Segment) Relative(seqBase, ackBase seq.Value) string {
	return s.format(seqBase, ackBase, false)
}

// Compact is Relative for diagrams: timestamps, which every segment of a
// connection that negotiated them carries, are left out, except that a
// SYN's shows as "TS" (offered).
func (s *Segment) Compact(seqBase, ackBase seq.Value) string {
	return s.format(seqBase, ackBase, true)
}

func (s *Segment) format(seqBase, ackBase seq.Value, compact bool) string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(s.Flags.String())
	b.WriteString(" seq=")
	b.WriteString(strconv.FormatUint(uint64(s.Seq-seqBase), 10))
	b.WriteString(" ack=")
	if s.Flags&ACK != 0 {
		b.WriteString(strconv.FormatUint(uint64(s.Ack-ackBase), 10))
	} else {
		b.WriteByte('-')
	}
	b.WriteString(" win=")
	b.WriteString(strconv.Itoa(int(s.Window)))
	b.WriteString(" len=")
	b.WriteString(strconv.Itoa(len(s.Payload)))
	if s.Flags&URG != 0 {
		b.WriteString(" urg=")
		b.WriteString(strconv.Itoa(int(s.Urgent)))
	}
	o := &s.Options
	opts := make([]string, 0, 5)
	if o.HasMSS {
		opts = append(opts, "mss "+strconv.Itoa(int(o.MSS)))
	}
	if o.HasWScale {
		opts = append(opts, "wscale "+strconv.Itoa(int(o.WScale)))
	}
	if o.SACKPermitted {
		opts = append(opts, "sackOK")
	}
	if o.HasTimestamps && compact {
		if s.Flags&SYN != 0 {
			opts = append(opts, "TS")
		}
	} else if o.HasTimestamps {
		opts = append(opts, "ts "+strconv.FormatUint(uint64(o.TSVal), 10)+" "+strconv.FormatUint(uint64(o.TSEcr), 10))
	}
	if o.NumSACK > 0 {
		var sb strings.Builder
		sb.WriteString("sack")
		for _, blk := range o.SACKBlocks() {
			// SACK blocks describe the receiver's view of our data: they are
			// in the acknowledged direction, so they use ackBase.
			sb.WriteByte(' ')
			sb.WriteString(strconv.FormatUint(uint64(blk.Left-ackBase), 10))
			sb.WriteByte('-')
			sb.WriteString(strconv.FormatUint(uint64(blk.Right-ackBase), 10))
		}
		opts = append(opts, sb.String())
	}
	if len(opts) > 0 {
		b.WriteString(" <")
		b.WriteString(strings.Join(opts, ","))
		b.WriteByte('>')
	}
	return b.String()
}

// IPv4 is an IPv4 header without options (synack never sends IP options and
// skips those it receives).
type IPv4 struct {
	TOS          uint8
	ID           uint16
	DontFragment bool
	TTL          uint8
	Protocol     uint8
	Src, Dst     netip.Addr
}

// ProtocolTCP is the IPv4 protocol number of TCP.
const ProtocolTCP = 6

// Packet is an IPv4 packet that carries a TCP segment.
type Packet struct {
	IP  IPv4
	TCP Segment
}

// String prints the addresses and the canonical segment line:
//
//	198.18.0.2:40000 > 198.18.0.1:80 S seq=0 ack=- win=65535 len=0 <mss 1460>
func (p *Packet) String() string {
	return netip.AddrPortFrom(p.IP.Src, p.TCP.SrcPort).String() + " > " +
		netip.AddrPortFrom(p.IP.Dst, p.TCP.DstPort).String() + " " + p.TCP.String()
}
