package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
)

// A live capture's pictures, fed the packets of a kernel capture one by
// one as ladder -i feeds them (without the packet socket, so without
// root): drawn halfway, then at the end, they are byte for byte what
// synack ladder FILE --conn draws from the --pcap file, of the latest of
// the connections; without a --pcap file, from the capture kept in
// memory, the same picture under the interface's name.
func TestLivePicturesEqualTheFiles(t *testing.T) {
	for _, name := range []string{"rst.pcap", "pmtu.pcapng"} {
		t.Run(name, func(t *testing.T) {
			file, err := readCapture(filepath.Join("..", "..", "capture", "testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			src := &capture.Source{Name: "eth9", LinkType: file.Packets[0].LinkType}
			dir := t.TempDir()
			pcap := filepath.Join(dir, "live.pcapng")
			pf, err := os.Create(pcap)
			if err != nil {
				t.Fatal(err)
			}
			pw, err := capture.NewLiveFile(pf, src.Name, src.LinkType)
			if err != nil {
				t.Fatal(err)
			}
			in := func(f string) string { return filepath.Join(dir, f) }
			opt := ladder.Options{Lang: i18n.English}
			pics, err := newLivePictures(liveFlags{render: renderFlags{svg: in("live.svg"), html: in("live.html")}, plot: in("plot.svg")},
				"", 0, opt, src, pcap, pw.Flush)
			if err != nil {
				t.Fatal(err)
			}
			mem, err := newLivePictures(liveFlags{render: renderFlags{svg: in("mem.svg")}}, "", 0, opt, src, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			var half []byte
			for i, p := range file.Packets {
				if err := pw.Write(p); err != nil {
					t.Fatal(err)
				}
				pics.add(p, i+1)
				mem.add(p, i+1)
				if i == len(file.Packets)/2 {
					if err := pics.draw(); err != nil {
						t.Fatal(err)
					}
					if half, err = os.ReadFile(in("live.svg")); err != nil {
						t.Fatalf("no SVG halfway through the capture: %v", err)
					}
				}
			}
			if err := pw.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := pf.Close(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := pics.close(&out); err != nil {
				t.Fatal(err)
			}
			if err := mem.close(&out); err != nil {
				t.Fatal(err)
			}
			a := capture.Analyze(file)
			last := a.Conns[len(a.Conns)-1]
			conn := last.String()
			want := "--svg " + in("live.svg") + " --html " + in("live.html") + " --plot " + in("plot.svg") + ": connection 2, " + conn +
				", the latest of the 2 chosen (synack ladder " + pcap + " --conn " + conn + " draws it again)\n" +
				"--svg " + in("mem.svg") + ": connection 2, " + conn + ", the latest of the 2 chosen\n"
			if out.String() != want {
				t.Errorf("the end says\n%s\nwant\n%s", out.String(), want)
			}
			if _, stderr, code := runCLI(t, "ladder", pcap, "--conn", conn, "--svg", in("after.svg"), "--html", in("after.html"), "--plot", in("after-plot.svg"), "--lang", "en"); code != 0 {
				t.Fatalf("synack ladder %s: exit %d: %s", pcap, code, stderr)
			}
			read := func(f string) []byte {
				b, err := os.ReadFile(in(f))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			for _, f := range [][2]string{{"live.svg", "after.svg"}, {"live.html", "after.html"}, {"plot.svg", "after-plot.svg"}} {
				if !bytes.Equal(read(f[0]), read(f[1])) {
					t.Errorf("%s, written live, differs from synack ladder %s --conn %s's %s", f[0], filepath.Base(pcap), conn, f[1])
				}
			}
			if bytes.Equal(half, read("live.svg")) {
				t.Error("the SVG drawn halfway is the final one")
			}
			// Without --pcap: the same picture, titled with the interface.
			after := strings.ReplaceAll(string(read("after.svg")), "live.pcapng, connection 2:", "eth9, connection 2:")
			if string(read("mem.svg")) != after || after == string(read("after.svg")) {
				t.Errorf("mem.svg, drawn from the capture in memory, is not the --pcap file's picture under the interface's name")
			}
		})
	}
}

// Past liveMemory the pictures are not drawn again during the capture;
// at the end those from the --pcap file are drawn from the whole file,
// and those without stop where the memory ran out, as the end says.
func TestLivePicturesMemoryBound(t *testing.T) {
	defer func(n int) { liveMemory = n }(liveMemory)
	file, err := readCapture(filepath.Join("..", "..", "capture", "testdata", "normal.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	liveMemory = 0
	for _, p := range file.Packets[:3] {
		liveMemory += len(p.Data)
	}
	src := &capture.Source{Name: "eth9", LinkType: file.Packets[0].LinkType}
	dir := t.TempDir()
	in := func(f string) string { return filepath.Join(dir, f) }
	pcap := in("live.pcapng")
	pf, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := capture.NewLiveFile(pf, src.Name, src.LinkType)
	if err != nil {
		t.Fatal(err)
	}
	opt := ladder.Options{Lang: i18n.English}
	pics, err := newLivePictures(liveFlags{render: renderFlags{svg: in("live.svg")}}, "", 0, opt, src, pcap, pw.Flush)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := newLivePictures(liveFlags{render: renderFlags{svg: in("mem.svg")}}, "", 0, opt, src, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range file.Packets {
		if err := pw.Write(p); err != nil {
			t.Fatal(err)
		}
		pics.add(p, i+1)
		mem.add(p, i+1)
	}
	if pics.full != 3 || mem.full != 3 {
		t.Fatalf("full at packets %d and %d, want 3 (of %d)", pics.full, mem.full, len(file.Packets))
	}
	pics.tick(time.Now(), io.Discard)
	if _, err := os.Stat(in("live.svg")); err == nil {
		t.Error("the pictures were drawn during the capture past the bound")
	}
	pw.Flush()
	pf.Close()
	var out bytes.Buffer
	if err := pics.close(&out); err != nil {
		t.Fatal(err)
	}
	if err := mem.close(&out); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"note: past packet 3 (0 MiB) the pictures were not drawn again during the capture, only at its end, from the whole --pcap file",
		"--svg " + in("mem.svg") + ": connection 1, ",
		"note: the pictures stop at packet 3: without --pcap the capture is kept in memory for them, 0 MiB at most; give --pcap FILE to draw it all",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("the end lacks %q:\n%s", w, out.String())
		}
	}
	svg, _ := os.ReadFile(in("live.svg"))
	memSVG, _ := os.ReadFile(in("mem.svg"))
	last := file.Packets[len(file.Packets)-1].N
	if n := fmt.Sprintf(">#%d ", last); !bytes.Contains(svg, []byte(n)) || bytes.Contains(memSVG, []byte(">#4 ")) || !bytes.Contains(memSVG, []byte(">#3 ")) {
		t.Errorf("the --pcap picture should reach #%d, the one from memory stop at #3", last)
	}
}
