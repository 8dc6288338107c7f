package ladder

import (
	"github.com/gosynack/synack/seq"
)

// This file adapts a diagram to events read from a packet capture, where
// one capture point sees each packet once and a connection may start
// before the capture did.

// MergeArrivals folds each arrival row that directly follows the send row
// of the same packet at the same instant into the send row, carrying the
// receiver's state change: the view of a single capture point, where a
// packet is seen once, so its send and arrival are one line. A receiver's
// state change that the capture shows later stays on a row of its own.
func (d *Diagram) MergeArrivals() {
	rows := d.Rows[:0]
	for _, r := range d.Rows {
		if n := len(rows); n > 0 && r.Kind == RowArrive && r.Packet >= 0 {
			prev := &rows[n-1]
			if prev.Kind == RowSend && prev.Packet == r.Packet && prev.At == r.At {
				to := r.Side
				prev.State[to] = r.State[to]
				prev.Changed[to] = prev.Changed[to] || r.Changed[to]
				prev.Markers = append(prev.Markers, r.Markers...)
				continue
			}
		}
		rows = append(rows, r)
	}
	d.Rows = rows
}

// SetBase makes the sequence numbers of side sd relative to base when no
// SYN of that side was seen (a capture that starts mid-connection): seq of
// its packets and ack of its peer's are relabelled, and Hosts[sd].FirstSeen
// tells the reader that base is not the ISN. A side whose ISN is known, or
// a diagram asked to be absolute, is left alone.
func (d *Diagram) SetBase(sd Side, base seq.Value) {
	h := &d.Hosts[sd]
	if h.HasISN || d.opt.Absolute {
		return
	}
	h.ISN, h.HasISN, h.FirstSeen = base, true, true
	var zeros []byte
	for i := range d.Packets {
		d.Packets[i].label(&d.Hosts, false, &zeros)
	}
}
