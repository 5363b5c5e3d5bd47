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
		vecmath.Sigmoid(f.sig[lo:hi], g.data[lo:hi])
		vecmath.SwiGLUForward(y.data[lo:hi], g.data[lo:hi], f.sig[lo:hi], u.data[lo:hi])
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
		vecmath.SwiGLUBackward(dg.data[lo:hi], du.data[lo:hi], dy[lo:hi], g.data[lo:hi], f.sig[lo:hi], u.data[lo:hi])
	})
	if needG {
		f.gate.AccGrad(dg)
	}
	if needU {
		f.up.AccGrad(du)
	}
	return nil
}
