package relora

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPruneZeroesTheStatedFraction(t *testing.T) {
	const n = 100_000
	for _, tc := range []struct {
		mode  string
		ratio float64
		want  float64 // fraction zeroed
		tol   float64
	}{
		{PruneZero, 0, 1, 0},
		{PruneRandom, 0.999, 0.999, 0.01},
		{PruneRandom, 0.9, 0.9, 0.01},
		{PruneMagnitude, 0.9, 0.9, 1e-4},
		{PruneMagnitude, 0.999, 0.999, 1e-4},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64()) + 1e-3 // no exact zeros before pruning
		}
		orig := append([]float32(nil), x...)
		zeroed := Prune(x, tc.mode, tc.ratio, rng)
		var zeros int
		for _, v := range x {
			if v == 0 {
				zeros++
			}
		}
		if zeros != zeroed {
			t.Errorf("%s: reported %d zeroed, found %d zeros", tc.mode, zeroed, zeros)
		}
		if got := float64(zeros) / n; math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s %.3f: zeroed %.4f, want %.4f ± %g", tc.mode, tc.ratio, got, tc.want, tc.tol)
		}
		if tc.mode == PruneMagnitude {
			// Survivors are the largest magnitudes.
			var maxDropped, minKept float64 = 0, math.Inf(1)
			for i, v := range x {
				a := math.Abs(float64(orig[i]))
				if v == 0 {
					maxDropped = math.Max(maxDropped, a)
				} else {
					minKept = math.Min(minKept, a)
					if v != orig[i] {
						t.Fatalf("magnitude pruning changed a kept value")
					}
				}
			}
			if maxDropped > minKept {
				t.Errorf("magnitude pruning dropped %g but kept %g", maxDropped, minKept)
			}
		}
	}
}
