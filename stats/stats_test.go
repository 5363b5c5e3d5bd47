package stats

import (
	"math"
	"testing"
)

func TestMeanStd(t *testing.T) {
	xs := []float64{2, 4, 4, 4, 5, 5, 7, 9}
	if Mean(xs) != 5 {
		t.Errorf("mean %g", Mean(xs))
	}
	if got := Std(xs); math.Abs(got-2.138089935) > 1e-8 {
		t.Errorf("std %g, want 2.138 (sample)", got)
	}
	if Std([]float64{3}) != 0 || !math.IsNaN(Mean(nil)) {
		t.Error("edge cases")
	}
	if s := PlusMinus([]float64{1, 3}, 2); s != "2.00 ± 1.41" {
		t.Errorf("PlusMinus = %q", s)
	}
}
