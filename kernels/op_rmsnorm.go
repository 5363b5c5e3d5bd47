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

// RMSNormMinChunk is the fewest rows RMSNorm's forward and backward cut a
// chunk to (Chunks): it sets how many dg partials the backward keeps.
const RMSNormMinChunk = 64

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
	x, g := ValueOf(f.x), ValueOf(f.g)
	d := x.cols
	RMSNormRows(f.y.data[lo*d:hi*d], f.inv[lo:hi], x.data[lo*d:hi*d], g.data, d, f.eps)
}

// RMSNormRows is RMSNorm's forward over the rows of x [len(inv) × d]: y
// = x / rms(x) ⊙ g per row, and each row's 1/rms in inv. RMSNorm's op
// calls it on each chunk of rows; bench/elementwise times it.
func RMSNormRows(y, inv, x, g []float32, d int, eps float32) {
	for r := range inv {
		xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
		var ss float32
		for _, v := range xr {
			ss += v * v
		}
		iv := float32(1 / math.Sqrt(float64(ss/float32(d)+eps)))
		inv[r] = iv
		vecmath.ScaleMul(yr, xr, iv, g)
	}
}

// rmsNormBackward is the backward's work on chunk p, a range of rows: their
// dx, and the sum of their dg contributions in partial p.
type rmsNormBackward rmsNormFn

func (f *rmsNormBackward) chunk(p, lo, hi int) {
	x, g := ValueOf(f.x), ValueOf(f.g)
	d := x.cols
	var dx, dg []float32
	if f.dx != nil {
		dx = f.dx.data[lo*d : hi*d]
	}
	if f.needG {
		dg = f.partial[p*d : (p+1)*d]
	}
	RMSNormBackwardRows(dx, dg, f.dy[lo*d:hi*d], x.data[lo*d:hi*d], g.data, f.inv[lo:hi], d)
}

// RMSNormBackwardRows is RMSNorm's backward over the rows of x [len(inv) ×
// d], with inv the forward's 1/rms per row: it writes the rows' dx and adds
// their dg contributions, in row order, to dg [d]. A nil dx or dg is a
// gradient not wanted, and skipped. RMSNorm's op calls it on each chunk of
// rows, with the chunk's own dg partial; bench/elementwise times it.
func RMSNormBackwardRows(dx, dg, dy, x, g, inv []float32, d int) {
	for r, iv := range inv {
		xr, dyr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
		if dg != nil {
			vecmath.AddMulScaled(dg, dyr, xr, iv)
		}
		if dx == nil {
			continue
		}
		var dot float32
		for j := range xr {
			dot += dyr[j] * g[j] * xr[j] * iv
		}
		mean := dot / float32(d)
		vecmath.RMSNormDx(dx[r*d:(r+1)*d], dyr, g, xr, iv, mean)
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
	f.c.parallel(n, RMSNormMinChunk, (*rmsNormForward)(f))
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
	parts := Chunks(n, RMSNormMinChunk)
	partial := f.c.arena.GetZero(parts * d) // one dg partial per chunk, summed in order
	f.dy, f.dx, f.needG, f.partial = Data(gy), dx, needG, partial
	f.c.parallel(n, RMSNormMinChunk, (*rmsNormBackward)(f))
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
