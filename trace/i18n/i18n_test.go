package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// verbs matches the fmt verbs of a format, with their argument index,
// flags, width and precision ("%[2]s", "%-5d", "%%"). A space after a
// per cent sign is prose ("5% loss", "20% of packets", in messages only
// ever given to Tr), not fmt's space flag, which the catalogue does not use.
var verbs = regexp.MustCompile(`%(\[\d+\])?[-+#0]*(\*|\d+)?(\.(\*|\d+))?[a-zA-Z%]`)

var argIndex = regexp.MustCompile(`\[\d+\]`)

// placeholders are the verbs of s without their argument indexes, sorted:
// a translation may take the arguments in another order ("%[2]s").
func placeholders(s string) []string {
	p := verbs.FindAllString(s, -1)
	for i := range p {
		p[i] = argIndex.ReplaceAllString(p[i], "")
	}
	slices.Sort(p)
	return p
}

// TestEveryEntryTranslated fails naming each English entry without its
// Chinese, each entry whose Chinese has other fmt verbs than its English
// (the same arguments must fit both), and each English string given twice.
func TestEveryEntryTranslated(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range catalog {
		if seen[m.EN] {
			t.Errorf("%q is in the catalogue twice", m.EN)
		}
		seen[m.EN] = true
		if strings.TrimSpace(m.ZH) == "" {
			t.Errorf("no Chinese translation of %q", m.EN)
			continue
		}
		if en, zh := placeholders(m.EN), placeholders(m.ZH); !slices.Equal(en, zh) {
			t.Errorf("%q has placeholders %v but its Chinese %q has %v", m.EN, en, m.ZH, zh)
		}
		if strings.HasSuffix(m.EN, "\n") != strings.HasSuffix(m.ZH, "\n") {
			t.Errorf("%q and its Chinese %q do not both end a line", m.EN, m.ZH)
		}
	}
}

// TestCallsUseTheCatalogue finds every Tr and Trf call of the module whose
// message is a string constant and fails for one the catalogue lacks: its
// Chinese output would silently be English.
func TestCallsUseTheCatalogue(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	calls := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			// Tr and Trf take the message first; package sim's notes
			// (Run.note, Run.excuse) are said in a language later.
			arg := map[string]int{"Tr": 0, "Trf": 0, "note": 0, "excuse": 1}
			at, ok := arg[sel.Sel.Name]
			if sel.Sel.Name == "note" || sel.Sel.Name == "excuse" {
				ok = ok && filepath.Base(filepath.Dir(path)) == "sim"
			}
			if !ok || len(call.Args) <= at {
				return true
			}
			msg, ok := constString(call.Args[at])
			if !ok {
				return true
			}
			calls++
			if !Has(msg) {
				t.Errorf("%s: %s(%q): not in the catalogue", fset.Position(call.Pos()), sel.Sel.Name, msg)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Fatal("found no Tr or Trf call with a constant message: the search is broken")
	}
}

// constString evaluates a string literal or a sum of them.
func constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		x, ok1 := constString(e.X)
		y, ok2 := constString(e.Y)
		return x + y, ok1 && ok2
	case *ast.ParenExpr:
		return constString(e.X)
	}
	return "", false
}

func TestTr(t *testing.T) {
	if got := English.Tr("The three-way handshake"); got != "The three-way handshake" {
		t.Errorf("English: %q", got)
	}
	if got := Chinese.Tr("The three-way handshake"); got != "三次握手" {
		t.Errorf("Chinese: %q", got)
	}
	if got := Chinese.Tr("not in the catalogue"); got != "not in the catalogue" {
		t.Errorf("a message the catalogue lacks: %q, want it in English", got)
	}
	if got := Chinese.Trf("lost: %s", "rule"); got != "丢失：rule" {
		t.Errorf("Trf: %q", got)
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Lang
	}{{"en", English}, {"zh", Chinese}, {"ZH", Chinese}, {"zh_CN.UTF-8", Chinese}, {"zh-Hans", Chinese}, {"en_US", English}} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "fr", "chinese"} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("Parse(%q): error %v, want one naming the input", bad, err)
		}
	}
}

func TestFromEnv(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want Lang
	}{
		{map[string]string{}, English},
		{map[string]string{"LANG": "zh_CN.UTF-8"}, Chinese},
		{map[string]string{"LANG": "en_US.UTF-8"}, English},
		{map[string]string{"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "C"}, English},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW"}, Chinese},
		{map[string]string{"LC_ALL": "en_GB", "LC_MESSAGES": "zh_CN"}, English},
		{map[string]string{"LC_ALL": "zh_CN.UTF-8", "LANG": "C"}, Chinese},
		{map[string]string{"LC_ALL": "", "LANG": "zh_CN"}, Chinese},
	} {
		if got := FromEnv(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("FromEnv(%v) = %v, want %v", c.env, got, c.want)
		}
	}
}

func TestWidth(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{
		{"", 0}, {"SYN-SENT", 8}, {"──▷", 3}, {"2·MSL", 5},
		{"三次握手", 8}, {"注：", 4}, {"（时间等待）", 12}, {"#1 S 到达", 9}, {"𠀀", 2},
	} {
		if got := Width(c.s); got != c.want {
			t.Errorf("Width(%q) = %d, want %d", c.s, got, c.want)
		}
	}
}

func TestUnwrap(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"one\ntwo", "one two"},
		{"三次\n握手", "三次握手"},
		{"进入\nTIME-WAIT（时间等待）", "进入 TIME-WAIT（时间等待）"},
		{"FIN\n都还没有", "FIN 都还没有"},
		{"确认，\n然后", "确认，然后"},
	} {
		if got := Unwrap(c.in); got != c.want {
			t.Errorf("Unwrap(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TrFilled reads a filled-in format's arguments back and puts them, each
// translated, into the format's translation; the most specific format
// wins; what matches nothing stays as it is.
func TestTrFilled(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"window full", "窗口已满"},
		{"client recorded no state changes: its state is unknown", "客户端 没有记录任何状态变化：它的状态未知"},
		{"198.18.0.2:80's state before the capture is unknown", "198.18.0.2:80 在抓包开始前的状态未知"},
		{"duplicate ACK #2 of #7", "第 2 个重复确认（重复 #7）"},
		{"fast retransmission, after 3 duplicate ACKs", "快重传，在 3 个重复确认之后"},
		{"fast retransmission, after x duplicate ACKs", "fast retransmission, after x duplicate ACKs"}, // %d must be a number
		{"2 ICMP messages quote this connection's segments: drawn when captured, to the host that sent the quoted segment, " +
			"from the host or the router (◇) that sent it; a host heeds one only if the quoted seq is one it sent and is unacknowledged " +
			"(RFC 5927 §4.1), and whether it then gives up is its own choice (RFC 1122 §4.2.3.9, RFC 5461): the states are not inferred from ICMP",
			"2 个 ICMP 报文引用了这条连接的报文段：画在被捕获的时刻，从发出它的主机或路由器（◇）指向发出被引用报文段的主机；" +
				"主机只有在被引用的 seq 是它发出且尚未被确认的时候才理会它（RFC 5927 §4.1），" +
				"理会之后是否放弃连接由主机自己决定（RFC 1122 §4.2.3.9，RFC 5461）：状态不根据 ICMP 推断"},
		{"nothing like a message", "nothing like a message"},
		// A list of names is translated name by name.
		{"the events name 3 hosts (client, server, attacker); showing client and server",
			"事件中出现了 3 台主机（客户端、服务器、攻击者）；这里只画客户端和服务器"},
		{"the events name 3 hosts (client, server, mallory); showing client and server",
			"事件中出现了 3 台主机（client, server, mallory）；这里只画客户端和服务器"},
	} {
		if got := Chinese.TrFilled(c.in); got != c.want {
			t.Errorf("TrFilled(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := English.TrFilled(c.in); got != c.in {
			t.Errorf("English TrFilled(%q) = %q", c.in, got)
		}
	}
}
