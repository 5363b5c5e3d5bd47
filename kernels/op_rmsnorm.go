package kernels

import (
	"math"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/vecmath"
)

// RMSNorm returns y = x / rms(x) ⊙ g per row, rms(x) = sqrt(mean(x²) + eps)
// (Zhang & Sennrich 2019, as in LLaMA), for x [n×d] and a gain g [1×d].
func (c *Ctx) RMSNorm(x, g mat.Tensor, eps float32) mat.Tensor {
	f := c.ops.rmsNorm.get()
	*f = rmsNormFn{c: c, x: x, g: g, eps: eps}
	return run(f)
}

type rmsNormFn struct {
	c        *Ctx
	operands [2]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y        *Mat          // forward output, whose seq orders the gradients this op sends
	x, g     mat.Tensor
	eps      float32
	inv      []float32 // 1/rms per row, kept for backward
	// the backward's operands, for rmsNormBackward
	dy      []float32
	dx      *Mat // nil when x takes no gradient
	needG   bool
	partial []float32 // one dg partial per chunk, summed in order
}

// rmsNormForward is the forward's work on a range of rows.
type rmsNormForward rmsNormFn

func (f *rmsNormForward) chunk(_, lo, hi int) {
	x, g, y := ValueOf(f.x), ValueOf(f.g), f.y
	d := x.cols
	for r := lo; r < hi; r++ {
		xr, yr := x.data[r*d:(r+1)*d], y.data[r*d:(r+1)*d]
		var ss float32
		for _, v := range xr {
			ss += v * v
		}
		inv := float32(1 / math.Sqrt(float64(ss/float32(d)+f.eps)))
		f.inv[r] = inv
		vecmath.ScaleMul(yr, xr, inv, g.data)
	}
}

// rmsNormBackward is the backward's work on chunk p, a range of rows: their
// dx, and the sum of their dg contributions in partial p.
type rmsNormBackward rmsNormFn

func (f *rmsNormBackward) chunk(p, lo, hi int) {
	x, g, dy, dx := ValueOf(f.x), ValueOf(f.g), f.dy, f.dx
	d := x.cols
	dg := f.partial[p*d : (p+1)*d]
	for r := lo; r < hi; r++ {
		xr, dyr := x.data[r*d:(r+1)*d], dy[r*d:(r+1)*d]
		inv := f.inv[r]
		if f.needG {
			vecmath.AddMulScaled(dg, dyr, xr, inv)
		}
		if dx == nil {
			continue
		}
		var dot float32
		for j := range xr {
			dot += dyr[j] * g.data[j] * xr[j] * inv
		}
		mean := dot / float32(d)
		vecmath.RMSNormDx(dx.data[r*d:(r+1)*d], dyr, g.data, xr, inv, mean)
	}
}

func (f *rmsNormFn) Operands() []mat.Tensor {
	f.operands = [2]mat.Tensor{f.x, f.g}
	return f.operands[:]
}

func (f *rmsNormFn) Forward() (mat.Tensor, error) {
	x, g := ValueOf(f.x), ValueOf(f.g)
	checkCols("RMSNorm", x, g.cols)
	n, d := x.rows, x.cols
	y := f.c.newOut(n, d)
	f.inv = f.c.arena.Get(n)
	f.y = y
	f.c.parallel(n, 64, (*rmsNormForward)(f))
	return y, nil
}

// The row sums (of x², of u ⊙ x̂) are scalar, in index order; the
// elementwise loops run 8 lanes wide with the same roundings (vecmath).
//
// Backward, with x̂ = x/rms and u = dy ⊙ g:
//
//	dx = (u − x̂ · mean(u ⊙ x̂)) / rms,   dg = Σ_rows dy ⊙ x̂.
func (f *rmsNormFn) Backward(gy mat.Tensor) error {
	x := ValueOf(f.x)
	n, d := x.rows, x.cols
	var dx *Mat
	if f.x.RequiresGrad() {
		dx = f.c.gradFrom(f.y, n, d)
	}
	needG := f.g.RequiresGrad()
	parts := f.c.chunks(n, 64)
	partial := f.c.arena.GetZero(parts * d) // one dg partial per chunk, summed in order
	f.dy, f.dx, f.needG, f.partial = Data(gy), dx, needG, partial
	f.c.parallel(n, 64, (*rmsNormBackward)(f))
	if dx != nil {
		f.x.AccGrad(dx)
	}
	if needG {
		dgm := f.c.gradFrom(f.y, 1, d)
		clear(dgm.data)
		for p := 0; p < parts; p++ {
			addInto(dgm.data, partial[p*d:(p+1)*d])
		}
		f.g.AccGrad(dgm)
	}
	return nil
}
