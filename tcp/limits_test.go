package tcp

import (
	"testing"

	"github.com/gosynack/synack/wire"
)

// RFC 9293 §3.7.1: "SendMSS is the MSS value received from the remote host,
// or the default 536 for IPv4 or 1220 for IPv6, if no MSS Option is
// received." The RFC sets no floor; like Linux since CVE-2019-11479
// (TCP_MIN_SND_MSS) synack raises an announced MSS below 48 to 48, so that
// a peer cannot make every byte a segment of its own.
func TestPeerMSSFloor(t *testing.T) {
	for _, tc := range []struct{ announced, want uint16 }{{1, 48}, {47, 48}, {48, 48}, {100, 100}} {
		f := newSynSent(t)
		f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: tc.announced})
		f.want(t, "the SYN-ACK is acknowledged", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
		if got := f.c.Info().MSS; got != int(tc.want) {
			t.Fatalf("MSS %d announced: send MSS %d, want %d", tc.announced, got, tc.want)
		}
		d := data('m', int(tc.want)+10)
		f.write(t, ms(200), d)
		f.want(t, "a full segment of the floored MSS, then the rest",
			seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:tc.want]},
			seg{Flags: wire.PSH | wire.ACK, Seq: 1 + uint32(tc.want), Ack: 1, Data: d[tc.want:]})
	}
}

// With NoDelay and 1-byte writes every byte is a segment; the queue stops
// at one record per 48 bytes of send buffer, and new data waits for an
// ACK (limits.go).
func TestTxRecordLimit(t *testing.T) {
	cfg := Config{SendBuffer: 8192, SendBufferMax: 8192}
	c := benchConn(cfg, 1460)
	c.SetNoDelay(true)
	c.cc = &fixedWindow{w: 1 << 20}
	var s wire.Segment
	peerSeg(&s, 0, 0, nil)
	c.Input(ms(2), &s)
	for range 1000 {
		if n, err := c.Write(ms(3), []byte{'x'}); n != 1 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		c.Output(ms(3), discard)
	}
	limit := 8192 / minPeerMSS
	if n := len(c.txq()); n != limit {
		t.Fatalf("%d records, want %d", n, limit)
	}
	if in := c.Info(); in.Unacked != limit || in.Unsent != 1000-limit {
		t.Fatalf("unacked %d, unsent %d", in.Unacked, in.Unsent)
	}
	// An ACK of 10 records lets the unsent bytes go, in one segment now.
	peerSeg(&s, 0, 10, nil)
	c.Input(ms(4), &s)
	var sent []int
	c.Output(ms(4), func(s *wire.Segment, _ bool) { sent = append(sent, len(s.Payload)) })
	if len(sent) != 1 || sent[0] != 1000-limit {
		t.Fatalf("after the ACK sent %v, want one segment of %d", sent, 1000-limit)
	}
}
