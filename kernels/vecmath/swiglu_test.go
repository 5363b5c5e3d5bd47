package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSwiGLUBitIdentical checks that the assembly and the portable loops give
// the same bits (training results must not depend on the code path) and
// that the portable loop is the formula, over lengths that exercise the
// 8-wide body and the scalar tail.
func TestSwiGLUBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 7, 8, 9, 64, 1001} {
		g, u, dy := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range g {
			g[i] = float32(rng.NormFloat64() * 4)
			u[i] = float32(rng.NormFloat64())
			dy[i] = float32(rng.NormFloat64())
		}
		sig := make([]float32, n)
		Sigmoid(sig, g)
		run := func(avx bool) (y, dg, du []float32) {
			prev := useAVX2
			useAVX2 = avx && prev
			defer func() { useAVX2 = prev }()
			y, dg, du = make([]float32, n), make([]float32, n), make([]float32, n)
			SwiGLUForward(y, g, sig, u)
			SwiGLUBackward(dg, du, dy, g, sig, u)
			return
		}
		y0, dg0, du0 := run(false)
		y1, dg1, du1 := run(true)
		for i := 0; i < n; i++ {
			x, s := g[i], sig[i]
			want := [3]float32{x * s * u[i], dy[i] * u[i] * s * (1 + x*(1-s)), dy[i] * x * s}
			for k, got := range [][3]float32{{y0[i], dg0[i], du0[i]}, {y1[i], dg1[i], du1[i]}} {
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("n=%d i=%d path %d output %d: %g, want %g", n, i, k, j, got[j], want[j])
					}
				}
			}
		}
	}
}
