package capture

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/gosynack/synack/trace/ladder"
)

// Diagram builds the ladder of connection c: the opener on the left, each
// packet numbered by its frame number (Packet.N; for a packet seen both
// sent and received, the frame of its send). The diagram's notes say what
// the analysis inferred or could not tell.
func (a *Analysis) Diagram(c *Conn, opt ladder.Options) (*ladder.Diagram, error) {
	r := a.Events(c)
	if len(r.Events) == 0 {
		return nil, fmt.Errorf("connection %s: no segments", c)
	}
	opt.Left, opt.Right, opt.Conn = c.Name[0], c.Name[1], 0
	opt.Number = func(i int) int { return r.Frames[i] }
	d, err := ladder.Build(r.Events, opt)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", c, err)
	}
	if r.SinglePoint {
		d.MergeArrivals()
		d.Notes = append(d.Notes, "one capture point: each packet is drawn once, when it was captured; states are inferred from the segments")
	} else {
		d.Notes = append(d.Notes, "each packet is drawn when its sender's interface sent it and its receiver's received it; states are inferred from the segments")
	}
	// A capture is the link's view: the ladder's note about missing link
	// events does not apply.
	d.Links = d.Links || r.SinglePoint
	for sd := range r.HasSYN {
		if !r.HasSYN[sd] {
			d.SetBase(ladder.Side(sd), r.FirstSeq[sd])
		}
	}
	d.Notes = append(d.Notes, r.Notes...)
	d.Notes = append(d.Notes, "#n is the frame number: the packet's place in the file, as Wireshark numbers it")
	return d, nil
}

// WriteText prints a summary of the capture and the ladder of each of
// conns.
func (a *Analysis) WriteText(w io.Writer, name string, conns []*Conn, opt ladder.Options) error {
	f := a.File
	fmt.Fprintf(w, "%s: %s, %d packets, %d TCP connections", name, f.Format, len(f.Packets), len(a.Conns))
	if len(f.Packets) > 0 {
		fmt.Fprintf(w, "; time 0 is the first packet, %s", a.Start.UTC().Format(time.RFC3339Nano))
	}
	fmt.Fprintln(w)
	if len(a.Conns) > 1 {
		for _, c := range a.Conns {
			fmt.Fprintf(w, "  connection %d: %s (%d packets)\n", c.N, c, c.Packets)
		}
	}
	if f.Cut != "" {
		fmt.Fprintln(w, "note: "+f.Cut)
	}
	for _, s := range a.skipped() {
		fmt.Fprintln(w, "note: "+s)
	}
	if a.Truncated > 0 {
		fmt.Fprintf(w, "note: %d segments were cut by the snaplen: their headers are read, their payload length comes from the IP header, and their checksums are not checked\n", a.Truncated)
	}
	if a.NBad > 0 {
		fmt.Fprintf(w, "note: %d packets could not be decoded and were left out:\n", a.NBad)
		for _, b := range a.Bad {
			fmt.Fprintln(w, "  "+b)
		}
		if a.NBad > len(a.Bad) {
			fmt.Fprintf(w, "  (and %d more)\n", a.NBad-len(a.Bad))
		}
	}
	for _, c := range conns {
		d, err := a.Diagram(c, opt)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nConnection %d: %s\n\n", c.N, c)
		if err := d.WriteText(w); err != nil {
			return err
		}
	}
	return nil
}

func (a *Analysis) skipped() []string {
	var out []string
	for reason, n := range a.Skipped {
		out = append(out, fmt.Sprintf("%d %s were left out", n, reason))
	}
	sort.Strings(out)
	return out
}

// Summary says in one line what was left out, for errors.
func (a *Analysis) Summary() string {
	s := a.skipped()
	if a.File.Cut != "" {
		s = append([]string{a.File.Cut}, s...)
	}
	if a.NBad > 0 {
		s = append(s, fmt.Sprintf("%d packets could not be decoded (first: %s)", a.NBad, a.Bad[0]))
	}
	return strings.Join(s, "; ")
}
