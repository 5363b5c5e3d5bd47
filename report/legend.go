package report

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// legendEntry is one row of the legend: a name and how to draw its sample.
type legendEntry struct {
	name  string
	line  *draw.LineStyle  // stroked sample line (nil: none)
	glyph *draw.GlyphStyle // marker in the middle of the sample (nil: none)
	fill  color.Color      // filled swatch, for histograms (nil: none)
}

// bar is a filled rectangle in data coordinates, used as a legend obstacle.
type bar struct{ x0, x1, y float64 }

// legend is drawn as a plotter (added last) rather than through plot.Legend
// because gonum's legend has a fixed corner and no background: this one
// picks the corner that hides the least data (preferring top right) and sits
// on a translucent white box so crossing grid/guide lines do not run through
// the text.
type legend struct {
	entries []legendEntry
	lines   []plotter.XYs // polylines the legend should avoid
	marks   []plotter.XYs // markers the legend should avoid
	bars    []bar         // histogram bars the legend should avoid
}

// Legend layout, in points.
const (
	legendPad    = 4
	legendThumb  = 22
	legendGap    = 5
	legendRowGap = 2
	legendMargin = 5
)

// Plot implements plot.Plotter.
func (l *legend) Plot(c draw.Canvas, p *plot.Plot) {
	if len(l.entries) == 0 {
		return
	}
	sty := textStyle(regularFont, legendSize)
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	fe := sty.FontExtents()
	rowH := max(fe.Ascent+fe.Descent, 2*vg.Points(glyphSize)+2)
	var textW vg.Length
	for _, e := range l.entries {
		textW = max(textW, sty.Width(e.name))
	}
	n := vg.Length(len(l.entries))
	// 10% slack: the SVG does not embed fonts, and a viewer substituting a
	// wider face than Liberation/Arial (e.g. DejaVu) must not overflow the box.
	w := 2*legendPad + legendThumb + legendGap + textW*1.1
	h := 2*legendPad + n*rowH + (n-1)*legendRowGap

	box := l.place(c, p, w, h)

	bg := []vg.Point{box.Min, {X: box.Max.X, Y: box.Min.Y}, box.Max, {X: box.Min.X, Y: box.Max.Y}}
	c.FillPolygon(color.NRGBA{R: 255, G: 255, B: 255, A: 0xE0}, bg)
	c.StrokeLines(draw.LineStyle{Color: color.Gray{Y: 0xBB}, Width: vg.Points(0.5)}, append(bg, bg[0]))

	for k, e := range l.entries {
		cy := box.Max.Y - legendPad - rowH/2 - vg.Length(k)*(rowH+legendRowGap)
		x0 := box.Min.X + legendPad
		x1 := x0 + legendThumb
		if e.fill != nil {
			hh := rowH * 0.35
			sw := []vg.Point{{X: x0, Y: cy - hh}, {X: x1, Y: cy - hh}, {X: x1, Y: cy + hh}, {X: x0, Y: cy + hh}}
			c.FillPolygon(e.fill, sw)
			if e.line != nil {
				c.StrokeLines(*e.line, append(sw, sw[0]))
			}
		} else if e.line != nil {
			c.StrokeLine2(*e.line, x0, cy, x1, cy)
		}
		if e.glyph != nil {
			c.DrawGlyph(*e.glyph, vg.Point{X: (x0 + x1) / 2, Y: cy})
		}
		c.FillText(sty, vg.Point{X: x1 + legendGap, Y: cy}, e.name)
	}
}

// place returns the legend box: the first of top-right, top-left,
// bottom-right, bottom-left that hides the least data. The score is the
// area of data (in pt², lines counted with a nominal width) under the box,
// which is deterministic and cheap even for long loss curves.
func (l *legend) place(c draw.Canvas, p *plot.Plot, w, h vg.Length) vg.Rectangle {
	m := vg.Length(legendMargin)
	left, right := c.Min.X+m, c.Max.X-m-w
	bottom, top := c.Min.Y+m, c.Max.Y-m-h
	cands := []vg.Point{{X: right, Y: top}, {X: left, Y: top}, {X: right, Y: bottom}, {X: left, Y: bottom}}

	trX, trY := p.Transforms(&c)
	best, bestScore := 0, math.Inf(1)
	for i, pt := range cands {
		r := vg.Rectangle{Min: pt, Max: vg.Point{X: pt.X + w, Y: pt.Y + h}}
		s := l.hidden(r, p, trX, trY)
		if s < bestScore-1e-9 {
			best, bestScore = i, s
		}
	}
	pt := cands[best]
	return vg.Rectangle{Min: pt, Max: vg.Point{X: pt.X + w, Y: pt.Y + h}}
}

// hidden estimates how much data the rectangle r would cover.
func (l *legend) hidden(r vg.Rectangle, p *plot.Plot, trX, trY func(float64) vg.Length) float64 {
	// Grow the box a little: data just touching the frame looks covered too.
	r.Min.X -= 2
	r.Min.Y -= 2
	r.Max.X += 2
	r.Max.Y += 2
	score := 0.0
	for _, xys := range l.lines {
		for i := 1; i < len(xys); i++ {
			a := vg.Point{X: trX(xys[i-1].X), Y: trY(xys[i-1].Y)}
			b := vg.Point{X: trX(xys[i].X), Y: trY(xys[i].Y)}
			score += 2 * clippedLength(a, b, r)
		}
	}
	for _, xys := range l.marks {
		for _, q := range xys {
			x, y := trX(q.X), trY(q.Y)
			if x >= r.Min.X && x <= r.Max.X && y >= r.Min.Y && y <= r.Max.Y {
				score += 4 * glyphSize * glyphSize
			}
		}
	}
	floor := p.Y.Min
	for _, b := range l.bars {
		if b.y <= floor {
			continue
		}
		x0, x1 := float64(trX(b.x0)), float64(trX(b.x1))
		y0, y1 := float64(trY(floor)), float64(trY(b.y))
		dx := math.Min(x1, float64(r.Max.X)) - math.Max(x0, float64(r.Min.X))
		dy := math.Min(y1, float64(r.Max.Y)) - math.Max(y0, float64(r.Min.Y))
		if dx > 0 && dy > 0 {
			score += dx * dy
		}
	}
	return score
}

// clippedLength returns the length of segment ab inside r (Liang–Barsky).
func clippedLength(a, b vg.Point, r vg.Rectangle) float64 {
	x0, y0 := float64(a.X), float64(a.Y)
	dx, dy := float64(b.X)-x0, float64(b.Y)-y0
	t0, t1 := 0.0, 1.0
	clip := func(p, q float64) bool {
		if p == 0 {
			return q >= 0
		}
		t := q / p
		if p < 0 {
			if t > t1 {
				return false
			}
			t0 = math.Max(t0, t)
		} else {
			if t < t0 {
				return false
			}
			t1 = math.Min(t1, t)
		}
		return true
	}
	if !clip(-dx, x0-float64(r.Min.X)) || !clip(dx, float64(r.Max.X)-x0) ||
		!clip(-dy, y0-float64(r.Min.Y)) || !clip(dy, float64(r.Max.Y)-y0) {
		return 0
	}
	if t1 <= t0 {
		return 0
	}
	return (t1 - t0) * math.Hypot(dx, dy)
}
