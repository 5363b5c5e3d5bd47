package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRotateBitIdentical checks the assembly against the Go formula bit for
// bit, both directions, with and without a scalar tail.
func TestRotateBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, n := range []int{1, 8, 16, 21} {
		for _, sign := range []float32{1, -1} {
			lo, hi, cs, sn := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range lo {
				lo[i], hi[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
				th := rng.Float64() * 100
				cs[i], sn[i] = float32(math.Cos(th)), float32(math.Sin(th))
			}
			dl, dh := make([]float32, n), make([]float32, n)
			Rotate(dl, dh, lo, hi, cs, sn, sign)
			for i := 0; i < n; i++ {
				s := sign * sn[i]
				wl, wh := lo[i]*cs[i]-hi[i]*s, lo[i]*s+hi[i]*cs[i]
				if math.Float32bits(dl[i]) != math.Float32bits(wl) || math.Float32bits(dh[i]) != math.Float32bits(wh) {
					t.Fatalf("n=%d sign=%g i=%d: (%g, %g), want (%g, %g)", n, sign, i, dl[i], dh[i], wl, wh)
				}
			}
		}
	}
}
