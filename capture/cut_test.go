package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/trace/ladder"
)

// A capture cut mid-record, as when tcpdump is killed while it writes, is
// read up to the cut and says where it was cut, as tshark does.
func TestCutShort(t *testing.T) {
	frames := linuxConn(100, 300, 1448)
	whole := pcapOf(t, layers.LinkTypeEthernet, 65535, frames...)
	// Where frame 5's record starts: the file header, then 16 bytes and the
	// frame for each record.
	rec5 := 24
	for _, f := range frames[:4] {
		rec5 += 16 + len(f)
	}
	_, ng := runWithPcap(t, "handshake")
	ngRead, err := Read(bytes.NewReader(ng))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		data  []byte
		n     int // packets read
		where string
	}{
		{"pcap, in a record header", whole[:rec5+7], 4, fmt.Sprintf("frame 5 (its record starts at byte %d; the file ends 7 bytes into it", rec5)},
		{"pcap, after a record header", whole[:rec5+16], 4, fmt.Sprintf("frame 5 (its record starts at byte %d; the file ends 16 bytes into it", rec5)},
		{"pcap, in a frame", whole[:rec5+30], 4, "frame 5 (its record starts"},
		{"pcapng, in a packet block", ng[:len(ng)-7], len(ngRead.Packets) - 1, fmt.Sprintf("frame %d (its record starts", len(ngRead.Packets))},
		{"pcapng, in a block after the packets", append(append([]byte(nil), ng...), 5, 0, 0, 0, 32, 0, 0, 0, 1), len(ngRead.Packets), fmt.Sprintf("in the middle of a block after frame %d", len(ngRead.Packets))},
	} {
		f, err := Read(bytes.NewReader(c.data))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(f.Packets) != c.n || !strings.Contains(f.Cut, "cut short") || !strings.Contains(f.Cut, c.where) {
			t.Errorf("%s: %d packets, cut %q; want %d packets and a cut naming %q", c.name, len(f.Packets), f.Cut, c.n, c.where)
		}
		a := Analyze(f)
		var b bytes.Buffer
		if err := a.WriteText(&b, "cut.pcap", a.Conns, ladder.Options{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "\nnote: "+f.Cut+"\n") {
			t.Errorf("%s: the ladder does not say where the file was cut:\n%s", c.name, b.String())
		}
	}
	f, err := Read(bytes.NewReader(whole))
	if err != nil || f.Cut != "" || len(f.Packets) != len(frames) {
		t.Errorf("the whole file: %d packets, cut %q, %v", len(f.Packets), f.Cut, err)
	}
}

// A record that is not cut but damaged (a length no writer makes) ends the
// reading there too, saying so; the frames before it are kept.
func TestDamaged(t *testing.T) {
	frames := linuxConn(100, 300, 1448)
	data := pcapOf(t, layers.LinkTypeEthernet, 65535, frames...)
	rec3 := 24 + 16 + len(frames[0]) + 16 + len(frames[1])
	binary.LittleEndian.PutUint32(data[rec3+8:], 1<<30) // frame 3's captured length
	f, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Packets) != 2 || !strings.Contains(f.Cut, "frame 3 could not be read") || !strings.Contains(f.Cut, "damaged") {
		t.Errorf("%d packets, cut %q", len(f.Packets), f.Cut)
	}
	// Damaged at the first frame: nothing to draw, and an error.
	data = pcapOf(t, layers.LinkTypeEthernet, 65535, frames...)
	binary.LittleEndian.PutUint32(data[24+8:], 1<<30)
	if _, err := Read(bytes.NewReader(data)); err == nil || !strings.Contains(err.Error(), "frame 1 could not be read") {
		t.Errorf("damaged first frame: %v", err)
	}
}

// A gzip-compressed capture is read as it is; one whose compressed stream
// is cut short gives the frames it holds, and says the capture is cut.
func TestGzip(t *testing.T) {
	frames := linuxConn(100, 300, 1448)
	plain := pcapOf(t, layers.LinkTypeEthernet, 65535, frames...)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	f, err := Read(bytes.NewReader(z.Bytes()))
	if err != nil || f.Format != "pcap (gzip)" || len(f.Packets) != len(frames) || f.Cut != "" {
		t.Fatalf("gzip: %v, %+v", err, f)
	}
	f, err = Read(bytes.NewReader(z.Bytes()[:z.Len()/2]))
	if err != nil || len(f.Packets) == 0 || len(f.Packets) >= len(frames) || !strings.Contains(f.Cut, "cut short") {
		t.Errorf("gzip cut: %v, %d packets, cut %q", err, len(f.Packets), f.Cut)
	}
}
