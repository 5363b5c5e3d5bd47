package kernels

import "github.com/nlpodyssey/spago/mat"

// LoRALinear returns y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ for x [n×in], W [out×in],
// A [r×in], B [out×r] as one op (Hu et al. 2021; the ReLoRA linear).
// Composed from Linear and Add it would make an extra pass over y forward
// and over dy backward, and sum dx from two branches; fused, the low-rank
// path is three thin GEMMs that accumulate straight into y and dx.
//
// Backward, with h = x·Aᵀ kept from forward and g = dy:
//
//	dB += s·gᵀ·h,  dh = s·g·B,  dA += dhᵀ·x,  dx = g·W + dh·A,  dW += gᵀ·x (if W trains).
func (c *Ctx) LoRALinear(x, w, a, b mat.Tensor, scale float32) mat.Tensor {
	f := c.ops.lora.get()
	*f = loraFn{c: c, x: x, w: w, a: a, b: b, s: scale}
	return run(f)
}

type loraFn struct {
	c          *Ctx
	operands   [4]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y          *Mat          // forward output, whose seq orders the gradients this op sends
	x, w, a, b mat.Tensor
	s          float32
	h          []float32 // x·Aᵀ [n×r], kept for backward
}

func (f *loraFn) Operands() []mat.Tensor {
	f.operands = [4]mat.Tensor{f.x, f.w, f.a, f.b}
	return f.operands[:]
}

func (f *loraFn) Forward() (mat.Tensor, error) {
	x, w, a, b := ValueOf(f.x), ValueOf(f.w), ValueOf(f.a), ValueOf(f.b)
	checkCols("LoRALinear", x, w.cols)
	checkCols("LoRALinear A", a, w.cols)
	checkCols("LoRALinear B", b, a.rows)
	n, out, in, r := x.rows, w.rows, w.cols, a.rows
	y := f.c.newOut(n, out)
	f.h = f.c.arena.Get(n * r)
	f.c.gemm(false, true, n, out, in, 1, x.data, in, w.data, in, 0, y.data, out)
	f.c.gemm(false, true, n, r, in, 1, x.data, in, a.data, in, 0, f.h, r)
	f.c.gemm(false, true, n, out, r, f.s, f.h, r, b.data, r, 1, y.data, out)
	f.y = y
	return y, nil
}

func (f *loraFn) Backward(gy mat.Tensor) error {
	x, w, a, b, g := ValueOf(f.x), ValueOf(f.w), ValueOf(f.a), ValueOf(f.b), Data(gy)
	n, out, in, r := x.rows, w.rows, w.cols, a.rows
	if f.b.RequiresGrad() {
		f.c.accumulateGEMM(f.y, f.b, out, r, func(dst []float32, beta float32) {
			f.c.gemm(true, false, out, r, n, f.s, g, out, f.h, r, beta, dst, r)
		})
	}
	dh := f.c.arena.Get(n * r)
	f.c.gemm(false, false, n, r, out, f.s, g, out, b.data, r, 0, dh, r)
	if f.a.RequiresGrad() {
		f.c.accumulateGEMM(f.y, f.a, r, in, func(dst []float32, beta float32) {
			f.c.gemm(true, false, r, in, n, 1, dh, r, x.data, in, beta, dst, in)
		})
	}
	if f.w.RequiresGrad() {
		f.c.accumulateGEMM(f.y, f.w, out, in, func(dst []float32, beta float32) {
			f.c.gemm(true, false, out, in, n, 1, g, out, x.data, in, beta, dst, in)
		})
	}
	if f.x.RequiresGrad() {
		dx := f.c.gradFrom(f.y, n, in)
		f.c.gemm(false, false, n, in, out, 1, g, out, w.data, in, 0, dx.data, in)
		f.c.gemm(false, false, n, in, r, 1, dh, r, a.data, in, 1, dx.data, in)
		f.x.AccGrad(dx)
	}
	return nil
}
