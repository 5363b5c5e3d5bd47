package kernels

import (
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/vecmath"
)

// SwiGLU returns silu(gate) ⊙ up (Shazeer 2020), silu(g) = g·σ(g).
func (c *Ctx) SwiGLU(gate, up mat.Tensor) mat.Tensor {
	f := c.ops.swiglu.get()
	*f = swigluFn{c: c, gate: gate, up: up}
	return run(f)
}

// SwiGLUMinChunk is the fewest elements SwiGLU's forward and backward cut
// a chunk to (Chunks): it sets how long a chunk's σ lives before the
// forward re-reads it.
const SwiGLUMinChunk = 1 << 13

type swigluFn struct {
	c        *Ctx
	operands [2]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	sig      []float32     // σ(gate), kept from forward for backward
	y        *Mat          // forward output, whose seq orders the gradients this op sends
	gate, up mat.Tensor
	// the backward's operands, for swigluBackward
	dy     []float32
	dg, du *Mat
}

// swigluForward is the forward's work on a range of elements.
type swigluForward swigluFn

func (f *swigluForward) chunk(_, lo, hi int) {
	g, u, y := ValueOf(f.gate), ValueOf(f.up), f.y
	SwiGLUChunk(y.data[lo:hi], f.sig[lo:hi], g.data[lo:hi], u.data[lo:hi])
}

// SwiGLUChunk is SwiGLU's forward over one chunk: σ(gate) into sig (kept
// for the backward), then y = gate·σ(gate) ⊙ up, re-reading the chunk's σ
// while it is still in cache. SwiGLU's op calls it on each chunk;
// bench/elementwise times it. (The backward's chunk is one call of
// vecmath.SwiGLUBackward, which the benchmark calls as the op does.)
func SwiGLUChunk(y, sig, gate, up []float32) {
	vecmath.Sigmoid(sig, gate)
	vecmath.SwiGLUForward(y, gate, sig, up)
}

// swigluBackward is the backward's work on a range of elements.
type swigluBackward swigluFn

func (f *swigluBackward) chunk(_, lo, hi int) {
	g, u := ValueOf(f.gate), ValueOf(f.up)
	vecmath.SwiGLUBackward(f.dg.data[lo:hi], f.du.data[lo:hi], f.dy[lo:hi], g.data[lo:hi], f.sig[lo:hi], u.data[lo:hi])
}

func (f *swigluFn) Operands() []mat.Tensor {
	f.operands = [2]mat.Tensor{f.gate, f.up}
	return f.operands[:]
}

func (f *swigluFn) Forward() (mat.Tensor, error) {
	g := ValueOf(f.gate)
	y := f.c.newOut(g.rows, g.cols)
	f.sig = f.c.arena.Get(len(y.data))
	f.y = y
	f.c.parallel(len(y.data), SwiGLUMinChunk, (*swigluForward)(f))
	return y, nil
}

// Backward: d gate = dy ⊙ up ⊙ σ(g)(1 + g(1 − σ(g))), d up = dy ⊙ silu(g).
func (f *swigluFn) Backward(gy mat.Tensor) error {
	g, dy := ValueOf(f.gate), Data(gy)
	needG, needU := f.gate.RequiresGrad(), f.up.RequiresGrad()
	dg, du := f.c.gradFrom(f.y, g.rows, g.cols), f.c.gradFrom(f.y, g.rows, g.cols)
	f.dy, f.dg, f.du = dy, dg, du
	f.c.parallel(len(dy), SwiGLUMinChunk, (*swigluBackward)(f))
	if needG {
		f.gate.AccGrad(dg)
	}
	if needU {
		f.up.AccGrad(du)
	}
	return nil
}
