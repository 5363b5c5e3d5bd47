package vecmath

import "math"

// AdamWStep holds the per-step constants of an AdamW update (see
// train.AdamW.Step for the formula and where they come from). The assembly
// reads the fields by offset, in this order.
type AdamWStep struct {
	B1, B2   float32 // β1, β2
	StepSize float32 // lr / (1 − β1ᵗ)
	InvBc2   float32 // 1 / √(1 − β2ᵗ)
	Eps      float32
	Decay    float32 // 1 − lr·λ
}

// AdamW updates w, m and v in place from the gradient g:
//
//	m = β1·m + (1−β1)·g,  v = β2·v + (1−β2)·g·g,
//	w = w·decay − stepSize·m / (√v·invBc2 + eps),
//
// each product and sum rounded to float32 in that order. The assembly is
// bit-identical to the Go loop: VSQRTPS is correctly rounded, as is the
// float32 of a float64 square root.
func AdamW(w, g, m, v []float32, c AdamWStep) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		adamwAVX2(&w[0], &g[0], &m[0], &v[0], &c, done)
	}
	b1, b2 := c.B1, c.B2
	for i := done; i < n; i++ {
		gi := g[i]
		m[i] = b1*m[i] + (1-b1)*gi
		v[i] = b2*v[i] + (1-b2)*gi*gi
		w[i] = w[i]*c.Decay - c.StepSize*m[i]/(float32(math.Sqrt(float64(v[i])))*c.InvBc2+c.Eps)
	}
}
