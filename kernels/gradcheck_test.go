package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
)

// randParam returns a rows×cols trainable Mat with N(0, std²) values.
func randParam(rng *rand.Rand, rows, cols int, std float64) *Mat {
	m := NewParam(rows, cols)
	for i := range m.data {
		m.data[i] = float32(rng.NormFloat64() * std)
	}
	return m
}

// lossOf returns Σ out ⊙ r in float64: a scalar whose gradient with respect
// to out is r, so one backward pass with out's gradient set to r gives the
// gradient of this loss with respect to every input.
func lossOf(out mat.Tensor, r []float32) float64 {
	var s float64
	for i, v := range Data(out.Value()) {
		s += float64(v) * float64(r[i])
	}
	return s
}

// checkGrad compares the analytic gradients of Σ f(inputs) ⊙ r with central
// finite differences at up to maxPerInput coordinates of each input, and
// returns the largest relative error over the inputs (for a test to log).
func checkGrad(t *testing.T, threads int, inputs []*Mat, f func(c *Ctx, in []mat.Tensor) mat.Tensor) (worst float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	tensors := make([]mat.Tensor, len(inputs))
	for i, m := range inputs {
		tensors[i] = m
		m.ZeroGrad()
	}
	c := NewCtx(threads)
	c.arena.poison = true
	out := f(c, tensors)
	om := ValueOf(out)
	r := make([]float32, len(om.data))
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	out.AccGrad(NewMat(om.rows, om.cols, append([]float32(nil), r...)))
	if err := ag.Backward(out); err != nil {
		t.Fatal(err)
	}
	const eps = 1e-2
	const maxPerInput = 40
	for i, m := range inputs {
		if !m.RequiresGrad() {
			continue
		}
		analytic := append([]float32(nil), m.GradRaw()...)
		if analytic == nil {
			t.Fatalf("input %d: no gradient", i)
		}
		if HasNonFinite(analytic) {
			t.Fatalf("input %d: gradient has NaN or Inf (an op read a buffer it never wrote?)", i)
		}
		var maxErr, maxRef float64
		for s := 0; s < maxPerInput && s < len(m.data); s++ {
			j := s
			if len(m.data) > maxPerInput {
				j = rng.IntN(len(m.data))
			}
			orig := m.data[j]
			m.data[j] = orig + eps
			c.Reset()
			lp := lossOf(f(c, tensors), r)
			m.data[j] = orig - eps
			c.Reset()
			lm := lossOf(f(c, tensors), r)
			m.data[j] = orig
			numeric := (lp - lm) / (2 * eps)
			maxErr = math.Max(maxErr, math.Abs(numeric-float64(analytic[j])))
			maxRef = math.Max(maxRef, math.Abs(numeric))
		}
		rel := maxErr / math.Max(maxRef, 1e-2)
		if !(rel <= 2e-2) {
			t.Errorf("input %d: analytic vs finite-difference gradient: max abs err %.3g, max |grad| %.3g (rel %.3g)", i, maxErr, maxRef, rel)
		}
		worst = math.Max(worst, rel)
	}
	return worst
}
