package ladder

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
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

type point struct{ x, y float64 }

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

// meet reports whether convex polygons a and b overlap by more than half
// a pixel (the separating axis theorem: they are apart if their
// projections on some edge's normal are).
func meet(a, b []point) bool {
	const eps = 0.5
	for _, poly := range [][]point{a, b} {
		for i := range poly {
			p, q := poly[i], poly[(i+1)%len(poly)]
			axes := []point{{q.y - p.y, p.x - q.x}}
			if len(poly) == 2 {
				axes = append(axes, point{q.x - p.x, q.y - p.y})
			}
			for _, ax := range axes {
				l := math.Hypot(ax.x, ax.y)
				if l == 0 {
					continue
				}
				ax.x, ax.y = ax.x/l, ax.y/l
				amin, amax := project(a, ax)
				bmin, bmax := project(b, ax)
				if amax < bmin+eps || bmax < amin+eps {
					return false
				}
			}
		}
	}
	return true
}

func project(poly []point, ax point) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range poly {
		v := p.x*ax.x + p.y*ax.y
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
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
