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

// build assembles the gonum plot and its legend for a figure of
// width×height inches, in drawing order: guides under bands under lines.
func (p LinePlot) build(width, height float64) (*plot.Plot, *plot.Legend, error) {
	if err := p.validate(); err != nil {
		return nil, nil, err
	}
	styles, err := p.styles()
	if err != nil {
		return nil, nil, err
	}
	ysc := yScale{log: p.LogY, symlog: p.SymLogY}
	data, err := p.collect(ysc, styles)
	if err != nil {
		return nil, nil, err
	}
	frame := p.frame(data.bounds, ysc)

	plt := p.axes(width, height, data.xs, data.ys)
	p.addGuides(plt, frame)
	addBands(plt, data.bands)
	thumbs := p.addLines(plt, data.clean, styles)
	lg := p.legend(data.clean, thumbs)

	// Ranges are set after Add, which would otherwise widen them to the raw
	// data range.
	plt.X.Min, plt.X.Max = frame.xmin, frame.xmax
	plt.Y.Min, plt.Y.Max = frame.ymin, frame.ymax
	return plt, lg, nil
}

// explicitY reports whether the caller fixed the Y range: both limits at
// zero is the "automatic" default, so any other value means "use as given".
func (p LinePlot) explicitY() bool { return p.YMin != 0 || p.YMax != 0 }

// validate rejects settings that cannot be drawn, before any data is
// touched, so a caller's mistake is reported as such rather than as an
// odd figure.
func (p LinePlot) validate() error {
	if len(p.Series) == 0 {
		return errors.New("no series")
	}
	switch {
	case !(p.SymLogY >= 0) || math.IsInf(p.SymLogY, 0):
		return fmt.Errorf("SymLogY must be a finite number ≥ 0, got %g", p.SymLogY)
	case p.SymLogY > 0 && p.LogY:
		return errors.New("SymLogY and LogY exclude each other")
	}
	if p.explicitY() {
		switch {
		case !finite(p.YMin) || !finite(p.YMax):
			return fmt.Errorf("YMin/YMax must be finite, got [%g, %g]", p.YMin, p.YMax)
		case p.YMin >= p.YMax:
			return fmt.Errorf("YMin (%g) must be below YMax (%g)", p.YMin, p.YMax)
		case p.LogY && p.YMin <= 0:
			return fmt.Errorf("LogY needs YMin > 0, got %g", p.YMin)
		}
	}
	for i, x := range p.VLines {
		if !finite(x) || (p.LogX && x <= 0) {
			return fmt.Errorf("VLines[%d] = %g cannot be drawn on this X axis", i, x)
		}
	}
	for i, t := range p.XTicks {
		if !finite(t.Value) || (p.LogX && t.Value <= 0) {
			return fmt.Errorf("XTicks[%d] = %g cannot be drawn on this X axis", i, t.Value)
		}
	}
	return nil
}

// bounds is a data area in plot coordinates (log10 on log axes).
type bounds struct {
	xmin, xmax, ymin, ymax float64
}

// emptyBounds is the identity for grow: any point widens it.
func emptyBounds() bounds {
	return bounds{xmin: math.Inf(1), xmax: math.Inf(-1), ymin: math.Inf(1), ymax: math.Inf(-1)}
}

// grow widens b to include q.
func (b *bounds) grow(q plotter.XY) {
	b.xmin, b.xmax = math.Min(b.xmin, q.X), math.Max(b.xmax, q.X)
	b.growY(q.Y)
}

// growY widens only b's Y range: a band widens what the figure must show
// vertically but adds no X values of its own.
func (b *bounds) growY(y float64) {
	b.ymin, b.ymax = math.Min(b.ymin, y), math.Max(b.ymax, y)
}

// lineData is the series made ready to draw: finite points in plot
// coordinates, their bands, and the raw values the tickers label.
type lineData struct {
	clean  []plotter.XYs
	bands  []*plotter.Polygon
	xs, ys []float64 // data units, for the tickers
	bounds bounds    // of points and bands, before padding
}

// collect cleans every series and its band and finds the data's extent,
// bands included, so that a band never pokes out of the frame.
func (p LinePlot) collect(ysc yScale, styles []Style) (lineData, error) {
	d := lineData{
		clean:  make([]plotter.XYs, len(p.Series)),
		bands:  make([]*plotter.Polygon, len(p.Series)),
		bounds: emptyBounds(),
	}
	drawn := 0
	for i, s := range p.Series {
		xys, err := cleanSeries(i, s, p.LogX, p.LogY)
		if err != nil {
			return lineData{}, err
		}
		for j := range xys {
			d.xs, d.ys = append(d.xs, xys[j].X), append(d.ys, xys[j].Y)
			xys[j].X, xys[j].Y = toPlot(xys[j].X, p.LogX), ysc.to(xys[j].Y)
			d.bounds.grow(xys[j])
		}
		d.clean[i] = xys
		if len(xys) > 0 {
			drawn++
		}
		if len(s.Lo) > 0 {
			if d.bands[i], err = bandPolygon(s, p.LogX, ysc, styles[i].Color); err != nil {
				return lineData{}, fmt.Errorf("%s: %w", seriesLabel(i, s.Name), err)
			}
			if d.bands[i] != nil {
				for _, q := range d.bands[i].XYs[0] {
					d.bounds.growY(q.Y)
				}
			}
		}
	}
	if drawn == 0 {
		return lineData{}, errors.New("no series has a finite point")
	}
	return d, nil
}

// frame turns the data's extent into the drawn area: zero kept in view
// for a difference figure, a single X widened to an interval, and Y either
// as the caller fixed it or padded off the frame.
func (p LinePlot) frame(b bounds, ysc yScale) bounds {
	if p.ZeroLine && !p.LogY {
		b.ymin, b.ymax = math.Min(b.ymin, 0), math.Max(b.ymax, 0)
	}
	if b.xmin == b.xmax {
		b.xmin, b.xmax = paddedRange(b.xmin, b.xmax, 0, p.LogX)
	}
	if p.explicitY() {
		b.ymin, b.ymax = ysc.to(p.YMin), ysc.to(p.YMax)
	} else {
		b.ymin, b.ymax = paddedRange(b.ymin, b.ymax, yPad, p.LogY)
	}
	return b
}

// axes returns an empty plot with its titles and tick markers; xs and ys
// are the data values a log axis may label directly.
func (p LinePlot) axes(width, height float64, xs, ys []float64) *plot.Plot {
	plt := newPlot(p.Title, p.XLabel, p.YLabel)
	setTicks(&plt.X, p.LogX, width, xs, p.XTicks)
	setTicks(&plt.Y, p.LogY, height, ys, nil)
	if p.SymLogY > 0 {
		plt.Y.Tick.Marker = symlogTicks{symlog: p.SymLogY}
	}
	return plt
}

// addGuides draws the vertical guides inside the frame and the zero line;
// they are added first so the data is drawn over them.
func (p LinePlot) addGuides(plt *plot.Plot, f bounds) {
	guide := draw.LineStyle{Color: color.Gray{Y: 0x99}, Width: vg.Points(0.6), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
	for _, x := range p.VLines {
		if x := toPlot(x, p.LogX); x >= f.xmin && x <= f.xmax {
			plt.Add(&plotter.Line{XYs: plotter.XYs{{X: x, Y: f.ymin}, {X: x, Y: f.ymax}}, LineStyle: guide})
		}
	}
	if p.ZeroLine && !p.LogY {
		plt.Add(&plotter.Line{XYs: plotter.XYs{{X: f.xmin, Y: 0}, {X: f.xmax, Y: 0}},
			LineStyle: draw.LineStyle{Color: color.Gray{Y: 0x66}, Width: vg.Points(0.8)}})
	}
}

// addBands draws the seed-spread bands under every line, so no band
// hides another series' line.
func addBands(plt *plot.Plot, bands []*plotter.Polygon) {
	for _, b := range bands {
		if b != nil {
			plt.Add(b)
		}
	}
}

// addLines draws the lines and markers, the reference method last (on
// top), and returns each series' legend samples: the line, its marker,
// or both.
func (p LinePlot) addLines(plt *plot.Plot, clean []plotter.XYs, styles []Style) [][]plot.Thumbnailer {
	thumbs := make([][]plot.Thumbnailer, len(p.Series))
	for _, i := range p.drawOrder(styles) {
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
	return thumbs
}

// drawOrder lists the series' indices by drawRank; the sort is stable so
// equal ranks keep the callers' order.
func (p LinePlot) drawOrder(styles []Style) []int {
	order := make([]int, len(p.Series))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(drawRank(p.Series[a], styles[a]), drawRank(p.Series[b], styles[b]))
	})
	return order
}

// legend lists the named series in the callers' order, not the drawing
// order, so related series stay together.
func (p LinePlot) legend(clean []plotter.XYs, thumbs [][]plot.Thumbnailer) *plot.Legend {
	lg := newLegend()
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
	return lg
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
