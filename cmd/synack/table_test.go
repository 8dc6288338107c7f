package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
)

// cellRE is a table cell: words one space apart (cells are two or more
// apart).
var cellRE = regexp.MustCompile(`\S+( \S+)*`)

// misaligned returns a description of the first cell of lines, a table
// whose columns are right-aligned, whose right edge in terminal columns
// (i18n.Width: a Chinese character is two) is not its column's in the
// first line, or "".
func misaligned(lines []string) string {
	var edges []int
	for n, l := range lines {
		locs := cellRE.FindAllStringIndex(l, -1)
		if n > 0 && len(locs) != len(edges) {
			return "line " + l + ": a different number of cells"
		}
		for i, loc := range locs {
			edge := i18n.Width(l[:loc[1]])
			if n == 0 {
				edges = append(edges, edge)
			} else if edge != edges[i] {
				return "line " + l + ": cell " + l[loc[0]:loc[1]] + " ends at a different column from its heading"
			}
		}
	}
	return ""
}

// The hostile soak's table in Chinese lines up on a terminal: every cell
// of a column ends at the column of its heading's end, counted in display
// columns (text/tabwriter counts a Chinese character as one column, where
// a terminal shows two, and its tables drifted by the headings' length).
// With and without the timings' columns.
func TestHostileTableAlignedInChinese(t *testing.T) {
	rs := []sim.HostileResult{
		{Case: "syn-flood", Legit: 6, Completed: 6, BytesSent: 205500, BytesIntact: 205500, AttackPackets: 20000, BufferHigh: 16 << 10},
		{Case: "sack-abuse-48", Legit: 6, Completed: 5, BytesSent: 205500, BytesIntact: 171250, AttackPackets: 4, BufferHigh: 2064 << 10,
			CPU: sim.CPUFigures{HeapHigh: 12 << 20, AttackNs: 1234, NormalNs: 567, Ratio: 2.2, WorstRatio: 3.5, MaxNs: 89000}},
	}
	for _, timings := range []bool{false, true} {
		for _, l := range []i18n.Lang{i18n.Chinese, i18n.English} {
			var b bytes.Buffer
			writeHostileTable(&b, rs, timings, l)
			lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d lines, want 3:\n%s", len(lines), b.String())
			}
			if l == i18n.Chinese && i18n.Width(lines[0]) == len([]rune(lines[0])) {
				t.Fatalf("the Chinese heading has no wide character: %q", lines[0])
			}
			if m := misaligned(lines); m != "" {
				t.Errorf("timings %v, %v: %s\n%s", timings, l, m, b.String())
			}
		}
	}
}

// misaligned itself finds the drift of the table tabwriter made (the
// Chinese golden before this check).
func TestMisalignedFindsDrift(t *testing.T) {
	drift := []string{
		"             攻击  正常连接           完好字节   攻击报文       缓冲区",
		"      syn-flood   6/6  205500/205500  20000    16 KiB",
	}
	if misaligned(drift) == "" {
		t.Fatal("tabwriter's Chinese table taken as aligned")
	}
	if m := misaligned([]string{"  case  runs", "   abc     3"}); m != "" {
		t.Fatalf("an aligned table: %s", m)
	}
}
