package report

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of a line plot. Its colour (and marker shape) is fixed
// by its index in LinePlot.Series, so the same run keeps the same colour
// across figures as long as callers keep the order.
type Series struct {
	Name   string // legend label; empty = not listed in the legend
	X, Y   []float64
	Dashed bool
	Points bool // draw markers too
	// Lo and Hi, when set (same length as X), are a band around the line
	// (e.g. the min–max over seeds), filled in the series' colour.
	Lo, Hi []float64
	// Of names another series: this one is a detail of it (one seed's
	// curve), drawn as a thin line in its colour and left out of the legend.
	Of string
}

// LinePlot is a single-panel line plot (loss curves, learning-rate
// schedules, ...).
type LinePlot struct {
	Title, XLabel, YLabel string
	Series                []Series
	LogX, LogY            bool
	YMin, YMax            float64   // both 0 = automatic; otherwise both are used as given
	VLines                []float64 // vertical guide lines (e.g. restart steps), thin grey dashed
	// ZeroLine draws a horizontal reference at y = 0 (figures of a
	// difference), keeping 0 inside the Y range.
	ZeroLine bool
}

// yPad is the fraction of the Y span added above and below automatic ranges
// so curves do not run along the frame.
const yPad = 0.04

// Save writes path+".png" and path+".svg" (path has no extension; a trailing
// ".png"/".svg" is stripped), width×height in inches; it creates parent
// directories. Nothing is written unless both renderings succeed.
func (p LinePlot) Save(path string, width, height float64) error {
	if err := checkSize(width, height); err != nil {
		return fmt.Errorf("report: line plot %q: %w", p.Title, err)
	}
	plt, err := p.build(width, height)
	if err != nil {
		return fmt.Errorf("report: line plot %q: %w", p.Title, err)
	}
	return saveFigure(path, vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch,
		func(c draw.Canvas) { drawPlot(plt, c, c.Max.Y) })
}

// build validates the input and assembles the gonum plot for a figure of
// width×height inches.
func (p LinePlot) build(width, height float64) (*plot.Plot, error) {
	if len(p.Series) == 0 {
		return nil, errors.New("no series")
	}
	explicitY := p.YMin != 0 || p.YMax != 0
	if explicitY {
		switch {
		case !finite(p.YMin) || !finite(p.YMax):
			return nil, fmt.Errorf("YMin/YMax must be finite, got [%g, %g]", p.YMin, p.YMax)
		case p.YMin >= p.YMax:
			return nil, fmt.Errorf("YMin (%g) must be below YMax (%g)", p.YMin, p.YMax)
		case p.LogY && p.YMin <= 0:
			return nil, fmt.Errorf("LogY needs YMin > 0, got %g", p.YMin)
		}
	}
	for i, x := range p.VLines {
		if !finite(x) || (p.LogX && x <= 0) {
			return nil, fmt.Errorf("VLines[%d] = %g cannot be drawn on this X axis", i, x)
		}
	}

	clean := make([]plotter.XYs, len(p.Series))
	drawn := 0
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for i, s := range p.Series {
		xys, err := cleanSeries(i, s, p.LogX, p.LogY)
		if err != nil {
			return nil, err
		}
		for j := range xys {
			xys[j].X, xys[j].Y = toPlot(xys[j].X, p.LogX), toPlot(xys[j].Y, p.LogY)
		}
		clean[i] = xys
		if len(xys) > 0 {
			drawn++
		}
		for _, q := range xys {
			xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
			ymin, ymax = math.Min(ymin, q.Y), math.Max(ymax, q.Y)
		}
	}

	if drawn == 0 {
		return nil, errors.New("no series has a finite point")
	}
	if p.ZeroLine && !p.LogY {
		ymin, ymax = math.Min(ymin, 0), math.Max(ymax, 0)
	}

	plt := newPlot(p.Title, p.XLabel, p.YLabel)
	axisScale(&plt.X, p.LogX, width)
	axisScale(&plt.Y, p.LogY, height)
	if len(p.VLines) > 0 {
		xs := make([]float64, len(p.VLines))
		for i, x := range p.VLines {
			xs[i] = toPlot(x, p.LogX)
		}
		plt.Add(vlines{xs: xs})
	}
	if p.ZeroLine && !p.LogY {
		plt.Add(hline{y: 0})
	}
	colourOf := map[string]int{}
	for i, s := range p.Series {
		if _, ok := colourOf[s.Name]; !ok && s.Of == "" {
			colourOf[s.Name] = i
		}
	}
	for i, s := range p.Series {
		if len(s.Lo) > 0 {
			band, err := bandPolygon(s, p.LogX, p.LogY, SeriesColor(i))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", seriesLabel(i, s.Name), err)
			}
			if band != nil {
				plt.Add(band)
				for _, pts := range band.XYs {
					for _, q := range pts {
						ymin, ymax = math.Min(ymin, q.Y), math.Max(ymax, q.Y)
					}
				}
			}
		}
	}
	lg := &legend{}
	for i, s := range p.Series {
		xys := clean[i]
		if s.Of != "" {
			c, ok := colourOf[s.Of]
			if !ok {
				return nil, fmt.Errorf("%s: Of names no series %q", seriesLabel(i, s.Name), s.Of)
			}
			if len(xys) > 1 {
				line, err := plotter.NewLine(xys)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", seriesLabel(i, s.Name), err)
				}
				line.LineStyle = seriesLine(c, false)
				line.LineStyle.Width = vg.Points(thinWidth)
				line.LineStyle.Dashes = nil
				plt.Add(line)
			}
			continue
		}
		var entry legendEntry
		entry.name = s.Name
		if len(xys) == 0 {
			// A run that diverged before its first logged point keeps its
			// place in the legend, so the reader sees it was there.
			entry.name += " (diverged: no finite points)"
		}
		if len(xys) > 1 {
			line, err := plotter.NewLine(xys)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", seriesLabel(i, s.Name), err)
			}
			line.LineStyle = seriesLine(i, s.Dashed)
			plt.Add(line)
			entry.line = &line.LineStyle
			lg.lines = append(lg.lines, xys)
		}
		// A single point has no line to show, so it always gets a marker.
		if (s.Points && len(xys) > 0) || len(xys) == 1 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", seriesLabel(i, s.Name), err)
			}
			sc.GlyphStyle = seriesGlyph(i)
			plt.Add(sc)
			entry.glyph = &sc.GlyphStyle
			lg.marks = append(lg.marks, xys)
		}
		if s.Name != "" {
			lg.entries = append(lg.entries, entry)
		}
	}
	plt.Add(lg)

	// Ranges are set after Add, which would otherwise widen them to the raw
	// data range. All values here are plot coordinates (log10 on log axes).
	plt.X.Min, plt.X.Max = xmin, xmax
	if xmin == xmax {
		plt.X.Min, plt.X.Max = paddedRange(xmin, xmax, 0, p.LogX)
	}
	if explicitY {
		plt.Y.Min, plt.Y.Max = toPlot(p.YMin, p.LogY), toPlot(p.YMax, p.LogY)
	} else {
		plt.Y.Min, plt.Y.Max = paddedRange(ymin, ymax, yPad, p.LogY)
	}
	return plt, nil
}

// cleanSeries drops non-finite points (diverged runs log NaN losses, and a
// plot should still show the finite part) and checks what a log axis needs.
// A series may end up empty (a run that diverged before its first point).
func cleanSeries(i int, s Series, logX, logY bool) (plotter.XYs, error) {
	name := seriesLabel(i, s.Name)
	if len(s.X) != len(s.Y) {
		return nil, fmt.Errorf("%s: len(X) = %d but len(Y) = %d", name, len(s.X), len(s.Y))
	}
	xys := make(plotter.XYs, 0, len(s.X))
	for j := range s.X {
		x, y := s.X[j], s.Y[j]
		if !finite(x) || !finite(y) {
			continue
		}
		if logX && x <= 0 {
			return nil, fmt.Errorf("%s: LogX needs X > 0, got X[%d] = %g", name, j, x)
		}
		if logY && y <= 0 {
			return nil, fmt.Errorf("%s: LogY needs Y > 0, got Y[%d] = %g", name, j, y)
		}
		xys = append(xys, plotter.XY{X: x, Y: y})
	}
	return xys, nil
}

// thinWidth is the width of per-seed detail lines, in points.
const thinWidth = 0.5

// bandPolygon is the filled area between s.Lo and s.Hi (non-finite points
// dropped), translucent in colour c; nil when no point is finite.
func bandPolygon(s Series, logX, logY bool, c color.NRGBA) (*plotter.Polygon, error) {
	if len(s.Lo) != len(s.X) || len(s.Hi) != len(s.X) {
		return nil, fmt.Errorf("band: len(Lo) = %d, len(Hi) = %d, want len(X) = %d", len(s.Lo), len(s.Hi), len(s.X))
	}
	var upper, lower plotter.XYs
	for j := range s.X {
		x, lo, hi := s.X[j], s.Lo[j], s.Hi[j]
		if !finite(x) || !finite(lo) || !finite(hi) || (logX && x <= 0) || (logY && lo <= 0) {
			continue
		}
		upper = append(upper, plotter.XY{X: toPlot(x, logX), Y: toPlot(hi, logY)})
		lower = append(lower, plotter.XY{X: toPlot(x, logX), Y: toPlot(lo, logY)})
	}
	if len(upper) < 2 {
		return nil, nil
	}
	ring := append(plotter.XYs{}, upper...)
	for j := len(lower) - 1; j >= 0; j-- {
		ring = append(ring, lower[j])
	}
	poly, err := plotter.NewPolygon(ring)
	if err != nil {
		return nil, err
	}
	c.A = 0x38
	poly.Color = c
	poly.LineStyle.Width = 0
	return poly, nil
}
