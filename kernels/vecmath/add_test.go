package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAddScaledBitIdentical checks the assembly against the Go formula bit
// for bit, in place and not, with s = 1 (gradient sums) and s ≠ 1.
func TestAddScaledBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, n := range []int{1, 7, 8, 9, 64, 1001} {
		for _, s := range []float32{1, 0.25, 3.7} {
			a, b := make([]float32, n), make([]float32, n)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
				b[i] = float32(rng.NormFloat64() * 1e-3)
			}
			dst := make([]float32, n)
			AddScaled(dst, a, b, s)
			inPlace := append([]float32(nil), a...)
			AddScaled(inPlace, inPlace, b, s)
			for i := range dst {
				want := a[i] + s*b[i]
				if math.Float32bits(dst[i]) != math.Float32bits(want) || math.Float32bits(inPlace[i]) != math.Float32bits(want) {
					t.Fatalf("n=%d s=%g i=%d: %g / %g, want %g", n, s, i, dst[i], inPlace[i], want)
				}
			}
		}
	}
}
