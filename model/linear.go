package model

import (
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
)

// Linear is a bias-free projection y = f(x). The blocks hold their seven
// projections through this interface so that relora can swap a full-rank
// Dense for a LoRA linear without the model knowing.
type Linear interface {
	Forward(c *kernels.Ctx, x mat.Tensor) mat.Tensor
	// Params lists every parameter, frozen or not, under names relative to
	// the linear ("weight", "lora_a", ...).
	Params() []Param
	// Effective returns the full [out×in] weight the linear applies.
	Effective() []float32
	// Shape returns (out, in).
	Shape() (out, in int)
}

// Param is a named parameter.
type Param struct {
	Name string
	*kernels.Mat
}

// Dense is a full-rank linear: y = x·Wᵀ, W [out×in].
type Dense struct{ W *kernels.Mat }

// Forward applies the projection.
func (d *Dense) Forward(c *kernels.Ctx, x mat.Tensor) mat.Tensor { return c.Linear(x, d.W) }

// Params returns the weight.
func (d *Dense) Params() []Param { return []Param{{"weight", d.W}} }

// Effective returns W itself.
func (d *Dense) Effective() []float32 { return d.W.Raw() }

// Shape returns (out, in).
func (d *Dense) Shape() (int, int) { return d.W.Rows(), d.W.Cols() }
