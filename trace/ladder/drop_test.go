package ladder

import (
	"strings"
	"testing"

	"github.com/gosynack/synack/trace"
)

// A segment that arrived and that the receiving connection then dropped (a
// cause of package tcp's) keeps its arrival; the drop is a note, drawn with
// Options.Notes. A drop by the stack marks the packet itself.
func TestConnectionDrop(t *testing.T) {
	s := newScript()
	id := s.at(0).send(client, server, "A", 1, 1, 0)
	s.at(10 * ms).deliver(id)
	s.add(trace.Event{Kind: trace.Drop, Host: "server", Local: server.ap, Remote: client.ap, Cause: trace.DropResetOutsideWindow})
	rst := s.at(20*ms).send(client, server, "R", 1, 0, 0)
	s.at(30*ms).linkEvent(trace.LinkDeliver, rst, "")
	p := s.sent[rst]
	s.add(trace.Event{Kind: trace.Drop, Host: "server", Local: server.ap, Remote: client.ap, Seg: p.seg, Cause: trace.DropResetNoConn})
	for _, notes := range []bool{false, true} {
		d, err := Build(s.ev, Options{Notes: notes})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range d.Rows {
			if r.Kind == RowNote || r.Kind == RowDrop {
				got = append(got, r.Text)
			}
		}
		want := 0
		if notes {
			want = 1
			if len(got) == 1 && got[0] != "dropped: RST outside the window" {
				t.Errorf("note %q", got[0])
			}
		}
		if len(got) != want {
			t.Errorf("Notes %v: rows %q, want %d note", notes, got, want)
		}
		if p := d.Packets[0]; p.Dropped || p.Fate != Delivered {
			t.Errorf("Notes %v: the segment the connection dropped is drawn dropped %v, fate %v", notes, p.Dropped, p.Fate)
		}
		if p := d.Packets[1]; !p.Dropped || p.DropReason != "RST for no connection" {
			t.Errorf("Notes %v: the RST the stack dropped: dropped %v (%q)", notes, p.Dropped, p.DropReason)
		}
	}
}

// A link's drop is drawn from its typed cause: plain loss is "lost" on the
// arrow; any other cause is said beneath it, or on the row of a later drop.
func TestLinkDropCause(t *testing.T) {
	for _, c := range []struct {
		cause  trace.LinkDropCause
		detail string
		later  bool
		want   string // a line of the text, trimmed
		absent string
	}{
		{trace.LinkLoss, "", false, "lost", "the link dropped it"},
		{trace.LinkQueueFull, "", false, "the link dropped it: queue full", ""},
		{trace.LinkRule, "drop 1st S", false, "the link drops this SYN, as the scenario asks", "drop 1st S"},
		{trace.LinkRule, "drop 1st S", true, "#1 S lost, as the scenario asks", "drop 1st S"},
		{trace.LinkLoss, "", true, "#1 S lost", "lost:"},
		{trace.LinkQueueFull, "", true, "#1 S lost: queue full", ""},
	} {
		s := newScript()
		syn := s.send(client, server, "S", 0, 0, 0)
		if c.later {
			s.at(10 * ms)
		}
		s.lose(syn, c.cause, c.detail)
		got := text(t, build(t, s.ev, Options{NoLegend: true}))
		if !strings.Contains(got, c.want) || c.absent != "" && strings.Contains(got, c.absent) {
			t.Errorf("%v %q (later %v): want %q and not %q in\n%s", c.cause, c.detail, c.later, c.want, c.absent, got)
		}
	}
}
