package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/relorago/harness/galore"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
)

// matParam returns a rows×cols parameter of the given name with gradient g.
func matParam(name string, rows, cols int, values, g []float32) model.Param {
	p := kernels.NewParam(rows, cols)
	copy(p.Raw(), values)
	p.AccGrad(kernels.NewMat(rows, cols, slices.Clone(g)))
	return model.Param{Name: name, Mat: p}
}

// Three GaLore steps on a 2×3 projection at rank 1, T = 2, by hand (the
// reference's TestGaLoreStepsByHand works the same example in float64):
// P = e₁ for steps 1 and 2 (no refresh before update T+1 = 3, although
// step 2's gradient lies along e₂), P = e₂ from step 3 with the moments
// kept. A weight GaLore does not select ("embed") takes plain AdamW.
func TestGaLoreStepsByHand(t *testing.T) {
	const lr, wd, scale, eps, b1, b2 = 0.1, 0.5, 0.25, 1e-8, 0.9, 0.999
	opt := NewAdamW(AdamWConfig{Beta1: b1, Beta2: b2, Eps: eps, WeightDecay: wd})
	opt.GaLore = &GaLoreConfig{Rank: 1, RefreshEvery: 2, Scale: scale}
	c := kernels.NewCtx(2)
	grads := [][]float32{{3, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 2, 0}, {0, 0, 0, 0, 2, 0}}
	ps := [][2]float64{{1, 0}, {1, 0}, {0, 1}}
	w := matParam("layers.0.q.weight", 2, 3, []float32{1, 1, 1, 1, 1, 1}, grads[0])
	plain := param("embed", []float32{1}, []float32{1})
	want := []float64{1, 1, 1, 1, 1, 1}
	var m, v [3]float64
	for step, g := range grads {
		setGradMat(w, g)
		p := ps[step]
		tt := float64(step + 1)
		for j := range 3 {
			r := p[0]*float64(g[j]) + p[1]*float64(g[3+j])
			m[j] = b1*m[j] + (1-b1)*r
			v[j] = b2*v[j] + (1-b2)*r*r
			n := m[j] / (1 - math.Pow(b1, tt)) / (math.Sqrt(v[j]/(1-math.Pow(b2, tt))) + eps)
			for i := range 2 {
				want[i*3+j] = want[i*3+j]*(1-lr*wd) - lr*scale*p[i]*n
			}
		}
		if err := opt.Step(c, []model.Param{w, plain}, lr); err != nil {
			t.Fatal(err)
		}
		st := opt.States[w.Name]
		if st.Step != step+1 || len(st.M) != 3 || st.Proj == nil || st.Proj.P[0] != float32(p[0]) || st.Proj.P[1] != float32(p[1]) {
			t.Fatalf("step %d: state %+v, projector %+v, want P = %v and 3 projected moments", step+1, st, st.Proj, p)
		}
		for i, x := range w.Raw() {
			if !closeTo(x, want[i], 1e-6) {
				t.Fatalf("step %d: W = %v, want %v", step+1, w.Raw(), want)
			}
		}
	}
	if s := opt.States["embed"]; s == nil || s.Proj != nil || s.Step != 3 {
		t.Errorf("embed's state %+v: want plain AdamW for 3 steps", s)
	}
	// 2·3 projected moments + a 2×1 projector, and embed's 2 moments.
	if got := opt.Floats(); got != 2*3+2+2 {
		t.Errorf("optimizer floats %d, want 10", got)
	}
}

func setGradMat(p model.Param, g []float32) {
	p.ZeroGrad()
	p.AccGrad(kernels.NewMat(p.Rows(), p.Cols(), slices.Clone(g)))
}

// The subspace is recomputed at a weight's updates 1, T+1, 2T+1, ... and
// only then, from that update's gradient, and the moments live on through
// every refresh.
func TestGaLoreRefreshesEveryTUpdates(t *testing.T) {
	const rows, cols, T = 6, 9, 3
	opt := NewAdamW(AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	opt.GaLore = &GaLoreConfig{Rank: 2, RefreshEvery: T, Scale: 0.25}
	rng := rand.New(rand.NewPCG(4, 5))
	w := matParam("layers.1.down.weight", rows, cols, make([]float32, rows*cols), make([]float32, rows*cols))
	c := kernels.NewCtx(1)
	var prev []float32
	for update := 1; update <= 3*T+1; update++ {
		g := make([]float32, rows*cols)
		for i := range g {
			g[i] = float32(rng.NormFloat64())
		}
		setGradMat(w, g)
		if err := opt.Step(c, []model.Param{w}, 1e-2); err != nil {
			t.Fatal(err)
		}
		st := opt.States[w.Name]
		refresh := (update-1)%T == 0
		if changed := !slices.Equal(st.Proj.P, prev); changed != refresh {
			t.Fatalf("update %d: projector changed %v, want %v", update, changed, refresh)
		}
		if fresh, err := galore.New(g, rows, cols, 2); err != nil || (refresh && !slices.Equal(fresh.P, st.Proj.P)) {
			t.Fatalf("update %d: the refreshed projector is not this update's gradient's (%v)", update, err)
		}
		if update > 1 && allZero(st.M) {
			t.Fatalf("update %d: the first moment is all zero", update)
		}
		prev = slices.Clone(st.Proj.P)
	}
}
