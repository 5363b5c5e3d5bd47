package kernels

import (
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/gemm"
	"github.com/relorago/harness/kernels/vecmath"
)

// LoRAComposed returns y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ with exactly the arithmetic of
// the composed graph Add(Linear(x, W), Linear(Linear(x, A), B), s), the
// ReLoRA linear the committed results were computed with, in one op.
//
// Forward, the low-rank product goes straight into y: the pure-Go GEMM
// rounds s·acc and then y₁ + s·acc, which is what Linear (acc, stored) and
// Add (y₁ + s·y₂) round, so y is bit-identical while the pass of Add and
// the y₂ buffer go away (with OpenBLAS, whose rounding there is its own,
// the product is stored and added as before). Backward repeats the composed ops' GEMMs one for
// one (the scaled gradient s·dy of the low-rank branch included) and sends
// x its two contributions separately, under sequence numbers in the
// composed ops' order, so x's gradient sums them in the same order as
// before. The fused LoRALinear op saves more but rounds differently.
func (c *Ctx) LoRAComposed(x, w, a, b mat.Tensor, scale float32) mat.Tensor {
	f := c.ops.loraComposed.get()
	*f = loraComposedFn{c: c, x: x, w: w, a: a, b: b, s: scale}
	return run(f)
}

type loraComposedFn struct {
	c          *Ctx
	operands   [4]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y          *Mat          // forward output
	x, w, a, b mat.Tensor
	s          float32
	h          *Mat // x·Aᵀ [n×r], kept for backward
	// seqW and seqH stand for the outputs of Linear(x, W) and Linear(x, A)
	// in the composed graph: the x-gradient parts from the full-rank and
	// low-rank branches carry them.
	seqW, seqH int64
}

func (f *loraComposedFn) Operands() []mat.Tensor {
	f.operands = [4]mat.Tensor{f.x, f.w, f.a, f.b}
	return f.operands[:]
}

func (f *loraComposedFn) Forward() (mat.Tensor, error) {
	x, w, a, b := ValueOf(f.x), ValueOf(f.w), ValueOf(f.a), ValueOf(f.b)
	checkCols("LoRAComposed", x, w.cols)
	checkCols("LoRAComposed A", a, w.cols)
	checkCols("LoRAComposed B", b, a.rows)
	n, out, in, r := x.rows, w.rows, w.cols, a.rows
	f.seqW = f.c.seq.Add(1)
	f.h = f.c.newOut(n, r)
	f.seqH = f.h.seq
	y := f.c.newOut(n, out)
	f.c.gemm(false, true, n, out, in, 1, x.data, in, w.data, in, 0, y.data, out)
	f.c.gemm(false, true, n, r, in, 1, x.data, in, a.data, in, 0, f.h.data, r)
	if gemm.AccumulateRoundsSeparately {
		f.c.gemm(false, true, n, out, r, f.s, f.h.data, r, b.data, r, 1, y.data, out)
	} else {
		// The backend may round s·acc + y differently: store the product and
		// add it as Add does.
		y2 := f.c.arena.Get(n * out)
		f.c.gemm(false, true, n, out, r, 1, f.h.data, r, b.data, r, 0, y2, out)
		// (OpenBLAS only: this closure's allocation is the least of it.)
		f.c.parallel(len(y.data), 1<<14, chunkFunc(func(_, lo, hi int) {
			vecmath.AddScaled(y.data[lo:hi], y.data[lo:hi], y2[lo:hi], f.s)
		}))
	}
	f.y = y
	return y, nil
}

// Backward, as the composed ops do it, with g = dy:
//
//	g₂ = s·g (Add),  dB += g₂ᵀ·h,  dh = g₂·B,  dA += dhᵀ·x,  dx ← g·W and dh·A,  dW += gᵀ·x (if W trains).
func (f *loraComposedFn) Backward(gy mat.Tensor) error {
	x, w, a, b, g := ValueOf(f.x), ValueOf(f.w), ValueOf(f.a), ValueOf(f.b), Data(gy)
	n, out, in, r := x.rows, w.rows, w.cols, a.rows
	var dxH *Mat // x's contribution through the low-rank branch
	if f.a.RequiresGrad() || f.b.RequiresGrad() || f.x.RequiresGrad() {
		g2 := g
		if f.s != 1 {
			g2 = f.c.arena.Get(len(g))
			for i, v := range g {
				g2[i] = f.s * v
			}
		}
		if f.b.RequiresGrad() {
			f.c.accumulateGEMM(f.y, f.b, out, r, func(dst []float32, beta float32) {
				f.c.gemm(true, false, out, r, n, 1, g2, out, f.h.data, r, beta, dst, r)
			})
		}
		dh := f.c.arena.Get(n * r)
		f.c.gemm(false, false, n, r, out, 1, g2, out, b.data, r, 0, dh, r)
		if f.a.RequiresGrad() {
			f.c.accumulateGEMM(f.h, f.a, r, in, func(dst []float32, beta float32) {
				f.c.gemm(true, false, r, in, n, 1, dh, r, x.data, in, beta, dst, in)
			})
		}
		if f.x.RequiresGrad() {
			dxH = f.c.gradFrom(f.h, n, in)
			f.c.gemm(false, false, n, in, r, 1, dh, r, a.data, in, 0, dxH.data, in)
		}
	}
	if f.w.RequiresGrad() {
		f.c.accumulateGEMM(f.y, f.w, out, in, func(dst []float32, beta float32) {
			f.c.gemm(true, false, out, in, n, 1, g, out, x.data, in, beta, dst, in)
		})
	}
	if f.x.RequiresGrad() {
		// x's contribution through W, under Linear(x, W)'s seq, with the
		// low-rank one chained: one AccGrad for this operand edge.
		dx := f.c.arena.newMat(n, in, f.c.arena.Get(n*in))
		dx.seq, dx.also = f.seqW, dxH
		f.c.gemm(false, false, n, in, out, 1, g, out, w.data, in, 0, dx.data, in)
		f.x.AccGrad(dx)
	}
	return nil
}
