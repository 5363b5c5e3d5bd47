package kernels

import (
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/vecmath"
)

// SwiGLU returns silu(gate) ⊙ up (Shazeer 2020), silu(g) = g·σ(g).
func (c *Ctx) SwiGLU(gate, up mat.Tensor) mat.Tensor {
	return run(&swigluFn{c: c, gate: gate, up: up})
}

type swigluFn struct {
	c        *Ctx
	sig      []float32 // σ(gate), kept from forward for backward
	y        *Mat      // forward output, whose seq orders the gradients this op sends
	gate, up mat.Tensor
}

func (f *swigluFn) Operands() []mat.Tensor { return []mat.Tensor{f.gate, f.up} }

func (f *swigluFn) Forward() (mat.Tensor, error) {
	g, u := ValueOf(f.gate), ValueOf(f.up)
	y := f.c.newOut(g.rows, g.cols)
	f.sig = f.c.arena.Get(len(y.data))
	f.c.parallel(len(y.data), 1<<13, func(lo, hi int) {
		sig := f.sig[lo:hi]
		vecmath.Sigmoid(sig, g.data[lo:hi])
		for i, si := range sig {
			y.data[lo+i] = g.data[lo+i] * si * u.data[lo+i]
		}
	})
	f.y = y
	return y, nil
}

// Backward: d gate = dy ⊙ up ⊙ σ(g)(1 + g(1 − σ(g))), d up = dy ⊙ silu(g).
func (f *swigluFn) Backward(gy mat.Tensor) error {
	g, u, dy := ValueOf(f.gate), ValueOf(f.up), Data(gy)
	needG, needU := f.gate.RequiresGrad(), f.up.RequiresGrad()
	dg, du := f.c.gradFrom(f.y, g.rows, g.cols), f.c.gradFrom(f.y, g.rows, g.cols)
	f.c.parallel(len(dy), 1<<13, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			x, s := g.data[i], f.sig[i]
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
