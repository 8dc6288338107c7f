package main

import (
	"os"
	"strings"
	"testing"
)

// readmeBlock returns the first fenced block after the README heading.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no heading %q", heading)
	}
	rest := text[i+len(heading)+2:]
	start := strings.Index(rest, "```\n")
	if start < 0 {
		t.Fatalf("README.md: no fenced block after %q", heading)
	}
	rest = rest[start+4:]
	end := strings.Index(rest, "```")
	if end < 0 {
		t.Fatalf("README.md: the block after %q is not closed", heading)
	}
	return rest[:end]
}

// The README's demo block is what `synack demo` prints today: a newcomer
// who runs the first command sees the ladder the README shows.
func TestREADMEDemoBlock(t *testing.T) {
	block := readmeBlock(t, "## What `demo` shows")
	out, errOut, code := runCLI(t, "demo")
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	if len(strings.TrimSpace(block)) == 0 {
		t.Fatal("README.md's demo block is empty")
	}
	if !strings.Contains(out, block) {
		t.Errorf("README.md's demo block is not in today's `synack demo` output; paste the ladder again.\nREADME:\n%s\ndemo:\n%s", block, out)
	}
}

// .ci/run ends with exactly the README's test command, so that what CI
// checks is what a newcomer runs.
func TestREADMETestCommand(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var readmeCmd string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "go test ") {
			readmeCmd, _, _ = strings.Cut(line, "#")
			readmeCmd = strings.TrimSpace(readmeCmd)
			break
		}
	}
	if readmeCmd == "" {
		t.Fatal("README.md has no line starting with `go test `")
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(ci)), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != readmeCmd {
		t.Errorf(".ci/run ends with %q; the README's test command is %q", last, readmeCmd)
	}
}
