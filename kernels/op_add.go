package kernels

import (
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/vecmath"
)

// Add returns a + s·b (same shape). With s = 1 it is the residual connection;
// a LoRA linear uses it to add its scaled low-rank path.
func (c *Ctx) Add(a, b mat.Tensor, s float32) mat.Tensor {
	f := c.ops.add.get()
	*f = addFn{c: c, a: a, b: b, s: s}
	return run(f)
}

type addFn struct {
	c        *Ctx
	operands [2]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y        *Mat          // forward output, whose seq orders the gradients this op sends
	a, b     mat.Tensor
	s        float32
}

// addForward is the forward's work on a range of elements.
type addForward addFn

func (f *addForward) chunk(_, lo, hi int) {
	a, b := ValueOf(f.a), ValueOf(f.b)
	vecmath.AddScaled(f.y.data[lo:hi], a.data[lo:hi], b.data[lo:hi], f.s)
}

func (f *addFn) Operands() []mat.Tensor {
	f.operands = [2]mat.Tensor{f.a, f.b}
	return f.operands[:]
}

func (f *addFn) Forward() (mat.Tensor, error) {
	a, b := ValueOf(f.a), ValueOf(f.b)
	if a.rows != b.rows || a.cols != b.cols {
		panic("kernels: Add of different shapes")
	}
	y := f.c.newOut(a.rows, a.cols)
	f.y = y
	f.c.parallel(len(y.data), 1<<14, (*addForward)(f))
	return y, nil
}

// Backward: da = dy, db = s·dy. dy itself goes to a (and to b when s = 1),
// marked shared so that no consumer sums into it: a residual stream or a
// LoRA branch then costs no copy of its gradient.
func (f *addFn) Backward(gy mat.Tensor) error {
	dy := Data(gy)
	rows, cols := ValueOf(f.a).rows, ValueOf(f.a).cols
	same := f.c.sharedGrad(f.y, rows, cols, dy)
	if f.a.RequiresGrad() {
		f.a.AccGrad(same)
	}
	if f.b.RequiresGrad() {
		if f.s == 1 {
			f.b.AccGrad(same)
			return nil
		}
		db := f.c.gradFrom(f.y, rows, cols)
		s := f.s
		for i, v := range dy {
			db.data[i] = s * v
		}
		f.b.AccGrad(db)
	}
	return nil
}
