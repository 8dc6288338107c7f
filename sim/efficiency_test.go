package sim

import (
	"flag"
	"github.com/gosynack/synack/internal/golden"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const smallEfficiencyCommand = "go test ./sim -run TestEfficiencySnapshot -update"

// A small version of docs/EFFICIENCY.md, recomputed and compared with the
// committed snapshot byte for byte: the runs are deterministic, so any
// change of goodput, retransmissions or spurious retransmissions in the
// data path shows as a diff (rerun with -update when it is intended).
func TestEfficiencySnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("the snapshot moves about 20 MB through the simulator")
	}
	rep, err := RunEfficiency(SmallEfficiency(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteMarkdown(&b, smallEfficiencyCommand); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "efficiency-small.md")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run '%s' to create it)", err, smallEfficiencyCommand)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("efficiency table differs from %s (run '%s' if the change is intended):\n%s", golden, smallEfficiencyCommand, lineDiff(string(want), got))
	}
	if !rep.OK() {
		t.Errorf("a run of the efficiency table failed:\n%s", b.String())
	}
}

func lineDiff(want, got string) string { return golden.Diff(want, got) }

func TestMathis(t *testing.T) {
	// 1448 bytes every 100 ms at 1% loss: 115840 bit/s · 1.2247 / 0.1.
	got := Mathis(1448, 100*time.Millisecond, 0.01)
	want := 1448 * 8 / 0.1 * math.Sqrt(1.5) / 0.1
	if math.Abs(got-want) > 1e-6 {
		t.Fatalf("Mathis = %v, want %v", got, want)
	}
	if got4 := Mathis(1448, 100*time.Millisecond, 0.04); math.Abs(got/got4-2) > 1e-9 {
		t.Fatalf("four times the loss should halve the bound: %v vs %v", got, got4)
	}
}
