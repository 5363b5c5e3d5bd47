package report

import (
	"fmt"
	"image/color"
	"math"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette is the Okabe–Ito colour-blind-safe palette. The order puts the
// most distinguishable, highest-contrast colours first (yellow, which is
// hard to see on white, comes last) because most figures have 2–4 series.
var palette = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
}

// SeriesColor returns the colour used for the series at index i. It is
// exported so that callers drawing companion figures (or colouring table
// text) can match a run's colour; colours repeat after len(palette) series.
func SeriesColor(i int) color.NRGBA {
	return palette[wrap(i, len(palette))]
}

// wrap maps any index, negative ones included, into [0, n).
func wrap(i, n int) int {
	return (i%n + n) % n
}

// Fonts come from the Liberation collection that gonum/plot embeds, so that
// rendering never touches the network or the host's font configuration.
// Sans is used because it stays legible at the small sizes of multi-panel
// figures.
var (
	regularFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	boldFont    = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
)

// Font sizes in points, chosen so that a 6×4 in figure scaled to a column
// width is still readable.
const (
	titleSize  = 12
	labelSize  = 11
	tickSize   = 9.5
	legendSize = 9.5
	lineWidth  = 1.6
	glyphSize  = 2.6
)

// svgFontFallback maps the embedded font family to a metric-compatible
// fallback stack: the SVG does not embed the fonts (that would add ~1 MB per
// file), and Liberation Sans shares Arial's metrics, so text laid out with
// Liberation still fits when a viewer substitutes Arial/Helvetica.
var svgFontFallback = [2]string{
	"font-family:Liberation Sans;",
	"font-family:'Liberation Sans',Arial,Helvetica,sans-serif;",
}

// textStyle returns a plain-text style in the report font.
func textStyle(f font.Font, size vg.Length) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(f, size),
		Handler: plot.DefaultTextHandler,
	}
}

// newPlot returns a plot with the report's fonts, tick sizes and a light
// grid, so every figure in the paper shares one look.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(boldFont, titleSize)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(regularFont, labelSize)
		a.Label.Padding = vg.Points(3)
		a.Tick.Label.Font = font.From(regularFont, tickSize)
		a.Tick.Length = vg.Points(4)
		a.Padding = vg.Points(3)
	}
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	grid := plotter.NewGrid()
	grid.Vertical = draw.LineStyle{Color: color.Gray{Y: 0xE6}, Width: vg.Points(0.5)}
	grid.Horizontal = grid.Vertical
	p.Add(grid)
	return p
}

// paddedRange returns [lo, hi] widened by frac of its span on both sides
// and made non-degenerate, so that data never touches the frame and a
// constant series still gets an axis. lo and hi are plot coordinates, i.e.
// log10 values on a log axis, where a constant series gets a factor of two
// either side.
func paddedRange(lo, hi, frac float64, log bool) (float64, float64) {
	if lo == hi {
		d := math.Abs(lo) * 0.05
		switch {
		case log:
			d = math.Log10(2)
		case d == 0:
			d = 0.5
		}
		return lo - d, hi + d
	}
	d := (hi - lo) * frac
	return lo - d, hi + d
}

// seriesLine returns the line style of series i: solid or dashed as asked.
// After the palette wraps around, undashed lines become dotted so that
// series i and i+len(palette) remain distinguishable.
func seriesLine(i int, dashed bool) draw.LineStyle {
	ls := draw.LineStyle{Color: SeriesColor(i), Width: vg.Points(lineWidth)}
	switch {
	case dashed:
		ls.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	case i >= len(palette):
		ls.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
	}
	return ls
}

// glyphShapes vary the marker with the series index, so marked series are
// distinguishable even in greyscale print.
var glyphShapes = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{},
	draw.RingGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{},
}

// seriesGlyph returns the marker style of series i.
func seriesGlyph(i int) draw.GlyphStyle {
	return draw.GlyphStyle{Color: SeriesColor(i), Radius: vg.Points(glyphSize), Shape: glyphShapes[wrap(i, len(glyphShapes))]}
}

// vlines draws thin grey dashed vertical guides (e.g. ReLoRA restarts)
// across the whole data area. It deliberately has no DataRange: guides must
// not stretch the X axis beyond the data.
type vlines struct{ xs []float64 }

// Plot implements plot.Plotter.
func (v vlines) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	ls := draw.LineStyle{Color: color.Gray{Y: 0x99}, Width: vg.Points(0.6), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
	for _, x := range v.xs {
		if x < p.X.Min || x > p.X.Max {
			continue
		}
		px := trX(x)
		c.StrokeLine2(ls, px, c.Min.Y, px, c.Max.Y)
	}
}

// hline draws a thin grey line across the data area at y (e.g. a zero
// difference); it has no DataRange, but build keeps y inside the Y range.
type hline struct{ y float64 }

// Plot implements plot.Plotter.
func (h hline) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	if h.y < p.Y.Min || h.y > p.Y.Max {
		return
	}
	ls := draw.LineStyle{Color: color.Gray{Y: 0x66}, Width: vg.Points(0.8)}
	py := trY(h.y)
	c.StrokeLine2(ls, c.Min.X, py, c.Max.X, py)
}

// seriesLabel names a series in error messages by index and name, because
// names may be empty or repeated.
func seriesLabel(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("series %d", i)
	}
	return fmt.Sprintf("series %d (%q)", i, name)
}

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// toPlot maps a data value to plot coordinates. Log axes are drawn as linear
// axes over log10 values (with logTicks labelling them in data units)
// rather than with plot.LogScale: gonum positions the rotated Y label of a
// LogScale axis at the arithmetic mean of the range, which reserves a large
// empty band under the title, and LogScale panics on non-positive values.
func toPlot(v float64, log bool) float64 {
	if log {
		return math.Log10(v)
	}
	return v
}

// drawPlot draws plt on c with its title centred over the data area (not
// the whole canvas, which includes the Y tick labels) and its top at y=top.
// gonum lays the title out itself; we reserve the same space, let gonum draw
// the untitled plot below it, and then draw the title where we want it.
func drawPlot(plt *plot.Plot, c draw.Canvas, top vg.Length) {
	if plt.BackgroundColor != nil {
		c.SetColor(plt.BackgroundColor)
		c.Fill(c.Rectangle.Path())
	}
	title := plt.Title.Text
	if title == "" {
		plt.Draw(c)
		return
	}
	dataC := plt.DataCanvas(c)
	sty := plt.Title.TextStyle
	size := sty.Rectangle(title).Size()
	inner := c
	inner.Max.Y -= size.Y + plt.Title.Padding
	plt.Title.Text = ""
	plt.Draw(inner)
	plt.Title.Text = title

	// Keep a title wider than the data area inside the canvas.
	x := dataC.Center().X
	x = max(x, c.Min.X+size.X/2)
	x = min(x, c.Max.X-size.X/2)
	c.FillText(sty, vg.Point{X: x, Y: top + sty.FontExtents().Descent}, title)
}
