// Package i18n is synack's one message catalogue: each English string a
// learner reads (scenario titles and explanations, the ladder's legend,
// captions and notes, the command line's summaries, the browser view) with
// its Simplified Chinese translation, written in the terms Chinese TCP
// textbooks use (三次握手, 四次挥手, 序号 Seq, 确认号 Ack, 标志位, 窗口, 重传,
// 超时, 半关闭). State names stay in RFC spelling, glossed in Chinese where
// a text first uses them: TIME-WAIT（时间等待）.
//
// The English string is the key: English output is the key itself, so a
// program that never asks for Chinese prints exactly what it printed
// before. A string missing from the catalogue is printed in English.
//
// The package is a leaf of the core (it imports only the standard library
// and does no I/O): the ladder, the simulator, the browser view and the
// command line all use it. It reads no environment itself; FromEnv is
// handed the lookup.
package i18n

import (
	"fmt"
	"sort"
	"strings"
)

// Lang is a language of the catalogue. The zero Lang is English.
type Lang uint8

const (
	English Lang = iota
	Chinese      // Simplified Chinese (zh-CN)
)

// String returns the language's code: "en" or "zh".
func (l Lang) String() string {
	if l == Chinese {
		return "zh"
	}
	return "en"
}

// Parse reads a language code: "en" or "zh" (and their region forms,
// "en-US", "zh_CN", ...).
func Parse(s string) (Lang, error) {
	code := strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(code, "-_.@"); i >= 0 {
		code = code[:i]
	}
	switch code {
	case "en":
		return English, nil
	case "zh":
		return Chinese, nil
	}
	return English, fmt.Errorf("language %q: want zh (简体中文) or en (English)", s)
}

// FromEnv chooses the language as the POSIX locale variables do: the first
// of LC_ALL, LC_MESSAGES and LANG that is set decides, Chinese if it
// starts with "zh", English otherwise (and when none is set).
func FromEnv(getenv func(string) string) Lang {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := getenv(v); s != "" {
			if strings.HasPrefix(strings.ToLower(s), "zh") {
				return Chinese
			}
			return English
		}
	}
	return English
}

// Tr returns msg in language l: msg itself in English, its translation in
// Chinese (msg itself when the catalogue has none).
func (l Lang) Tr(msg string) string {
	if l == Chinese {
		if t, ok := zh[msg]; ok {
			return t
		}
	}
	return msg
}

// Trf formats the translation of format with args, as fmt.Sprintf does.
// The English and Chinese formats have the same verbs (a test checks), so
// that the arguments fit either.
func (l Lang) Trf(format string, args ...any) string {
	return fmt.Sprintf(l.Tr(format), args...)
}

// Has reports whether the catalogue has msg.
func Has(msg string) bool {
	_, ok := zh[msg]
	return ok
}

// Message is one entry of the catalogue.
type Message struct {
	EN, ZH string
}

// Messages returns the catalogue, in its order.
func Messages() []Message { return append([]Message(nil), catalog...) }

var zh = func() map[string]string {
	m := make(map[string]string, len(catalog))
	for _, e := range catalog {
		m[e.EN] = e.ZH
	}
	return m
}()

// Width is the number of terminal columns s takes: two for each East
// Asian wide or fullwidth character (Unicode UAX #11: the CJK ideographs,
// kana, hangul, CJK punctuation, fullwidth forms), one for every other
// character, combining marks included (synack's texts have none).
func Width(s string) int {
	n := 0
	for _, r := range s {
		n++
		if wide(r) {
			n++
		}
	}
	return n
}

// wideRanges are the East Asian Wide (W) and Fullwidth (F) ranges of
// UAX #11 that text in Chinese uses, sorted.
var wideRanges = [][2]rune{
	{0x1100, 0x115F},   // Hangul Jamo initials
	{0x2E80, 0x303E},   // CJK radicals, Kangxi, CJK symbols and punctuation (、。「」)
	{0x3041, 0x33FF},   // kana, bopomofo, CJK compatibility
	{0x3400, 0x4DBF},   // CJK extension A
	{0x4E00, 0x9FFF},   // CJK unified ideographs
	{0xA000, 0xA4CF},   // Yi
	{0xAC00, 0xD7A3},   // Hangul syllables
	{0xF900, 0xFAFF},   // CJK compatibility ideographs
	{0xFE10, 0xFE19},   // vertical forms
	{0xFE30, 0xFE6F},   // CJK compatibility forms, small forms
	{0xFF00, 0xFF60},   // fullwidth forms (，：；（）)
	{0xFFE0, 0xFFE6},   // fullwidth signs
	{0x20000, 0x3FFFD}, // CJK extensions B and later
}

func wide(r rune) bool {
	if r < 0x1100 {
		return false
	}
	for _, w := range wideRanges {
		if r < w[0] {
			return false
		}
		if r <= w[1] {
			return true
		}
	}
	return false
}

// Unwrap joins the lines of a text for a page that flows it: a line break
// between two wide characters (Chinese text) goes, as a Chinese reader
// expects no space there; any other line break becomes a space, as a
// browser would show it.
func Unwrap(s string) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	for i, line := range lines {
		if i > 0 {
			prev, next := lastRune(lines[i-1]), firstRune(line)
			if !(wide(prev) && wide(next)) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

func lastRune(s string) rune {
	r := []rune(s)
	if len(r) == 0 {
		return ' '
	}
	return r[len(r)-1]
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return ' '
}

// TrFilled translates s, which is either a message of the catalogue or a
// format of the catalogue already filled in (a note made with
// fmt.Sprintf("%s ends in TIME-WAIT...", name) by code that did not know
// the language): the arguments are read back out of s (each %s, %v or %d
// matches the shortest text that lets the rest match) and put into the
// translation, each translated in turn (a host's name, a message of its
// own). Of the formats that match, the one with the most text of its own
// is taken. Anything else is returned as it is.
func (l Lang) TrFilled(s string) string {
	if l != Chinese {
		return s
	}
	return trFilled(s, 2)
}

func trFilled(s string, depth int) string {
	if t, ok := zh[s]; ok {
		return t
	}
	if depth == 0 {
		return s
	}
	for _, f := range formats {
		if len(s) < f.minLen || !strings.HasPrefix(s, f.lits[0]) || !strings.HasSuffix(s, f.lits[len(f.lits)-1]) {
			continue
		}
		if args, ok := f.match(s); ok {
			for i, a := range args {
				args[i] = trArg(a.(string), depth-1)
			}
			return fmt.Sprintf(f.zh, args...)
		}
	}
	return s
}

// trArg translates an argument read back out of a filled format: a list of
// catalogue messages joined by ", " (host names: "client, server,
// attacker") is each translated and joined by "、"; anything else is
// translated as trFilled does.
func trArg(s string, depth int) string {
	if parts := strings.Split(s, ", "); len(parts) > 1 {
		out := make([]string, len(parts))
		for i, p := range parts {
			t, ok := zh[p]
			if !ok {
				return trFilled(s, depth)
			}
			out[i] = t
		}
		return strings.Join(out, "、")
	}
	return trFilled(s, depth)
}

// format is a catalogue message with verbs, split at them: lits has one
// more element than verbs; zh is its translation with each verb made %[n]s.
type format struct {
	lits   []string
	digits []bool // the verb is %d
	zh     string
	minLen int
}

// match reads the arguments of f out of s.
func (f *format) match(s string) ([]any, bool) {
	var args []any
	rest := s[len(f.lits[0]):]
	for i := 1; i < len(f.lits); i++ {
		lit := f.lits[i]
		var k int
		if i == len(f.lits)-1 {
			k = len(rest) - len(lit)
			if k < 0 || rest[k:] != lit {
				return nil, false
			}
		} else {
			k = strings.Index(rest, lit)
			if lit == "" || k < 0 {
				return nil, false
			}
		}
		arg := rest[:k]
		if arg == "" || f.digits[i-1] && strings.Trim(arg, "-0123456789") != "" {
			return nil, false
		}
		args = append(args, arg)
		rest = rest[k+len(lit):]
	}
	return args, true
}

// formats are the catalogue's messages with %s, %v and %d verbs only (and
// at least one), with text between each two verbs, for TrFilled.
var formats = func() []format {
	var out []format
	for _, e := range catalog {
		ms := verbRE(e.EN)
		if len(ms) == 0 {
			continue
		}
		f := format{}
		ok, prev := true, 0
		for _, m := range ms {
			v := e.EN[m[0]:m[1]]
			if v != "%s" && v != "%v" && v != "%d" {
				ok = false
				break
			}
			f.lits = append(f.lits, e.EN[prev:m[0]])
			f.digits = append(f.digits, v == "%d")
			prev = m[1]
		}
		f.lits = append(f.lits, e.EN[prev:])
		for i := 1; i < len(f.lits)-1; i++ {
			ok = ok && f.lits[i] != ""
		}
		if !ok {
			continue
		}
		// The translation takes the arguments as strings, by position.
		zh, n := e.ZH, 0
		var b strings.Builder
		for _, m := range verbRE(zh) {
			b.WriteString(zh[n:m[0]])
			v := zh[m[0]:m[1]]
			if v == "%%" {
				b.WriteString(v)
			} else if strings.HasPrefix(v, "%[") {
				b.WriteString(v[:strings.Index(v, "]")+1] + "s")
			} else {
				b.WriteString("%s")
			}
			n = m[1]
		}
		b.WriteString(zh[n:])
		f.zh = b.String()
		for _, lit := range f.lits {
			f.minLen += len(lit)
		}
		out = append(out, f)
	}
	// The most specific first.
	sort.SliceStable(out, func(i, j int) bool { return out[i].minLen > out[j].minLen })
	return out
}()

// verbRE finds the fmt verbs of s ("%s", "%[2]d", "%%"), as index pairs;
// "%%" is reported too, so that it is not taken for a verb's start.
func verbRE(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 >= len(s) {
			continue
		}
		j := i + 1
		if s[j] == '[' {
			k := strings.IndexByte(s[j:], ']')
			if k < 0 {
				continue
			}
			j += k + 1
		}
		for j < len(s) && strings.IndexByte("-+# 0123456789.", s[j]) >= 0 {
			j++
		}
		if j < len(s) {
			if s[j] == '%' && j == i+1 {
				out = append(out, [2]int{i, j + 1})
				i = j
				continue
			}
			out = append(out, [2]int{i, j + 1})
			i = j
		}
	}
	return out
}
