package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

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
	// Format is "pcap" or "pcapng".
	Format     string
	Interfaces []Interface
	Packets    []Packet
}

// MaxPackets bounds how many packets Read keeps, so that a huge capture
// fails clearly instead of exhausting memory.
const MaxPackets = 1 << 20

// Read reads a whole pcap or pcapng capture, told apart by their magic
// numbers. Errors say what was wrong and where: the byte offset of a bad
// header, or the number of the packet that could not be read.
func Read(r io.Reader) (*File, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		if len(magic) == 0 {
			return nil, errors.New("empty file: not a pcap or pcapng capture")
		}
		return nil, fmt.Errorf("%d-byte file: too short for a pcap or pcapng header", len(magic))
	}
	switch m := binary.BigEndian.Uint32(magic); m {
	case 0x0a0d0d0a:
		return readNg(br)
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		return readPcap(br)
	default:
		return nil, fmt.Errorf("offset 0: magic number 0x%08x is neither pcap (0xa1b2c3d4, 0xa1b23c4d, either byte order) nor pcapng (0x0a0d0d0a): not a capture file", m)
	}
}

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
			return f, fmt.Errorf("packet %d: %w", len(f.Packets)+1, eofIsTruncated(err))
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
			return f, fmt.Errorf("packet %d: %w", len(f.Packets)+1, eofIsTruncated(err))
		}
		if err := syncIfaces(); err != nil {
			return f, err
		}
		if ci.InterfaceIndex < 0 || ci.InterfaceIndex >= len(f.Interfaces) {
			return f, fmt.Errorf("packet %d: interface %d is not described in the file", len(f.Packets)+1, ci.InterfaceIndex)
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
		return fmt.Errorf("packet %d: more than %d packets; cut the capture first (editcap -r FILE OUT 1-%d)", p.N, MaxPackets, MaxPackets)
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
