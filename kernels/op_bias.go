package kernels

import (
	"fmt"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/vecmath"
)

// AddBias returns x + b with the row vector b [1×cols] added to every row of
// x [rows×cols]: the biases of a bottleneck adapter (the decoder's own
// linears have none).
func (c *Ctx) AddBias(x, b mat.Tensor) mat.Tensor {
	f := c.ops.addBias.get()
	*f = addBiasFn{c: c, x: x, b: b}
	return run(f)
}

type addBiasFn struct {
	c        *Ctx
	operands [2]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y        *Mat          // forward output, whose seq orders the gradients this op sends
	x, b     mat.Tensor
}

// addBiasRows is the forward's work on a range of rows.
type addBiasRows addBiasFn

func (f *addBiasRows) chunk(_, lo, hi int) {
	x, b, y := ValueOf(f.x), ValueOf(f.b), f.y
	cols := x.cols
	for i := lo; i < hi; i++ {
		vecmath.AddScaled(y.data[i*cols:(i+1)*cols], x.data[i*cols:(i+1)*cols], b.data, 1)
	}
}

func (f *addBiasFn) Operands() []mat.Tensor {
	f.operands = [2]mat.Tensor{f.x, f.b}
	return f.operands[:]
}

func (f *addBiasFn) Forward() (mat.Tensor, error) {
	x, b := ValueOf(f.x), ValueOf(f.b)
	if b.rows != 1 || b.cols != x.cols {
		panic(fmt.Sprintf("kernels: AddBias of a %dx%d bias to %dx%d", b.rows, b.cols, x.rows, x.cols))
	}
	y := f.c.newOut(x.rows, x.cols)
	f.y = y
	f.c.parallel(x.rows, max(1, (1<<14)/x.cols), (*addBiasRows)(f))
	return y, nil
}

// Backward: dx = dy, passed on shared as Add does; db = Σ_rows dy, summed
// row by row in index order on one core, so the bias gradient does not
// depend on the thread count.
func (f *addBiasFn) Backward(gy mat.Tensor) error {
	dy := Data(gy)
	x := ValueOf(f.x)
	rows, cols := x.rows, x.cols
	if f.x.RequiresGrad() {
		f.x.AccGrad(f.c.sharedGrad(f.y, rows, cols, dy))
	}
	if f.b.RequiresGrad() {
		db := f.c.gradFrom(f.y, 1, cols)
		clear(db.data)
		for i := range rows {
			addInto(db.data, dy[i*cols:(i+1)*cols])
		}
		f.b.AccGrad(db)
	}
	return nil
}
