package kernels

import "github.com/nlpodyssey/spago/mat"

// ReLU returns max(x, 0) element by element, the activation of a bottleneck
// adapter (Pfeiffer et al. 2021 use ReLU). A NaN stays NaN, so a diverging
// run is still seen as one.
func (c *Ctx) ReLU(x mat.Tensor) mat.Tensor {
	f := c.ops.relu.get()
	*f = reluFn{c: c, x: x}
	return run(f)
}

type reluFn struct {
	c        *Ctx
	operands [1]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y        *Mat          // forward output, whose seq orders the gradients this op sends
	x        mat.Tensor
	// the backward's operands, for reluBackward
	dy []float32
	dx *Mat
}

// reluForward is the forward's work on a range of elements.
type reluForward reluFn

func (f *reluForward) chunk(_, lo, hi int) {
	y := f.y.data
	for i, v := range ValueOf(f.x).data[lo:hi] {
		if v <= 0 {
			v = 0
		}
		y[lo+i] = v
	}
}

// reluBackward is the backward's work on a range of elements.
type reluBackward reluFn

func (f *reluBackward) chunk(_, lo, hi int) {
	dy, dx := f.dy, f.dx.data
	for i, v := range ValueOf(f.x).data[lo:hi] {
		g := dy[lo+i]
		if v <= 0 {
			g = 0
		}
		dx[lo+i] = g
	}
}

func (f *reluFn) Operands() []mat.Tensor {
	f.operands = [1]mat.Tensor{f.x}
	return f.operands[:]
}

func (f *reluFn) Forward() (mat.Tensor, error) {
	x := ValueOf(f.x)
	y := f.c.newOut(x.rows, x.cols)
	f.y = y
	f.c.parallel(len(y.data), 1<<14, (*reluForward)(f))
	return y, nil
}

// Backward: dx = dy where x > 0 (and where x is NaN), else 0; at x = 0
// the gradient is 0, as PyTorch takes it.
func (f *reluFn) Backward(gy mat.Tensor) error {
	if !f.x.RequiresGrad() {
		return nil
	}
	x, dy := ValueOf(f.x), Data(gy)
	dx := f.c.gradFrom(f.y, x.rows, x.cols)
	f.dy, f.dx = dy, dx
	f.c.parallel(len(dy), 1<<14, (*reluBackward)(f))
	f.x.AccGrad(dx)
	return nil
}
