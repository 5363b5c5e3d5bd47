package kernels

import "github.com/nlpodyssey/spago/mat"

// Linear returns y = x·Wᵀ for x [n×in] and W [out×in] (PyTorch's layout, no bias).
//
// Backward: dx = dy·W and dW += dyᵀ·x. A frozen W (RequiresGrad false, as in
// a LoRA linear) gets no weight gradient at all: that skipped GEMM is a third
// of the layer's FLOPs and the source of ReLoRA's speed-up in the paper's Table 4.
func (c *Ctx) Linear(x, w mat.Tensor) mat.Tensor {
	f := c.ops.linear.get()
	*f = linearFn{c: c, x: x, w: w}
	return run(f)
}

type linearFn struct {
	c        *Ctx
	operands [2]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y        *Mat          // forward output, whose seq orders the gradients this op sends
	x, w     mat.Tensor
}

func (f *linearFn) Operands() []mat.Tensor {
	f.operands = [2]mat.Tensor{f.x, f.w}
	return f.operands[:]
}

func (f *linearFn) Forward() (mat.Tensor, error) {
	x, w := ValueOf(f.x), ValueOf(f.w)
	checkCols("Linear", x, w.cols)
	y := f.c.newOut(x.rows, w.rows)
	f.c.gemm(false, true, x.rows, w.rows, w.cols, 1, x.data, x.cols, w.data, w.cols, 0, y.data, y.cols)
	f.y = y
	return y, nil
}

func (f *linearFn) Backward(gy mat.Tensor) error {
	x, w, dy := ValueOf(f.x), ValueOf(f.w), Data(gy)
	n, out, in := x.rows, w.rows, w.cols
	if f.w.RequiresGrad() {
		f.c.accumulateGEMM(f.y, f.w, out, in, func(dst []float32, beta float32) {
			f.c.gemm(true, false, out, in, n, 1, dy, out, x.data, in, beta, dst, in)
		})
	}
	if f.x.RequiresGrad() {
		dx := f.c.gradFrom(f.y, n, in)
		f.c.gemm(false, false, n, in, out, 1, dy, out, w.data, in, 0, dx.data, in)
		f.x.AccGrad(dx)
	}
	return nil
}

// accumulateGEMM adds a GEMM result into t's gradient: straight into a
// parameter's buffer (beta = 1, no temporary), or through AccGrad for an
// operator, whose pending-gradient count spago tracks there.
func (c *Ctx) accumulateGEMM(y *Mat, t mat.Tensor, rows, cols int, compute func(dst []float32, beta float32)) {
	if p, ok := t.(*Mat); ok && p.arena == nil {
		compute(p.gradBuffer(), 1)
		return
	}
	g := c.gradFrom(y, rows, cols)
	compute(g.data, 0)
	t.AccGrad(g)
}
