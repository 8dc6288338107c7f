package ladder

import (
	"strings"
	"testing"

	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// windowExchange is a handshake where each SYN announces the scale given
// (-1: no wscale option), then an ACK from each side with the window field
// given.
func windowExchange(clientScale, serverScale int, clientWin, serverWin uint16) []trace.Event {
	s := newScript()
	withScale := func(sg wire.Segment, shift int) wire.Segment {
		if shift >= 0 {
			sg.Options.HasWScale, sg.Options.WScale = true, uint8(shift)
		}
		return sg
	}
	win := func(sg wire.Segment, w uint16) wire.Segment {
		sg.Window = w
		return sg
	}
	syn := s.out(client, server, withScale(seg(client, server, "S", 0, 0), clientScale), 0, false, "")
	s.at(10 * ms)
	s.deliver(syn)
	synack := s.out(server, client, withScale(seg(server, client, "SA", 0, 1), serverScale), 0, false, "")
	s.at(20 * ms)
	s.deliver(synack)
	ack := s.out(client, server, win(seg(client, server, "A", 1, 1), clientWin), 0, false, "")
	s.at(30 * ms)
	s.deliver(ack)
	back := s.out(server, client, win(seg(server, client, "A", 1, 1), serverWin), 0, false, "")
	s.at(40 * ms)
	s.deliver(back)
	return s.ev
}

// The window printed is the one the segment advertises, as Wireshark's
// tcp.window_size: the field shifted by its sender's scale once both SYNs
// announced one (RFC 7323 §2.2), the field itself on SYNs (which are never
// scaled) and when a SYN had no wscale option; --absolute prints the field.
func TestScaledWindow(t *testing.T) {
	for _, c := range []struct {
		name         string
		cs, ss       int
		cw, sw       uint16
		opt          Options
		client, serv string // the window= of the client's and the server's ACK
		packet       Packet // what the client's ACK's Packet holds
	}{
		{"both scale", 7, 10, 502, 63, Options{}, "win=64256", "win=64512", Packet{Window: 64256}},
		{"shift capped at 14", 15, 0, 1, 1, Options{}, "win=16384", "win=1", Packet{Window: 16384}},
		{"server does not scale", 7, -1, 502, 63, Options{}, "win=502", "win=63", Packet{Window: 502}},
		{"absolute", 7, 10, 502, 63, Options{Absolute: true}, "win=502", "win=63", Packet{Window: 64256}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := build(t, windowExchange(c.cs, c.ss, c.cw, c.sw), c.opt)
			if len(d.Packets) != 4 {
				t.Fatalf("%d packets", len(d.Packets))
			}
			for i, want := range []string{"win=65535", "win=65535", c.client, c.serv} {
				if !strings.Contains(d.Packets[i].Label, " "+want+" ") {
					t.Errorf("#%d: label %q, want %s", i+1, d.Packets[i].Label, want)
				}
			}
			if p := d.Packets[2]; p.Window != c.packet.Window || p.WindowUnknown {
				t.Errorf("client's ACK: Window %d unknown %v, want %d", p.Window, p.WindowUnknown, c.packet.Window)
			}
			got := text(t, d)
			if strings.Contains(got, "×?") || strings.Contains(got, "scale is unknown") {
				t.Errorf("a known scale is said to be unknown:\n%s", got)
			}
		})
	}
}

// Without the SYNs the scale is unknown: the field is printed with "×?" and
// a note says what that means; a zero window is zero whatever the scale.
func TestWindowScaleUnknown(t *testing.T) {
	s := newScript()
	a := seg(client, server, "A", 1, 1)
	a.Window = 63
	p := s.out(client, server, a, 10, false, "")
	s.at(10 * ms)
	s.deliver(p)
	z := seg(server, client, "A", 1, 11)
	z.Window = 0
	q := s.out(server, client, z, 0, false, "")
	s.at(20 * ms)
	s.deliver(q)
	d := build(t, s.ev, Options{})
	if l := d.Packets[0].Label; !strings.Contains(l, " win=63×? ") || !d.Packets[0].WindowUnknown || d.Packets[0].Window != 63 {
		t.Errorf("#1: label %q, Window %d unknown %v; want win=63×?", l, d.Packets[0].Window, d.Packets[0].WindowUnknown)
	}
	if l := d.Packets[1].Label; !strings.Contains(l, " win=0 ") {
		t.Errorf("#2: label %q, want win=0", l)
	}
	if !contains(d.Notes, unknownScaleNote) {
		t.Errorf("notes %q lack %q", d.Notes, unknownScaleNote)
	}
	checkAligned(t, text(t, d))
	d = build(t, s.ev, Options{Absolute: true})
	if l := d.Packets[0].Label; !strings.Contains(l, " win=63 ") || contains(d.Notes, unknownScaleNote) {
		t.Errorf("absolute: label %q, notes %q", l, d.Notes)
	}
}
