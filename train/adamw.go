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

	// scratch is what Step builds, and clip what the gradient clip before
	// it (trainStep) builds, kept for the next step so that a warm step
	// allocates nothing (step_scratch.go). A run has one optimizer at a
	// time, so it is where the clip's lists live too.
	scratch adamScratch
	clip    gradClip
	galore  galoreStep
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
	s := &o.scratch
	s.reset()
	for _, p := range params {
		g := p.GradRaw()
		if g == nil {
			continue
		}
		if o.GaLore.projects(p) {
			s.projected = append(s.projected, p)
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
		s.spans.add(len(s.updates), len(g))
		s.updates = append(s.updates, adamUpdate{p.Raw(), g, st, vecmath.AdamWStep{
			B1: float32(cfg.Beta1), B2: float32(cfg.Beta2),
			StepSize: float32(lr / bc1), InvBc2: float32(1 / math.Sqrt(bc2)),
			Eps: float32(cfg.Eps), Decay: float32(1 - lr*cfg.WeightDecay),
		}})
	}
	s.spans.run(c, s)
	return o.stepProjected(c, s.projected, lr)
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
	var s gradClip
	return s.clip(c, params, maxNorm)
}

// clip is ClipGradNorm with s's lists, kept from the last call.
func (s *gradClip) clip(c *kernels.Ctx, params []model.Param, maxNorm float64) float64 {
	var ss float64
	clear(s.grads)
	s.grads = s.grads[:0]
	for _, p := range params {
		g := p.GradRaw()
		s.grads = append(s.grads, g)
		for _, x := range g {
			ss += float64(x) * float64(x)
		}
	}
	norm := math.Sqrt(ss)
	if maxNorm > 0 && norm > maxNorm {
		s.scale = float32(maxNorm / (norm + 1e-6))
		s.spans.reset()
		for i, g := range s.grads {
			s.spans.add(i, len(g))
		}
		s.spans.run(c, s)
	}
	return norm
}
