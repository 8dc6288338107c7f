package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// svgGoldens are the runs whose SVG pictures are golden files; docs/demo.svg
// is the README's picture, made by 'go run ./cmd/synack demo --svg
// docs/demo.svg'.
var svgGoldens = []struct {
	file string
	args []string
}{
	{"../../docs/demo.svg", []string{"demo"}},
	{"testdata/lossy-demo.svg", []string{"demo", "--seed", "3", "--loss", "30%", "--dup", "30%"}},
	{"testdata/refused.svg", []string{"scenario", "run", "refused"}},
	// In Chinese, and with the timers: texts that other arrows cross are
	// in the side lane.
	{"testdata/lossy-demo.zh.svg", []string{"demo", "--seed", "3", "--loss", "30%", "--dup", "30%", "--lang", "zh"}},
	{"testdata/stale-syn-timers.zh.svg", []string{"scenario", "run", "stale-syn", "--timers", "--lang", "zh"}},
}

func TestSVGGolden(t *testing.T) {
	for _, g := range svgGoldens {
		t.Run(filepath.Base(g.file), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "ladder.svg")
			_, errOut, code := runCLI(t, append(g.args, "--svg", out)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			wellFormed(t, string(got))
			checkGolden(t, g.file, string(got))
		})
	}
}

func wellFormed(t *testing.T, s string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}

// --html writes one page that loads nothing; the text on stdout is the same
// as without it.
func TestHTMLFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lost-syn.html")
	plain, _, _ := runCLI(t, "scenario", "run", "lost-syn")
	stdout, errOut, code := runCLI(t, "scenario", "run", "lost-syn", "--html", out, "--color", "never")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if stdout != plain {
		t.Errorf("--html changed the text:\n%s", diff(plain, stdout))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).FindString(page); m != "" {
		t.Errorf("the page refers to %q", m)
	}
	for _, want := range []string{"<!DOCTYPE html>", "<title>The first SYN is lost (scenario lost-syn, seed 1)</title>",
		`class="synack-viewer"`, `<g class="pkt`, "retransmission of #1 (RTO)", `class="fsm"`} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q in the page", want)
		}
	}
	// Beside the ladder, the plot that synack plot draws of the run, and
	// each row's packet number for the script to link them.
	plotBeside(t, page, "plot", "lost-syn")
	if !strings.Contains(page, `"n":1}`) {
		t.Error("the page's rows do not name their packets")
	}
}

// plotBeside checks that page shows, in the pane beside its ladder, the
// picture that synack with args and -o - writes.
func plotBeside(t *testing.T, page string, args ...string) {
	t.Helper()
	svg, errOut, code := runCLI(t, append(args, "-o", "-")...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	_, pane, ok := strings.Cut(page, `<div class="plot"`)
	if !ok || !strings.Contains(page, `<div class="panes with-plot">`) {
		t.Fatal("no plot beside the ladder")
	}
	if !strings.Contains(pane, strings.TrimSpace(svg)) {
		t.Errorf("the plot beside the ladder is not what synack %s draws", strings.Join(args, " "))
	}
}

// Output that is not a terminal has no colours unless asked; --color
// always colours it; a bad value or an unwritable file is an error that
// names the flag.
func TestColorAndFileErrors(t *testing.T) {
	auto, _, _ := runCLI(t, "demo")
	if strings.Contains(auto, "\x1b[") {
		t.Error("colours in output that is not a terminal")
	}
	always, _, _ := runCLI(t, "demo", "--color", "always")
	if !strings.Contains(always, "\x1b[") {
		t.Error("no colours with --color always")
	}
	if got := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(always, ""); got != auto {
		t.Errorf("colours changed the text:\n%s", diff(auto, got))
	}
	_, errOut, code := runCLI(t, "demo", "--color", "sometimes")
	if code != 2 || !strings.Contains(errOut, "--color") || !strings.Contains(errOut, "auto, always or never") {
		t.Errorf("--color sometimes: exit %d, %q", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "no", "such", "dir", "x.svg")
	_, errOut, code = runCLI(t, "demo", "--svg", bad)
	if code != 2 || !strings.Contains(errOut, "--svg "+bad) {
		t.Errorf("--svg into a missing directory: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a file was written")
	}
}

func TestWebRefusesOtherAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "198.18.0.1:80", "example.com:80", "127.0.0.1"} {
		_, errOut, code := runCLI(t, "web", "--addr", addr)
		if code != 2 || !strings.Contains(errOut, "--addr") {
			t.Errorf("web --addr %s: exit %d, %q", addr, code, errOut)
		}
	}
}

// runCLIStdin is runCLI with standard input.
func runCLIStdin(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	root := newRoot(&o, &e)
	root.SetIn(stdin)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(&e, "synack:", err)
		code = 2
		var f failure
		if errors.As(err, &f) {
			code = 1
		}
	}
	return o.String(), e.String(), code
}

// synack ladder draws a capture as demo draws a run: --svg, --html and
// --color, with the same renderers; - reads the capture from standard input.
func TestLadderPictures(t *testing.T) {
	dir := t.TempDir()
	fixture := filepath.Join("..", "..", "capture", "testdata", "normal.pcap")
	svg, page := filepath.Join(dir, "normal.svg"), filepath.Join(dir, "normal.html")
	plain, _, _ := runCLI(t, "ladder", fixture)
	out, errOut, code := runCLI(t, "ladder", fixture, "--svg", svg, "--html", page, "--color", "always")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "\x1b[") {
		t.Error("no colours with --color always")
	}
	if got := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(out, ""); got != plain {
		t.Errorf("the flags changed the text:\n%s", diff(plain, got))
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	wellFormed(t, string(b))
	title := "normal.pcap, connection 1: 198.18.0.2:45170-198.18.0.1:8080"
	for _, want := range []string{">" + title + "</text>", ">#3 A seq=1 ack=1 win=64512 len=0</text>"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("no %q in the SVG", want)
		}
	}
	b, err = os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<title>" + title + "</title>", `class="synack-viewer"`, "one capture point"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("no %q in the page", want)
		}
	}
	plotBeside(t, string(b), "plot", fixture)

	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	in, errOut, code := runCLIStdin(t, bytes.NewReader(data), "ladder", "-")
	if code != 0 {
		t.Fatalf("ladder -: exit %d: %s", code, errOut)
	}
	if want := strings.Replace(plain, fixture+":", "standard input:", 1); in != want {
		t.Errorf("ladder - differs from ladder FILE:\n%s", diff(want, in))
	}
}

// A picture is of one connection: with several, the error lists them.
func TestLadderPictureOneConnection(t *testing.T) {
	fixture := filepath.Join("..", "..", "capture", "testdata", "rst.pcap")
	svg := filepath.Join(t.TempDir(), "rst.svg")
	_, errOut, code := runCLI(t, "ladder", fixture, "--svg", svg)
	if code != 2 || !strings.Contains(errOut, "--svg draws one connection and 2 are chosen: pick one with --conn or --port") ||
		!strings.Contains(errOut, "198.18.0.2:59660-198.18.0.1:8080") {
		t.Errorf("exit %d %q", code, errOut)
	}
	if _, err := os.Stat(svg); err == nil {
		t.Error("a file was written")
	}
	if _, errOut, code := runCLI(t, "ladder", fixture, "--svg", svg, "--port", "8080"); code != 0 {
		t.Errorf("--port 8080: exit %d %s", code, errOut)
	}
}
