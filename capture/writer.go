// Package capture writes synack's packets to pcapng files that Wireshark and
// tshark read, with what the stack decided written beside each packet, and
// reads any pcap or pcapng capture (tcpdump's, Wireshark's, the kernel's,
// synack's) back into trace events, with both endpoints' TCP states and
// Wireshark-style expert marks inferred from the segments, so that a
// capture is drawn by the same ladder renderer as a trace.
//
// Writer is both a trace.Recorder and a packet tap (sim.World.SetTap): each
// host is one pcapng interface named after it; a packet appears on its
// sender's interface when sent (outbound) and on its receiver's when
// delivered (inbound), so a packet the network lost is one that was sent
// but never received. Each packet carries a comment (EPB opt_comment) with
// what its host's stack recorded since the host's previous packet at that
// instant: state changes, timers that fired, notes and drops; for a segment
// sent, whether it is a retransmission and why; and the latest congestion
// window, slow-start threshold, smoothed RTT and RTO of the connection.
//
// A file with both hosts' interfaces holds every delivered packet twice, and
// Wireshark, which follows a TCP stream across interfaces, takes the second
// copy for a retransmission. NewPointWriter writes one capture point
// instead, as tcpdump on that host would: what it sent and what reached it,
// with its own stack's annotations; Wireshark's analysis then means what it
// says.
//
// Read and Analyze are the other direction; see read.go and analyze.go.
//
// Live capture: OpenLive reads what crosses a network interface with a
// Linux packet socket (AF_PACKET, no cgo), as tcpdump -i does; Stream
// draws the ladders of a capture that grows, a row once it is settled
// (its receiver's next packet seen, or DefaultSettle passed); LiveFile
// keeps what was seen as pcapng.
package capture

import (
	"fmt"
	"io"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Epoch is the wall-clock instant that virtual time zero is written as:
// 2000-01-01T00:00:00Z. A packet sent at virtual time 1.5s has the
// timestamp 2000-01-01T00:00:01.5Z. (A fixed epoch keeps files
// reproducible: the same seed writes the same bytes.)
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// maxComment bounds a comment: a pcapng option holds at most 65535 bytes.
const maxComment = 60000

// Writer writes a pcapng file of the packets it is tapped with, annotated
// with the events it records. Call Flush at the end; Err reports the first
// write error (Tap and Record cannot return one).
type Writer struct {
	ng     *pcapgo.NgWriter
	ifaces map[string]int
	hosts  map[string]*hostState
	// metrics is the latest Metrics event of each connection, with the
	// SRTT and RTO of any RTT sample recorded after it.
	metrics map[connID]trace.Event
	packets int
	err     error
	// point, when set, is the only host whose packets and events are
	// written.
	point string
	// epoch is the wall-clock instant time 0 is written as.
	epoch time.Time
}

type connID struct {
	host          string
	local, remote netip.AddrPort
}

// hostState is what a host recorded since its previous packet.
type hostState struct {
	at      clock.Time
	pending []string
	// outs are the SegmentOut events not yet matched with a packet.
	outs []trace.Event
}

// NewWriter starts a pcapng file on w with one interface per host, in
// order. Packets of hosts not named here get an interface when they first
// appear.
func NewWriter(w io.Writer, hosts ...string) (*Writer, error) {
	return newWriter(w, Epoch, "synack simulated network: virtual time, time 0 written as "+Epoch.Format(time.RFC3339), hosts...)
}

func newWriter(w io.Writer, epoch time.Time, comment string, hosts ...string) (*Writer, error) {
	if len(hosts) == 0 {
		return nil, fmt.Errorf("capture: no hosts: a pcapng file needs at least one interface")
	}
	cw := &Writer{ifaces: map[string]int{}, hosts: map[string]*hostState{}, metrics: map[connID]trace.Event{}, epoch: epoch}
	opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Application: "synack",
		Comment:     comment,
	}}
	ng, err := pcapgo.NewNgWriterInterface(w, iface(hosts[0]), opts)
	if err != nil {
		return nil, fmt.Errorf("capture: writing the pcapng header: %w", err)
	}
	cw.ng = ng
	cw.ifaces[hosts[0]] = 0
	for _, h := range hosts[1:] {
		if err := cw.addIface(h); err != nil {
			return nil, err
		}
	}
	return cw, nil
}

// NewPointWriter starts a pcapng file on w that captures at host alone.
func NewPointWriter(w io.Writer, host string) (*Writer, error) {
	cw, err := NewWriter(w, host)
	if err != nil {
		return nil, err
	}
	cw.point = host
	return cw, nil
}

func iface(host string) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:                host,
		Description:         "synack host " + host,
		OS:                  "synack",
		LinkType:            layers.LinkTypeRaw,
		TimestampResolution: 9,
	}
}

func (w *Writer) addIface(host string) error {
	if _, ok := w.ifaces[host]; ok {
		return nil
	}
	id, err := w.ng.AddInterface(iface(host))
	if err != nil {
		return fmt.Errorf("capture: adding the interface of host %q: %w", host, err)
	}
	w.ifaces[host] = id
	return nil
}

// Packets returns the number of packets written.
func (w *Writer) Packets() int { return w.packets }

// Err returns the first error writing the file.
func (w *Writer) Err() error { return w.err }

// Flush writes out buffered data; call it before closing the file.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.ng.Flush(); err != nil {
		w.err = fmt.Errorf("capture: %w", err)
	}
	return w.err
}

func (w *Writer) host(name string, at clock.Time) *hostState {
	h := w.hosts[name]
	if h == nil {
		h = &hostState{at: at}
		w.hosts[name] = h
	}
	if h.at != at {
		// What a host recorded with no packet at its instant (a timer
		// that closed TIME-WAIT) is on no packet.
		h.at, h.pending, h.outs = at, h.pending[:0], h.outs[:0]
	}
	return h
}

// Record notes a host's event for the comment of its next packet.
func (w *Writer) Record(e *trace.Event) {
	switch e.Kind {
	case trace.SegmentOut, trace.SegmentIn, trace.State, trace.TimerFired, trace.Note, trace.Drop, trace.Metrics:
	default:
		return // link events and timers set or stopped
	}
	if w.point != "" && e.Host != w.point {
		return
	}
	h := w.host(e.Host, e.At)
	switch e.Kind {
	case trace.SegmentOut:
		h.outs = append(h.outs, *e)
	case trace.SegmentIn:
		// What follows is what this segment caused.
		h.pending = h.pending[:0]
	case trace.State:
		s := "state " + e.From.String() + " -> " + e.To.String()
		if e.Reason != "" {
			s += " (" + e.Reason + ")"
		}
		h.pending = append(h.pending, s)
	case trace.TimerFired:
		h.pending = append(h.pending, e.Timer+" timer fired")
	case trace.Note:
		h.pending = append(h.pending, e.Reason)
		// tcp reports the handshake's RTT sample (RFC 6298 §2), taken
		// before the connection has a congestion controller, as a note;
		// the figures in force are the sample's.
		id := connID{e.Host, e.Local, e.Remote}
		if m, ok := w.metrics[id]; ok {
			if srtt, rto, ok := rttSample(e.Reason); ok {
				m.SRTT, m.RTO = srtt, rto
				w.metrics[id] = m
			}
		}
	case trace.Drop:
		h.pending = append(h.pending, "dropped: "+e.Why())
	case trace.Metrics:
		w.metrics[connID{e.Host, e.Local, e.Remote}] = *e
		if _, _, ok := rttSample(e.Reason); ok {
			// An RTT sample ("rtt R srtt S rto O") is told on the packet,
			// as a note is.
			h.pending = append(h.pending, e.Reason)
		}
	}
}

// Tap writes one packet: sent by host (out) or delivered to it.
func (w *Writer) Tap(now clock.Time, host string, out bool, pkt []byte) {
	if w.err != nil || w.point != "" && host != w.point {
		return
	}
	if err := w.addIface(host); err != nil {
		w.err = err
		return
	}
	h := w.host(host, now)
	var parts []string
	verb := "receives"
	if out {
		verb = "sends"
	}
	parts = append(parts, host+" "+verb)
	ip, seg, perr := parseLoose(pkt)
	if perr != nil {
		parts = append(parts, "not a TCP/IPv4 packet synack can read: "+perr.Error())
	}
	if out && perr == nil {
		for i := range h.outs {
			o := &h.outs[i]
			if o.Seg.Seq == seg.Seq && o.Seg.Ack == seg.Ack && o.Seg.Flags == seg.Flags &&
				o.Seg.SrcPort == seg.SrcPort && o.Seg.DstPort == seg.DstPort {
				why := o.Why()
				if o.Retransmit {
					r := "retransmission"
					if why != "" {
						r += " (" + why + ")"
					}
					parts = append(parts, r)
				} else if why != "" {
					parts = append(parts, why)
				}
				h.outs = append(h.outs[:i], h.outs[i+1:]...)
				break
			}
		}
	}
	parts = append(parts, h.pending...)
	h.pending = h.pending[:0]
	if perr == nil {
		id := connID{host: host}
		a := netip.AddrPortFrom(ip.Src, seg.SrcPort)
		b := netip.AddrPortFrom(ip.Dst, seg.DstPort)
		if out {
			id.local, id.remote = a, b
		} else {
			id.local, id.remote = b, a
		}
		if m, ok := w.metrics[id]; ok {
			parts = append(parts, metricsText(&m))
		}
	}
	comment := strings.Join(parts, "; ")
	if len(comment) > maxComment {
		comment = comment[:maxComment] + "..."
	}
	dir := pcapgo.NgEpbFlagDirectionInbound
	if out {
		dir = pcapgo.NgEpbFlagDirectionOutbound
	}
	ci := gopacket.CaptureInfo{
		Timestamp:      w.epoch.Add(time.Duration(now)),
		CaptureLength:  len(pkt),
		Length:         len(pkt),
		InterfaceIndex: w.ifaces[host],
	}
	err := w.ng.WritePacketWithOptions(ci, pkt, pcapgo.NgPacketOptions{
		Comments: []string{comment},
		Flags:    &pcapgo.NgEpbFlags{Direction: dir},
	})
	if err != nil {
		w.err = fmt.Errorf("capture: writing packet %d: %w", w.packets+1, err)
		return
	}
	w.packets++
}

func metricsText(m *trace.Event) string {
	ss := "inf"
	if m.Ssthresh < math.MaxInt32 {
		ss = fmt.Sprint(m.Ssthresh)
	}
	return fmt.Sprintf("cwnd %d ssthresh %s srtt %v rto %v", m.Cwnd, ss, m.SRTT, m.RTO)
}

// rttSample reads the SRTT and RTO of tcp's note of an RTT sample, "rtt R
// srtt S rto O".
func rttSample(note string) (srtt, rto time.Duration, ok bool) {
	f := strings.Fields(note)
	if len(f) != 6 || f[0] != "rtt" || f[2] != "srtt" || f[4] != "rto" {
		return 0, 0, false
	}
	srtt, err1 := time.ParseDuration(f[3])
	rto, err2 := time.ParseDuration(f[5])
	return srtt, rto, err1 == nil && err2 == nil
}

// parseLoose reads the IPv4 and TCP headers without verifying the TCP
// checksum (a packet the link corrupted is still written, and commented).
func parseLoose(pkt []byte) (wire.IPv4, wire.Segment, error) {
	ip, payload, err := wire.ParseIPv4(pkt)
	if err != nil {
		return ip, wire.Segment{}, err
	}
	if ip.Protocol != wire.ProtocolTCP {
		return ip, wire.Segment{}, fmt.Errorf("IP protocol %d, not TCP", ip.Protocol)
	}
	seg, err := wire.ParseTCPNoChecksum(payload)
	return ip, seg, err
}
