package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Direction is which way an interface saw a packet, when the capture says.
type Direction uint8

const (
	// DirUnknown: the capture does not say (pcap files, most pcapng).
	DirUnknown Direction = iota
	// DirIn: the packet was received on the interface.
	DirIn
	// DirOut: the packet was sent from the interface.
	DirOut
)

func (d Direction) String() string {
	switch d {
	case DirIn:
		return "in"
	case DirOut:
		return "out"
	}
	return "?"
}

// Packet is one packet of a capture file.
type Packet struct {
	// N numbers the packet in the file from 1, as Wireshark does.
	N    int
	Time time.Time
	// Iface indexes File.Interfaces.
	Iface    int
	Dir      Direction
	LinkType layers.LinkType
	// Data is what was captured; Length is the packet's length on the
	// wire (more than len(Data) when the snaplen cut it).
	Data     []byte
	Length   int
	Comments []string
}

// Interface is one interface of a capture.
type Interface struct {
	Name     string
	LinkType layers.LinkType
}

// File is a capture read into memory.
type File struct {
	// Format is "pcap" or "pcapng", with " (gzip)" when the file was
	// compressed.
	Format     string
	Interfaces []Interface
	Packets    []Packet
	// Cut says where and why reading stopped before the end of the file,
	// "" if the whole file was read: a record cut short (the writer was
	// stopped while it wrote, or the file was copied while being written)
	// or a damaged one. Packets holds the frames before it, as tshark
	// shows them.
	Cut string
	// epoch, if set, is time 0 instead of the first packet's time (a
	// Stream's, whose first packets may have gone).
	epoch time.Time
}

// MaxPackets bounds how many packets Read keeps, so that a huge capture
// fails clearly instead of exhausting memory.
const MaxPackets = 1 << 20

// Read reads a whole pcap or pcapng capture, told apart by their magic
// numbers, gzip-compressed or not. Errors say what was wrong and where:
// the byte offset of a bad header, or the number of the frame that could
// not be read. A file cut short in the middle of a record, or damaged after
// its first frame, is not an error: the frames before are returned, and
// File.Cut says where it ends.
func Read(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	gz, gzCut := false, false
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("gzip-compressed, but the gzip header is bad: %w", err)
		}
		data, err = io.ReadAll(zr)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("gzip-compressed, but the compressed data is bad after %d bytes: %w", len(data), err)
		}
		// A compressed stream cut short still gives what it holds.
		gz, gzCut = true, err != nil
	}
	f, err := read(data)
	if f != nil && gz {
		f.Format += " (gzip)"
		if gzCut && f.Cut == "" {
			f.Cut = fmt.Sprintf("the gzip stream is cut short after %d bytes of capture, %d frames: the frames it holds are drawn", len(data), len(f.Packets))
		}
	}
	return f, err
}

func read(data []byte) (*File, error) {
	if len(data) < 4 {
		if len(data) == 0 {
			return nil, errors.New("empty file: not a pcap or pcapng capture")
		}
		return nil, fmt.Errorf("%d-byte file: too short for a pcap or pcapng header", len(data))
	}
	var (
		f     *File
		err   error
		cut   = -1 // where a record cut short starts
		frame int  // the number of the frame cut short, or of the last frame before the cut
		pkt   bool // the record cut short is a frame
	)
	switch m := binary.BigEndian.Uint32(data); m {
	case 0x0a0d0d0a:
		cut, frame, pkt = scanNg(data)
		f, err = readNg(bytes.NewReader(data[:cutOr(cut, len(data))]))
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		cut, frame = scanPcap(data)
		pkt = true
		f, err = readPcap(bytes.NewReader(data[:cutOr(cut, len(data))]))
	default:
		return nil, fmt.Errorf("offset 0: magic number 0x%08x is neither pcap (0xa1b2c3d4, 0xa1b23c4d, either byte order) nor pcapng (0x0a0d0d0a): not a capture file%s", m, otherFormat(data))
	}
	var bad *badFrame
	switch {
	case errors.As(err, &bad) && bad.n > 1:
		// Damaged after some frames: keep them, as tshark does.
		f.Cut = fmt.Sprintf("%v: the file is damaged there; the %d frames before it are drawn, the rest of the file is left out", err, bad.n-1)
		return f, nil
	case err != nil:
		return f, err
	}
	if cut >= 0 {
		what := fmt.Sprintf("frame %d (its record starts at byte %d; the file ends %d bytes into it)", frame, cut, len(data)-cut)
		if !pkt {
			what = fmt.Sprintf("a block after frame %d (it starts at byte %d; the file ends %d bytes into it)", frame, cut, len(data)-cut)
		}
		f.Cut = "the capture is cut short in the middle of " + what + ", as when tcpdump is stopped while it writes: the frames before the cut are drawn"
	}
	return f, nil
}

func cutOr(cut, n int) int {
	if cut >= 0 {
		return cut
	}
	return n
}

// otherFormat names a file format that is not a capture, when its start
// tells.
func otherFormat(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x7fELF")):
		return "; it is an ELF executable"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return "; it is a zip archive: unzip it first"
	case bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "; it is zstd-compressed: zstd -d it first"
	case bytes.HasPrefix(data, []byte{0xfd, '7', 'z', 'X', 'Z'}):
		return "; it is xz-compressed: xz -d it first"
	case bytes.HasPrefix(data, []byte("BZh")):
		return "; it is bzip2-compressed: bunzip2 it first"
	case bytes.HasPrefix(data, []byte("snoop\x00\x00\x00")):
		return "; it is a snoop capture: convert it with editcap -F pcap"
	}
	if n := min(len(data), 512); utf8.Valid(data[:n]) && !bytes.ContainsAny(data[:n], "\x00") {
		return "; it looks like text (tcpdump's printed output? write a capture with tcpdump -w FILE)"
	}
	return ""
}

// maxRecord is the longest record taken as cut short rather than damaged:
// longer than any snaplen a capture tool uses (pcapgo's limit too).
const maxRecord = 262144

// scanPcap walks the records of a pcap file and returns where the last
// one starts if the file ends inside it (-1 if the file ends after a whole
// record) and its frame number. A record longer than any snaplen is
// damage, not a cut: the walk stops there and readPcap reports it.
func scanPcap(b []byte) (cut, frame int) {
	if len(b) < 24 {
		return -1, 0 // readPcap reports the short header
	}
	var order binary.ByteOrder = binary.LittleEndian
	if m := binary.BigEndian.Uint32(b); m == 0xa1b2c3d4 || m == 0xa1b23c4d {
		order = binary.BigEndian
	}
	limit := max(int(order.Uint32(b[16:])), maxRecord)
	for off := 24; off < len(b); frame++ {
		if len(b)-off < 16 {
			return off, frame + 1
		}
		n := int(order.Uint32(b[off+8:]))
		if n < 0 || n > limit {
			return -1, 0
		}
		if off+16+n > len(b) {
			return off, frame + 1
		}
		off += 16 + n
	}
	return -1, frame
}

// scanNg walks the blocks of a pcapng file and returns where the last one
// starts if the file ends inside it (-1 if the file ends after a whole
// block), whether it is a packet block, and the number of its frame or,
// for another block, of the frame before it. A block length that is not a
// multiple of 4 or too short is damage, not a cut: the walk stops there
// and readNg reports it.
func scanNg(b []byte) (cut, frame int, pkt bool) {
	var order binary.ByteOrder = binary.LittleEndian
	for off := 0; off < len(b); {
		rest := b[off:]
		if len(rest) < 8 {
			return off, frame, false
		}
		typ := binary.LittleEndian.Uint32(rest)
		if typ == 0x0a0d0d0a { // a section header: its byte-order magic sets the order
			if len(rest) < 12 {
				return off, frame, false
			}
			order = binary.LittleEndian
			if binary.BigEndian.Uint32(rest[8:]) == 0x1a2b3c4d {
				order = binary.BigEndian
			}
		}
		typ = order.Uint32(rest)
		isPkt := typ == 2 || typ == 3 || typ == 6 // packet, simple and enhanced packet blocks
		n := int(order.Uint32(rest[4:]))
		if n < 12 || n%4 != 0 {
			return -1, 0, false
		}
		if n > len(rest) {
			if isPkt {
				return off, frame + 1, true
			}
			return off, frame, false
		}
		if isPkt {
			frame++
		}
		off += n
	}
	return -1, frame, false
}

// badFrame is the error of a frame whose record could not be read.
type badFrame struct {
	n   int
	err error
}

func (e *badFrame) Error() string { return fmt.Sprintf("frame %d could not be read: %v", e.n, e.err) }
func (e *badFrame) Unwrap() error { return e.err }

func readPcap(r io.Reader) (*File, error) {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("offset 0: bad pcap file header: %w", eofIsTruncated(err))
	}
	lt := pr.LinkType()
	f := &File{Format: "pcap", Interfaces: []Interface{{LinkType: lt}}}
	for {
		data, ci, err := pr.ReadPacketData()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return f, &badFrame{len(f.Packets) + 1, eofIsTruncated(err)}
		}
		if err := f.add(Packet{Time: ci.Timestamp, LinkType: lt, Data: data, Length: ci.Length}, ci); err != nil {
			return f, err
		}
	}
}

func readNg(r io.Reader) (*File, error) {
	nr, err := pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{})
	if err != nil {
		return nil, fmt.Errorf("bad pcapng section or interface header: %w", eofIsTruncated(err))
	}
	f := &File{Format: "pcapng"}
	syncIfaces := func() error {
		for i := len(f.Interfaces); i < nr.NInterfaces(); i++ {
			in, err := nr.Interface(i)
			if err != nil {
				return err
			}
			f.Interfaces = append(f.Interfaces, Interface{Name: in.Name, LinkType: in.LinkType})
		}
		return nil
	}
	for {
		data, ci, opts, err := nr.ReadPacketDataWithOptions()
		if err == io.EOF {
			return f, syncIfaces()
		}
		if err != nil {
			return f, &badFrame{len(f.Packets) + 1, eofIsTruncated(err)}
		}
		if err := syncIfaces(); err != nil {
			return f, err
		}
		if ci.InterfaceIndex < 0 || ci.InterfaceIndex >= len(f.Interfaces) {
			return f, &badFrame{len(f.Packets) + 1, fmt.Errorf("interface %d is not described in the file", ci.InterfaceIndex)}
		}
		p := Packet{
			Time: ci.Timestamp, Iface: ci.InterfaceIndex, LinkType: f.Interfaces[ci.InterfaceIndex].LinkType,
			Data: append([]byte(nil), data...), Length: ci.Length, Comments: opts.Comments,
		}
		if opts.Flags != nil {
			switch opts.Flags.Direction {
			case pcapgo.NgEpbFlagDirectionInbound:
				p.Dir = DirIn
			case pcapgo.NgEpbFlagDirectionOutbound:
				p.Dir = DirOut
			}
		}
		if err := f.add(p, ci); err != nil {
			return f, err
		}
	}
}

func (f *File) add(p Packet, ci gopacket.CaptureInfo) error {
	p.N = len(f.Packets) + 1
	if len(f.Packets) >= MaxPackets {
		return fmt.Errorf("frame %d: more than %d frames; cut the capture first (editcap -r FILE OUT 1-%d)", p.N, MaxPackets, MaxPackets)
	}
	if ci.Length < ci.CaptureLength {
		// A writer that records a wire length shorter than what it
		// captured; trust the bytes.
		p.Length = ci.CaptureLength
	}
	f.Packets = append(f.Packets, p)
	return nil
}

func eofIsTruncated(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("the file ends in the middle of a block (truncated): %w", err)
	}
	return err
}
