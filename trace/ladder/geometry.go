package ladder

import "math"

// Plane geometry for the SVG layout, which places each text where it
// meets nothing else, and for the test that checks the pictures.

type point struct{ x, y float64 }

// meet reports whether convex polygons a and b overlap by more than half
// a pixel (the separating axis theorem: they are apart if their
// projections on some edge's normal are). A polygon of two points is a
// line segment.
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

// poly is a convex polygon with its bounding box, for a quick test first.
type poly struct {
	pts                    []point
	minX, minY, maxX, maxY float64
}

func newPoly(pts ...point) poly {
	p := poly{pts: pts, minX: math.Inf(1), minY: math.Inf(1), maxX: math.Inf(-1), maxY: math.Inf(-1)}
	for _, q := range pts {
		p.minX, p.maxX = min(p.minX, q.x), max(p.maxX, q.x)
		p.minY, p.maxY = min(p.minY, q.y), max(p.maxY, q.y)
	}
	return p
}

func (p poly) meets(q poly) bool {
	if p.maxX < q.minX || q.maxX < p.minX || p.maxY < q.minY || q.maxY < p.minY {
		return false
	}
	return meet(p.pts, q.pts)
}

func rectPoly(x, y, w, h float64) poly {
	return newPoly(point{x, y}, point{x + w, y}, point{x + w, y + h}, point{x, y + h})
}

// textPoly is the box of a line of text s at font size px with its
// baseline at (x, y), anchored as text-anchor says, rotated by deg
// degrees about (rx, ry), grown by margin on each side, and by 1% of its
// width more at each end: DejaVu Sans Mono and Menlo advance 0.602 em,
// not the 0.6 em of the model.
func textPoly(s string, px, x, y float64, anchor string, deg, rx, ry, margin float64) poly {
	w := textWidth(s, px)
	switch anchor {
	case "middle":
		x -= w / 2
	case "end":
		x -= w
	}
	top, bot := y-svgAscent*px-margin, y+svgDescent*px+margin
	mx := margin + w/100
	pts := []point{{x - mx, top}, {x + w + mx, top}, {x + w + mx, bot}, {x - mx, bot}}
	if deg != 0 {
		sin, cos := math.Sincos(deg * math.Pi / 180)
		for i, p := range pts {
			dx, dy := p.x-rx, p.y-ry
			pts[i] = point{rx + dx*cos - dy*sin, ry + dx*sin + dy*cos}
		}
	}
	return newPoly(pts...)
}
