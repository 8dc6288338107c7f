package ladder

import "github.com/gosynack/synack/trace/i18n"

// The text-width model of the SVG picture, which its overlap test uses:
// in a monospace font a Latin character advances about 0.6 em, and a CJK
// character (East Asian wide, i18n.Width counts it as two columns) about
// twice that. Bold text advances as much as plain.
const svgEm = 0.6

// textWidth is the width in pixels of s at font size px.
func textWidth(s string, px float64) float64 {
	return float64(i18n.Width(s)) * svgEm * px
}

// A line of text at font size px reaches this far above its baseline and
// below it (CJK glyphs reach lower than Latin ones).
const (
	svgAscent  = 0.8
	svgDescent = 0.25
)
