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

// Histogram overlays several distributions on one panel (density-normalised
// histograms, as the paper's singular-value figure, 50 bins by default,
// shared bin edges across series, semi-transparent fills). Shared edges make
// the overlaid bars directly comparable; density normalisation makes series
// with different sample counts comparable.
type Histogram struct {
	Title, XLabel, YLabel string // YLabel defaults to "Density"
	Series                []HistSeries
	Bins                  int // 0 = 50
	LogY                  bool
	// FromZero starts the bins at 0 instead of the smallest value (for
	// non-negative data such as singular values).
	FromZero bool
}

// HistSeries is one distribution of a Histogram. Non-finite values are
// skipped (a series left with none is only listed in the legend); its colour is its method's (MethodStyle of Method, or of Name
// when Method is empty), as for Series.
type HistSeries struct {
	Name   string
	Method string
	Values []float64
}

// defaultBins is the paper's bin count for the singular-value spectra.
const defaultBins = 50

// maxBins bounds Bins: more bins than this are thinner than a pixel even on
// a wide figure, so a larger value is almost surely a mistake.
const maxBins = 10000

// fillAlpha keeps overlapping distributions visible through each other.
const fillAlpha = 0x40

// SavePanels lays out several histograms in a grid with `cols` columns
// (reduced to len(panels) if larger) and writes path.png and path.svg; the
// figure is cols·panelWidth × rows·panelHeight inches, legends included:
// one beside the first row when every panel has the same series, else one
// beside each panel, always outside the data areas. Data areas of all
// panels are aligned and equally sized.
func SavePanels(path string, panels []Histogram, cols int, panelWidth, panelHeight float64) error {
	if len(panels) == 0 {
		return errors.New("report: SavePanels: no panels")
	}
	if cols <= 0 {
		return fmt.Errorf("report: SavePanels: cols must be positive, got %d", cols)
	}
	cols = min(cols, len(panels))
	rows := (len(panels) + cols - 1) / cols
	width, height := float64(cols)*panelWidth, float64(rows)*panelHeight
	if err := checkSize(width, height); err != nil {
		return fmt.Errorf("report: SavePanels: %w", err)
	}
	grid := make([][]*plot.Plot, rows)
	legends := make([][]*plot.Legend, rows)
	for r := range grid {
		grid[r], legends[r] = make([]*plot.Plot, cols), make([]*plot.Legend, cols)
	}
	for i, h := range panels {
		plt, lg, err := h.build(panelWidth, panelHeight)
		if err != nil {
			return fmt.Errorf("report: SavePanels: panel %d (%q): %w", i, h.Title, err)
		}
		grid[i/cols][i%cols], legends[i/cols][i%cols] = plt, lg
	}
	// Panels with the same series share one legend, beside the first row;
	// otherwise each panel has its own beside it.
	shared := true
	for _, h := range panels[1:] {
		shared = shared && slices.EqualFunc(h.Series, panels[0].Series, func(a, b HistSeries) bool { return a.Name == b.Name && a.Method == b.Method })
	}
	return saveFigure(path, vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch, func(c draw.Canvas) {
		c.SetColor(color.White)
		c.Fill(c.Rectangle.Path())
		// Every panel reserves the widest legend's strip, so the data
		// areas stay equal.
		var lw vg.Length
		for _, row := range legends {
			for _, lg := range row {
				lw = max(lw, legendWidth(lg, c))
			}
		}
		tiles := draw.Tiles{
			Rows: rows, Cols: cols,
			PadX: vg.Points(14) + lw, PadY: vg.Points(10),
			PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8) + lw,
		}
		if shared {
			tiles.PadX = vg.Points(14)
		}
		canvases := plot.Align(grid, tiles, c)
		for r, row := range grid {
			// gonum puts each title at the top of its tile canvas, and those
			// tops differ when a tick label sticks out above one panel's
			// data area; using the row's highest top keeps titles level.
			top := vg.Length(math.Inf(-1))
			for k, plt := range row {
				if plt != nil {
					top = max(top, canvases[r][k].Max.Y)
				}
			}
			for k, plt := range row {
				if plt == nil {
					continue
				}
				pc := canvases[r][k]
				right := pc.Max.X + vg.Points(14)
				if !shared || k == cols-1 {
					right = pc.Max.X + lw
				}
				drawPlot(plt, pc, top, right)
				if !shared || (r == 0 && k == cols-1) {
					drawLegend(plt, legends[r][k], pc)
				}
			}
		}
	})
}

// build bins the data and assembles the gonum plot and its legend for a
// panel of width×height inches.
func (h Histogram) build(width, height float64) (*plot.Plot, *plot.Legend, error) {
	if len(h.Series) == 0 {
		return nil, nil, errors.New("no series")
	}
	bins, err := h.binCount()
	if err != nil {
		return nil, nil, err
	}
	clean, lo, hi, err := h.finiteValues()
	if err != nil {
		return nil, nil, err
	}
	dens, dmin, dmax := densities(clean, lo, hi, bins)
	floor, top := h.yRange(dmin, dmax)

	plt := newPlot(h.Title, h.XLabel, cmp.Or(h.YLabel, "Density"))
	setTicks(&plt.X, false, width, nil, nil)
	setTicks(&plt.Y, h.LogY, height, nil, nil)
	lg := newLegend()
	styles := h.styles()
	for i, ds := range dens {
		if len(clean[i]) == 0 {
			h.listEmpty(lg, i, styles[i])
			continue
		}
		h.addDistribution(plt, lg, i, styles[i], stepOutline(ds, lo, hi, floor, h.LogY))
	}
	// Ranges are set after Add, which would otherwise widen them.
	plt.X.Min, plt.X.Max = lo, hi
	plt.Y.Min, plt.Y.Max = floor, top
	return plt, lg, nil
}

// binCount is h.Bins with 0 meaning the paper's default, rejecting counts
// no figure could show.
func (h Histogram) binCount() (int, error) {
	switch {
	case h.Bins < 0 || h.Bins > maxBins:
		return 0, fmt.Errorf("Bins must be in [0, %d], got %d", maxBins, h.Bins)
	case h.Bins == 0:
		return defaultBins, nil
	}
	return h.Bins, nil
}

// finiteValues returns each series' finite values and the shared bin range
// [lo, hi]: from 0 when FromZero and the data allows it, and never empty,
// so that every series is binned on the same edges.
func (h Histogram) finiteValues() (clean [][]float64, lo, hi float64, err error) {
	clean = make([][]float64, len(h.Series))
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, s := range h.Series {
		vs := make([]float64, 0, len(s.Values))
		for _, v := range s.Values {
			if finite(v) {
				vs = append(vs, v)
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		clean[i] = vs
	}
	if math.IsInf(lo, 1) {
		return nil, 0, 0, errors.New("no series has a finite value")
	}
	if h.FromZero && lo >= 0 {
		lo = 0
	}
	if lo == hi {
		lo, hi = paddedRange(lo, hi, 0, false)
	}
	if !finite(hi - lo) {
		return nil, 0, 0, fmt.Errorf("value range [%g, %g] is too wide to bin", lo, hi)
	}
	return clean, lo, hi, nil
}

// densities bins every series on the shared edges and returns the
// smallest and largest non-zero density, which bound a log Y axis.
func densities(clean [][]float64, lo, hi float64, bins int) (dens [][]float64, dmin, dmax float64) {
	dens = make([][]float64, len(clean))
	dmin, dmax = math.Inf(1), 0.0
	for i, vs := range clean {
		dens[i] = density(vs, lo, hi, bins)
		for _, d := range dens[i] {
			if d > 0 {
				dmin, dmax = math.Min(dmin, d), math.Max(dmax, d)
			}
		}
	}
	return dens, dmin, dmax
}

// yRange is the Y axis's floor and top in plot coordinates.
func (h Histogram) yRange(dmin, dmax float64) (floor, top float64) {
	if h.LogY {
		// The padding below the smallest non-empty bin keeps it visible as
		// a short bar above the axis floor, where empty bins stand.
		return paddedRange(math.Log10(dmin), math.Log10(dmax), yPad, true)
	}
	return 0, dmax * (1 + yPad)
}

// stepOutline is one distribution's bars as a single closed step path,
// from the floor at lo to the floor at hi; empty bins stand on the floor.
func stepOutline(ds []float64, lo, hi, floor float64, logY bool) plotter.XYs {
	bins := len(ds)
	step := make(plotter.XYs, 0, bins+3)
	step = append(step, plotter.XY{X: lo, Y: floor})
	for k, d := range ds {
		y := floor
		if d > 0 {
			y = toPlot(d, logY)
		}
		step = append(step, plotter.XY{X: lo + (hi-lo)*float64(k)/float64(bins), Y: y})
	}
	return append(step, plotter.XY{X: hi, Y: step[len(step)-1].Y}, plotter.XY{X: hi, Y: floor})
}

// addDistribution draws series i as one filled step outline: gonum's Line
// with a post-step and a fill draws the bars without plotter.Histogram's
// outline around every single bar, which makes overlays a thicket of
// vertical lines.
func (h Histogram) addDistribution(plt *plot.Plot, lg *plot.Legend, i int, st Style, step plotter.XYs) {
	fill := st.Color
	fill.A = fillAlpha
	line := &plotter.Line{XYs: step, StepStyle: plotter.PostStep, FillColor: fill,
		LineStyle: draw.LineStyle{Color: st.Color, Width: vg.Points(math.Min(float64(st.Width), 1.6) * 0.75)}}
	plt.Add(line)
	if name := h.Series[i].Name; name != "" {
		lg.Add(name, line)
	}
}

// listEmpty names series i in the legend though it has nothing to draw
// (e.g. every value was left out), so the reader sees it was there.
func (h Histogram) listEmpty(lg *plot.Legend, i int, st Style) {
	if name := h.Series[i].Name; name != "" {
		lg.Add(name+" (no values)", &plotter.Line{LineStyle: st.line(false)})
	}
}

// styles returns each distribution's style (its method's).
func (h Histogram) styles() []Style {
	keys := make([]styleKey, len(h.Series))
	for i, s := range h.Series {
		keys[i] = styleKey{method: cmp.Or(s.Method, s.Name)}
	}
	return resolveStyles(keys)
}

// density bins vs into bins equal-width bins over [lo, hi] and normalises
// the counts so the histogram integrates to one. The top edge is inclusive
// so the maximum value is not lost.
func density(vs []float64, lo, hi float64, bins int) []float64 {
	d := make([]float64, bins)
	w := (hi - lo) / float64(bins)
	for _, v := range vs {
		k := int((v - lo) / (hi - lo) * float64(bins))
		k = max(0, min(k, bins-1))
		d[k]++
	}
	for k := range d {
		d[k] /= float64(len(vs)) * w
	}
	return d
}
