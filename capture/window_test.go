package capture

import (
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/trace/ladder"
)

// The ladder of a capture shows the window each segment advertises, as
// Wireshark's calculated window size: Linux's field 63 at scale 10 is
// 64512 bytes. --absolute shows the field.
func TestCaptureScaledWindow(t *testing.T) {
	data := pcapOf(t, layers.LinkTypeEthernet, 65535, linuxConn(100, 300, 1448)...)
	out := ladderText(t, "linux", data, ladder.Options{})
	for _, want := range []string{
		"#1 S seq=0 ack=- win=64240 len=0",
		"#3 A seq=1 ack=1 win=64256 len=0",
		"#5 A seq=1 ack=101 win=64512 len=0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ladder lacks %q:\n%s", want, out)
		}
	}
	abs := ladderText(t, "linux", data, ladder.Options{Absolute: true})
	if !strings.Contains(abs, "#3 A seq=1001 ack=5001 win=502 len=0") {
		t.Errorf("--absolute does not show the window field:\n%s", abs)
	}
}

// A capture that starts after the handshake cannot know the scale: the
// field is shown with ×? and a note says why.
func TestCaptureWindowScaleUnknown(t *testing.T) {
	data := pcapOf(t, layers.LinkTypeEthernet, 65535, linuxConn(100, 300, 1448)[2:]...)
	out := ladderText(t, "mid", data, ladder.Options{})
	for _, want := range []string{
		"#1 A seq=0 ack=0 win=502×? len=0",
		"#3 A seq=0 ack=100 win=63×? len=0",
		"note: win=N×?: N is the window field as sent",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ladder lacks %q:\n%s", want, out)
		}
	}
}
