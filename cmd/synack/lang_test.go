package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/i18n"
)

// The tests' output must not depend on the locale of whoever runs them:
// --lang defaults from none.
func init() { getenv = func(string) string { return "" } }

// --lang's default comes from LC_ALL, then LC_MESSAGES, then LANG.
func TestLangFromEnv(t *testing.T) {
	defer func(old func(string) string) { getenv = old }(getenv)
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LANG": "zh_CN.UTF-8"}, "三次握手"},
		{map[string]string{"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "The three-way handshake"},
		{map[string]string{"LANG": "C", "LC_ALL": "zh_CN.UTF-8"}, "三次握手"},
		{map[string]string{}, "The three-way handshake"},
	} {
		getenv = func(k string) string { return c.env[k] }
		out, errOut, code := runCLI(t, "scenario", "list")
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.env, code, errOut)
		}
		if !strings.Contains(out, c.want) {
			t.Errorf("%v: scenario list lacks %q:\n%s", c.env, c.want, out)
		}
	}
	getenv = func(string) string { return "zh_CN.UTF-8" }
	if out, _, _ := runCLI(t, "scenario", "list", "--lang", "en"); !strings.Contains(out, "The three-way handshake") {
		t.Errorf("--lang en does not override LANG=zh_CN:\n%s", out)
	}
}

func TestLangFlag(t *testing.T) {
	out, errOut, code := runCLI(t, "--lang", "zh", "scenario", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^handshake +三次握手$`).MatchString(out) || strings.Contains(out, "The three-way handshake") {
		t.Errorf("exit %d, %s:\n%s", code, errOut, out)
	}
	out, _, code = runCLI(t, "demo", "--lang", "zh")
	for _, w := range []string{"一条完整的连接", "（场景 demo，种子 1）", "图例：", "TIME-WAIT（时间等待）", "虚拟时间"} {
		if !strings.Contains(out, w) {
			t.Errorf("demo --lang zh (exit %d) lacks %q:\n%s", code, w, out)
		}
	}
	// The counters' table is aligned as a terminal shows it: each row
	// as wide, a Chinese character counted as two columns.
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	table := lines[len(lines)-3:]
	if !strings.HasPrefix(strings.TrimSpace(table[1]), "客户端") {
		t.Errorf("the table's rows are not named in Chinese:\n%s", strings.Join(table, "\n"))
	}
	for _, row := range table[1:] {
		if i18n.Width(row) != i18n.Width(table[0]) {
			t.Errorf("the counters' table is not aligned:\n%s", strings.Join(table, "\n"))
			break
		}
	}
	_, errOut, code = runCLI(t, "scenario", "list", "--lang", "fr")
	if code != 2 || !strings.Contains(errOut, `--lang`) || !strings.Contains(errOut, `"fr"`) || !strings.Contains(errOut, "zh") {
		t.Errorf("--lang fr: exit %d, %q; want a usage error naming the flag, the value and the choices", code, errOut)
	}
}

// Every scenario's full output in Chinese is a golden file too
// (testdata/NAME.zh.golden), read by a learner's eyes when it changes.
func TestScenarioGoldenZH(t *testing.T) {
	for _, name := range sim.Names() {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "scenario", "run", name, "--lang", "zh", "--seed", "1")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			checkGolden(t, filepath.Join("testdata", name+".zh.golden"), out)
		})
	}
}

// An impaired run's notes, and the http scenario, in Chinese.
func TestGoldenZHMore(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"lossy-lost-final-ack.zh", []string{"scenario", "run", "lost-final-ack", "--loss", "20%", "--dup", "10%", "--seed", "3", "--lang", "zh"}},
		{"http.zh", []string{"scenario", "run", "http", "--lang", "zh"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			checkGolden(t, filepath.Join("testdata", c.name+".golden"), out)
		})
	}
}
