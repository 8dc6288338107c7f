package pktdrill

import (
	"fmt"
	"os"
	"strings"
)

// Diff compares two runs of the script file (synack's and the kernel's)
// line by line: it returns "" when they got equally far and failed (or
// passed) the same way, and otherwise the script's lines that one run got
// past and the other did not, each marked with who passed it, then each
// run's first failure.
func Diff(file string, synack, kernel *Result) string {
	if synack.Pass == kernel.Pass && lineOf(synack) == lineOf(kernel) && msgOf(synack) == msgOf(kernel) {
		return ""
	}
	var b strings.Builder
	lines := scriptLines(file)
	sl, kl := stopLine(synack, len(lines)), stopLine(kernel, len(lines))
	lo, hi := min(sl, kl), max(sl, kl)
	who := "kernel"
	if sl > kl {
		who = "synack"
	}
	for n := lo; n <= hi && n <= len(lines); n++ {
		if n <= 0 {
			continue
		}
		text := strings.TrimSpace(lines[n-1])
		if text == "" || strings.HasPrefix(text, "//") {
			continue
		}
		mark := "only " + who + " gets past"
		if n == lo {
			mark = "one stops here"
		}
		if n == sl && n == kl {
			mark = "both stop here"
		}
		fmt.Fprintf(&b, "  %4d  %-24s %s\n", n, mark, text)
	}
	fmt.Fprintf(&b, "  synack: %s\n  kernel: %s\n", indent(synack.Summary()), indent(kernel.Summary()))
	return b.String()
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }

func lineOf(r *Result) int {
	if r.Failure == nil {
		return 0
	}
	return r.Failure.Line
}

func msgOf(r *Result) string {
	if r.Failure == nil {
		return ""
	}
	return r.Failure.Msg
}

// stopLine is the line a run stopped at: its failure's, or past the end.
func stopLine(r *Result, n int) int {
	if r.Failure == nil || r.Pass || r.Failure.Line == 0 {
		if r.Pass && !r.ExpectedFailure {
			return n + 1
		}
		if r.Failure == nil {
			return n + 1
		}
	}
	return r.Failure.Line
}

func scriptLines(file string) []string {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	return strings.Split(string(b), "\n")
}
