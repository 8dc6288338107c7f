package capture

import (
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// LiveFile writes what a live capture (Source) saw to a pcapng file, as
// tcpdump -i IFACE -w FILE would: one interface, its name and link type,
// each packet with its time, its length on the wire and whether the
// interface received or sent it (EPB flags).
type LiveFile struct {
	ng *pcapgo.NgWriter
}

// NewLiveFile starts the file on w for interface name of link type lt.
func NewLiveFile(w io.Writer, name string, lt layers.LinkType) (*LiveFile, error) {
	ng, err := pcapgo.NewNgWriterInterface(w, pcapgo.NgInterface{Name: name, LinkType: lt, SnapLength: liveSnaplen},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "synack ladder -i " + name}})
	if err != nil {
		return nil, err
	}
	return &LiveFile{ng: ng}, nil
}

// Write adds packet p.
func (f *LiveFile) Write(p Packet) error {
	ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: max(p.Length, len(p.Data))}
	var opts pcapgo.NgPacketOptions
	switch p.Dir {
	case DirIn:
		opts.Flags = &pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionInbound}
	case DirOut:
		opts.Flags = &pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionOutbound}
	}
	return f.ng.WritePacketWithOptions(ci, p.Data, opts)
}

// Flush writes what is buffered.
func (f *LiveFile) Flush() error { return f.ng.Flush() }

// LinkName says in words how a link type's frames begin, for a live
// capture's first line: "Ethernet", "raw IP", "Linux cooked (SLL)".
func LinkName(lt layers.LinkType) string {
	switch lt {
	case layers.LinkTypeEthernet:
		return "Ethernet"
	case layers.LinkTypeRaw:
		return "raw IP"
	case layers.LinkTypeLinuxSLL:
		return "Linux cooked (SLL)"
	}
	return lt.String()
}
