package pktdrill

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/CONFORMANCE.md from the corpus run")

// CorpusDir is where the public packetdrill corpus is looked for:
// $SYNACK_PACKETDRILL_DIR, or ../shared/conformance/packetdrill relative to
// the module root.
func corpusDir() string {
	if d := os.Getenv("SYNACK_PACKETDRILL_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "conformance", "packetdrill")
}

// tolerantBaseline is the number of public scripts that pass in tolerant
// mode today; the test fails if fewer pass, so regressions show. Raise it
// when more pass.
// (28 since close() stopped standing in for the library: close with unread
// data is the library's to answer with a RST, RFC 1122 §4.2.2.13.)
const tolerantBaseline = 28

// reasons explains every public script that fails in tolerant mode (the
// first mismatch is what the table shows next to it).
var reasons = map[string]string{
	"close/google-packetdrill@24354fe/gtests/net/packetdrill/tests/linux/close/close-unread-data-rst.pkt": "not yet: a close with unread received data must reset the connection (RFC 1122 §4.2.2.13, RFC 9293 §3.6 SHLD-3); synack's Close sends a FIN. The runner used to abort in its own close(), standing in for the library; it no longer does (issue 16)",
	"options/google-packetdrill/gtests/net/tcp/ts_recent/invalid_ack.pkt":                                 "deliberate deviation: a segment acknowledging data never sent (SEG.ACK > SND.NXT) gets an ACK in reply, as RFC 9293 §3.10.7.4 (\"send an ACK, drop the segment, and return\") and RFC 5961 §5.2 require; Linux drops it silently. synack also takes the segment's TSval as TS.Recent, which the script says Linux does not",
	"options/shivansh-TCP-IP-Regression-TestSuite/tcp-mechanisms/paws/paws-old-timestamp.pkt":             "deliberate deviation: the script (written on FreeBSD) expects our SYN-ACK to announce MSS 1000, the peer's; RFC 9293 §3.7.1 says the MSS option announces what we can receive, 1460 on a 1500-byte MTU (Linux announces 1460 too)",
	"window/shivansh-TCP-IP-Regression-TestSuite/tcp-mechanisms/slow_read_attack/slow-read.pkt":           "deviation: the script (written on FreeBSD) expects 1-byte zero-window probes of new data, the form RFC 9293 §3.8.6.1 names first (\"transmit at least one octet of new data (if available)\"); synack probes with an ACK carrying SEQ=SND.UNA-1 and no data, as Linux does, the RFC's other form (\"or retransmit\"), at RTO-based backoff",
}

type corpusRow struct {
	path             string
	tolerant, strict *Result
}

func runCorpus(t *testing.T, dir string) []corpusRow {
	var rows []corpusRow
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || filepath.Ext(p) != ".pkt" {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		row := corpusRow{path: rel}
		for _, strict := range []bool{false, true} {
			var res *Result
			s, err := Parse(rel, b)
			if err != nil {
				t.Errorf("public script does not parse: %v", err)
				res = &Result{File: rel, Failure: &Failure{File: rel, Msg: err.Error()}}
			} else {
				res = Run(s, Options{Strict: strict, Profile: "linux"})
			}
			if strict {
				row.strict = res
			} else {
				row.tolerant = res
			}
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].path < rows[j].path })
	return rows
}

// TestPublicCorpus runs the public corpus in both modes with the linux
// profile, checks the pass count against the baseline and that every
// failure has a recorded reason, and keeps docs/CONFORMANCE.md in step
// (go test ./pktdrill -run TestPublicCorpus -update rewrites it).
func TestPublicCorpus(t *testing.T) {
	dir := corpusDir()
	if _, err := os.Stat(filepath.Join(dir, "INDEX.tsv")); err != nil {
		t.Skipf("public packetdrill corpus not found at %s (set SYNACK_PACKETDRILL_DIR): %v", dir, err)
	}
	rows := runCorpus(t, dir)
	if len(rows) == 0 {
		t.Fatalf("no scripts under %s", dir)
	}
	passT, passS := 0, 0
	for _, r := range rows {
		if r.tolerant.Pass {
			passT++
		} else if reasons[r.path] == "" {
			t.Errorf("%s fails in tolerant mode without a recorded reason (add one to reasons): %s", r.path, r.tolerant.Summary())
		}
		if r.strict.Pass {
			passS++
		}
	}
	for p := range reasons {
		found := false
		for _, r := range rows {
			if r.path == p && !r.tolerant.Pass {
				found = true
			}
		}
		if !found {
			t.Errorf("reasons has an entry for %s, which passes or does not exist: remove it (and raise tolerantBaseline)", p)
		}
	}
	t.Logf("tolerant: %d/%d pass; strict: %d/%d pass", passT, len(rows), passS, len(rows))
	if passT < tolerantBaseline {
		t.Errorf("tolerant mode passes %d scripts, fewer than the baseline %d", passT, tolerantBaseline)
	}
	doc := conformanceDoc(rows, passT, passS)
	path := filepath.Join("..", "docs", "CONFORMANCE.md")
	if *update {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(path)
	if err != nil || string(old) != doc {
		t.Errorf("%s is out of date (run: SYNACK_PACKETDRILL_DIR=... go test ./pktdrill -run TestPublicCorpus -update)", path)
	}
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.Join(strings.Fields(s), " ")
}

func verdict(r *Result) string {
	switch {
	case r.Pass && r.ExpectedFailure:
		return "pass (fails as annotated)"
	case r.Pass:
		return "pass"
	}
	return "FAIL"
}

func conformanceDoc(rows []corpusRow, passT, passS int) string {
	var b strings.Builder
	b.WriteString(`# packetdrill conformance

Generated by ` + "`go test ./pktdrill -run TestPublicCorpus -update`" + ` from a run of the
public packetdrill corpus (` + "`../shared/conformance/packetdrill`" + `, GPL test data, not
part of this repository) with ` + "`synack packetdrill --profile linux`" + `. The test
fails when this file is out of date, when a failing script has no reason
below, or when fewer scripts pass in tolerant mode than the recorded
baseline.

Tolerant mode is the corpus README's definition (SYN options as a set,
PSH and RST windows ignored, timer-driven segments allowed between the
previous and the next event, early pure ACKs accepted, TSO-sized lines
matched by consecutive segments); strict mode is packetdrill's own
matching. Scripts under interpreter_selftest are meant to fail: they
pass when the run fails at the line their "// Failure:" comment names.

Only the first mismatch of a script is shown; later lines may fail for
other reasons once it is fixed.

`)
	fmt.Fprintf(&b, "Tolerant: **%d of %d** pass. Strict: **%d of %d** pass.\n\n", passT, len(rows), passS, len(rows))
	b.WriteString("| script | tolerant | strict | first mismatch (tolerant) | reason |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		mismatch := ""
		if !r.tolerant.Pass && r.tolerant.Failure != nil {
			f := r.tolerant.Failure
			mismatch = fmt.Sprintf("line %d: %s", f.Line, f.Msg)
			if f.Expected != "" {
				mismatch += fmt.Sprintf(" (script `%s`, actual `%s`)", f.Expected, f.Actual)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(r.path), verdict(r.tolerant), verdict(r.strict), cell(mismatch), cell(reasons[r.path]))
	}
	return b.String()
}
