package relora

import (
	"math"
	"math/rand/v2"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
)

// Factored is a projection trained as a product of two thin factors from
// the first step, the plain low-rank baseline of the GaLore paper (Zhao et
// al. 2024, Table 2, "Low-Rank"):
//
//	y = x·(B·A)ᵀ = (x·Aᵀ)·Bᵀ,   A [r×in], B [out×r], both trainable,
//
// with no full-rank weight beside them, no scale and no merges: the layer
// can never leave rank r, which is what the baseline measures.
type Factored struct {
	A, B *kernels.Mat
}

// NewFactored draws both factors from N(0, σ²) with σ² = std/√r, so that
// each entry of B·A (a sum of r products of two independent draws) has
// variance r·σ⁴ = std²: the layer starts at the scale of the full-rank
// model's N(0, std²) weight. Neither factor starts at zero: with B = 0, as
// LoRA starts, the query and key projections would sit at a saddle (each
// one's gradient is proportional to the other's output, zero), and the
// attention would never learn.
func NewFactored(out, in, rank int, std float64, rng *rand.Rand) *Factored {
	f := &Factored{A: kernels.NewParam(rank, in), B: kernels.NewParam(out, rank)}
	sigma := math.Sqrt(std / math.Sqrt(float64(rank)))
	for _, m := range []*kernels.Mat{f.A, f.B} {
		for i := range m.Raw() {
			m.Raw()[i] = float32(rng.NormFloat64() * sigma)
		}
	}
	return f
}

// Forward applies the two thin GEMMs through the rank-r bottleneck.
func (f *Factored) Forward(c *kernels.Ctx, x mat.Tensor) mat.Tensor {
	return c.Linear(c.Linear(x, f.A), f.B)
}

// Params lists the two factors.
func (f *Factored) Params() []model.Param {
	return []model.Param{{Name: "factor_a", Mat: f.A}, {Name: "factor_b", Mat: f.B}}
}

// Effective returns B·A, the weight the layer applies.
func (f *Factored) Effective() []float32 {
	out := make([]float32, f.B.Rows()*f.A.Cols())
	addScaledProduct(out, f.B, f.A, 1)
	return out
}

// Shape returns (out, in).
func (f *Factored) Shape() (int, int) { return f.B.Rows(), f.A.Cols() }

// Factorize replaces every block projection of a freshly built model with
// a Factored linear of the given rank (its full-rank weight is dropped, not
// factored: the factors are drawn anew, see NewFactored), from a generator
// seeded by the run's seed, so the same run draws the same factors.
func Factorize(m *model.Model, rank int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed^0x666163746f72, 0))
	for _, b := range m.Blocks {
		for p, lin := range b.Proj {
			out, in := lin.Shape()
			b.Proj[p] = NewFactored(out, in, rank, m.Config.InitStd, rng)
		}
	}
}
