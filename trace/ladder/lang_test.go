package ladder

import (
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/tcp/state"
	"github.com/gosynack/synack/trace/i18n"
)

// heldSYNEvents is TestHeldSYN's exchange: a held SYN, its retransmission
// after the RTO, a late arrival answered with a challenge ACK.
func heldSYNEvents() *script {
	s := newScript()
	s.state(server, nil, state.Closed, state.Listen)
	s.state(client, server, state.Closed, state.SynSent)
	syn := s.send(client, server, "S", 0, 0, 0)
	s.hold(syn, "rule: hold 1st S for 1.45s: until 1.500000s")
	s.at(time.Second)
	syn2 := s.resend(client, server, "S", 0, 0, 0, "RTO")
	s.at(1050 * ms)
	s.deliver(syn2)
	s.state(server, client, state.Listen, state.SynReceived)
	synack := s.send(server, client, "SA", 0, 1, 0)
	s.at(1100 * ms)
	s.deliver(synack)
	s.state(client, server, state.SynSent, state.Established)
	s.at(1500 * ms)
	s.deliver(syn)
	return s
}

// In Chinese the ladder says its own words in Chinese (the states and the
// segments' canonical lines stay as they are), and stays aligned although
// each Chinese character takes two columns of a terminal.
func TestChinese(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  Options
		want []string
	}{
		{"full exchange", Options{Lang: i18n.Chinese, Timers: true},
			[]string{"时间", "客户端", "服务器", "到达", "图例：", "TIME-WAIT 定时器", "seq（序号）与 ack（确认号）为相对值"}},
		{"full exchange, ascii", Options{Lang: i18n.Chinese, ASCII: true, Absolute: true},
			[]string{"时间", "绝对序号", "到达"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := render(t, fullExchange(), c.opt)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("no %q in:\n%s", w, got)
				}
			}
			for _, en := range []string{"arrives", "legend", "time ", "relative"} {
				if strings.Contains(got, en) {
					t.Errorf("English %q in the Chinese diagram:\n%s", en, got)
				}
			}
		})
	}
	got := render(t, heldSYNEvents().ev, Options{Lang: i18n.Chinese})
	for _, w := range []string{"被链路扣留（按场景设定，时长 1.45s，直到 1.500000s）", "#1 的重传（RTO 超时）", "#1 S 到达（曾被链路扣留）"} {
		if !strings.Contains(got, w) {
			t.Errorf("no %q in:\n%s", w, got)
		}
	}
}

// The English diagram is the one it always was: the language is only
// asked for.
func TestEnglishByDefault(t *testing.T) {
	en := render(t, heldSYNEvents().ev, Options{Lang: i18n.English})
	if def := render(t, heldSYNEvents().ev, Options{}); en != def {
		t.Errorf("Lang English differs from the default:\n%s", diffLines(def, en))
	}
	if !strings.Contains(en, "held back by the link (for 1.45s, as the scenario asks, until 1.500000s)") {
		t.Errorf("the English hold reason changed:\n%s", en)
	}
}

func diffLines(a, b string) string {
	var out []string
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "- "+x, "+ "+y)
		}
	}
	return strings.Join(out, "\n")
}

// The SVG picture and the HTML stepper speak the diagram's language too.
func TestChineseSVGAndHTML(t *testing.T) {
	d, err := Build(fullExchange(), Options{Lang: i18n.Chinese})
	if err != nil {
		t.Fatal(err)
	}
	var svg, html strings.Builder
	if err := WriteSVG(&svg, d, SVGOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, d, HTMLOptions{Title: "三次握手"}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{">客户端<", ">时间<", "客户端发出", "途中丢失", "seq（序号）与 ack（确认号）为相对值"} {
		if !strings.Contains(svg.String(), w) {
			t.Errorf("SVG lacks %q", w)
		}
	}
	for _, w := range []string{`<html lang="zh-CN">`, "▶ 播放", "TCP 连接状态", `"words":{"before":"第一个报文段之前：客户端处于 CLOSED`, "第 %d 行，共 %d 行", "到达服务器"} {
		if !strings.Contains(html.String(), w) {
			t.Errorf("HTML lacks %q", w)
		}
	}
	// The viewer's script keeps its English words for English pages.
	page, _, _ := strings.Cut(html.String(), "<script>\n")
	for _, en := range []string{"sent by", ">time<", "▶ play", "arrives at"} {
		if strings.Contains(svg.String()+page, en) {
			t.Errorf("English %q in the Chinese SVG or HTML", en)
		}
	}
}
