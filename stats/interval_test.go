package stats

import (
	"math"
	"testing"
)

// A hand-computed paired interval: differences 1, 2, 3 have mean 2, sample
// std 1, n 3, t(0.975, 2) = 4.302653, so the half-width is 4.302653/√3 =
// 2.484138.
func TestMeanIntervalByHand(t *testing.T) {
	iv := MeanInterval([]float64{1, 2, 3})
	if iv.Mean != 2 || math.Abs(iv.Lo-(2-2.484138)) > 1e-5 || math.Abs(iv.Hi-(2+2.484138)) > 1e-5 {
		t.Fatalf("interval %+v, want 2 ± 2.484138", iv)
	}
	if one := MeanInterval([]float64{5}); !math.IsNaN(one.Lo) || one.Below(10) || one.Above(0) {
		t.Fatalf("one value has no interval: %+v", one)
	}
	if got, want := MeanInterval([]float64{5}).Format(2), "+5.00 (no interval from 1 value)"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
	if got, want := iv.Format(1), "+2.0 [-0.5, +4.5]"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}
