package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamWBitIdentical checks the update against the scalar formula of
// train.AdamW as it was written before it moved here, bit for bit.
func TestAdamWBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	c := AdamWStep{B1: 0.9, B2: 0.999, StepSize: 1e-3 / (1 - 0.9*0.9), InvBc2: float32(1 / math.Sqrt(1-0.999*0.999)), Eps: 1e-8, Decay: 1 - 1e-3*0.1}
	for _, n := range []int{1, 7, 8, 9, 1001} {
		w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i] = float32(rng.NormFloat64() * 0.02)
			g[i] = float32(rng.NormFloat64() * 1e-2)
			m[i] = float32(rng.NormFloat64() * 1e-3)
			v[i] = float32(rng.Float64() * 1e-5)
		}
		if n > 3 {
			g[3], m[3], v[3] = 0, 0, 0 // a zero gradient on fresh state
		}
		ww, wm, wv := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		b1, b2, stepSize, invBc2, eps, decay := c.B1, c.B2, c.StepSize, c.InvBc2, c.Eps, c.Decay
		for i, gi := range g {
			wm[i] = b1*wm[i] + (1-b1)*gi
			wv[i] = b2*wv[i] + (1-b2)*gi*gi
			ww[i] = ww[i]*decay - stepSize*wm[i]/(float32(math.Sqrt(float64(wv[i])))*invBc2+eps)
		}
		AdamW(w, g, m, v, c)
		for i := range w {
			for _, p := range [][2]float32{{w[i], ww[i]}, {m[i], wm[i]}, {v[i], wv[i]}} {
				if math.Float32bits(p[0]) != math.Float32bits(p[1]) {
					t.Fatalf("n=%d i=%d: %g, want %g", n, i, p[0], p[1])
				}
			}
		}
	}
}
