package train

import (
	"fmt"
	"math"

	"github.com/relorago/harness/galore"
	"github.com/relorago/harness/internal/freelist"
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
	s := &o.galore
	s.o, s.params, s.lr = o, params, lr
	s.states = s.states[:0]
	for _, p := range params {
		st := o.States[p.Name]
		if st == nil {
			n := galore.ProjectedLen(p.Rows(), p.Cols(), o.GaLore.Rank)
			st = &AdamState{M: make([]float32, n), V: make([]float32, n)}
			o.States[p.Name] = st
		}
		s.states = append(s.states, st)
	}
	s.errs = grow(s.errs, len(params))
	clear(s.errs)
	c.ForTasks(len(params), s)
	s.o, s.params = nil, nil // drop the step's references
	clear(s.states)
	for _, err := range s.errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// galoreStep is stepProjected's work, one weight a task, kept on the
// optimizer with its lists and scratch so that a warm step allocates
// nothing but a refreshed projector. The scratch goes to whichever task
// runs: a free list, as many as tasks run at once.
type galoreStep struct {
	o      *AdamW
	params []model.Param
	states []*AdamState
	errs   []error
	lr     float64

	scratch freelist.List[galoreScratch]
}

// galoreScratch is one task's float64 and float32 working space: the
// projected gradient (its float64 sums, then N), one row of the update and
// the right side's projector transposed (sized by the weights projected
// on the right only).
type galoreScratch struct {
	acc, row, qt []float64
	r            []float32
}

// grow returns x resliced to n values, reallocated when too short.
func grow[T any](x []T, n int) []T {
	if cap(x) < n {
		return make([]T, n)
	}
	return x[:n]
}

// Task applies GaLore's step to weight i.
func (s *galoreStep) Task(i int) {
	cfg, g := s.o.Config, s.o.GaLore
	p, st := s.params[i], s.states[i]
	if st.Step%g.RefreshEvery == 0 || st.Proj == nil {
		proj, err := galore.New(p.GradRaw(), p.Rows(), p.Cols(), g.Rank)
		if err != nil {
			s.errs[i] = fmt.Errorf("galore: %s at its update %d: %w", p.Name, st.Step+1, err)
			return
		}
		st.Proj = proj
	}
	st.Step++
	bc1 := 1 - math.Pow(cfg.Beta1, float64(st.Step))
	bc2 := 1 - math.Pow(cfg.Beta2, float64(st.Step))
	b1, b2 := float32(cfg.Beta1), float32(cfg.Beta2)
	w := s.scratch.Get()
	defer s.scratch.Put(w)
	w.acc, w.r, w.row = grow(w.acc, len(st.M)), grow(w.r, len(st.M)), grow(w.row, p.Cols())
	st.Proj.Project(w.r, p.GradRaw(), w.acc)
	n := w.acc // the sums are rounded into r: their room holds N
	for j, x := range w.r {
		st.M[j] = b1*st.M[j] + (1-b1)*x
		st.V[j] = b2*st.V[j] + (1-b2)*x*x
		n[j] = (float64(st.M[j]) / bc1) / (math.Sqrt(float64(st.V[j])/bc2) + cfg.Eps)
	}
	// The update row by row: one row of scratch, where a float64 copy of
	// the whole weight per step would make GaLore's transient memory
	// larger than the optimizer state it saves.
	decay, step := 1-s.lr*cfg.WeightDecay, s.lr*g.Scale
	wt, cols := p.Raw(), p.Cols()
	var qt []float64
	if !st.Proj.Left {
		w.qt = grow(w.qt, st.Proj.Len())
		qt = st.Proj.Transposed(w.qt)
	}
	for i := range p.Rows() {
		st.Proj.BackRow(w.row, i, n, qt)
		row := wt[i*cols : (i+1)*cols]
		for j := range row {
			row[j] = float32(float64(row[j])*decay - step*w.row[j])
		}
	}
}
