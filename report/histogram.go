package report

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
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
}

// HistSeries is one distribution of a Histogram. Non-finite values are
// skipped; its colour is fixed by its index, as for Series.
type HistSeries struct {
	Name   string
	Values []float64
}

// defaultBins is the paper's bin count for the singular-value spectra.
const defaultBins = 50

// maxBins bounds Bins: more bins than this are thinner than a pixel even on
// a wide figure, so a larger value is almost surely a mistake.
const maxBins = 10000

// fillAlpha keeps overlapping distributions visible through each other.
const fillAlpha = 0x55

// SavePanels lays out several histograms in a grid with `cols` columns
// (reduced to len(panels) if larger) and writes path.png and path.svg; the
// figure is cols·panelWidth × rows·panelHeight inches. Data areas of all
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
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for i, h := range panels {
		plt, err := h.build(panelWidth, panelHeight)
		if err != nil {
			return fmt.Errorf("report: SavePanels: panel %d (%q): %w", i, h.Title, err)
		}
		grid[i/cols][i%cols] = plt
	}
	tiles := draw.Tiles{
		Rows: rows, Cols: cols,
		PadX: vg.Points(14), PadY: vg.Points(10),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8),
	}
	return saveFigure(path, vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch, func(c draw.Canvas) {
		c.SetColor(color.White)
		c.Fill(c.Rectangle.Path())
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
				if plt != nil {
					drawPlot(plt, canvases[r][k], top)
				}
			}
		}
	})
}

// build validates the input, bins the data and assembles the gonum plot for
// a panel of width×height inches.
func (h Histogram) build(width, height float64) (*plot.Plot, error) {
	if len(h.Series) == 0 {
		return nil, errors.New("no series")
	}
	bins := h.Bins
	switch {
	case bins < 0 || bins > maxBins:
		return nil, fmt.Errorf("Bins must be in [0, %d], got %d", maxBins, bins)
	case bins == 0:
		bins = defaultBins
	}

	clean := make([][]float64, len(h.Series))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range h.Series {
		vs := make([]float64, 0, len(s.Values))
		for _, v := range s.Values {
			if finite(v) {
				vs = append(vs, v)
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if len(vs) == 0 {
			return nil, fmt.Errorf("%s: no finite values (got %d values)", seriesLabel(i, s.Name), len(s.Values))
		}
		clean[i] = vs
	}
	if lo == hi {
		lo, hi = paddedRange(lo, hi, 0, false)
	}
	if !finite(hi - lo) {
		return nil, fmt.Errorf("value range [%g, %g] is too wide to bin", lo, hi)
	}
	edges := make([]float64, bins+1)
	for k := range edges {
		edges[k] = lo + (hi-lo)*float64(k)/float64(bins)
	}
	edges[bins] = hi

	ylabel := h.YLabel
	if ylabel == "" {
		ylabel = "Density"
	}
	plt := newPlot(h.Title, h.XLabel, ylabel)
	axisScale(&plt.X, false, width)
	axisScale(&plt.Y, h.LogY, height)

	lg := &legend{}
	dmin, dmax := math.Inf(1), 0.0
	for i, vs := range clean {
		dens := density(vs, lo, hi, bins)
		for k, d := range dens {
			if d > 0 {
				dmin, dmax = math.Min(dmin, d), math.Max(dmax, d)
				// Empty bins map to -Inf on a log axis; the plotters
				// clamp them to the axis floor.
				dens[k] = toPlot(d, h.LogY)
			} else {
				dens[k] = math.Inf(-1)
			}
			lg.bars = append(lg.bars, bar{x0: edges[k], x1: edges[k+1], y: dens[k]})
		}
		c := SeriesColor(i)
		fill := c
		fill.A = fillAlpha
		hp := &histPlotter{edges: edges, dens: dens, fill: fill,
			line: draw.LineStyle{Color: c, Width: vg.Points(1.2)}}
		plt.Add(hp)
		if name := h.Series[i].Name; name != "" {
			lg.entries = append(lg.entries, legendEntry{name: name, fill: fill, line: &hp.line})
		}
	}
	plt.Add(lg)

	plt.X.Min, plt.X.Max = lo, hi
	if h.LogY {
		// The padding below the smallest non-empty bin keeps it visible as
		// a short bar above the axis floor.
		plt.Y.Min, plt.Y.Max = paddedRange(math.Log10(dmin), math.Log10(dmax), yPad, true)
	} else {
		plt.Y.Min, plt.Y.Max = 0, dmax*(1+yPad)
	}
	return plt, nil
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

// histPlotter draws one distribution as a filled step outline. gonum's own
// plotter.Histogram bins each series on its own range and outlines every
// bar, which makes overlays both incomparable and cluttered.
type histPlotter struct {
	edges []float64
	dens  []float64
	fill  color.Color
	line  draw.LineStyle
}

// Plot implements plot.Plotter.
func (hp *histPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	// The bars stand on the bottom of the axis: 0 on a linear axis, the
	// lowest visible density on a log one.
	floor := p.Y.Min
	y := func(d float64) vg.Length { return trY(math.Max(d, floor)) }
	outline := make([]vg.Point, 0, 2*len(hp.dens)+2)
	outline = append(outline, vg.Point{X: trX(hp.edges[0]), Y: y(floor)})
	for k, d := range hp.dens {
		outline = append(outline,
			vg.Point{X: trX(hp.edges[k]), Y: y(d)},
			vg.Point{X: trX(hp.edges[k+1]), Y: y(d)})
	}
	outline = append(outline, vg.Point{X: trX(hp.edges[len(hp.edges)-1]), Y: y(floor)})
	c.FillPolygon(hp.fill, c.ClipPolygonXY(outline))
	c.StrokeLines(hp.line, c.ClipLinesXY(outline)...)
}
