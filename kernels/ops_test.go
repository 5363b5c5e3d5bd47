package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
)

// Shapes are small but keep the structure of the real model: several
// sequences, several heads, rows not a multiple of the thread count.
func TestOpGradients(t *testing.T) {
	const T, heads, d, vocab = 6, 2, 8, 11
	n := 3 * T
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(rng.IntN(vocab))
	}
	cases := []struct {
		name   string
		inputs []*Mat
		f      func(c *Ctx, in []mat.Tensor) mat.Tensor
	}{
		{"Linear", []*Mat{randParam(rng, n, d, 1), randParam(rng, 5, d, 1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.Linear(in[0], in[1]) }},
		{"LoRALinear", []*Mat{randParam(rng, n, d, 1), randParam(rng, 5, d, 1), randParam(rng, 3, d, 1), randParam(rng, 5, 3, 1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.LoRALinear(in[0], in[1], in[2], in[3], 0.7) }},
		{"LoRAComposed", []*Mat{randParam(rng, n, d, 1), randParam(rng, 5, d, 1), randParam(rng, 3, d, 1), randParam(rng, 5, 3, 1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.LoRAComposed(in[0], in[1], in[2], in[3], 0.7) }},
		{"Add", []*Mat{randParam(rng, n, d, 1), randParam(rng, n, d, 1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.Add(in[0], in[1], 0.7) }},
		{"Embedding", []*Mat{randParam(rng, vocab, d, 1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.Embedding(in[0], ids) }},
		{"RMSNorm", []*Mat{randParam(rng, n, d, 1), randParam(rng, 1, d, 1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.RMSNorm(in[0], in[1], 1e-6) }},
		{"Rotary", []*Mat{randParam(rng, n, d, 1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.Rotary(in[0], heads, T, 10000) }},
		{"CausalAttention", []*Mat{randParam(rng, n, d, 1), randParam(rng, n, d, 1), randParam(rng, n, d, 1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.CausalAttention(in[0], in[1], in[2], heads, T) }},
		{"SwiGLU", []*Mat{randParam(rng, n, d, 2), randParam(rng, n, d, 1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.SwiGLU(in[0], in[1]) }},
		{"AddBias", []*Mat{randParam(rng, n, d, 1), randParam(rng, 1, d, 1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.AddBias(in[0], in[1]) }},
		// ReLU's kink is where finite differences fail: inputs at least 0.1
		// from it, ten times the step.
		{"ReLU", []*Mat{awayFromZero(randParam(rng, n, d, 1), 0.1)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.ReLU(in[0]) }},
		{"CrossEntropy", []*Mat{randParam(rng, n, vocab, 2)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.CrossEntropy(in[0], ids) }},
		// An operator output read by three consumers exercises gradient
		// adoption and the order-independent sum of three contributions.
		{"FanOut", []*Mat{randParam(rng, n, d, 1), randParam(rng, 1, d, 1), randParam(rng, d, d, 0.5), randParam(rng, d, d, 0.5), randParam(rng, d, d, 0.5)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor {
				h := c.RMSNorm(in[0], in[1], 1e-6)
				return c.Add(c.Add(c.Linear(h, in[2]), c.Linear(h, in[3]), 1), c.Linear(h, in[4]), 1)
			}},
		// An Add hands its output gradient on shared (not copied); h sums two
		// shared parts and a later one into a fresh buffer.
		{"SharedGrad", []*Mat{randParam(rng, n, d, 1), randParam(rng, d, d, 0.5), randParam(rng, d, d, 0.5)},
			func(c *Ctx, in []mat.Tensor) mat.Tensor {
				h := c.Linear(in[0], in[1])
				return c.Add(c.Add(h, h, 1), c.Linear(h, in[2]), 0.5)
			}},
	}
	for _, tc := range cases {
		for _, threads := range []int{1, 2} {
			t.Run(tc.name, func(t *testing.T) { checkGrad(t, threads, tc.inputs, tc.f) })
		}
	}
}

func TestFrozenWeightGetsNoGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, w := randParam(rng, 4, 3, 1), randParam(rng, 2, 3, 1)
	a, b := randParam(rng, 2, 3, 1), randParam(rng, 2, 2, 1)
	w.SetRequiresGrad(false)
	checkGrad(t, 1, []*Mat{x, w}, func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.Linear(in[0], in[1]) })
	checkGrad(t, 1, []*Mat{x, w, a, b}, func(c *Ctx, in []mat.Tensor) mat.Tensor { return c.LoRALinear(in[0], in[1], in[2], in[3], 2) })
	if w.HasGrad() || w.persistent != nil {
		t.Fatalf("frozen weight has a gradient buffer (%v) or gradient", w.persistent != nil)
	}
}

// awayFromZero moves every value of m gap further from 0, keeping its sign.
func awayFromZero(m *Mat, gap float32) *Mat {
	for i, v := range m.data {
		if v < 0 {
			m.data[i] = v - gap
		} else {
			m.data[i] = v + gap
		}
	}
	return m
}

// ReLU zeroes what is not positive and passes NaN on; its gradient is dy
// where the input is positive and 0 elsewhere, 0 included.
func TestReLUValues(t *testing.T) {
	nan := float32(math.NaN())
	x := NewParam(1, 5)
	copy(x.data, []float32{-2, 0, 3, nan, float32(math.Copysign(0, -1))})
	c := NewCtx(1)
	y := c.ReLU(x)
	got := Data(y.Value())
	for i, want := range []float32{0, 0, 3, nan, 0} {
		if g := got[i]; !(g == want || (g != g && want != want)) {
			t.Errorf("ReLU(%g) = %g, want %g", x.data[i], g, want)
		}
	}
	y.AccGrad(NewMat(1, 5, []float32{1, 1, 1, 1, 1}))
	if err := ag.Backward(y); err != nil {
		t.Fatal(err)
	}
	for i, want := range []float32{0, 0, 1, 1, 0} {
		if g := x.GradRaw()[i]; g != want {
			t.Errorf("dReLU at %g = %g, want %g", x.data[i], g, want)
		}
	}
}

// TestCausalSoftmax checks CausalSoftmax's rows: the live part sums to 1,
// the rest is exactly 0.
func TestCausalSoftmax(t *testing.T) {
	const T = 9
	P := make([]float32, T*T)
	for i := range P {
		P[i] = float32((i*7+5)%97)/97 - 0.5
	}
	CausalSoftmax(P, T)
	for i := range T {
		var sum float64
		for j, v := range P[i*T : (i+1)*T] {
			switch {
			case j <= i && (v <= 0 || v > 1):
				t.Fatalf("row %d: P[%d] = %v, want in (0, 1]", i, j, v)
			case j > i && v != 0:
				t.Fatalf("row %d: P[%d] = %v above the diagonal, want 0", i, j, v)
			}
			sum += float64(v)
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("row %d sums to %v", i, sum)
		}
	}
}
