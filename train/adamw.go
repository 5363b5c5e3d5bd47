package train

import (
	"math"

	"github.com/relorago/harness/galore"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/kernels/vecmath"
	"github.com/relorago/harness/model"
)

// AdamWConfig holds AdamW's hyper-parameters (Loshchilov & Hutter 2019).
type AdamWConfig struct {
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`
	Eps         float64 `json:"eps"`
	WeightDecay float64 `json:"weight_decay"`
}

// AdamState is one parameter's optimizer state. M is the first moment, V the
// second (spago's own Adam stores them the other way round), Step the number
// of updates applied, which sets the bias correction. relora prunes M and V
// and keeps Step, as the official implementation does.
type AdamState struct {
	M, V []float32
	Step int
	// Proj is, for a weight GaLore projects, the subspace M and V live in
	// (they then hold ProjectedLen values, not the weight's); nil for a
	// plain AdamW state.
	Proj *galore.Projector
}

// AdamW updates parameters in place over flat float32 slices. It keeps state
// only for the parameters it is given, so a frozen weight costs nothing.
type AdamW struct {
	Config AdamWConfig
	States map[string]*AdamState // by parameter name
	// GaLore, when set, steps the weights it selects in a projected
	// gradient subspace (galore_step.go); nil is plain AdamW.
	GaLore *GaLoreConfig
}

// NewAdamW returns an optimizer with empty state.
func NewAdamW(cfg AdamWConfig) *AdamW {
	return &AdamW{Config: cfg, States: map[string]*AdamState{}}
}

// Step applies one update with learning rate lr to every parameter that has
// a gradient:
//
//	m ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²
//	p ← p·(1 − lr·λ) − lr · (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
//
// (PyTorch's AdamW: decoupled weight decay applied before the Adam step.)
//
// The update is elementwise, so it runs on c's cores span by span. The
// weights GaLore selects take GaLore's step instead (stepProjected); only
// that step can fail (an SVD that does not converge).
func (o *AdamW) Step(c *kernels.Ctx, params []model.Param, lr float64) error {
	cfg := o.Config
	type update struct {
		p, g []float32
		st   *AdamState
		step vecmath.AdamWStep
	}
	var updates []update
	var lengths []int
	var projected []model.Param
	for _, p := range params {
		g := p.GradRaw()
		if g == nil {
			continue
		}
		if o.GaLore.projects(p) {
			projected = append(projected, p)
			continue
		}
		st := o.States[p.Name]
		if st == nil {
			st = &AdamState{M: make([]float32, len(g)), V: make([]float32, len(g))}
			o.States[p.Name] = st
		}
		st.Step++
		bc1 := 1 - math.Pow(cfg.Beta1, float64(st.Step))
		bc2 := 1 - math.Pow(cfg.Beta2, float64(st.Step))
		updates = append(updates, update{p.Raw(), g, st, vecmath.AdamWStep{
			B1: float32(cfg.Beta1), B2: float32(cfg.Beta2),
			StepSize: float32(lr / bc1), InvBc2: float32(1 / math.Sqrt(bc2)),
			Eps: float32(cfg.Eps), Decay: float32(1 - lr*cfg.WeightDecay),
		}})
		lengths = append(lengths, len(g))
	}
	eachSpan(c, lengths, func(i, lo, hi int) {
		u := updates[i]
		// In place over the flat slices, 8 lanes at a time (vecmath.AdamW
		// rounds exactly as the scalar formula above).
		vecmath.AdamW(u.p[lo:hi], u.g[lo:hi], u.st.M[lo:hi], u.st.V[lo:hi], u.step)
	})
	return o.stepProjected(c, projected, lr)
}

// Floats returns the number of floats of optimizer state held: both
// moments, and GaLore's projectors (its paper counts a matrix's state as
// m·r + 2·n·r: the projector and the two projected moments).
func (o *AdamW) Floats() int {
	n := 0
	for _, s := range o.States {
		n += len(s.M) + len(s.V)
		if s.Proj != nil {
			n += len(s.Proj.P)
		}
	}
	return n
}

// ClipGradNorm scales all gradients so their global L2 norm is at most
// maxNorm (when maxNorm > 0) and returns the norm before clipping. The sum
// of squares runs in one fixed order (float64, parameter by parameter); the
// scaling, elementwise, on c's cores.
func ClipGradNorm(c *kernels.Ctx, params []model.Param, maxNorm float64) float64 {
	var ss float64
	grads := make([][]float32, len(params))
	lengths := make([]int, len(params))
	for i, p := range params {
		grads[i] = p.GradRaw()
		lengths[i] = len(grads[i])
		for _, g := range grads[i] {
			ss += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(ss)
	if maxNorm > 0 && norm > maxNorm {
		s := float32(maxNorm / (norm + 1e-6))
		eachSpan(c, lengths, func(i, lo, hi int) {
			g := grads[i][lo:hi]
			for j := range g {
				g[j] *= s
			}
		})
	}
	return norm
}
