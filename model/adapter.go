package model

import (
	"math"
	"math/rand/v2"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
)

// Adapter is a bottleneck adapter (Houlsby et al. 2019) on a block's
// feed-forward output, h [tokens × dim]:
//
//	h ← h + relu(h·Dᵀ + d)·Uᵀ + u,   D [b × dim], d [1 × b], U [dim × b], u [1 × dim]
//
// It sits where Pfeiffer et al. (2021) put their single adapter per block:
// after the feed-forward sublayer, on its output before that joins the
// residual stream (in this pre-norm decoder, the down projection's output).
// Houlsby's second adapter, after attention, is left out: Pfeiffer found
// the one after the feed-forward sublayer as good at half the parameters.
// U and u start at zero, so adding adapters does not change the model's
// function; only D is drawn, as LoRA draws A, so the two methods start
// alike.
type Adapter struct {
	Down, DownBias *kernels.Mat // D [b × dim], d [1 × b]
	Up, UpBias     *kernels.Mat // U [dim × b], u [1 × dim]
}

// NewAdapter returns an adapter of width dim and bottleneck b: D drawn
// Kaiming-uniform (a = √5, the bound 1/√dim, PyTorch's nn.Linear default
// and LoRA's A), the rest zero.
func NewAdapter(dim, b int, rng *rand.Rand) *Adapter {
	a := &Adapter{Down: kernels.NewParam(b, dim), DownBias: kernels.NewParam(1, b), Up: kernels.NewParam(dim, b), UpBias: kernels.NewParam(1, dim)}
	bound := 1 / math.Sqrt(float64(dim))
	for i := range a.Down.Raw() {
		a.Down.Raw()[i] = float32((2*rng.Float64() - 1) * bound)
	}
	return a
}

// Forward applies the adapter to h, its own residual included.
func (a *Adapter) Forward(c *kernels.Ctx, h mat.Tensor) mat.Tensor {
	z := c.ReLU(c.AddBias(c.Linear(h, a.Down), a.DownBias))
	return c.Add(h, c.AddBias(c.Linear(z, a.Up), a.UpBias), 1)
}

// Params lists the adapter's parameters under names relative to it.
func (a *Adapter) Params() []Param {
	return []Param{{"down.weight", a.Down}, {"down.bias", a.DownBias}, {"up.weight", a.Up}, {"up.bias", a.UpBias}}
}

// AddAdapters gives every block an adapter of bottleneck b, their D drawn in
// block order from a generator seeded by seed (the run's), so the same run
// always starts from the same adapters. They are trainable; what else
// trains is the caller's choice.
func (m *Model) AddAdapters(b int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x61646170746572)) // "adapter"
	for _, blk := range m.Blocks {
		blk.Adapter = NewAdapter(m.Config.Dim, b, rng)
	}
}

// AdapterParams returns how many parameters the adapters of bottleneck b
// hold on a model of shape c: per block D, d, U and u.
func AdapterParams(c Config, b int) int {
	return c.Layers * (2*c.Dim*b + b + c.Dim)
}
