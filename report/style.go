package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The Okabe–Ito colour-blind-safe palette.
var (
	black         = color.NRGBA{0x00, 0x00, 0x00, 0xFF}
	orange        = color.NRGBA{0xE6, 0x9F, 0x00, 0xFF}
	skyBlue       = color.NRGBA{0x56, 0xB4, 0xE9, 0xFF}
	bluishGreen   = color.NRGBA{0x00, 0x9E, 0x73, 0xFF}
	yellow        = color.NRGBA{0xF0, 0xE4, 0x42, 0xFF}
	blue          = color.NRGBA{0x00, 0x72, 0xB2, 0xFF}
	vermillion    = color.NRGBA{0xD5, 0x5E, 0x00, 0xFF}
	reddishPurple = color.NRGBA{0xCC, 0x79, 0xA7, 0xFF}
)

// palette is the order in which series without a method style get colours
// (high-contrast first; yellow, hard to see on white, last).
var palette = []color.NRGBA{blue, vermillion, bluishGreen, reddishPurple, orange, skyBlue, black, yellow}

// Style is how a series is drawn: the same method looks the same in every
// figure (see MethodStyle).
type Style struct {
	Color  color.NRGBA
	Width  vg.Length        // line width
	Dashes []vg.Length      // nil: solid
	Glyph  draw.GlyphDrawer // marker shape, when markers are drawn
	// z orders drawing: higher is drawn later, on top (the reference).
	z int
}

// Line widths in points: the full-rank reference is the thickest line,
// ReLoRA the next.
const (
	lineWidth   = 1.6
	reloraWidth = 2.1
	refWidth    = 2.6
	glyphSize   = 2.6
	thinWidth   = 0.5 // per-seed detail lines
)

// dashed is the dash of the methods drawn dashed, and of Series.Dashed.
var dashed = []vg.Length{vg.Points(5), vg.Points(3)}

// methodStyles is the registry: one style per method of the paper, keyed by
// methodKey. Full-rank training is the reference (black, solid, thickest,
// drawn on top); ReLoRA is vermillion; the Table 1 variants without warm
// start are dashed, +R+O+J (ReLoRA without warm start) in ReLoRA's colour;
// Control, a smaller full-rank model, is dashed black.
var methodStyles = map[string]Style{
	"full-rank": {Color: black, Width: refWidth, Glyph: draw.CircleGlyph{}, z: 2},
	"relora":    {Color: vermillion, Width: reloraWidth, Glyph: draw.SquareGlyph{}, z: 1},
	"lora+ws":   {Color: blue, Width: lineWidth, Glyph: draw.TriangleGlyph{}},
	"lora":      {Color: skyBlue, Width: lineWidth, Glyph: draw.PyramidGlyph{}},
	"control":   {Color: black, Width: lineWidth, Dashes: dashed, Glyph: draw.RingGlyph{}},
	"+r":        {Color: bluishGreen, Width: lineWidth, Dashes: dashed, Glyph: draw.CrossGlyph{}},
	"+r+o":      {Color: orange, Width: lineWidth, Dashes: dashed, Glyph: draw.PlusGlyph{}},
	"+r+j":      {Color: reddishPurple, Width: lineWidth, Dashes: dashed, Glyph: draw.BoxGlyph{}},
	"+r+o+j":    {Color: vermillion, Width: lineWidth, Dashes: dashed, Glyph: draw.RingGlyph{}},
	// Table 4's two LoRA ops are both ReLoRA.
	"fused":    {Color: vermillion, Width: reloraWidth, Glyph: draw.SquareGlyph{}, z: 1},
	"composed": {Color: vermillion, Width: lineWidth, Dashes: dashed, Glyph: draw.BoxGlyph{}},
	// Table 5's linear probe, a method of no other figure: a colour of
	// Table 1's variants, which never share a figure with it.
	"linearprobe": {Color: bluishGreen, Width: lineWidth, Glyph: draw.BoxGlyph{}},
}

// methodAliases maps the other spellings the tables use (experiments'
// row names) to a registry key.
var methodAliases = map[string]string{
	"fullrank": "full-rank", "fulltraining": "full-rank", "full": "full-rank",
	"relora(r+o+j+ws)": "relora",
	"lora+warmstart":   "lora+ws",
	"fusedloraop":      "fused", "composedloraop": "composed",
	"probe": "linearprobe", "fullfine-tuning": "full-rank",
}

// methodKey normalises a method name: lower case, no spaces, aliases
// resolved ("LoRA + Warm Start" and "LoRA+WS" are one method).
func methodKey(name string) string {
	k := strings.ToLower(strings.Join(strings.Fields(name), ""))
	if a, ok := methodAliases[k]; ok {
		return a
	}
	return k
}

// MethodStyle returns the fixed style of a method ("Full-rank", "Full
// training", "ReLoRA (R+O+J+WS)", "LoRA + Warm Start", "+R+O", ...), and
// false for a name that is not a method; such series get colours by
// position instead.
func MethodStyle(name string) (Style, bool) {
	s, ok := methodStyles[methodKey(name)]
	return s, ok
}

// variantDashes and the glyph shift make the k-th Variant of a method's
// style (several lines of one method in one figure) distinguishable.
var variantDashes = [][]vg.Length{
	nil,
	dashed,
	{vg.Points(1.5), vg.Points(2)},
	{vg.Points(7), vg.Points(2), vg.Points(1.5), vg.Points(2)},
}

var glyphShapes = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{},
	draw.RingGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{},
}

// styleKey is what resolveStyles needs of a series.
type styleKey struct {
	method  string // Method, or Name when Method is empty
	variant int
}

// resolveStyles gives each series its method's style; the others get
// palette colours by position, skipping colours the figure's methods use.
// Series that share a key that is not a method share its colour (one
// configuration drawn several ways, told apart by Variant).
func resolveStyles(keys []styleKey) []Style {
	used := map[color.NRGBA]bool{}
	for _, k := range keys {
		if s, ok := MethodStyle(k.method); ok {
			used[s.Color] = true
		}
	}
	var free []color.NRGBA
	for _, c := range palette {
		if !used[c] {
			free = append(free, c)
		}
	}
	if len(free) == 0 {
		free = palette
	}
	out := make([]Style, len(keys))
	slot := map[string]int{} // non-method key → its palette position
	for i, k := range keys {
		s, ok := MethodStyle(k.method)
		if !ok {
			n, seen := slot[k.method]
			if !seen {
				n = len(slot)
				slot[k.method] = n
			}
			s = Style{Color: free[n%len(free)], Width: lineWidth, Glyph: glyphShapes[n%len(glyphShapes)]}
			if n >= len(free) { // the colours wrapped around: dot the line
				s.Dashes = variantDashes[2]
			}
		}
		if v := k.variant; v > 0 {
			s.Dashes = variantDashes[v%len(variantDashes)]
			s.Glyph = glyphShapes[(slices.IndexFunc(glyphShapes, func(g draw.GlyphDrawer) bool { return g == s.Glyph })+v)%len(glyphShapes)]
		}
		out[i] = s
	}
	return out
}

// line returns the line style; dashed forces a dash on a solid style.
func (s Style) line(dash bool) draw.LineStyle {
	ls := draw.LineStyle{Color: s.Color, Width: vg.Points(float64(s.Width)), Dashes: s.Dashes}
	if dash && ls.Dashes == nil {
		ls.Dashes = dashed
	}
	return ls
}

// glyph returns the marker style.
func (s Style) glyph() draw.GlyphStyle {
	return draw.GlyphStyle{Color: s.Color, Radius: vg.Points(glyphSize), Shape: s.Glyph}
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
	p := newBarePlot(title, xlabel, ylabel)
	p.Add(newGrid(true))
	return p
}

// newGrid is the light grid; a categorical X axis (DotPlot) draws its own
// separators instead of vertical lines through its groups.
func newGrid(vertical bool) *plotter.Grid {
	grid := plotter.NewGrid()
	grid.Vertical = draw.LineStyle{Color: color.Gray{Y: 0xE6}, Width: vg.Points(0.5)}
	grid.Horizontal = grid.Vertical
	if !vertical {
		grid.Vertical.Color = nil
	}
	return grid
}

// newBarePlot is newPlot without the grid.
func newBarePlot(title, xlabel, ylabel string) *plot.Plot {
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
	return p
}

// newLegend returns a gonum legend in the report's font, entries listed
// from the top with their samples on the left; it is drawn outside the
// data area (see drawFigure), so it never covers data.
func newLegend() *plot.Legend {
	lg := plot.NewLegend()
	lg.TextStyle = textStyle(regularFont, legendSize)
	lg.Top, lg.Left = true, true
	lg.ThumbnailWidth = vg.Points(22)
	lg.Padding = vg.Points(2.5)
	return &lg
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
// rather than with plot.LogScale: gonum places the glyph box of a LogScale
// axis's label at the normalised arithmetic mean of the range, which
// reserves a large empty band under the title (or beside the data), and
// LogScale panics on non-positive values.
func toPlot(v float64, log bool) float64 {
	if log {
		return math.Log10(v)
	}
	return v
}

// legendGap separates the data area from a legend beside it, in points.
const legendGap = 8

// legendWidth is the width of the strip a legend needs beside the data
// area, 0 without entries. It has 10% slack: the SVG does not embed fonts,
// and a viewer substituting a wider face (e.g. DejaVu) must not push text
// off the page.
func legendWidth(lg *plot.Legend, c draw.Canvas) vg.Length {
	if lg == nil {
		return 0
	}
	w := lg.Rectangle(c).Size().X
	if w == 0 {
		return 0
	}
	return vg.Points(legendGap) + lg.ThumbnailWidth + (w-lg.ThumbnailWidth)*1.1
}

// drawFigure draws plt on c with its legend in a strip to the right of the
// data area, top-aligned with it: outside the data, so no curve is ever
// hidden. (gonum's Plot.Draw puts Plot.Legend inside the data area, in a
// fixed corner.)
func drawFigure(plt *plot.Plot, lg *plot.Legend, c draw.Canvas) {
	w := legendWidth(lg, c)
	pc := c
	pc.Max.X -= w
	drawPlot(plt, pc, pc.Max.Y, c.Max.X)
	drawLegend(plt, lg, pc)
}

// drawLegend draws lg to the right of the data area of plt drawn on pc.
func drawLegend(plt *plot.Plot, lg *plot.Legend, pc draw.Canvas) {
	if legendWidth(lg, pc) == 0 {
		return
	}
	data := plt.DataCanvas(pc)
	lc := pc
	lc.Min = vg.Point{X: pc.Max.X + vg.Points(legendGap), Y: data.Min.Y}
	lc.Max = vg.Point{X: lc.Min.X + legendWidth(lg, pc), Y: data.Max.Y}
	lg.Draw(lc)
}

// drawPlot draws plt on c with its title centred over the data area (not
// the whole canvas, which includes the Y tick labels), its top at y=top and
// its right end at most at x=right (a long title may run over the legend
// strip, which starts below it).
// gonum lays the title out itself; we reserve the same space, let gonum draw
// the untitled plot below it, and then draw the title where we want it.
func drawPlot(plt *plot.Plot, c draw.Canvas, top, right vg.Length) {
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
	x = min(x, right-size.X/2)
	c.FillText(sty, vg.Point{X: x, Y: top + sty.FontExtents().Descent}, title)
}
