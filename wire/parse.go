package wire

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/gosynack/synack/seq"
)

// Header sizes and option kinds (RFC 9293 §3.1, §3.2; RFC 7323 §2.2, §3.2;
// RFC 2018 §2, §3).
const (
	ipv4HeaderLen = 20
	tcpHeaderLen  = 20
	maxOptionLen  = 40

	optEOL           = 0
	optNOP           = 1
	optMSS           = 2
	optWScale        = 3
	optSACKPermitted = 4
	optSACK          = 5
	optTimestamps    = 8
)

// ParsePacket parses an IPv4 packet that carries TCP: ParseIPv4, then
// ParseTCP with the packet's addresses. A protocol other than TCP is an
// error. Offsets in a "tcp" ParseError count from the TCP header.
func ParsePacket(b []byte) (Packet, error) {
	ip, payload, err := ParseIPv4(b)
	if err != nil {
		return Packet{}, err
	}
	if ip.Protocol != ProtocolTCP {
		return Packet{}, ipErr("protocol", 9, strconv.Itoa(int(ip.Protocol))+", want 6 (TCP)", nil)
	}
	seg, err := ParseTCP(payload, ip.Src, ip.Dst)
	if err != nil {
		return Packet{}, err
	}
	return Packet{IP: ip, TCP: seg}, nil
}

// ParseIPv4 parses an IPv4 header (RFC 791 §3.1) and returns it with the
// datagram's payload, which aliases b (capacity limited to the payload, so
// appending to it cannot overwrite b).
//
// It is strict about length: Total Length must equal len(b). Bytes after
// the datagram, such as the padding of a minimum-size Ethernet frame, are
// an error, so a link layer must trim its frame to the datagram first; a b
// shorter than Total Length is an error wrapping ErrTruncated.
//
// The header checksum must verify ("If the header checksum fails, the
// internet datagram is discarded at once", RFC 791 §1.4); a failure wraps
// ErrChecksum. A fragment (MF set or a nonzero fragment offset) is an error
// wrapping ErrFragment, checked last (ParseFragment reads the fragment for
// a reassembler). IP options are
// skipped unread, and the reserved flag bit is ignored.
func ParseIPv4(b []byte) (ip IPv4, payload []byte, err error) { return parseIPv4(b, false) }

// parseIPv4 is ParseIPv4, and with frag set takes a fragment as any other
// packet (ParseFragment reads its fields).
func parseIPv4(b []byte, frag bool) (ip IPv4, payload []byte, err error) {
	if len(b) == 0 {
		return IPv4{}, nil, ipErr("header", 0, "truncated: 0 bytes, need at least 20", ErrTruncated)
	}
	if v := b[0] >> 4; v != 4 {
		return IPv4{}, nil, ipErr("version", 0, strconv.Itoa(int(v))+", want 4", nil)
	}
	if len(b) < ipv4HeaderLen {
		return IPv4{}, nil, ipErr("header", 0, "truncated: "+strconv.Itoa(len(b))+" bytes, need at least 20", ErrTruncated)
	}
	ihl := int(b[0] & 0x0f)
	hl := ihl * 4
	// RFC 791 §3.1: "the minimum value for a correct header is 5."
	if ihl < 5 {
		return IPv4{}, nil, ipErr("IHL", 0, strconv.Itoa(ihl)+" ("+strconv.Itoa(hl)+" bytes), want at least 5", nil)
	}
	if hl > len(b) {
		return IPv4{}, nil, ipErr("IHL", 0, "header length "+strconv.Itoa(hl)+" runs past the end of the "+strconv.Itoa(len(b))+"-byte packet", ErrTruncated)
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	switch {
	case total < hl:
		return IPv4{}, nil, ipErr("total length", 2, strconv.Itoa(total)+" is less than the header length "+strconv.Itoa(hl), nil)
	case total > len(b):
		return IPv4{}, nil, ipErr("total length", 2, strconv.Itoa(total)+" but packet has only "+strconv.Itoa(len(b))+" bytes", ErrTruncated)
	case total < len(b):
		return IPv4{}, nil, ipErr("total length", 2, strconv.Itoa(total)+" but packet has "+strconv.Itoa(len(b))+" bytes", nil)
	}
	if Checksum(b[:hl], 0) != 0 {
		found := binary.BigEndian.Uint16(b[10:])
		want := Checksum(b[12:hl], Sum(b[:10], 0))
		return IPv4{}, nil, checksumErr("ipv4", "header checksum", 10, found, want)
	}
	ff := binary.BigEndian.Uint16(b[6:])
	if mf, off := ff&0x2000 != 0, ff&0x1fff; (mf || off != 0) && !frag {
		msg := ErrFragment.Error() + " (MF " + strconv.FormatBool(mf) + ", fragment offset " + strconv.Itoa(int(off)*8) + " bytes)"
		return IPv4{}, nil, ipErr("flags and fragment offset", 6, msg, ErrFragment)
	}
	ip = IPv4{
		TOS:          b[1],
		ID:           binary.BigEndian.Uint16(b[4:]),
		DontFragment: ff&0x4000 != 0,
		TTL:          b[8],
		Protocol:     b[9],
		Src:          netip.AddrFrom4([4]byte(b[12:16])),
		Dst:          netip.AddrFrom4([4]byte(b[16:20])),
	}
	if total > hl {
		payload = b[hl:total:total]
	}
	return ip, payload, nil
}

// ParseTCP parses a TCP segment and verifies its checksum over the
// pseudo-header of src and dst ("the receiver MUST check it (MUST-3)",
// RFC 9293 §3.1). A bad checksum is an error wrapping ErrChecksum that
// prints the checksum found and the one expected; it is checked before the
// header's structure, since a corrupted segment is its most likely cause.
// Otherwise ParseTCP is ParseTCPNoChecksum.
func ParseTCP(b []byte, src, dst netip.Addr) (Segment, error) {
	if len(b) < tcpHeaderLen {
		return Segment{}, truncatedTCP(len(b))
	}
	ph := PseudoHeaderSum(src, dst, ProtocolTCP, len(b))
	if Checksum(b, ph) != 0 {
		found := binary.BigEndian.Uint16(b[16:])
		want := Checksum(b[18:], Sum(b[:16], ph))
		return Segment{}, checksumErr("tcp", "checksum", 16, found, want)
	}
	return ParseTCPNoChecksum(b)
}

// ParseTCPNoChecksum parses a TCP segment (RFC 9293 §3.1) without verifying
// its checksum, for captures and tests where it is not known to be good.
// Checksum is set to the value read. Payload aliases b (capacity limited to
// the payload) and is nil when the segment carries no data.
//
// The four reserved bits are ignored: they "must be ignored in received
// segments if the corresponding future features are not implemented"
// (RFC 9293 §3.1). Options are read up to EOL or the end of the header;
// NOPs and unknown options are skipped ("A TCP implementation MUST (MUST-6)
// ignore without error any TCP Option it does not implement, assuming that
// the option has a length field", RFC 9293 §3.1). If an option appears more
// than once, the last one wins. An option length below 2 or past the end of
// the header, or a wrong length for MSS, window scale, SACK-permitted,
// SACK or timestamps, is an error ("TCP implementations MUST be prepared
// to handle an illegal option length (e.g., zero)", RFC 9293 §3.1).
//
// Options are parsed on any segment, whatever its flags: whether an option
// is allowed there (e.g. MSS only on a SYN) is for the TCP layer to decide.
// Likewise a window scale above 14 is returned as received: RFC 7323 §2.3
// says "the TCP SHOULD log the error but MUST use 14 instead", and that
// clamping (and logging) belongs to the TCP layer.
func ParseTCPNoChecksum(b []byte) (Segment, error) {
	if len(b) < tcpHeaderLen {
		return Segment{}, truncatedTCP(len(b))
	}
	doff := int(b[12] >> 4)
	hl := doff * 4
	if doff < 5 {
		return Segment{}, tcpErr("data offset", 12, strconv.Itoa(doff)+" ("+strconv.Itoa(hl)+" bytes), want at least 5", nil)
	}
	if hl > len(b) {
		return Segment{}, tcpErr("data offset", 12, "header length "+strconv.Itoa(hl)+" runs past the end of the "+strconv.Itoa(len(b))+"-byte segment", ErrTruncated)
	}
	s := Segment{
		SrcPort:  binary.BigEndian.Uint16(b[0:]),
		DstPort:  binary.BigEndian.Uint16(b[2:]),
		Seq:      seqValue(b[4:]),
		Ack:      seqValue(b[8:]),
		Flags:    Flags(b[13]),
		Window:   binary.BigEndian.Uint16(b[14:]),
		Checksum: binary.BigEndian.Uint16(b[16:]),
		Urgent:   binary.BigEndian.Uint16(b[18:]),
	}
	if err := parseOptions(b[:hl], &s.Options); err != nil {
		return Segment{}, err
	}
	if hl < len(b) {
		s.Payload = b[hl:len(b):len(b)]
	}
	return s, nil
}

// parseOptions reads the options of the TCP header h into o.
func parseOptions(h []byte, o *Options) error {
	for i := tcpHeaderLen; i < len(h); {
		kind := h[i]
		switch kind {
		case optEOL:
			return nil
		case optNOP:
			i++
			continue
		}
		// RFC 9293 §3.1: "All TCP Options except End of Option List Option
		// (EOL) and No-Operation (NOP) MUST have length fields".
		if i+1 >= len(h) {
			return optErr(kind, i, "no length byte before the end of the header at offset "+strconv.Itoa(len(h)))
		}
		n := int(h[i+1])
		// RFC 9293 §3.1: "The option-length counts the two octets of
		// option-kind and option-length as well as the option-data octets."
		if n < 2 {
			return optErr(kind, i, "length "+strconv.Itoa(n)+", want at least 2")
		}
		if i+n > len(h) {
			return optErr(kind, i, "length "+strconv.Itoa(n)+" runs past the end of the header at offset "+strconv.Itoa(len(h)))
		}
		d := h[i+2 : i+n]
		switch kind {
		case optMSS:
			if n != 4 {
				return optLenErr(kind, i, n, "4")
			}
			o.HasMSS = true
			o.MSS = binary.BigEndian.Uint16(d)
		case optWScale:
			if n != 3 {
				return optLenErr(kind, i, n, "3")
			}
			o.HasWScale = true
			o.WScale = d[0]
		case optSACKPermitted:
			if n != 2 {
				return optLenErr(kind, i, n, "2")
			}
			o.SACKPermitted = true
		case optSACK:
			// RFC 2018 §3: "A SACK option that specifies n blocks will have
			// a length of 8*n+2 bytes, so the 40 bytes available for TCP
			// options can specify a maximum of 4 blocks."
			if n < 10 || n > 2+8*MaxSACKBlocks || (n-2)%8 != 0 {
				return optLenErr(kind, i, n, "8*n+2 for 1 to 4 blocks (10, 18, 26 or 34)")
			}
			o.NumSACK = uint8((n - 2) / 8)
			o.SACK = [MaxSACKBlocks]SACKBlock{}
			for j := range int(o.NumSACK) {
				o.SACK[j] = SACKBlock{Left: seqValue(d[8*j:]), Right: seqValue(d[8*j+4:])}
			}
		case optTimestamps:
			if n != 10 {
				return optLenErr(kind, i, n, "10")
			}
			o.HasTimestamps = true
			o.TSVal = binary.BigEndian.Uint32(d)
			o.TSEcr = binary.BigEndian.Uint32(d[4:])
		}
		i += n
	}
	return nil
}

func ipErr(field string, off int, msg string, err error) error {
	return &ParseError{Layer: "ipv4", Field: field, Offset: off, Msg: msg, Err: err}
}

func tcpErr(field string, off int, msg string, err error) error {
	return &ParseError{Layer: "tcp", Field: field, Offset: off, Msg: msg, Err: err}
}

func truncatedTCP(n int) error {
	return tcpErr("header", 0, "truncated: "+strconv.Itoa(n)+" bytes, need at least 20", ErrTruncated)
}

func checksumErr(layer, field string, off int, found, want uint16) error {
	return &ParseError{Layer: layer, Field: field, Offset: off, Msg: "bad checksum " + hex16(found) + ", want " + hex16(want), Err: ErrChecksum}
}

func optErr(kind byte, off int, msg string) error {
	return tcpErr(optionName(kind), off, msg, nil)
}

func optLenErr(kind byte, off, n int, want string) error {
	return optErr(kind, off, "length "+strconv.Itoa(n)+", want "+want)
}

// optionName names an option as "option 3 (wscale)".
func optionName(kind byte) string {
	s := "option " + strconv.Itoa(int(kind))
	switch kind {
	case optMSS:
		return s + " (mss)"
	case optWScale:
		return s + " (wscale)"
	case optSACKPermitted:
		return s + " (sackOK)"
	case optSACK:
		return s + " (sack)"
	case optTimestamps:
		return s + " (timestamps)"
	}
	return s
}

func hex16(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{'0', 'x', digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]})
}

func seqValue(b []byte) seq.Value { return seq.Value(binary.BigEndian.Uint32(b)) }
