package ladder

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The overlap checker: it reads an SVG picture as a browser would place
// it (encoding/xml, the layout's own text-width model) and reports every
// text whose box meets another text, an arrow (shaft, head, cross), a
// lifeline, a state box or any other mark; and every two state boxes that
// meet. Arrows may cross arrows: packets in flight at once do.

// shape is a convex polygon (two points: a line segment) and what it is.
type shape struct {
	pts   []point
	text  bool   // a line of text's box
	box   bool   // a rect (a state box)
	group int    // the innermost <g> it is in (0: none)
	what  string // how a failure names it
}

// svgNode is an element being read, with what its children inherit.
type svgNode struct {
	name, class string
	attr        map[string]string
	size        float64 // font size
	anchor      string
	group       int
	gdesc       string
	text        strings.Builder
	lines       int // <tspan> lines written
}

// SVGOverlaps lists the overlaps in the SVG picture s, each naming the two
// items; an error if s is not a picture it can read.
func SVGOverlaps(s string) ([]string, error) {
	shapes, err := svgShapes(s)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, a := range shapes {
		for _, b := range shapes[i+1:] {
			switch {
			case a.text || b.text:
				if (a.box || b.box) && a.group == b.group {
					continue // the words in their own box
				}
			case a.box && b.box:
			default:
				continue
			}
			if meet(a.pts, b.pts) {
				out = append(out, a.what+" overlaps "+b.what)
			}
		}
	}
	return out, nil
}

// svgShapes reads the shapes of picture s.
func svgShapes(s string) ([]shape, error) {
	dec := xml.NewDecoder(strings.NewReader(s))
	var stack []*svgNode
	var out []shape
	groups := 0
	add := func(n *svgNode, pts []point, text, box bool, what string) {
		if t := n.attr["transform"]; t != "" {
			var a, cx, cy float64
			if _, err := fmt.Sscanf(t, "rotate(%g %g %g)", &a, &cx, &cy); err != nil {
				return
			}
			sin, cos := math.Sincos(a * math.Pi / 180)
			for i, p := range pts {
				dx, dy := p.x-cx, p.y-cy
				pts[i] = point{cx + dx*cos - dy*sin, cy + dx*sin + dy*cos}
			}
		}
		if n.gdesc != "" {
			what += " in " + n.gdesc
		}
		out = append(out, shape{pts: pts, text: text, box: box, group: n.group, what: what})
	}
	textLine := func(n *svgNode, x, y float64, s string) {
		if strings.TrimSpace(s) == "" {
			return
		}
		w := textWidth(s, n.size)
		switch n.anchor {
		case "middle":
			x -= w / 2
		case "end":
			x -= w
		}
		top, bot := y-svgAscent*n.size, y+svgDescent*n.size
		add(n, []point{{x, top}, {x + w, top}, {x + w, bot}, {x, bot}}, true, false,
			fmt.Sprintf("text.%s %q", n.class, strings.TrimSpace(s)))
	}
	f := func(n *svgNode, k string) float64 {
		v, _ := strconv.ParseFloat(n.attr[k], 64)
		return v
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &svgNode{name: tok.Name.Local, attr: map[string]string{}, size: 12, anchor: "start"}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				n.size, n.anchor, n.group, n.gdesc = p.size, p.anchor, p.group, p.gdesc
				if p.name == "text" { // a tspan
					n.attr["transform"] = p.attr["transform"]
				}
			}
			for _, a := range tok.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			n.class = n.attr["class"]
			if v, err := strconv.ParseFloat(n.attr["font-size"], 64); err == nil {
				n.size = v
			}
			if v := n.attr["text-anchor"]; v != "" {
				n.anchor = v
			}
			if n.name == "g" {
				groups++
				n.group = groups
				n.gdesc = "g." + strings.ReplaceAll(n.class, " ", ".")
				for _, k := range []string{"data-n", "data-row", "data-side", "data-state"} {
					if v, ok := n.attr[k]; ok {
						n.gdesc += fmt.Sprintf(" %s=%s", k, v)
					}
				}
			}
			stack = append(stack, n)
			what := n.name + "." + strings.ReplaceAll(n.class, " ", ".")
			switch n.name {
			case "line":
				add(n, []point{{f(n, "x1"), f(n, "y1")}, {f(n, "x2"), f(n, "y2")}}, false, false, what)
			case "rect":
				if n.class == "bg" || n.class == "now" {
					break // the background; the viewer's band
				}
				x, y, w, h := f(n, "x"), f(n, "y"), f(n, "width"), f(n, "height")
				add(n, []point{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}}, false, true, what)
			case "circle":
				x, y, r := f(n, "cx"), f(n, "cy"), f(n, "r")
				add(n, []point{{x - r, y - r}, {x + r, y - r}, {x + r, y + r}, {x - r, y + r}}, false, false, what)
			case "polygon":
				var pts []point
				for _, xy := range strings.Fields(n.attr["points"]) {
					var p point
					if _, err := fmt.Sscanf(xy, "%g,%g", &p.x, &p.y); err != nil {
						return nil, fmt.Errorf("%s: points %q", what, n.attr["points"])
					}
					pts = append(pts, p)
				}
				add(n, pts, false, false, what)
			case "path":
				// Crosses: M x y L x y, twice.
				d := strings.NewReplacer("M", " M ", "L", " L ").Replace(n.attr["d"])
				fs := strings.Fields(d)
				for i := 0; i+5 < len(fs); i += 6 {
					var x1, y1, x2, y2 float64
					if _, err := fmt.Sscanf(strings.Join(fs[i:i+6], " "), "M %g %g L %g %g", &x1, &y1, &x2, &y2); err != nil {
						return nil, fmt.Errorf("%s: path %q", what, n.attr["d"])
					}
					add(n, []point{{x1, y1}, {x2, y2}}, false, false, what)
				}
			}
		case xml.EndElement:
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch n.name {
			case "text":
				textLine(n, f(n, "x"), f(n, "y"), n.text.String())
			case "tspan":
				p := stack[len(stack)-1]
				p.lines++
				x, y := f(p, "x"), f(p, "y")
				if _, ok := n.attr["x"]; ok {
					x = f(n, "x")
				}
				if _, ok := n.attr["y"]; ok {
					y = f(n, "y")
				}
				n.class = p.class
				textLine(n, x, y, n.text.String())
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(tok)
			}
		}
	}
	return out, nil
}

// The checker finds what it is for: a text across an arrow, two texts on
// each other, a rotated text over another; and passes what is apart.
func TestSVGOverlapsChecker(t *testing.T) {
	const head = `<svg xmlns="http://www.w3.org/2000/svg" font-size="12">`
	for _, c := range []struct {
		svg  string
		want int
	}{
		{`<text class="label" x="10" y="20">abcdef</text><line class="shaft" x1="30" y1="0" x2="30" y2="40"/>`, 1},
		{`<text class="label" x="10" y="20">abcdef</text><line class="shaft" x1="60" y1="0" x2="60" y2="40"/>`, 0},
		{`<text class="a" x="10" y="20">abc</text><text class="b" x="30" y="24">abc</text>`, 1},
		{`<text class="a" x="10" y="20">abc</text><text class="b" x="10" y="33" font-size="11">abc</text>`, 0},
		// Six CJK characters are as wide as twelve Latin ones.
		{`<text class="a" x="10" y="20">三次握手四次</text><text class="b" x="90" y="20">x</text>`, 1},
		{`<text class="a" x="10" y="20">abcdef</text><text class="b" x="90" y="20">x</text>`, 0},
		{`<text class="a" x="100" y="20" text-anchor="end">abcdef</text><text class="b" x="60" y="20">x</text>`, 1},
		{`<text class="a" x="10" y="20" transform="rotate(90 10 20)">abcdefgh</text><text class="b" x="4" y="60">x</text>`, 1},
		{`<text class="a" x="10" y="20"><tspan x="10" y="20">ab</tspan><tspan x="10" y="33">abcdefghijkl</tspan></text><line x1="60" y1="28" x2="90" y2="28"/>`, 1},
		{`<g class="state"><rect x="0" y="0" width="80" height="18"/><text x="40" y="13" text-anchor="middle">CLOSED</text></g>`, 0},
		{`<g class="state"><rect x="0" y="0" width="80" height="18"/></g><g><text x="40" y="13">CLOSED</text></g>`, 1},
		{`<path class="end cross" d="M15 15L25 25M15 25L25 15"/><text x="10" y="24">abc</text>`, 2},
		{`<line x1="0" y1="0" x2="100" y2="100"/><line x1="0" y1="100" x2="100" y2="0"/>`, 0},
	} {
		got, err := SVGOverlaps(head + c.svg + "</svg>")
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %d overlaps %q (%v), want %d", c.svg, len(got), got, err, c.want)
		}
	}
	if _, err := SVGOverlaps(head + "<text>"); err == nil {
		t.Error("no error for a picture cut short")
	}
}

// The checker fails whole pictures that overlap: one drawn by the layout
// this package had before (labels along the arrows, wherever they fell),
// and today's picture of a connection spoilt on purpose: a label written
// twice, 3 px apart, and a state box moved onto an arrow's label. The
// unspoilt picture passes.
func TestSVGOverlapsSpoilt(t *testing.T) {
	old, err := os.ReadFile("testdata/overlapping_old_layout.svg")
	if err != nil {
		t.Fatal(err)
	}
	got, err := SVGOverlaps(string(old))
	if err != nil {
		t.Fatal(err)
	}
	want := `text.label "#3 A seq=1 ack=1 win=65536 len=0" in g.pkt data-n=3 data-row=4 overlaps text.label "#4 PA seq=1 ack=1 win=65536 len=32" in g.pkt data-n=4 data-row=5`
	if !slices.Contains(got, want) || len(got) != 7 {
		t.Errorf("the old layout's picture: %d overlaps %q, want 7 with\n%s", len(got), got, want)
	}

	var b bytes.Buffer
	if err := WriteSVG(&b, build(t, fullExchange(), Options{}), SVGOptions{Title: "A whole connection"}); err != nil {
		t.Fatal(err)
	}
	clean := b.String()
	if got, err := SVGOverlaps(clean); err != nil || len(got) != 0 {
		t.Fatalf("the unspoilt picture: %q (%v)", got, err)
	}
	label := regexp.MustCompile(`<text class="label" x="([0-9.]+)" y="([0-9.]+)"[^>]*>#1 [^<]*</text>`)
	m := label.FindStringSubmatchIndex(clean)
	if m == nil {
		t.Fatal("no label of #1 in the picture")
	}
	line := clean[m[0]:m[1]]
	y, _ := strconv.ParseFloat(clean[m[4]:m[5]], 64)
	twice := strings.Replace(line, `y="`+clean[m[4]:m[5]]+`"`, `y="`+num(y+3)+`"`, 1)
	spoilt := clean[:m[1]] + "\n" + twice + clean[m[1]:]
	if got, _ := SVGOverlaps(spoilt); len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), `text.label "#1 S`) {
		t.Errorf("a label written twice, 3 px apart: overlaps %q", got)
	}
	x, _ := strconv.ParseFloat(clean[m[2]:m[3]], 64)
	box := fmt.Sprintf(`<g class="state"><rect x="%s" y="%s" width="60" height="18"/></g>`, num(x+20), num(y-20))
	spoilt = strings.Replace(clean, "</svg>", box+"</svg>", 1)
	if got, _ := SVGOverlaps(spoilt); len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), `overlaps rect.`) && !strings.Contains(strings.Join(got, "\n"), `rect. in g.state overlaps`) {
		t.Errorf("a state box on a label: overlaps %q", got)
	}
}

// Long head lines are cut at spaces, or beside a Chinese character but
// not before Chinese punctuation, into lines no wider than asked; a word
// wider than that stays whole.
func TestWrapText(t *testing.T) {
	for _, c := range []struct {
		s    string
		cols int // the width asked, in columns of 12 px text
		want []string
	}{
		{"note: the capture has no handshake", 16, []string{"note: the", "capture has no", "handshake"}},
		{"short", 16, []string{"short"}},
		{"a-very-long-word-indeed ok", 10, []string{"a-very-long-word-indeed", "ok"}},
		{"注：抓包中没有三次握手，所以不检查", 13, []string{"注：抓包中没", "有三次握手，", "所以不检查"}},
		{"三次握手，四次挥手", 9, []string{"三次握", "手，四次", "挥手"}},
	} {
		got := wrapText(c.s, 12, float64(c.cols)*svgEm*12)
		if !slices.Equal(got, c.want) {
			t.Errorf("wrapText(%q, %d columns) = %q, want %q", c.s, c.cols, got, c.want)
		}
	}
}
