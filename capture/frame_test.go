package capture

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace/ladder"
	"github.com/gosynack/synack/wire"
)

// Packets are numbered by their frame numbers (the 1-based position of the
// record in the file, Wireshark's frame.number), whatever else the capture
// holds: ARP and IPv6 frames, other connections. The expert marks that
// name another packet use the same numbers.
func TestFrameNumbers(t *testing.T) {
	conn := linuxConn(100, 3000, 1000)
	// conn: SYN, SA, A, PA (request), A, 3 data segments, A, FA, FA, A.
	c, s := genClient, genServer
	const siss = 5000
	data := func(off seq.Size) []byte {
		return tcpFrame(s, c, wire.PSH|wire.ACK, seq.Value(siss+1).Add(off), 1101, 63, 1000, wire.Options{})
	}
	ack := func(off seq.Size) []byte {
		return tcpFrame(c, s, wire.ACK, 1101, seq.Value(siss+1).Add(off), 502, 0, wire.Options{})
	}
	frames := [][]byte{
		arpFrame(), ipv6Frame(), // 1, 2
		conn[0], conn[0], // 3, 4: the SYN and its retransmission
		conn[1], arpFrame(), conn[2], conn[3], ipv6Frame(), conn[4], // 5..10
		data(0), ack(1000), // 11, 12
		data(2000), ack(1000), // 13, 14: the segment at 1000 is not in the capture
		data(3000), arpFrame(), ack(1000), // 15..17
	}
	f := pcapOf(t, layers.LinkTypeEthernet, 65535, frames...)
	out := ladderText(t, "frames", f, ladder.Options{})
	for _, want := range []string{
		"#3 S seq=0 ack=-",
		"#4 S seq=0 ack=-", "retransmission of #3",
		"#5 SA seq=0 ack=1",
		"#7 A seq=1 ack=1",
		"#10 A seq=1 ack=101",
		"#12 A seq=101 ack=1001",
		"#14 A seq=101 ack=1001", "duplicate ACK #1 of #12",
		"#17 A seq=101 ack=1001", "duplicate ACK #2 of #12",
		"#n is the frame number",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ladder lacks %q:\n%s", want, out)
		}
	}
	var got []string
	for _, m := range arrowNumber.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	if g := strings.Join(got, " "); g != "3 4 5 7 8 10 11 12 13 14 15 17" {
		t.Errorf("arrows numbered %s, want the frames of the connection's packets", g)
	}
}

// arrowNumber finds the number of each arrow's label.
var arrowNumber = regexp.MustCompile(`#(\d+) [A-Z]+ seq=`)
