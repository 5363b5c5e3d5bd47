package relora

import (
	"math"
	"math/rand/v2"
	"testing"
)

// pruneInput returns n values without exact zeros.
func pruneInput(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64()) + 1e-3
		if x[i] == 0 {
			x[i] = 1
		}
	}
	return x
}

// Random pruning zeroes each value independently with probability ratio, so
// the count zeroed is Binomial(n, ratio): the fraction must lie within 5σ,
// σ = √(ratio·(1 − ratio)/n). With n = 10⁶ and ratio 0.999, σ = 3.2e-5 and
// the band is 0.999 ± 1.6e-4: zeroing everything (fraction 1, 1e-3 off) or
// keeping twice too many fails, a correct pruner fails with probability
// < 1e-6 (and the seed is fixed). Survivors keep their values exactly.
func TestRandomPruneFractionWithinBinomialBound(t *testing.T) {
	const n = 1_000_000
	for _, ratio := range []float64{0.999, 0.9, 0.5} {
		orig := pruneInput(n, 1)
		x := append([]float32(nil), orig...)
		zeroed := Prune(x, PruneRandom, ratio, rand.New(rand.NewPCG(3, 4)))
		zeros := 0
		for i, v := range x {
			if v == 0 {
				zeros++
			} else if v != orig[i] {
				t.Fatalf("ratio %g: kept value %d changed from %g to %g", ratio, i, orig[i], v)
			}
		}
		if zeros != zeroed {
			t.Errorf("ratio %g: reported %d zeroed, found %d zeros", ratio, zeroed, zeros)
		}
		sigma := math.Sqrt(ratio * (1 - ratio) / n)
		if got := float64(zeros) / n; math.Abs(got-ratio) > 5*sigma {
			t.Errorf("ratio %g: zeroed a fraction %.6f, want %g ± %.2g (5σ of Binomial(%d, %g)/n)", ratio, got, ratio, 5*sigma, n, ratio)
		}
	}
	// The edges are exact: ratio 0 keeps everything, 1 zeroes everything.
	for _, tc := range []struct {
		ratio float64
		want  int
	}{{0, 0}, {1, 1000}} {
		x := pruneInput(1000, 5)
		if got := Prune(x, PruneRandom, tc.ratio, rand.New(rand.NewPCG(1, 1))); got != tc.want {
			t.Errorf("ratio %g zeroed %d of 1000, want %d", tc.ratio, got, tc.want)
		}
	}
}

// Two moments pruned one after the other from one generator (as an
// optimizer reset does) get different masks.
func TestRandomPruneMasksDiffer(t *testing.T) {
	const n = 100_000
	rng := rand.New(rand.NewPCG(6, 7))
	m, v := pruneInput(n, 8), pruneInput(n, 9)
	Prune(m, PruneRandom, 0.5, rng)
	Prune(v, PruneRandom, 0.5, rng)
	same := 0
	for i := range m {
		if (m[i] == 0) == (v[i] == 0) {
			same++
		}
	}
	// Independent masks agree on half the values: 0.5 ± 5·√(0.25/n).
	if f := float64(same) / n; math.Abs(f-0.5) > 5*math.Sqrt(0.25/n) {
		t.Errorf("the two masks agree on %.4f of the values, want 0.5 (independent)", f)
	}
}

// Magnitude pruning zeroes exactly the values at or below the ratio-quantile
// of |x| (linear interpolation, as torch.quantile): with n distinct
// magnitudes that is ⌊ratio·(n − 1)⌋ + 1 values, and the survivors are the
// largest magnitudes, unchanged.
func TestMagnitudePruneExactCount(t *testing.T) {
	const n = 200_000
	for _, ratio := range []float64{0.9, 0.999, 0.5} {
		orig := pruneInput(n, 10)
		x := append([]float32(nil), orig...)
		zeroed := Prune(x, PruneMagnitude, ratio, nil)
		if want := int(math.Floor(ratio*(n-1))) + 1; zeroed != want {
			t.Errorf("ratio %g: zeroed %d, want ⌊ratio·(n−1)⌋ + 1 = %d", ratio, zeroed, want)
		}
		maxDropped, minKept := 0.0, math.Inf(1)
		for i, v := range x {
			a := math.Abs(float64(orig[i]))
			if v == 0 {
				maxDropped = math.Max(maxDropped, a)
			} else {
				minKept = math.Min(minKept, a)
				if v != orig[i] {
					t.Fatalf("ratio %g: magnitude pruning changed a kept value", ratio)
				}
			}
		}
		if maxDropped >= minKept {
			t.Errorf("ratio %g: dropped |x| = %g but kept %g", ratio, maxDropped, minKept)
		}
	}
}

func TestPruneZeroClearsEverything(t *testing.T) {
	x := pruneInput(1000, 11)
	if got := Prune(x, PruneZero, 0, nil); got != len(x) {
		t.Errorf("zero mode reported %d zeroed of %d", got, len(x))
	}
	for i, v := range x {
		if v != 0 {
			t.Fatalf("zero mode left x[%d] = %g", i, v)
		}
	}
}
