package report

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/relorago/harness/stats"
)

// mdTableLines returns the lines of the Markdown output that belong to the
// pipe table.
func mdTableLines(md string) []string {
	var out []string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "|") {
			out = append(out, l)
		}
	}
	return out
}

// mdCells splits a pipe-table line into trimmed cells, honouring "\|".
func mdCells(line string) []string {
	line = strings.ReplaceAll(line, `\|`, "\x00")
	parts := strings.Split(strings.Trim(line, "|"), "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(strings.ReplaceAll(p, "\x00", `\|`))
	}
	return parts
}

var (
	sepLeft   = regexp.MustCompile(`^:-+$`)
	sepRight  = regexp.MustCompile(`^-+:$`)
	sepCenter = regexp.MustCompile(`^:-+:$`)
)

func TestMarkdown(t *testing.T) {
	tests := []struct {
		name      string
		table     Table
		wantCols  int
		wantAlign []*regexp.Regexp
		wantCells []string // escaped cells that must appear
		wantText  []string // other substrings that must appear
		forbid    []string
	}{
		{
			name: "defaults: first left, rest right",
			table: Table{
				Title:  "Table 2: Perplexity",
				Header: []string{"Model", "60M", "130M"},
				Rows:   [][]string{{"Full-rank", "33.81", "23.65"}, {"ReLoRA", "34.46", "25.04"}},
				Notes:  []string{"Lower is better."},
			},
			wantCols:  3,
			wantAlign: []*regexp.Regexp{sepLeft, sepRight, sepRight},
			wantCells: []string{"Model", "60M", "130M", "Full-rank", "33.81", "25.04"},
			wantText:  []string{"### Table 2: Perplexity\n\n|", "\n\nLower is better.\n"},
			forbid:    []string{"MODEL", "- Lower"},
		},
		{
			name: "explicit and partial alignment",
			table: Table{
				Header: []string{"a", "b", "c", "d"},
				Rows:   [][]string{{"1", "2", "3", "4"}},
				Align:  []Align{AlignCenter, AlignLeft, AlignDefault},
			},
			wantCols:  4,
			wantAlign: []*regexp.Regexp{sepCenter, sepLeft, sepRight, sepRight},
			wantCells: []string{"a", "d", "4"},
			forbid:    []string{"###"},
		},
		{
			name: "ragged rows are padded, pipes escaped, notes listed",
			table: Table{
				Title:  "Ragged",
				Header: []string{"k"},
				Rows:   [][]string{{"x|y", "2", "3"}, {"z"}},
				Notes:  []string{"first", "second\nline"},
			},
			wantCols:  3,
			wantAlign: []*regexp.Regexp{sepLeft, sepRight, sepRight},
			wantCells: []string{`x\|y`, "z", "3"},
			wantText:  []string{"- first\n", "- second line\n"},
		},
		{
			name:      "rows without header still get a header row",
			table:     Table{Rows: [][]string{{"a", "b"}}},
			wantCols:  2,
			wantAlign: []*regexp.Regexp{sepLeft, sepRight},
			wantCells: []string{"a", "b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md := tc.table.Markdown()
			lines := mdTableLines(md)
			if want := 2 + len(tc.table.Rows); len(lines) != want {
				t.Fatalf("got %d table lines, want %d (header, separator, rows):\n%s", len(lines), want, md)
			}
			for i, l := range lines {
				if got := len(mdCells(l)); got != tc.wantCols {
					t.Errorf("line %d %q has %d cells, want %d", i, l, got, tc.wantCols)
				}
			}
			sep := mdCells(lines[1])
			for i, re := range tc.wantAlign {
				if i >= len(sep) || !re.MatchString(sep[i]) {
					t.Errorf("separator %q: column %d does not match %s", lines[1], i, re)
				}
			}
			var cells []string
			for i, l := range lines {
				if i != 1 {
					cells = append(cells, mdCells(l)...)
				}
			}
			for _, want := range tc.wantCells {
				found := false
				for _, c := range cells {
					found = found || c == want
				}
				if !found {
					t.Errorf("cell %q missing from %v", want, cells)
				}
			}
			for _, s := range tc.wantText {
				if !strings.Contains(md, s) {
					t.Errorf("output lacks %q:\n%s", s, md)
				}
			}
			for _, s := range tc.forbid {
				if strings.Contains(md, s) {
					t.Errorf("output contains %q:\n%s", s, md)
				}
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name  string
		table Table
	}{
		{"full", Table{
			Title:  "Table 3: Ablations",
			Header: []string{"Variant", "PPL", "Δ"},
			Rows:   [][]string{{"ReLoRA", "23.64", "0"}, {"no restarts", "24.20", "+0.56"}, {"no warm start", "25.01"}},
			Notes:  []string{"130M model, 20k steps"},
		}},
		{"no header", Table{Rows: [][]string{{"a|b", "c"}}}},
		{"header only", Table{Header: []string{"lonely"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			txt := tc.table.Text()
			want := append([]string{tc.table.Title}, tc.table.Header...)
			want = append(want, tc.table.Notes...)
			for _, r := range tc.table.Rows {
				want = append(want, r...)
			}
			for _, s := range want {
				if !strings.Contains(txt, s) {
					t.Errorf("Text lacks %q:\n%s", s, txt)
				}
			}
		})
	}
}

// ramp returns n points of a decaying loss-like curve.
func ramp(n int, off float64) (x, y []float64) {
	x, y = make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = float64(i * 100)
		y[i] = 3 + 5*math.Exp(-float64(i)/20) + off
	}
	return x, y
}

// checkFigure asserts that base.png is a decodable PNG of the expected pixel
// size and base.svg a complete SVG document.
func checkFigure(t *testing.T, base string, wIn, hIn float64) {
	t.Helper()
	raw, err := os.ReadFile(base + ".png")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s.png lacks the PNG signature", base)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s.png: %v", base, err)
	}
	wantW := int(math.Round(wIn * PNGDPI))
	wantH := int(math.Round(hIn * PNGDPI))
	if b := img.Bounds(); abs(b.Dx()-wantW) > 1 || abs(b.Dy()-wantH) > 1 {
		t.Errorf("%s.png is %dx%d px, want about %dx%d", base, b.Dx(), b.Dy(), wantW, wantH)
	}
	svg, err := os.ReadFile(base + ".svg")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(svg))
	if !strings.HasPrefix(s, "<?xml") || !strings.Contains(s, "<svg") || !strings.HasSuffix(s, "</svg>") {
		t.Errorf("%s.svg is not a complete SVG document (%d bytes)", base, len(svg))
	}
	if strings.Contains(s, "font-family:Liberation Sans;") {
		t.Errorf("%s.svg has no font fallback", base)
	}
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func TestLinePlotSave(t *testing.T) {
	x, y := ramp(200, 0)
	_, y2 := ramp(200, 0.3)
	withNaN := append([]float64(nil), y2...)
	withNaN[10], withNaN[50] = math.NaN(), math.Inf(1)
	tests := []struct {
		name string
		plot LinePlot
		w, h float64
	}{
		{"loss curves with restarts", LinePlot{
			Title: "Training loss", XLabel: "Step", YLabel: "Loss",
			Series: []Series{{Name: "Full", X: x, Y: y}, {Name: "ReLoRA", X: x, Y: withNaN, Dashed: true}},
			VLines: []float64{5000, 10000, 1e9}, // the last is off-axis and skipped
		}, 6, 4},
		{"log-log with markers", LinePlot{
			Title: "Scaling", LogX: true, LogY: true,
			Series: []Series{{Name: "ppl", X: []float64{6e7, 1.3e8, 3.5e8}, Y: []float64{34, 24, 18}, Points: true}},
		}, 4, 3},
		{"fixed Y range, unnamed and single-point series", LinePlot{
			YMin: 2, YMax: 5,
			Series: []Series{{X: x, Y: y}, {Name: "final", X: []float64{1}, Y: []float64{3}}},
		}, 5, 3.5},
		{"many series wrap the palette", LinePlot{Series: func() []Series {
			var s []Series
			for i := range 10 {
				_, yi := ramp(50, float64(i)/10)
				s = append(s, Series{Name: "run", X: x[:50], Y: yi})
			}
			return s
		}()}, 5, 3},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := filepath.Join(dir, "sub", "line"+string(rune('a'+i)))
			if err := tc.plot.Save(base, tc.w, tc.h); err != nil {
				t.Fatal(err)
			}
			checkFigure(t, base, tc.w, tc.h)
		})
	}
}

// spectrum returns n deterministic pseudo-random positive values.
func spectrum(n int, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		u := math.Mod(float64(i)*0.6180339887, 1)
		v[i] = scale * -math.Log(1-u*0.999)
	}
	return v
}

func TestSavePanels(t *testing.T) {
	mk := func(title string, logY bool) Histogram {
		return Histogram{Title: title, XLabel: "Singular value", LogY: logY, Series: []HistSeries{
			{Name: "ReLoRA", Values: spectrum(500, 0.2)},
			{Name: "LoRA", Values: append(spectrum(300, 0.05), math.NaN())},
		}}
	}
	tests := []struct {
		name   string
		panels []Histogram
		cols   int
		w, h   float64
		wantWH [2]float64
	}{
		{"grid with empty cell", []Histogram{mk("q", false), mk("k", true), mk("v", false), mk("o", false), mk("up", false)}, 3, 3, 2.5, [2]float64{9, 5}},
		{"single constant series, custom bins", []Histogram{{Series: []HistSeries{{Name: "const", Values: []float64{1, 1, 1}}}, Bins: 7}}, 1, 4, 3, [2]float64{4, 3}},
		{"cols larger than panels", []Histogram{mk("a", false), mk("b", true)}, 5, 3, 2.5, [2]float64{6, 2.5}},
		{"a series without values is listed only", []Histogram{{Series: []HistSeries{{Name: "ok", Values: []float64{1, 2}}, {Name: "none"}}}}, 1, 4, 3, [2]float64{4, 3}},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := filepath.Join(dir, "nested", "hist"+string(rune('a'+i)))
			if err := SavePanels(base, tc.panels, tc.cols, tc.w, tc.h); err != nil {
				t.Fatal(err)
			}
			checkFigure(t, base, tc.wantWH[0], tc.wantWH[1])
		})
	}
}

func TestDensity(t *testing.T) {
	d := density([]float64{0, 0.1, 0.5, 1, 1}, 0, 1, 2)
	// Bin width 0.5, 5 values: 2 in [0, 0.5), 3 in [0.5, 1] (top edge inclusive).
	if want := []float64{2 / 2.5, 3 / 2.5}; math.Abs(d[0]-want[0]) > 1e-12 || math.Abs(d[1]-want[1]) > 1e-12 {
		t.Errorf("density = %v, want %v", d, want)
	}
}

func TestErrors(t *testing.T) {
	good := []float64{1, 2, 3}
	nan := math.NaN()
	lineCases := []struct {
		name string
		plot LinePlot
		w, h float64
		want string
	}{
		{"no series", LinePlot{}, 4, 3, "no series"},
		{"length mismatch", LinePlot{Series: []Series{{Name: "bad", X: good, Y: good[:2]}}}, 4, 3, `("bad"): len(X) = 3 but len(Y) = 2`},
		{"only an empty series", LinePlot{Series: []Series{{Name: "empty"}}}, 4, 3, "no series has a finite point"},
		{"only NaN", LinePlot{Series: []Series{{Name: "diverged", X: good, Y: []float64{nan, math.Inf(1), nan}}}}, 4, 3, "no series has a finite point"},
		{"log Y non-positive", LinePlot{LogY: true, Series: []Series{{Name: "zero", X: good, Y: []float64{1, 0, 2}}}}, 4, 3, `("zero"): LogY needs Y > 0`},
		{"log X non-positive", LinePlot{LogX: true, Series: []Series{{Name: "negx", X: []float64{-1, 1, 2}, Y: good}}}, 4, 3, `("negx"): LogX needs X > 0`},
		{"inverted Y range", LinePlot{YMin: 3, YMax: 1, Series: []Series{{X: good, Y: good}}}, 4, 3, "YMin (3) must be below YMax (1)"},
		{"log Y with YMin 0", LinePlot{LogY: true, YMax: 5, Series: []Series{{X: good, Y: good}}}, 4, 3, "LogY needs YMin > 0"},
		{"NaN vline", LinePlot{VLines: []float64{nan}, Series: []Series{{X: good, Y: good}}}, 4, 3, "VLines[0]"},
		{"zero size", LinePlot{Series: []Series{{X: good, Y: good}}}, 0, 3, "figure size"},
		{"absurd size", LinePlot{Series: []Series{{X: good, Y: good}}}, 4, 3000, "figure size"},
	}
	dir := t.TempDir()
	for _, tc := range lineCases {
		t.Run("line/"+tc.name, func(t *testing.T) {
			base := filepath.Join(dir, "line")
			err := tc.plot.Save(base, tc.w, tc.h)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}

	ok := Histogram{Series: []HistSeries{{Name: "ok", Values: good}}}
	panelCases := []struct {
		name   string
		panels []Histogram
		cols   int
		want   string
	}{
		{"no panels", nil, 2, "no panels"},
		{"zero cols", []Histogram{ok}, 0, "cols must be positive"},
		{"panel without series", []Histogram{ok, {Title: "blank"}}, 2, `panel 1 ("blank"): no series`},
		{"all NaN values", []Histogram{{Series: []HistSeries{{Name: "nan", Values: []float64{nan}}}}}, 1, "no series has a finite value"},
		{"no values", []Histogram{{Series: []HistSeries{{Name: "none"}, {Name: "nan", Values: []float64{nan}}}}}, 1, "no series has a finite value"},
		{"negative bins", []Histogram{{Bins: -1, Series: ok.Series}}, 1, "Bins must be in [0, 10000], got -1"},
		{"too many bins", []Histogram{{Bins: 1 << 30, Series: ok.Series}}, 1, "Bins must be in [0, 10000]"},
		{"overflowing range", []Histogram{{Series: []HistSeries{{Values: []float64{-math.MaxFloat64, math.MaxFloat64}}}}}, 1, "too wide"},
	}
	for _, tc := range panelCases {
		t.Run("panels/"+tc.name, func(t *testing.T) {
			err := SavePanels(filepath.Join(dir, "hist"), tc.panels, tc.cols, 3, 2)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed saves left files behind: %v", entries)
	}
}

func TestDeterministic(t *testing.T) {
	x, y := ramp(300, 0)
	_, y2 := ramp(300, 0.2)
	lp := LinePlot{Title: "Loss", XLabel: "Step", YLabel: "Loss", LogY: true,
		Series: []Series{{Name: "a", X: x, Y: y}, {Name: "b", X: x, Y: y2, Dashed: true, Points: true}},
		VLines: []float64{3000, 6000}}
	hs := []Histogram{
		{Title: "p0", Series: []HistSeries{{Name: "s", Values: spectrum(400, 1)}, {Name: "t", Values: spectrum(200, 2)}}},
		{Title: "p1", LogY: true, Series: []HistSeries{{Name: "s", Values: spectrum(400, 1)}}},
	}
	tests := []struct {
		name string
		save func(base string) error
	}{
		{"line", func(base string) error { return lp.Save(base, 5, 3) }},
		{"panels", func(base string) error { return SavePanels(base, hs, 2, 3, 2.5) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got [2][]byte
			for i := range got {
				base := filepath.Join(t.TempDir(), "fig")
				if err := tc.save(base); err != nil {
					t.Fatal(err)
				}
				var err error
				if got[i], err = os.ReadFile(base + ".svg"); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got[0], got[1]) {
				t.Errorf("SVG differs between two identical calls (%d vs %d bytes)", len(got[0]), len(got[1]))
			}
		})
	}
}

func TestSaveStripsImageExtension(t *testing.T) {
	dir := t.TempDir()
	lp := LinePlot{Series: []Series{{X: []float64{0, 1}, Y: []float64{1, 2}}}}
	if err := lp.Save(filepath.Join(dir, "fig.png"), 2, 2); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fig.png", "fig.svg"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi float64
		log    bool
		want   []string
	}{
		{"steps compacted", 0, 20000, false, []string{"0", "5k", "10k", "15k", "20k"}},
		{"fractions", 0, 0.78, false, []string{"0.0", "0.2", "0.4", "0.6"}},
		{"log within a decade still labelled", 2.8, 10.5, true, []string{"4", "6", "8", "10"}},
		{"log over one to two decades at 1-2-5", 0.003, 0.085, true, []string{"0.005", "0.01", "0.02", "0.05"}},
		{"log decades (gonum's LogTicks)", 3e-6, 1.2e-3, true, []string{"1e-05", "0.0001", "0.001"}},
		{"log decades compacted", 2e4, 3e6, true, []string{"0.1M", "1M"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a plot.Axis
			lo, hi := tc.lo, tc.hi
			setTicks(&a, tc.log, 5.5, nil, nil)
			if tc.log {
				lo, hi = math.Log10(lo), math.Log10(hi)
			}
			if got := labels(a.Tick.Marker.Ticks(lo, hi)); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("labels = %v, want %v", got, tc.want)
			}
		})
	}
}

// labels returns the labelled ticks' labels.
func labels(ts []plot.Tick) []string {
	var got []string
	for _, tk := range ts {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	return got
}

// A log axis over data 2, 4, 8 (ranks) labels exactly 2, 4, 8 and nothing
// else, at their positions; so do log axes of other few values.
func TestLogAxisLabelsItsData(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want []string
	}{
		{[]float64{2, 4, 8}, []string{"2", "4", "8"}},
		{[]float64{2, 4, 8, 16, 32, 64}, []string{"2", "4", "8", "16", "32", "64"}},
		{[]float64{150, 300, 600, 1200}, []string{"150", "300", "600", "1200"}},
		{[]float64{40000, 100000, 200000}, []string{"40k", "100k", "200k"}},
	} {
		lp := LinePlot{LogX: true, Series: []Series{{Name: "a", X: tc.xs, Y: tc.xs}}}
		plt, _, err := lp.build(6, 4)
		if err != nil {
			t.Fatal(err)
		}
		ts := plt.X.Tick.Marker.Ticks(plt.X.Min, plt.X.Max)
		if got := labels(ts); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("data %v: labels %v, want %v", tc.xs, got, tc.want)
		}
		for i, tk := range ts {
			if math.Abs(tk.Value-math.Log10(tc.xs[i])) > 1e-12 {
				t.Errorf("data %v: tick %d at log10 %g, want %g", tc.xs, i, tk.Value, math.Log10(tc.xs[i]))
			}
		}
	}
	// Fixed ticks name the values (model sizes by name).
	lp := LinePlot{LogX: true, XTicks: []Tick{{41632, "40k"}, {109584, "0.1M"}},
		Series: []Series{{Name: "a", X: []float64{41632, 109584, 21710}, Y: []float64{3, 2, 4}}}}
	plt, _, err := lp.build(6, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(plt.X.Tick.Marker.Ticks(plt.X.Min, plt.X.Max)); strings.Join(got, ",") != "40k,0.1M" {
		t.Errorf("fixed ticks: %v", got)
	}
}

// An axis whose data are whole numbers (merges 1, 2, 3) gets whole-number
// ticks only, whatever its length.
func TestIntegerAxisTicksAreIntegers(t *testing.T) {
	for _, xs := range [][]float64{{1, 2, 3}, {1, 2}, {1, 2, 3, 4, 5, 6, 7}, {0, 2400}, {3, 4}} {
		for _, inches := range []float64{3, 8, 12} {
			lp := LinePlot{Series: []Series{{Name: "a", X: xs, Y: xs}}}
			plt, _, err := lp.build(inches, 4)
			if err != nil {
				t.Fatal(err)
			}
			ts := plt.X.Tick.Marker.Ticks(plt.X.Min, plt.X.Max)
			if len(labels(ts)) < 2 {
				t.Errorf("x %v at %g in: labels %v, want at least two", xs, inches, labels(ts))
			}
			for _, tk := range ts {
				if tk.Value != math.Trunc(tk.Value) || strings.Contains(tk.Label, ".") {
					t.Errorf("x %v at %g in: tick %g %q is not a whole number", xs, inches, tk.Value, tk.Label)
				}
			}
		}
	}
	// Fractional data keep fractional ticks.
	plt, _, err := LinePlot{Series: []Series{{Name: "a", X: []float64{1, 1.5, 2}, Y: []float64{1, 2, 3}}}}.build(8, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(plt.X.Tick.Marker.Ticks(plt.X.Min, plt.X.Max)); !slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, ".") && !strings.HasSuffix(l, ".0") }) {
		t.Errorf("fractional axis labels %v are all whole", got)
	}
}

// A method has one style in every figure, whatever the position of its
// series and however the table spells it.
func TestMethodStyleIsTheSameAcrossFigures(t *testing.T) {
	full, ok := MethodStyle("Full-rank")
	if !ok || full.Color != black || full.Dashes != nil {
		t.Fatalf("Full-rank: %+v (%v), want solid black", full, ok)
	}
	relora, ok := MethodStyle("ReLoRA")
	if !ok || relora.Color != vermillion || relora.Dashes != nil {
		t.Fatalf("ReLoRA: %+v (%v), want solid vermillion", relora, ok)
	}
	for name, s := range methodStyles {
		if name != "full-rank" && s.Width >= full.Width {
			t.Errorf("%s's line is as thick as the full-rank reference's", name)
		}
	}
	for _, names := range [][]string{
		{"Full-rank", "Full training", "full-rank", "full rank", "Full fine-tuning"},
		{"ReLoRA", "ReLoRA (R+O+J+WS)", "relora"},
		{"LoRA+WS", "LoRA + Warm Start"},
		{"LoRA"}, {"Control"}, {"+R"}, {"+R+O"}, {"+R+J"}, {"+R+O+J"}, {"fused"}, {"composed"}, {"Linear probe", "probe"},
	} {
		want, ok := MethodStyle(names[0])
		if !ok {
			t.Errorf("%q has no style", names[0])
		}
		for _, n := range names[1:] {
			if got, _ := MethodStyle(n); !reflect.DeepEqual(got, want) {
				t.Errorf("%q styled %+v, %q %+v", n, got, names[0], want)
			}
		}
	}
	if _, ok := MethodStyle("measured"); ok {
		t.Error("a name that is no method has a style")
	}
	// Table 1's rows are told apart within a figure.
	seen := map[string]string{}
	for _, n := range []string{"LoRA", "+R", "+R+O", "+R+J", "+R+O+J", "LoRA+WS", "ReLoRA", "Full-rank"} {
		s, _ := MethodStyle(n)
		k := fmt.Sprint(s.Color, s.Dashes)
		if o, dup := seen[k]; dup {
			t.Errorf("%s and %s look the same", n, o)
		}
		seen[k] = n
	}

	// In figures: a line plot with the rows in one order, another in
	// another order with a per-seed line, a histogram.
	a := LinePlot{Series: []Series{{Name: "LoRA"}, {Name: "ReLoRA (R+O+J+WS)"}, {Name: "Full-rank"}}}
	b := LinePlot{Series: []Series{{Name: "Full training"}, {Name: "Control"}, {Name: "ReLoRA"}, {Of: "ReLoRA"}, {Name: "measured", Method: "ReLoRA"}}}
	sa, err := a.styles()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.styles()
	if err != nil {
		t.Fatal(err)
	}
	h := Histogram{Series: []HistSeries{{Name: "ReLoRA"}, {Name: "LoRA"}, {Name: "Full-rank"}}}
	sh := h.styles()
	if sa[2].Color != black || sb[0].Color != black || sh[2].Color != black {
		t.Errorf("full-rank is not black in every figure")
	}
	for _, c := range []color.NRGBA{sa[1].Color, sb[2].Color, sb[3].Color, sb[4].Color, sh[0].Color} {
		if c != vermillion {
			t.Errorf("ReLoRA is %v somewhere, want vermillion", c)
		}
	}
	if sa[0].Color != sh[1].Color {
		t.Errorf("LoRA is %v in a line plot, %v in a histogram", sa[0].Color, sh[1].Color)
	}
	if sb[3].Width >= sb[2].Width {
		t.Errorf("a per-seed line is not thin")
	}
	// Series that are not methods take colours no method of the figure uses.
	sc, _ := LinePlot{Series: []Series{{Name: "ReLoRA"}, {Name: "x"}, {Name: "y"}}}.styles()
	if sc[1].Color == vermillion || sc[2].Color == vermillion || sc[1].Color == sc[2].Color {
		t.Errorf("fallback colours %v, %v clash", sc[1].Color, sc[2].Color)
	}
	// Variants of one method keep its colour and change dash and marker.
	sv, _ := LinePlot{Series: []Series{{Name: "ReLoRA q", Method: "ReLoRA"}, {Name: "ReLoRA v", Method: "ReLoRA", Variant: 1}}}.styles()
	if sv[0].Color != vermillion || sv[1].Color != vermillion || reflect.DeepEqual(sv[0].Dashes, sv[1].Dashes) || sv[0].Glyph == sv[1].Glyph {
		t.Errorf("variants %+v", sv)
	}
	// Series sharing a key that is not a method share its colour; another
	// key gets another colour.
	sk, _ := LinePlot{Series: []Series{{Name: "a", Method: "r 8"}, {Name: "a model", Method: "r 8", Variant: 1}, {Name: "b", Method: "r 4"}}}.styles()
	if sk[0].Color != sk[1].Color || sk[0].Color == sk[2].Color || reflect.DeepEqual(sk[0].Dashes, sk[1].Dashes) {
		t.Errorf("shared non-method key: %+v", sk)
	}
}

// The legend stands beside the data area, never on it.
func TestLegendIsOutsideTheDataArea(t *testing.T) {
	x, y := ramp(100, 0)
	lp := LinePlot{Title: "t", Series: []Series{{Name: "Full-rank", X: x, Y: y}, {Name: "a long legend entry name", X: x, Y: y}}}
	plt, lg, err := lp.build(6, 4)
	if err != nil {
		t.Fatal(err)
	}
	c := draw.New(vgimg.New(6*vg.Inch, 4*vg.Inch))
	w := legendWidth(lg, c)
	if w <= vg.Points(legendGap) {
		t.Fatal("no legend")
	}
	pc := c
	pc.Max.X -= w
	if data := plt.DataCanvas(pc); data.Max.X > c.Max.X-w {
		t.Errorf("data area ends at %v, legend strip starts at %v", data.Max.X, c.Max.X-w)
	}
	if lg.Rectangle(c).Size().X+vg.Points(legendGap) > w {
		t.Errorf("legend (%v wide) does not fit its strip (%v)", lg.Rectangle(c).Size().X, w)
	}
	// Unnamed series make no legend.
	_, lg, _ = LinePlot{Series: []Series{{X: x, Y: y}}}.build(6, 4)
	if legendWidth(lg, c) != 0 {
		t.Error("a legend for unnamed series")
	}
}

func TestTickLabelsOfWholeSteps(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		bad    string
	}{{200, 2400, ".0"}, {0, 0.75, ".250"}} {
		for _, tk := range (niceTicks{target: 10}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" && strings.HasSuffix(tk.Label, tc.bad) {
				t.Errorf("range %g–%g: label %q has a useless %q", tc.lo, tc.hi, tk.Label, tc.bad)
			}
		}
	}
}

// The verdict rule on hand-made per-seed differences (method − baseline
// perplexity, lower is better): a clear win, a clear loss, a tie within
// the noise, and one seed, which gives no noise estimate.
func TestVerdictsFromPerSeedDifferences(t *testing.T) {
	for _, tc := range []struct {
		name string
		diff []float64
		want Verdict
	}{
		{"clear win", []float64{-0.020, -0.025, -0.018}, Reproduced},
		{"clear loss", []float64{0.030, 0.041, 0.035}, NotReproduced},
		{"tie within noise", []float64{-0.015, 0.010, -0.030}, Inconclusive},
		// Better in 3 of 3 seeds, but the spread is as large as the mean:
		// with 2 degrees of freedom the interval still contains 0.
		{"3 of 3 better but noisy", []float64{-0.004, -0.009, -0.003}, Inconclusive},
		{"one seed", []float64{-0.5}, Inconclusive},
	} {
		if got := JudgeBelow(stats.MeanInterval(tc.diff), 0); got != tc.want {
			t.Errorf("%s %v: %s, want %s (interval %s)", tc.name, tc.diff, got, tc.want, stats.MeanInterval(tc.diff).Format(4))
		}
	}
}
