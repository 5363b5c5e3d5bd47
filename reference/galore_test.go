package reference

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/relorago/harness/galore"
)

// The reference's projector (eigenvectors of the Gram matrix) and the fast
// code's (gonum's SVD, stored float32) are two algorithms for one subspace:
// with distinct singular values they must agree vector by vector, signs
// included, to float32's precision.
func TestEigenvectorsMatchTheSVDProjector(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, shape := range [][2]int{{12, 20}, {20, 12}, {16, 16}} {
		rows, cols := shape[0], shape[1]
		g32 := make([]float32, rows*cols)
		g := make([]float64, rows*cols)
		for i := range g {
			g32[i] = float32(rng.NormFloat64())
			g[i] = float64(g32[i])
		}
		const r = 4
		fast, err := galore.New(g32, rows, cols, r)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := topEigenvectors(g, rows, cols, rows <= cols, r)
		if err != nil {
			t.Fatal(err)
		}
		var worst float64
		for i, v := range ref {
			worst = math.Max(worst, math.Abs(float64(fast.P[i])-v))
		}
		if worst > 1e-6 {
			t.Errorf("%d×%d: the SVD projector and the Gram eigenvectors differ by up to %.3g", rows, cols, worst)
		}
	}
}

// Three steps of GaLore on a 2×3 weight at rank 1, T = 2, worked by hand:
// step 1 projects onto e₁ (G's top left singular vector), step 2 keeps it
// although the gradient now lies along e₂ (no refresh before update T+1),
// step 3 refreshes to e₂ and keeps the moments, so the old first moment
// (now read along e₂'s coordinates) still moves the weight in column 0.
func TestGaLoreStepsByHand(t *testing.T) {
	const lr, wd, scale, eps, b1, b2 = 0.1, 0.5, 0.25, 1e-8, 0.9, 0.999
	w := []float64{1, 1, 1, 1, 1, 1}
	o := NewGaLore(NewAdamW(b1, b2, eps, wd), map[string][2]int{"w": {2, 3}}, 1, 2, scale)
	grads := [][]float64{{3, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 2, 0}, {0, 0, 0, 0, 2, 0}}
	// By hand: R, the moments after each step, and where P points.
	want := append([]float64(nil), w...)
	var m, v [3]float64
	ps := [][2]float64{{1, 0}, {1, 0}, {0, 1}}
	for step, g := range grads {
		p := ps[step]
		var r [3]float64
		for j := range 3 {
			r[j] = p[0]*g[j] + p[1]*g[3+j]
		}
		tt := float64(step + 1)
		var n [3]float64
		for j := range 3 {
			m[j] = b1*m[j] + (1-b1)*r[j]
			v[j] = b2*v[j] + (1-b2)*r[j]*r[j]
			n[j] = m[j] / (1 - math.Pow(b1, tt)) / (math.Sqrt(v[j]/(1-math.Pow(b2, tt))) + eps)
		}
		for i := range 2 {
			for j := range 3 {
				want[i*3+j] = want[i*3+j]*(1-lr*wd) - lr*scale*p[i]*n[j]
			}
		}
		if err := o.Step(Params{"w": w}, Params{"w": g}, lr); err != nil {
			t.Fatal(err)
		}
		if got := o.P["w"]; math.Abs(got[0]-p[0]) > 1e-12 || math.Abs(got[1]-p[1]) > 1e-12 {
			t.Fatalf("step %d: projector %v, want %v", step+1, got, p)
		}
		for i := range w {
			if math.Abs(w[i]-want[i]) > 1e-12 {
				t.Fatalf("step %d: W = %v, want %v", step+1, w, want)
			}
		}
		// Step 1 in numbers: R = [3 0 0], m̂ = R, v̂ = R², so
		// W₀₀ = 1·(1 − 0.05) − 0.025·3/(3 + 1e-8) and the rest only decays.
		if step == 0 && (math.Abs(w[0]-(0.95-0.025*3/(3+1e-8))) > 1e-15 || w[1] != 0.95 || w[3] != 0.95) {
			t.Fatalf("step 1: W = %v", w)
		}
	}
	// The refresh kept the first moment: column 0 of row 1 moved at step 3.
	if w[3] == 1*(1-lr*wd)*(1-lr*wd)*(1-lr*wd) {
		t.Error("step 3 did not move W₁₀: the moments were reset at the refresh")
	}
}
