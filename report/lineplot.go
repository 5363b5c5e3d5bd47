package report

import (
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of a line plot. Its style comes from its method
// (MethodStyle of Method, or of Name when Method is empty), so a method
// looks the same in every figure whatever the order of the series; series
// that are not a method get palette colours by position, one colour per
// distinct Method (or Name).
type Series struct {
	Name   string // legend label; empty = not listed in the legend
	Method string // style key when Name is not the method's name (e.g. "ReLoRA q")
	// Variant k > 0 draws the k-th variation of the method's style (another
	// dash and marker), for several lines of one method in one figure.
	Variant int
	X, Y    []float64
	Dashed  bool // dashed even if the method's line is solid
	Points  bool // draw markers too
	// Lo and Hi, when set (same length as X), are a band around the line
	// (e.g. the min–max over seeds), filled in the series' colour.
	Lo, Hi []float64
	// Of names another series: this one is a detail of it (one seed's
	// curve), drawn as a thin line in its colour and left out of the legend.
	Of string
}

// LinePlot is a single-panel line plot (loss curves, learning-rate
// schedules, ...). Its legend, if any series is named, stands to the right
// of the data area.
type LinePlot struct {
	Title, XLabel, YLabel string
	Series                []Series
	LogX, LogY            bool
	// SymLogY > 0 draws the Y axis on a symmetric log scale, close to
	// linear within ±SymLogY (see yScale): for differences that range from
	// hundredths to tens, of either sign. Not with LogY.
	SymLogY    float64
	YMin, YMax float64 // both 0 = automatic; otherwise both are used as given
	// XTicks, when set, are the X axis's labelled ticks (data units), e.g.
	// model sizes by name. Otherwise a log X axis labels the data's own
	// X values (when there are few) and a linear one round numbers.
	XTicks []Tick
	VLines []float64 // vertical guide lines (e.g. restart steps), thin grey dashed
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
	plt, lg, err := p.build(width, height)
	if err != nil {
		return fmt.Errorf("report: line plot %q: %w", p.Title, err)
	}
	return saveFigure(path, vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch,
		func(c draw.Canvas) { drawFigure(plt, lg, c) })
}

// styles returns each series' style; a detail series (Of) takes the
// style of the series it details.
func (p LinePlot) styles() ([]Style, error) {
	keys := make([]styleKey, len(p.Series))
	for i, s := range p.Series {
		keys[i] = styleKey{method: cmp.Or(s.Method, s.Name), variant: s.Variant}
	}
	st := resolveStyles(keys)
	for i, s := range p.Series {
		if s.Of == "" {
			continue
		}
		k := slices.IndexFunc(p.Series, func(o Series) bool { return o.Of == "" && o.Name == s.Of })
		if k < 0 {
			return nil, fmt.Errorf("%s: Of names no series %q", seriesLabel(i, s.Name), s.Of)
		}
		st[i] = st[k]
		st[i].Width, st[i].Dashes = vg.Points(thinWidth), nil
	}
	return st, nil
}

// build validates the input and assembles the gonum plot and its legend
// for a figure of width×height inches.
func (p LinePlot) build(width, height float64) (*plot.Plot, *plot.Legend, error) {
	if len(p.Series) == 0 {
		return nil, nil, errors.New("no series")
	}
	switch {
	case !(p.SymLogY >= 0) || math.IsInf(p.SymLogY, 0):
		return nil, nil, fmt.Errorf("SymLogY must be a finite number ≥ 0, got %g", p.SymLogY)
	case p.SymLogY > 0 && p.LogY:
		return nil, nil, errors.New("SymLogY and LogY exclude each other")
	}
	ysc := yScale{log: p.LogY, symlog: p.SymLogY}
	explicitY := p.YMin != 0 || p.YMax != 0
	if explicitY {
		switch {
		case !finite(p.YMin) || !finite(p.YMax):
			return nil, nil, fmt.Errorf("YMin/YMax must be finite, got [%g, %g]", p.YMin, p.YMax)
		case p.YMin >= p.YMax:
			return nil, nil, fmt.Errorf("YMin (%g) must be below YMax (%g)", p.YMin, p.YMax)
		case p.LogY && p.YMin <= 0:
			return nil, nil, fmt.Errorf("LogY needs YMin > 0, got %g", p.YMin)
		}
	}
	for i, x := range p.VLines {
		if !finite(x) || (p.LogX && x <= 0) {
			return nil, nil, fmt.Errorf("VLines[%d] = %g cannot be drawn on this X axis", i, x)
		}
	}
	for i, t := range p.XTicks {
		if !finite(t.Value) || (p.LogX && t.Value <= 0) {
			return nil, nil, fmt.Errorf("XTicks[%d] = %g cannot be drawn on this X axis", i, t.Value)
		}
	}
	styles, err := p.styles()
	if err != nil {
		return nil, nil, err
	}

	// Clean the data and find the ranges, in plot coordinates (log10 on
	// log axes), bands included.
	clean := make([]plotter.XYs, len(p.Series))
	bands := make([]*plotter.Polygon, len(p.Series))
	var xs, ys []float64 // data units, for the tickers
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	grow := func(q plotter.XY) {
		xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
		ymin, ymax = math.Min(ymin, q.Y), math.Max(ymax, q.Y)
	}
	drawn := 0
	for i, s := range p.Series {
		xys, err := cleanSeries(i, s, p.LogX, p.LogY)
		if err != nil {
			return nil, nil, err
		}
		for j := range xys {
			xs, ys = append(xs, xys[j].X), append(ys, xys[j].Y)
			xys[j].X, xys[j].Y = toPlot(xys[j].X, p.LogX), ysc.to(xys[j].Y)
			grow(xys[j])
		}
		clean[i] = xys
		if len(xys) > 0 {
			drawn++
		}
		if len(s.Lo) > 0 {
			if bands[i], err = bandPolygon(s, p.LogX, ysc, styles[i].Color); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", seriesLabel(i, s.Name), err)
			}
			if bands[i] != nil {
				for _, q := range bands[i].XYs[0] {
					ymin, ymax = math.Min(ymin, q.Y), math.Max(ymax, q.Y)
				}
			}
		}
	}
	if drawn == 0 {
		return nil, nil, errors.New("no series has a finite point")
	}
	if p.ZeroLine && !p.LogY {
		ymin, ymax = math.Min(ymin, 0), math.Max(ymax, 0)
	}
	if xmin == xmax {
		xmin, xmax = paddedRange(xmin, xmax, 0, p.LogX)
	}
	if explicitY {
		ymin, ymax = ysc.to(p.YMin), ysc.to(p.YMax)
	} else {
		ymin, ymax = paddedRange(ymin, ymax, yPad, p.LogY)
	}

	plt := newPlot(p.Title, p.XLabel, p.YLabel)
	setTicks(&plt.X, p.LogX, width, xs, p.XTicks)
	setTicks(&plt.Y, p.LogY, height, ys, nil)
	if p.SymLogY > 0 {
		plt.Y.Tick.Marker = symlogTicks{symlog: p.SymLogY}
	}

	// Guides first, under the data.
	guide := draw.LineStyle{Color: color.Gray{Y: 0x99}, Width: vg.Points(0.6), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
	for _, x := range p.VLines {
		if x := toPlot(x, p.LogX); x >= xmin && x <= xmax {
			plt.Add(&plotter.Line{XYs: plotter.XYs{{X: x, Y: ymin}, {X: x, Y: ymax}}, LineStyle: guide})
		}
	}
	if p.ZeroLine && !p.LogY {
		plt.Add(&plotter.Line{XYs: plotter.XYs{{X: xmin, Y: 0}, {X: xmax, Y: 0}},
			LineStyle: draw.LineStyle{Color: color.Gray{Y: 0x66}, Width: vg.Points(0.8)}})
	}
	for _, b := range bands {
		if b != nil {
			plt.Add(b)
		}
	}
	// Then the lines, the reference method last (on top); the legend
	// keeps the callers' order.
	order := make([]int, len(p.Series))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(drawRank(p.Series[a], styles[a]), drawRank(p.Series[b], styles[b]))
	})
	lg := newLegend()
	thumbs := make([][]plot.Thumbnailer, len(p.Series))
	for _, i := range order {
		s, xys := p.Series[i], clean[i]
		line := &plotter.Line{XYs: xys, LineStyle: styles[i].line(s.Dashed)}
		thumbs[i] = append(thumbs[i], line)
		if len(xys) > 1 {
			plt.Add(line)
		}
		// A single point has no line to show, so it always gets a marker.
		if s.Of == "" && ((s.Points && len(xys) > 0) || len(xys) == 1) {
			sc := &plotter.Scatter{XYs: xys, GlyphStyle: styles[i].glyph()}
			plt.Add(sc)
			if len(xys) == 1 {
				thumbs[i] = nil
			}
			thumbs[i] = append(thumbs[i], sc)
		}
	}
	for i, s := range p.Series {
		if s.Name == "" || s.Of != "" {
			continue
		}
		name := s.Name
		if len(clean[i]) == 0 {
			// A run that diverged before its first logged point keeps its
			// place in the legend, so the reader sees it was there.
			name += " (diverged: no finite points)"
		}
		lg.Add(name, thumbs[i]...)
	}

	// Ranges are set after Add, which would otherwise widen them to the raw
	// data range.
	plt.X.Min, plt.X.Max = xmin, xmax
	plt.Y.Min, plt.Y.Max = ymin, ymax
	return plt, lg, nil
}

// drawRank orders drawing: detail lines first, then by the style's z.
func drawRank(s Series, st Style) int {
	if s.Of != "" {
		return -1
	}
	return st.z
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

// bandPolygon is the filled area between s.Lo and s.Hi (non-finite points
// dropped), translucent in colour c; nil when fewer than two points are
// finite.
func bandPolygon(s Series, logX bool, y yScale, c color.NRGBA) (*plotter.Polygon, error) {
	if len(s.Lo) != len(s.X) || len(s.Hi) != len(s.X) {
		return nil, fmt.Errorf("band: len(Lo) = %d, len(Hi) = %d, want len(X) = %d", len(s.Lo), len(s.Hi), len(s.X))
	}
	var upper, lower plotter.XYs
	for j := range s.X {
		x, lo, hi := s.X[j], s.Lo[j], s.Hi[j]
		if !finite(x) || !finite(lo) || !finite(hi) || (logX && x <= 0) || (y.log && lo <= 0) {
			continue
		}
		upper = append(upper, plotter.XY{X: toPlot(x, logX), Y: y.to(hi)})
		lower = append(lower, plotter.XY{X: toPlot(x, logX), Y: y.to(lo)})
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
