package kernels

import "github.com/nlpodyssey/spago/mat"

// SwiGLU returns silu(gate) ⊙ up (Shazeer 2020), silu(g) = g·σ(g).
func (c *Ctx) SwiGLU(gate, up mat.Tensor) mat.Tensor {
	return run(&swigluFn{c: c, gate: gate, up: up})
}

type swigluFn struct {
	c        *Ctx
	gate, up mat.Tensor
}

func (f *swigluFn) Operands() []mat.Tensor { return []mat.Tensor{f.gate, f.up} }

func sigmoid(x float32) float32 { return 1 / (1 + expf(-x)) }

func (f *swigluFn) Forward() (mat.Tensor, error) {
	g, u := ValueOf(f.gate), ValueOf(f.up)
	y := f.c.newOut(g.rows, g.cols)
	f.c.parallel(len(y.data), 1<<13, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			x := g.data[i]
			y.data[i] = x * sigmoid(x) * u.data[i]
		}
	})
	return y, nil
}

// Backward: d gate = dy ⊙ up ⊙ σ(g)(1 + g(1 − σ(g))), d up = dy ⊙ silu(g).
func (f *swigluFn) Backward(gy mat.Tensor) error {
	g, u, dy := ValueOf(f.gate), ValueOf(f.up), Data(gy)
	needG, needU := f.gate.RequiresGrad(), f.up.RequiresGrad()
	dg, du := f.c.newOut(g.rows, g.cols), f.c.newOut(g.rows, g.cols)
	f.c.parallel(len(dy), 1<<13, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			x := g.data[i]
			s := sigmoid(x)
			dg.data[i] = dy[i] * u.data[i] * s * (1 + x*(1-s))
			du.data[i] = dy[i] * x * s
		}
	})
	if needG {
		f.gate.AccGrad(dg)
	}
	if needU {
		f.up.AccGrad(du)
	}
	return nil
}
