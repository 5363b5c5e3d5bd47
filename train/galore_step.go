package train

import (
	"fmt"
	"math"

	"github.com/relorago/harness/galore"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
)

// GaLoreConfig is GaLore's part of the optimizer (Zhao et al. 2024,
// arXiv:2403.03507): the rank of the gradient subspace, how often it is
// recomputed and the scale of the update. It applies to the seven
// projections of every block, the matrices ReLoRA wraps; the embedding,
// the norms and the LM head keep plain AdamW, as in both papers.
type GaLoreConfig struct {
	Rank         int     // r
	RefreshEvery int     // T: a weight's subspace is recomputed at its updates 1, T+1, 2T+1, ...
	Scale        float64 // α
}

// galoreOf returns the GaLore settings of a run's method (nil unless it is
// GaLore).
func galoreOf(m relora.Config) *GaLoreConfig {
	if m.Method != relora.MethodGaLore {
		return nil
	}
	return &GaLoreConfig{Rank: m.Rank, RefreshEvery: m.GaLoreRefreshEvery, Scale: m.GaLoreScale}
}

// projects reports whether p takes GaLore's step.
func (g *GaLoreConfig) projects(p model.Param) bool {
	return g != nil && relora.IsProjectionWeight(p.Name)
}

// stepProjected applies GaLore's step to each weight W (m×n) with gradient
// G, at the weight's t-th update (Algorithm 2 of the paper, with the
// harness's AdamW arithmetic and decoupled weight decay):
//
//	if (t−1) mod T = 0:  P ← the top-r left singular vectors of G (m ≤ n),
//	                     else Q ← the top-r right ones   (galore.New)
//	R = Pᵀ·G  (r×n)      or  R = G·Q  (m×r)
//	m ← β1·m + (1−β1)·R,   v ← β2·v + (1−β2)·R²
//	N = (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
//	W ← W·(1 − lr·λ) − lr·α·P·N   (or lr·α·N·Qᵀ)
//
// The moments are kept when the subspace changes, as the paper's released
// code does (its Adam state is not reset at a new projector), so for a
// while after a refresh they mix coordinates of the old subspace and the
// new one. The moments are float32, as plain
// AdamW's are; the projection, N and the update are float64 sums rounded
// once. Each weight is independent of the others, so they run on c's cores
// without the thread count changing a bit.
func (o *AdamW) stepProjected(c *kernels.Ctx, params []model.Param, lr float64) error {
	if len(params) == 0 {
		return nil
	}
	cfg, g := o.Config, o.GaLore
	states := make([]*AdamState, len(params))
	for i, p := range params {
		st := o.States[p.Name]
		if st == nil {
			n := galore.ProjectedLen(p.Rows(), p.Cols(), g.Rank)
			st = &AdamState{M: make([]float32, n), V: make([]float32, n)}
			o.States[p.Name] = st
		}
		states[i] = st
	}
	errs := make([]error, len(params))
	c.ForEach(len(params), func(i int) {
		p, st := params[i], states[i]
		if st.Step%g.RefreshEvery == 0 || st.Proj == nil {
			proj, err := galore.New(p.GradRaw(), p.Rows(), p.Cols(), g.Rank)
			if err != nil {
				errs[i] = fmt.Errorf("galore: %s at its update %d: %w", p.Name, st.Step+1, err)
				return
			}
			st.Proj = proj
		}
		st.Step++
		bc1 := 1 - math.Pow(cfg.Beta1, float64(st.Step))
		bc2 := 1 - math.Pow(cfg.Beta2, float64(st.Step))
		b1, b2 := float32(cfg.Beta1), float32(cfg.Beta2)
		r := make([]float32, len(st.M))
		st.Proj.Project(r, p.GradRaw())
		n := make([]float64, len(r))
		for j, x := range r {
			st.M[j] = b1*st.M[j] + (1-b1)*x
			st.V[j] = b2*st.V[j] + (1-b2)*x*x
			n[j] = (float64(st.M[j]) / bc1) / (math.Sqrt(float64(st.V[j])/bc2) + cfg.Eps)
		}
		// The update row by row: one row of scratch, where a float64 copy
		// of the whole weight per step would make GaLore's transient
		// memory larger than the optimizer state it saves.
		decay, step := 1-lr*cfg.WeightDecay, lr*g.Scale
		w, cols := p.Raw(), p.Cols()
		u := make([]float64, cols)
		for i := range p.Rows() {
			st.Proj.BackRow(u, i, n)
			row := w[i*cols : (i+1)*cols]
			for j := range row {
				row[j] = float32(float64(row[j])*decay - step*u[j])
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
