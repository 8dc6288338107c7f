package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/trace/ladder"
)

// liveRedraw is how often a live capture's --svg, --html and --plot files
// are written again, at the least: a browser's reload shows the capture
// as it was at most this long ago (and each redraw takes at most a fifth
// of the time).
const liveRedraw = 2 * time.Second

// liveMemory bounds the capture a live ladder keeps in memory for its
// pictures when it has no --pcap file to read them from, and the --pcap
// file it reads again every liveRedraw (beyond, only the end draws it).
var liveMemory = 256 << 20

// livePictures writes a live capture's --svg, --html and --plot files as
// the capture goes, each whole (into a temporary file renamed into
// place), from the capture so far read as synack ladder FILE reads it:
// the --pcap file, flushed, or without one the same pcapng kept in
// memory. So the files written at the end are those that synack ladder
// FILE --svg ... draws from the --pcap file afterwards. They show one
// connection: of those --conn or --port chooses, the latest to begin.
type livePictures struct {
	render renderFlags
	plot   string
	spec   string
	port   int
	opt    ladder.Options
	iface  string
	link   layers.LinkType

	// pcap is the --pcap file to read the capture from, flushed by
	// flush; else mem holds it, written by mw.
	pcap  string
	flush func() error
	mem   bytes.Buffer
	mw    *capture.LiveFile
	size  int // the bytes of the packets so far
	// full is the number of packets drawn from when liveMemory was
	// reached: the pictures are not drawn again during the capture, and
	// without --pcap no more is kept.
	full int

	dirty  bool      // packets since the last drawing
	next   time.Time // the earliest time of the next drawing
	err    error     // the first error writing the files: no more are written
	drawn  *capture.Conn
	chosen int // the connections chosen when drawn was drawn
	frames int // the capture's frames then
}

// newLivePictures returns the pictures of lf, or nil if none is asked for.
// pcap and flush are the --pcap file, if it is a regular file, and what
// flushes it; else the capture is kept in memory.
func newLivePictures(lf liveFlags, spec string, port int, opt ladder.Options, src *capture.Source, pcap string, flush func() error) (*livePictures, error) {
	if !lf.render.files() && lf.plot == "" {
		return nil, nil
	}
	p := &livePictures{render: lf.render, plot: lf.plot, spec: spec, port: port, opt: opt,
		iface: src.Name, link: src.LinkType, pcap: pcap, flush: flush}
	if pcap == "" {
		var err error
		if p.mw, err = capture.NewLiveFile(&p.mem, src.Name, src.LinkType); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// add notes packet pk, the next of the capture.
func (p *livePictures) add(pk capture.Packet, n int) {
	p.dirty = true
	if p.full > 0 {
		return
	}
	if p.size += len(pk.Data); p.size > liveMemory {
		p.full = n - 1
		return
	}
	if p.mw == nil {
		return
	}
	if err := p.mw.Write(pk); err != nil && p.err == nil {
		p.err = err
	}
}

// tick draws the files again if packets came since they were drawn and
// the time has come.
func (p *livePictures) tick(now time.Time, stderr io.Writer) {
	if p.err != nil || !p.dirty || p.full > 0 || now.Before(p.next) {
		return
	}
	if err := p.draw(); err != nil {
		p.err = err
		l := p.opt.Lang
		fmt.Fprintf(stderr, "synack: %v\n%s%s\n", err, l.Tr("note: "), l.Tr("the capture goes on, but no more pictures are written"))
		return
	}
	took := time.Since(now)
	p.next = now.Add(max(liveRedraw, 4*took))
}

// draw writes the files of the capture so far.
func (p *livePictures) draw() error {
	p.dirty = false
	name := p.pcap
	var file *capture.File
	var err error
	if name != "" {
		if p.flush != nil {
			if err := p.flush(); err != nil {
				return fmt.Errorf("--pcap %s: %w", name, err)
			}
		}
		file, err = readCapture(name)
	} else {
		if err := p.mw.Flush(); err != nil {
			return err
		}
		file, err = readCaptureFrom(p.iface, bytes.NewReader(p.mem.Bytes()))
	}
	if err != nil {
		return fmt.Errorf("reading the capture back for %s: %w", p.files(), err)
	}
	a := capture.Analyze(file)
	conns, err := a.Select(p.spec, p.port)
	if err != nil || len(conns) == 0 {
		return err
	}
	c := conns[len(conns)-1]
	l := p.opt.Lang
	title, caption := captureTitle(name, file, c, l)
	if name == "" {
		title = l.Trf("%s, connection %d: %s", p.iface, c.N, c)
		caption = l.Trf("Captured live on %s (%s, %d frames): the states are inferred from the segments.", p.iface, l.Tr(capture.LinkName(p.link)), len(file.Packets))
	}
	if err := writePictures(a, c, p.opt, p.render, p.plot, title, caption); err != nil {
		return err
	}
	p.drawn, p.chosen, p.frames = c, len(conns), len(file.Packets)
	return nil
}

// files names the files asked for, as their flags do.
func (p *livePictures) files() string {
	var f []string
	for _, x := range []struct{ flag, name string }{{"--svg", p.render.svg}, {"--html", p.render.html}, {"--plot", p.plot}} {
		if x.name != "" {
			f = append(f, x.flag+" "+x.name)
		}
	}
	return strings.Join(f, " ")
}

// close draws the files of the whole capture, once the --pcap file is
// complete and closed, and says what they show.
func (p *livePictures) close(out io.Writer) error {
	l := p.opt.Lang
	p.flush = nil
	if p.err == nil {
		p.err = p.draw()
	}
	if p.err != nil {
		return failure{p.err}
	}
	switch {
	case p.drawn == nil:
		fmt.Fprintln(out, l.Tr("note: ")+l.Trf("%s: not written, as no TCP connection to draw was seen", p.files()))
		return nil
	case p.chosen > 1 && p.pcap != "":
		fmt.Fprintln(out, l.Trf("%s: connection %d, %s, the latest of the %d chosen (synack ladder %s --conn %s draws it again)", p.files(), p.drawn.N, p.drawn, p.chosen, p.pcap, p.drawn))
	case p.chosen > 1:
		fmt.Fprintln(out, l.Trf("%s: connection %d, %s, the latest of the %d chosen", p.files(), p.drawn.N, p.drawn, p.chosen))
	default:
		fmt.Fprintln(out, l.Trf("%s: connection %d, %s", p.files(), p.drawn.N, p.drawn))
	}
	switch {
	case p.full > 0 && p.mw != nil:
		fmt.Fprintln(out, l.Tr("note: ")+l.Trf("the pictures stop at packet %d: without --pcap the capture is kept in memory for them, %d MiB at most; give --pcap FILE to draw it all", p.full, liveMemory>>20))
	case p.full > 0:
		fmt.Fprintln(out, l.Tr("note: ")+l.Trf("past packet %d (%d MiB) the pictures were not drawn again during the capture, only at its end, from the whole --pcap file", p.full, liveMemory>>20))
	}
	return nil
}

// regularFile reports whether f is a regular file, which can be read back
// while it is written (not a pipe or a device).
func regularFile(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}
