package report

import (
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DotPlot is a figure over categories (tasks, say): per group along X, one
// point per series with its interval, the series side by side in the
// group's slot, and reference levels (baselines) as short horizontal marks
// across the slot. Nothing joins one group to the next: a line between
// categories would suggest an order or a trend that is not there.
type DotPlot struct {
	Title, XLabel, YLabel string
	Groups                []string // the X axis's categories, left to right
	Series                []Dots
	Marks                 []Marks
}

// Dots is one series: per group a value and its interval, NaN where the
// group has none. Its style is its method's (MethodStyle of Method, or of
// Name), as in line plots.
type Dots struct {
	Name, Method string
	Y, Lo, Hi    []float64
}

// Marks is one reference level per group (NaN: none). Marks are grey,
// told apart by shade and dash, so they never look like a series.
type Marks struct {
	Name string
	Y    []float64
}

// slotWidth is the share of a group's unit of X its series and marks take;
// the rest separates groups.
const slotWidth = 0.8

// markStyles are the marks' looks, in order (then repeated).
var markStyles = []draw.LineStyle{
	{Color: color.Gray{Y: 0x90}, Width: vg.Points(2)},
	{Color: color.Gray{Y: 0x30}, Width: vg.Points(1.6), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}},
}

// Save writes path+".png" and path+".svg", width×height in inches.
func (p DotPlot) Save(path string, width, height float64) error {
	if err := checkSize(width, height); err != nil {
		return fmt.Errorf("report: dot plot %q: %w", p.Title, err)
	}
	plt, lg, err := p.build(width, height)
	if err != nil {
		return fmt.Errorf("report: dot plot %q: %w", p.Title, err)
	}
	return saveFigure(path, vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch,
		func(c draw.Canvas) { drawFigure(plt, lg, c) })
}

func (p DotPlot) validate() error {
	if len(p.Groups) == 0 || len(p.Series)+len(p.Marks) == 0 {
		return errors.New("no groups or nothing to draw")
	}
	n := len(p.Groups)
	for i, s := range p.Series {
		if len(s.Y) != n || len(s.Lo) != n || len(s.Hi) != n {
			return fmt.Errorf("%s: Y, Lo, Hi have %d, %d, %d values for %d groups", seriesLabel(i, s.Name), len(s.Y), len(s.Lo), len(s.Hi), n)
		}
	}
	for i, m := range p.Marks {
		if len(m.Y) != n {
			return fmt.Errorf("marks %d (%q): %d values for %d groups", i, m.Name, len(m.Y), n)
		}
	}
	return nil
}

// offset is series j's X offset of n within its group's slot.
func offset(j, n int) float64 {
	return -slotWidth/2 + slotWidth*(float64(j)+0.5)/float64(n)
}

// extent is the lowest and highest finite value the figure shows.
func (p DotPlot) extent() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	grow := func(ys []float64) {
		for _, y := range ys {
			if finite(y) {
				lo, hi = math.Min(lo, y), math.Max(hi, y)
			}
		}
	}
	for _, m := range p.Marks {
		grow(m.Y)
	}
	for _, s := range p.Series {
		grow(s.Y)
		grow(s.Lo)
		grow(s.Hi)
	}
	return lo, hi
}

// build assembles the plot, the groups at X = 0, 1, …, drawn in layers:
// separators under marks under intervals under points.
func (p DotPlot) build(width, height float64) (*plot.Plot, *plot.Legend, error) {
	if err := p.validate(); err != nil {
		return nil, nil, err
	}
	lo, hi := p.extent()
	if math.IsInf(lo, 1) {
		return nil, nil, errors.New("nothing finite to draw")
	}
	ylo, yhi := paddedRange(lo, hi, yPad, false)
	n := len(p.Groups)
	plt := newBarePlot(p.Title, p.XLabel, p.YLabel)
	plt.Add(newGrid(false))
	sep := draw.LineStyle{Color: color.Gray{Y: 0xC8}, Width: vg.Points(0.6)}
	ticks := make(plot.ConstantTicks, n)
	for g, name := range p.Groups {
		ticks[g] = plot.Tick{Value: float64(g), Label: name}
		if g > 0 {
			plt.Add(&plotter.Line{XYs: plotter.XYs{{X: float64(g) - 0.5, Y: ylo}, {X: float64(g) - 0.5, Y: yhi}}, LineStyle: sep})
		}
	}
	for k, m := range p.Marks {
		st := markStyles[k%len(markStyles)]
		for g, y := range m.Y {
			if finite(y) {
				plt.Add(&plotter.Line{XYs: plotter.XYs{{X: float64(g) - slotWidth/2, Y: y}, {X: float64(g) + slotWidth/2, Y: y}}, LineStyle: st})
			}
		}
	}
	// The legend lists the series, then the marks they are read against.
	lg := newLegend()
	p.addDots(plt, lg)
	for k, m := range p.Marks {
		lg.Add(m.Name, &plotter.Line{LineStyle: markStyles[k%len(markStyles)]})
	}
	plt.X.Tick.Marker = ticks
	setTicks(&plt.Y, false, height, []float64{lo, hi}, nil)
	plt.X.Min, plt.X.Max = -0.5, float64(n)-0.5
	plt.Y.Min, plt.Y.Max = ylo, yhi
	return plt, lg, nil
}

// addDots draws each series' intervals and points, offset in the slot,
// and lists it in the legend; a missing interval draws the point alone.
func (p DotPlot) addDots(plt *plot.Plot, lg *plot.Legend) {
	keys := make([]styleKey, len(p.Series))
	for j, s := range p.Series {
		keys[j] = styleKey{method: cmp.Or(s.Method, s.Name)}
	}
	styles := resolveStyles(keys)
	for j, s := range p.Series {
		var pts plotter.XYs
		var errs plotter.YErrors
		for g, y := range s.Y {
			if !finite(y) {
				continue
			}
			low, high := s.Lo[g], s.Hi[g]
			if !finite(low) || !finite(high) {
				low, high = y, y
			}
			pts = append(pts, plotter.XY{X: float64(g) + offset(j, len(p.Series)), Y: y})
			errs = append(errs, struct{ Low, High float64 }{y - low, high - y})
		}
		sc := &plotter.Scatter{XYs: pts, GlyphStyle: styles[j].glyph()}
		if len(pts) > 0 {
			plt.Add(&plotter.YErrorBars{XYs: pts, YErrors: errs, CapWidth: vg.Points(5),
				LineStyle: draw.LineStyle{Color: styles[j].Color, Width: vg.Points(1.4)}}, sc)
		}
		lg.Add(s.Name, sc)
	}
}
