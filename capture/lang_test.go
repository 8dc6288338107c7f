package capture

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
)

// notation is what stays as it is in a Chinese ladder of a capture: the
// segment line's fields and flags, state names (RFC 9293's spelling),
// protocol and format names, and the abbreviations the texts use too.
var notation = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`seq ack win len mss wscale sackOK sack ICMP ICMPv TCP RST SYN FIN FPA ISN MSS MSL MTU mtu
		TTL RFC Wireshark pcap pcapng snaplen TSO GSO GRO LRO LLDP ARP UDP IPv
		CLOSED LISTEN SYN-SENT SYN-RECEIVED ESTABLISHED FIN-WAIT- CLOSE-WAIT CLOSING LAST-ACK TIME-WAIT`) {
		notation[w] = true
	}
}

var word = regexp.MustCompile(`[A-Za-z][A-Za-z-]{2,}`)

// The Chinese ladder of every capture fixture (with --icmp's list of ICMP
// messages) has no English words left: its notes, expert marks, ICMP names,
// summary and list are translated.
func TestChineseCaptureText(t *testing.T) {
	files, err := filepath.Glob("testdata/*.pcap*")
	if err != nil || len(files) < 5 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, file := range files {
		f, err := readFixture(file)
		if err != nil {
			t.Fatal(err)
		}
		a := Analyze(f)
		a.AllICMP = true
		var b strings.Builder
		if err := a.WriteText(&b, "抓包文件", a.Conns, ladder.Options{Lang: i18n.Chinese}); err != nil {
			t.Fatal(err)
		}
		english := map[string]bool{}
		for _, w := range word.FindAllString(b.String(), -1) {
			if !notation[w] {
				english[w] = true
			}
		}
		if len(english) > 0 {
			var ws []string
			for w := range english {
				ws = append(ws, w)
			}
			t.Errorf("%s: English words in the Chinese ladder: %s\n%s", file, strings.Join(ws, " "), b.String())
		}
	}
}

func readFixture(name string) (*File, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Read(strings.NewReader(string(data)))
}
