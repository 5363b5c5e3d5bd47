package report

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func dots(name string, ys ...float64) Dots {
	d := Dots{Name: name}
	for _, y := range ys {
		d.Y, d.Lo, d.Hi = append(d.Y, y), append(d.Lo, y-2), append(d.Hi, y+3)
	}
	return d
}

func TestDotPlotSave(t *testing.T) {
	p := DotPlot{Title: "scores", YLabel: "score", Groups: []string{"a", "b†", "c"},
		Series: []Dots{dots("Full fine-tuning", 30, 45, 60), dots("ReLoRA", 20, math.NaN(), 55)},
		Marks:  []Marks{{Name: "majority", Y: []float64{0, 17, 58}}, {Name: "heuristic", Y: []float64{38, math.NaN(), 66}}}}
	p.Series[0].Method = "full"
	base := filepath.Join(t.TempDir(), "dots")
	if err := p.Save(base, 6, 3.5); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, base, 6, 3.5)
}

// Series sit side by side inside their group's slot, never on a
// neighbour's; the slot's edges are where the marks end.
func TestDotPlotOffsetsStayInTheSlot(t *testing.T) {
	for n := 1; n <= 6; n++ {
		prev := math.Inf(-1)
		for j := range n {
			x := offset(j, n)
			if x <= prev || math.Abs(x) >= slotWidth/2 {
				t.Fatalf("series %d of %d at offset %g (previous %g, slot ±%g)", j, n, x, prev, slotWidth/2)
			}
			prev = x
		}
	}
}

func TestDotPlotErrors(t *testing.T) {
	for name, p := range map[string]DotPlot{
		"no groups":       {Series: []Dots{dots("x")}},
		"short series":    {Groups: []string{"a", "b"}, Series: []Dots{dots("x", 1)}},
		"short marks":     {Groups: []string{"a"}, Marks: []Marks{{Name: "m", Y: []float64{1, 2}}}},
		"nothing finite":  {Groups: []string{"a"}, Series: []Dots{dots("x", math.NaN())}},
		"nothing to draw": {Groups: []string{"a"}},
	} {
		if err := p.Save(filepath.Join(t.TempDir(), "x"), 4, 3); err == nil || !strings.Contains(err.Error(), "dot plot") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
