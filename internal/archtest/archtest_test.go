package archtest

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gosynack/synack"

// table is ARCHITECTURE.md's "may import" column for the core, in module
// paths relative to the module. trace/ladder sits in trace's row ("trace/ladder
// renders text, SVG, HTML from events"), so it may import trace as well;
// trace/plot draws the same diagram's packets as plots, so it may import
// trace/ladder too.
var table = map[string][]string{
	"seq":          nil,
	"wire":         {"seq"},
	"tcp":          {"seq", "wire", "tcp/cc", "trace", "clock"},
	"tcp/cc":       {"clock"},
	"stack":        {"tcp", "wire", "trace"},
	"trace":        {"wire", "seq"},
	"trace/ladder": {"trace", "wire", "seq"},
	"trace/plot":   {"trace", "trace/ladder", "wire"},
}

// coreRoots are the directories whose packages, and every package below
// them, are the core.
var coreRoots = []string{"seq", "wire", "tcp", "stack", "trace"}

// webAllowed is web's row: the module packages it may import, each with
// everything below it.
var webAllowed = []string{"trace"}

// deviations are the imports today's code has that the table does not
// allow, each with the reason it is there. The test fails when one is no
// longer used, so that ARCHITECTURE.md or the code is brought back in line
// and the entry removed.
var deviations = []struct{ from, to, why string }{
	{"stack", "clock", "stack passes the driver's now to tcp and keeps its own deadlines: clock's Time type"},
	{"trace", "clock", "an event carries the time its driver stamped on it: clock's Time type"},
	{"trace/ladder", "clock", "a diagram's rows carry the events' times: clock's Time type"},
	{"web", "sim", "the page runs the scenario it shows (/api/run)"},
}

// clockTypes is what the core may use of package clock: the Time type, its
// Never and Min. A Clock, Real or Virtual would let it read time itself.
var clockTypes = []string{"Time", "Never", "Min"}

// forbidden are the standard packages the core may not import, with why;
// an entry ending in "/" forbids every package below it too.
var forbidden = []struct{ path, why string }{
	{"sync", "the core has no locks"},
	{"sync/", "the core has no locks"},
	{"os", "the core does no I/O"},
	{"os/", "the core does no I/O"},
	{"net", "the core does no I/O (net/netip is fine)"},
	{"net/", "the core does no I/O (net/netip is fine)"},
	{"syscall", "the core does no I/O"},
	{"io/ioutil", "the core does no I/O"},
	{"crypto/rand", "randomness comes from a source the driver hands in"},
	{"log", "the core does no I/O; it counts drops and records events"},
	{"log/", "the core does no I/O; it counts drops and records events"},
}

// clockReaders are the functions of package time that read the clock or
// wait; the core is handed its now.
var clockReaders = []string{"Now", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick", "Since", "Until"}

type finding struct {
	pos token.Position
	msg string
}

func (f finding) String() string { return fmt.Sprintf("%s:%d: %s", f.pos.Filename, f.pos.Line, f.msg) }

// isStd reports whether path is a package of the standard library.
func isStd(path string) bool {
	if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
		return false
	}
	p, err := build.Default.Import(path, "", build.FindOnly)
	return err == nil && p.Goroot
}

// moduleRel is path relative to the module ("tcp/cc"), or "" when path is
// not one of the module's packages.
func moduleRel(path string) string {
	if rel, ok := strings.CutPrefix(path, module+"/"); ok {
		return rel
	}
	return ""
}

// within reports whether rel is pkg or lies below it.
func within(rel, pkg string) bool { return rel == pkg || strings.HasPrefix(rel, pkg+"/") }

// checkCore reports what in f breaks the sans-I/O rules: forbidden
// imports, go statements, clock reads from package time, and anything of
// package clock beyond its Time type.
func checkCore(fset *token.FileSet, f *ast.File) []finding {
	var out []finding
	report := func(pos token.Pos, format string, args ...any) {
		out = append(out, finding{fset.Position(pos), fmt.Sprintf(format, args...)})
	}
	names := map[string]string{} // local name -> "time" or "clock"
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		for _, fb := range forbidden {
			if path == "net/netip" { // addresses as values
				break
			}
			if path == fb.path || (strings.HasSuffix(fb.path, "/") && strings.HasPrefix(path, fb.path)) {
				report(imp.Pos(), "imports %q: %s", path, fb.why)
				break
			}
		}
		kind := ""
		switch path {
		case "time":
			kind = "time"
		case module + "/clock":
			kind = "clock"
		default:
			continue
		}
		name := kind
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "." {
			report(imp.Pos(), "dot-imports %q: its uses cannot be checked", path)
			continue
		}
		names[name] = kind
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			report(n.Pos(), "go statement: the core starts no goroutines; its driver does")
		case *ast.SelectorExpr:
			// A local variable named like the package would be taken for
			// it: a false finding, never a missed one.
			id, ok := n.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch names[id.Name] {
			case "time":
				if slices.Contains(clockReaders, n.Sel.Name) {
					report(n.Pos(), "time.%s: the core never reads the clock nor waits; it is handed now", n.Sel.Name)
				}
			case "clock":
				if !slices.Contains(clockTypes, n.Sel.Name) {
					report(n.Pos(), "clock.%s: the core uses only clock's Time type (%s)", n.Sel.Name, strings.Join(clockTypes, ", "))
				}
			}
		}
		return true
	})
	return out
}

// pkg is one package's non-test files, parsed.
type pkg struct {
	rel   string
	files []*ast.File
}

// imports maps each import path of p to where it is first imported.
func (p *pkg) imports() map[string]token.Pos {
	m := map[string]token.Pos{}
	for _, f := range p.files {
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if _, ok := m[path]; !ok {
				m[path] = imp.Pos()
			}
		}
	}
	return m
}

// moduleImports is the module packages p imports, relative to the module.
func (p *pkg) moduleImports() []string {
	var out []string
	for path := range p.imports() {
		if rel := moduleRel(path); rel != "" {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}

// load parses the non-test .go files of the directory rel under root, file
// names relative to root; nil when it holds none.
func load(t *testing.T, fset *token.FileSet, root, rel string) *pkg {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	p := &pkg{rel: rel}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, rel, name))
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, filepath.ToSlash(filepath.Join(rel, name)), src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		p.files = append(p.files, f)
	}
	if len(p.files) == 0 {
		return nil
	}
	return p
}

// moduleRoot is the directory of the module's go.mod, two levels up.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || strings.TrimSpace(sc.Text()) != "module "+module {
		t.Fatalf("%s/go.mod is not module %s", root, module)
	}
	return root
}

// corePackages finds every package in or below coreRoots; a directory with
// a go.mod of its own or named testdata is not part of the module.
func corePackages(t *testing.T, fset *token.FileSet, root string) []*pkg {
	t.Helper()
	var out []*pkg
	for _, top := range coreRoots {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			if p := load(t, fset, root, rel); p != nil {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestCore checks every core package against the table and the sans-I/O
// rules.
func TestCore(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	pkgs := corePackages(t, fset, root)

	found := map[string]bool{}
	leaves := map[string]bool{} // core packages outside the table that import nothing of the module
	for _, p := range pkgs {
		found[p.rel] = true
		if _, ok := table[p.rel]; !ok && len(p.moduleImports()) == 0 {
			leaves[p.rel] = true
		}
	}
	for rel := range table {
		if !found[rel] {
			t.Errorf("no package %s under %s: ARCHITECTURE.md's table and this test name it", rel, root)
		}
	}

	used := map[string]bool{} // deviations in use, "from to"
	var findings []finding
	for _, p := range pkgs {
		allowed, inTable := table[p.rel]
		if !inTable && !leaves[p.rel] {
			findings = append(findings, finding{fset.Position(p.files[0].Package),
				fmt.Sprintf("package %s is not in ARCHITECTURE.md's table and imports %v of the module: give it a row (here and there)", p.rel, p.moduleImports())})
		}
		for path, pos := range p.imports() {
			rel := moduleRel(path)
			switch {
			case rel != "":
				if slices.Contains(allowed, rel) || leaves[rel] || !inTable {
					continue
				}
				if deviation(p.rel, rel) {
					used[p.rel+" "+rel] = true
					continue
				}
				findings = append(findings, finding{fset.Position(pos),
					fmt.Sprintf("package %s imports %s: ARCHITECTURE.md lets it import only %v of the module", p.rel, rel, allowed)})
			case !isStd(path):
				findings = append(findings, finding{fset.Position(pos),
					fmt.Sprintf("package %s imports %q: the core imports only the standard library and the module's core", p.rel, path)})
			}
		}
		for _, f := range p.files {
			findings = append(findings, checkCore(fset, f)...)
		}
	}
	report(t, findings)
	staleDeviations(t, used, func(from string) bool { return from != "web" })
}

// TestWeb checks that web imports, of the module, only what its row of
// ARCHITECTURE.md allows. web is a driver: it may start goroutines and
// read the clock.
func TestWeb(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	p := load(t, fset, root, "web")
	if p == nil {
		t.Fatal("package web has no files")
	}
	used := map[string]bool{}
	var findings []finding
	for path, pos := range p.imports() {
		rel := moduleRel(path)
		switch {
		case rel != "":
			if slices.ContainsFunc(webAllowed, func(a string) bool { return within(rel, a) }) {
				continue
			}
			if deviation("web", rel) {
				used["web "+rel] = true
				continue
			}
			findings = append(findings, finding{fset.Position(pos),
				fmt.Sprintf("package web imports %s: ARCHITECTURE.md lets it import only %v of the module", rel, webAllowed)})
		case !isStd(path):
			findings = append(findings, finding{fset.Position(pos),
				fmt.Sprintf("package web imports %q, outside the standard library and the module", path)})
		}
	}
	report(t, findings)
	staleDeviations(t, used, func(from string) bool { return from == "web" })
}

func deviation(from, to string) bool {
	for _, d := range deviations {
		if d.from == from && d.to == to {
			return true
		}
	}
	return false
}

func report(t *testing.T, findings []finding) {
	t.Helper()
	slices.SortFunc(findings, func(a, b finding) int {
		if c := strings.Compare(a.pos.Filename, b.pos.Filename); c != 0 {
			return c
		}
		return a.pos.Line - b.pos.Line
	})
	for _, f := range findings {
		t.Error(f)
	}
}

// staleDeviations fails for each deviation (of those mine selects) that the
// code no longer has, and logs the others.
func staleDeviations(t *testing.T, used map[string]bool, mine func(from string) bool) {
	t.Helper()
	for _, d := range deviations {
		if !mine(d.from) {
			continue
		}
		if used[d.from+" "+d.to] {
			t.Logf("known deviation from ARCHITECTURE.md: %s imports %s (%s)", d.from, d.to, d.why)
		} else {
			t.Errorf("%s no longer imports %s: remove the deviation from this test", d.from, d.to)
		}
	}
}

// The checker finds what it is meant to find in a snippet, and only that.
func TestCheckCore(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string
	}{
		{"go and time.Now", `package p
import "time"
func f() { go func() {}(); _ = time.Now() }`,
			[]string{"x.go:3: go statement", "x.go:3: time.Now"}},
		{"values of time and clock are fine", `package p
import ("net/netip"; "time"; "github.com/gosynack/synack/clock")
var d = time.Second
func f(now clock.Time) clock.Time { _ = netip.Addr{}; return clock.Min(now.Add(d), clock.Never) }`,
			nil},
		{"renamed time, a clock, locks and sockets", `package p
import (t "time"; "sync"; "net"; "os"; "sync/atomic"; "github.com/gosynack/synack/clock")
var mu sync.Mutex
var c = clock.NewReal()
func f() { t.Sleep(t.Second) }`,
			[]string{`x.go:2: imports "sync"`, `x.go:2: imports "net"`, `x.go:2: imports "os"`, `x.go:2: imports "sync/atomic"`,
				"x.go:4: clock.NewReal", "x.go:5: time.Sleep"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "x.go", c.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := checkCore(fset, f)
			if len(got) != len(c.want) {
				t.Fatalf("%d findings %v, want %d %v", len(got), got, len(c.want), c.want)
			}
			for i, g := range got {
				if !strings.HasPrefix(g.String(), c.want[i]) {
					t.Errorf("finding %d is %q, want it to begin %q", i, g, c.want[i])
				}
			}
		})
	}
}
