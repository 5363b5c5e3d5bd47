package train

import (
	"github.com/relorago/harness/kernels/vecmath"
	"github.com/relorago/harness/model"
)

// The gradient clip and AdamW's update build lists every step (the
// gradients, the updates, the spans of their elementwise passes). Built in
// fresh slices and handed to the workers as closures they were about 34
// heap objects a step; these types keep them from one step to the next
// instead, and are handed to the workers as the pass's body. They hold no
// state a step reads: each step rebuilds them whole, from its own
// parameters and the optimizer's current States.

// adamUpdate is one parameter's plain AdamW update in a step.
type adamUpdate struct {
	p, g []float32
	st   *AdamState
	step vecmath.AdamWStep
}

// adamScratch is AdamW.Step's lists: the step's plain updates, the weights
// GaLore steps instead, and the spans of the update pass.
type adamScratch struct {
	updates   []adamUpdate
	projected []model.Param
	spans     spans
}

// span applies update i to its values lo..hi-1: in place over the flat
// slices, 8 lanes at a time (vecmath.AdamW rounds exactly as the scalar
// formula in AdamW.Step).
func (s *adamScratch) span(i, lo, hi int) {
	u := s.updates[i]
	vecmath.AdamW(u.p[lo:hi], u.g[lo:hi], u.st.M[lo:hi], u.st.V[lo:hi], u.step)
}

// reset empties the lists, dropping the last step's references.
func (s *adamScratch) reset() {
	clear(s.updates)
	s.updates = s.updates[:0]
	clear(s.projected)
	s.projected = s.projected[:0]
	s.spans.reset()
}

// gradClip is ClipGradNorm's lists: the gradients, the scale and the spans
// of the scaling pass.
type gradClip struct {
	grads [][]float32
	scale float32
	spans spans
}

// span scales gradient i's values lo..hi-1.
func (s *gradClip) span(i, lo, hi int) {
	g := s.grads[i][lo:hi]
	for j := range g {
		g[j] *= s.scale
	}
}
