package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
)

// adapterLoss is Σ adapter(h) ⊙ r, a scalar whose gradient with respect to
// the adapter's output is r.
func adapterLoss(c *kernels.Ctx, a *Adapter, h *kernels.Mat, r []float32) (float64, mat.Tensor) {
	c.Reset()
	out := a.Forward(c, h)
	var s float64
	for i, v := range kernels.Data(out.Value()) {
		s += float64(v) * float64(r[i])
	}
	return s, out
}

// The adapter's backward (through both linears, both biases, the ReLU and
// its own residual) agrees with central finite differences in every
// coordinate of its input and parameters, with 1 and 2 threads. U is not
// zero here, so the gradient reaches D. The down biases put every
// pre-activation at least 0.2 from ReLU's kink (checked), further than a
// finite-difference step moves it, and one unit is off throughout, so the
// gating is checked too.
func TestAdapterGradients(t *testing.T) {
	const n, dim, b = 6, 8, 3
	rng := rand.New(rand.NewPCG(4, 5))
	normal := func(m *kernels.Mat, std float64) {
		for i := range m.Raw() {
			m.Raw()[i] = float32(rng.NormFloat64() * std)
		}
	}
	h := kernels.NewParam(n, dim)
	normal(h, 1)
	a := NewAdapter(dim, b, rng)
	normal(a.Down, 0.1)
	copy(a.DownBias.Raw(), []float32{1, -1, 0.8})
	normal(a.Up, 0.5)
	normal(a.UpBias, 0.5)
	for i := range n {
		for k := range b {
			z := float64(a.DownBias.Raw()[k])
			for j := range dim {
				z += float64(h.Raw()[i*dim+j]) * float64(a.Down.Raw()[k*dim+j])
			}
			if math.Abs(z) < 0.2 {
				t.Fatalf("pre-activation %d,%d = %g is too near the kink for finite differences", i, k, z)
			}
		}
	}
	r := make([]float32, n*dim)
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	params := []*kernels.Mat{h, a.Down, a.DownBias, a.Up, a.UpBias}
	names := []string{"h", "D", "d", "U", "u"}
	for _, threads := range []int{1, 2} {
		c := kernels.NewCtx(threads)
		for _, p := range params {
			p.ZeroGrad()
		}
		_, out := adapterLoss(c, a, h, r)
		out.AccGrad(kernels.NewMat(n, dim, slices.Clone(r)))
		if err := ag.Backward(out); err != nil {
			t.Fatal(err)
		}
		grads := make([][]float32, len(params))
		for i, p := range params {
			grads[i] = slices.Clone(p.GradRaw())
		}
		for pi, p := range params {
			for i := range p.Raw() {
				old := p.Raw()[i]
				const eps = 1e-2
				p.Raw()[i] = old + eps
				lp, _ := adapterLoss(c, a, h, r)
				p.Raw()[i] = old - eps
				lm, _ := adapterLoss(c, a, h, r)
				p.Raw()[i] = old
				fd := (lp - lm) / (2 * eps)
				if g := float64(grads[pi][i]); math.Abs(g-fd) > 2e-3*max(1, math.Abs(fd)) {
					t.Errorf("%d threads: d%s[%d] = %g, finite difference %g", threads, names[pi], i, g, fd)
				}
			}
		}
		// The unit held off (bias −1) passes nothing back to its row of D.
		for j := range dim {
			if g := grads[1][1*dim+j]; g != 0 {
				t.Fatalf("D's row of the unit that is off has gradient %g", g)
			}
		}
	}
}

// Adding adapters keeps the model's function (U and u are zero): the same
// logits to the last bit. They hold 4·(2·d·b + b + d) numbers, are named
// after their block, come after its projections in Params, and are drawn
// from the seed: the same seed the same D, another seed another.
func TestAddAdaptersKeepsOutputs(t *testing.T) {
	cfg, err := Preset("nano")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int32, 2*cfg.SeqLen)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range ids {
		ids[i] = int32(rng.IntN(cfg.Vocab))
	}
	logits := func() []float32 {
		out, err := m.Forward(kernels.NewCtx(1), ids)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(kernels.Data(out.Value()))
	}
	before := logits()
	total, _ := m.Count()
	m.AddAdapters(4, 7)
	after := logits()
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("logit %d: %g without adapters, %g with", i, before[i], after[i])
		}
	}
	withAdapters, _ := m.Count()
	if want := cfg.Layers * (2*cfg.Dim*4 + 4 + cfg.Dim); withAdapters-total != want || AdapterParams(cfg, 4) != want {
		t.Fatalf("adapters hold %d parameters (AdapterParams %d), want %d", withAdapters-total, AdapterParams(cfg, 4), want)
	}
	ps := m.Params()
	var adapterNames []string
	for i, p := range ps {
		if strings.Contains(p.Name, "adapter") {
			adapterNames = append(adapterNames, p.Name)
			if !strings.HasPrefix(ps[i-1].Name, strings.Split(p.Name, "adapter")[0]) {
				t.Errorf("%s follows %s, not its block", p.Name, ps[i-1].Name)
			}
		}
	}
	if adapterNames[0] != "layers.0.adapter.down.weight" || len(adapterNames) != 4*cfg.Layers {
		t.Errorf("adapter parameters %v", adapterNames)
	}
	d0 := slices.Clone(m.Blocks[0].Adapter.Down.Raw())
	bound := float32(1 / math.Sqrt(float64(cfg.Dim)))
	for _, v := range d0 {
		if v == 0 || v < -bound || v > bound {
			t.Fatalf("D value %g outside Kaiming-uniform's (−%g, %g) or zero", v, bound, bound)
		}
	}
	for _, blk := range m.Blocks {
		for _, p := range []*kernels.Mat{blk.Adapter.Up, blk.Adapter.UpBias, blk.Adapter.DownBias} {
			if slices.ContainsFunc(p.Raw(), func(v float32) bool { return v != 0 }) {
				t.Fatal("U, u or d does not start at zero")
			}
		}
	}
	m.AddAdapters(4, 7)
	if !slices.Equal(d0, m.Blocks[0].Adapter.Down.Raw()) {
		t.Error("the same seed drew another D")
	}
	m.AddAdapters(4, 8)
	if slices.Equal(d0, m.Blocks[0].Adapter.Down.Raw()) {
		t.Error("another seed drew the same D")
	}
}
