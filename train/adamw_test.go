package train

import (
	"math"
	"testing"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
)

// param returns a named parameter holding values, with gradient grad (none
// when grad is nil).
func param(name string, values, grad []float32) model.Param {
	p := kernels.NewParam(1, len(values))
	copy(p.Raw(), values)
	if grad != nil {
		p.AccGrad(kernels.NewMat(1, len(grad), append([]float32(nil), grad...)))
	}
	return model.Param{Name: name, Mat: p}
}

// setGrad replaces a parameter's gradient.
func setGrad(p model.Param, grad []float32) {
	p.ZeroGrad()
	p.AccGrad(kernels.NewMat(1, len(grad), append([]float32(nil), grad...)))
}

func closeTo(got float32, want, tol float64) bool {
	return math.Abs(float64(got)-want) <= tol*math.Max(1, math.Abs(want))
}

// Two AdamW steps on four values, expected values worked out by hand.
// β1 = 0.5, β2 = 0.75 keep the arithmetic exact: bias corrections
// 1 − β1ᵗ = 0.5, 0.75 and 1 − β2ᵗ = 0.25, 0.4375. lr 0.1, λ 0.1 (decay
// factor 1 − lr·λ = 0.99), ε = 1e-8 (negligible at these gradients).
//
//	       p₀    g₁     g₂    after step 1                 after step 2
//	[0]    2     1      3     1.98 − 0.1 = 1.88            1.8612 − 0.1·(1.75/0.75)/√(2.4375/0.4375)
//	[1]   −1    −0.5    0.5  −0.99 + 0.1 = −0.89           −0.8811 − 0.1·(0.125/0.75)/√(0.109375/0.4375)
//	[2]    0.5   0      0     0.495 (decay only)           0.49005
//	[3]    3     2     −2     2.97 − 0.1 = 2.87            2.8413 − 0.1·(−0.5/0.75)/√(1.75/0.4375)
//
// with m₂ = 0.25·g₁ + 0.5·g₂ and v₂ = 0.1875·g₁² + 0.25·g₂². Step 1 moves
// every value by exactly lr (m̂ = g, v̂ = g²): without bias correction it
// would move by lr·0.5/√0.25 = lr·1 as well at these betas, so step 2 (where
// it would move [0] by 0.1·1.75/√2.4375) is what pins the correction. [2]
// has a zero gradient: decoupled weight decay shrinks it all the same
// (L2-coupled decay would give it an Adam step of ~lr instead).
func TestAdamWTwoStepsByHand(t *testing.T) {
	opt := NewAdamW(AdamWConfig{Beta1: 0.5, Beta2: 0.75, Eps: 1e-8, WeightDecay: 0.1})
	p := param("w", []float32{2, -1, 0.5, 3}, []float32{1, -0.5, 0, 2})
	frozen := param("frozen", []float32{7}, nil) // no gradient: untouched, no state
	c := kernels.NewCtx(1)
	opt.Step(c, []model.Param{p, frozen}, 0.1)
	for i, want := range []float64{1.88, -0.89, 0.495, 2.87} {
		if got := p.Raw()[i]; !closeTo(got, want, 1e-6) {
			t.Errorf("step 1, value %d: got %.7f, want %.7f", i, got, want)
		}
	}
	setGrad(p, []float32{3, 0.5, 0, -2})
	opt.Step(c, []model.Param{p, frozen}, 0.1)
	want2 := []float64{
		1.8612 - 0.1*(1.75/0.75)/math.Sqrt(2.4375/0.4375),
		-0.8811 - 0.1*(0.125/0.75)/math.Sqrt(0.109375/0.4375),
		0.49005,
		2.8413 - 0.1*(-0.5/0.75)/math.Sqrt(1.75/0.4375),
	}
	for i, want := range want2 {
		if got := p.Raw()[i]; !closeTo(got, want, 1e-6) {
			t.Errorf("step 2, value %d: got %.7f, want %.7f", i, got, want)
		}
	}
	st := opt.States["w"]
	if st == nil || st.Step != 2 {
		t.Fatalf("state of w: %+v, want step 2", st)
	}
	// m₂, v₂ as in the table's note.
	for i, g := range [][2]float64{{1, 3}, {-0.5, 0.5}, {0, 0}, {2, -2}} {
		m, v := 0.25*g[0]+0.5*g[1], 0.1875*g[0]*g[0]+0.25*g[1]*g[1]
		if !closeTo(st.M[i], m, 1e-6) || !closeTo(st.V[i], v, 1e-6) {
			t.Errorf("moments of value %d: m %g v %g, want %g %g", i, st.M[i], st.V[i], m, v)
		}
	}
	if frozen.Raw()[0] != 7 || opt.States["frozen"] != nil {
		t.Errorf("a parameter without gradient changed (%g) or got optimizer state", frozen.Raw()[0])
	}
}

// PyTorch's defaults β = (0.9, 0.999) and a large ε, one step from p = 0
// with g = 1, lr = 1: m = 0.1, v = 0.001, m̂ = v̂ = 1, so p = −1/(√1 + ε) = −0.5
// for ε = 1. That pins where ε goes (added to √v̂, after the bias
// correction) and the correction itself: ε inside the square root gives
// −1/√2, no bias correction −0.1/(√0.001 + 1) ≈ −0.097. Tolerance 1e-5:
// the moments are updated with float32(β), ~1e-8 off 0.9 and 0.999, while
// the bias correction uses the float64 β, so v̂ comes out 1 − 1.2e-5 here
// (harmless; the update is 3e-6 too large).
func TestAdamWEpsilonAfterBiasCorrection(t *testing.T) {
	opt := NewAdamW(AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1})
	p := param("w", []float32{0}, []float32{1})
	opt.Step(kernels.NewCtx(1), []model.Param{p}, 1)
	if got := p.Raw()[0]; !closeTo(got, -0.5, 1e-5) {
		t.Fatalf("got %.7f, want −0.5", got)
	}
}

// The bias correction counts each parameter's own updates: a parameter that
// first gets a gradient at the optimizer's third step is corrected with
// t = 1 (its first step moves it by exactly lr).
func TestAdamWStepCountIsPerParameter(t *testing.T) {
	opt := NewAdamW(AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	c := kernels.NewCtx(1)
	early := param("early", []float32{0}, []float32{1})
	late := param("late", []float32{1}, nil)
	opt.Step(c, []model.Param{early, late}, 0.01)
	opt.Step(c, []model.Param{early, late}, 0.01)
	setGrad(late, []float32{-4})
	opt.Step(c, []model.Param{early, late}, 0.01)
	if got := late.Raw()[0]; !closeTo(got, 1.01, 1e-6) {
		t.Fatalf("late parameter after its first update: %.7f, want 1 + lr = 1.01", got)
	}
	if opt.States["early"].Step != 3 || opt.States["late"].Step != 1 {
		t.Fatalf("step counters early %d, late %d, want 3 and 1", opt.States["early"].Step, opt.States["late"].Step)
	}
}

// A parameter longer than a span (spanLen = 16384), updated on 2 threads:
// every value gets the same first-step update, p·(1 − lr·λ) − lr·sign(g).
func TestAdamWUpdatesEveryValueOfLongParameters(t *testing.T) {
	const n = 40_000
	vals, grads := make([]float32, n), make([]float32, n)
	for i := range vals {
		vals[i], grads[i] = 1, float32(1+i%7)
		if i%2 == 1 {
			grads[i] = -grads[i]
		}
	}
	p := param("long", vals, grads)
	opt := NewAdamW(AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.5})
	opt.Step(kernels.NewCtx(2), []model.Param{p}, 0.01)
	for i, v := range p.Raw() {
		want := 0.995 - 0.01
		if i%2 == 1 {
			want = 0.995 + 0.01
		}
		if !closeTo(v, want, 1e-6) {
			t.Fatalf("value %d: %.7f, want %.7f", i, v, want)
		}
	}
}

// ClipGradNorm uses the global norm over all parameters, scales by
// maxNorm/(norm + 1e-6) only when the norm exceeds maxNorm, and returns the
// norm before clipping.
func TestClipGradNormByHand(t *testing.T) {
	c := kernels.NewCtx(1)
	for _, tc := range []struct {
		maxNorm float64
		scale   float64 // expected factor on every gradient
	}{
		{1, 1 / (5 + 1e-6)},     // ‖(3, 0, 4)‖ = 5 > 1: scaled to norm ~1
		{4.5, 4.5 / (5 + 1e-6)}, // per-parameter clipping would leave (3) alone (|3| < 4.5)
		{5.5, 1},                // below the bound: unchanged
		{0, 1},                  // 0: clipping off
	} {
		a, b := param("a", []float32{0}, []float32{3}), param("b", []float32{0, 0}, []float32{0, 4})
		norm := ClipGradNorm(c, []model.Param{a, b}, tc.maxNorm)
		if norm != 5 {
			t.Errorf("max %g: norm %v, want 5", tc.maxNorm, norm)
		}
		got := []float32{a.GradRaw()[0], b.GradRaw()[0], b.GradRaw()[1]}
		for i, g := range []float64{3, 0, 4} {
			want := g * tc.scale
			if tc.scale == 1 && got[i] != float32(g) {
				t.Errorf("max %g: gradient %d changed to %g although no clipping was due", tc.maxNorm, i, got[i])
			}
			if !closeTo(got[i], want, 1e-6) {
				t.Errorf("max %g: gradient %d = %.7f, want %.7f", tc.maxNorm, i, got[i], want)
			}
		}
	}
}

// Long gradients on 2 threads: the sum of squares covers every value and
// the scaling reaches every span.
func TestClipGradNormLongParameters(t *testing.T) {
	const n = 40_000
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	ps := []model.Param{param("x", make([]float32, n), ones), param("y", make([]float32, n), ones)}
	norm := ClipGradNorm(kernels.NewCtx(2), ps, 1)
	if want := math.Sqrt(2 * n); math.Abs(norm-want) > 1e-9 {
		t.Fatalf("norm %v, want √%d = %v", norm, 2*n, want)
	}
	want := 1 / (math.Sqrt(2*n) + 1e-6)
	for _, p := range ps {
		for i, g := range p.GradRaw() {
			if !closeTo(g, want, 1e-6) {
				t.Fatalf("%s[%d] = %g, want %g", p.Name, i, g, want)
			}
		}
	}
}
