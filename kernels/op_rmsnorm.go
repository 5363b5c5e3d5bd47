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
	row := func(r int) []float32 { return x[r*d : (r+1)*d] }
	r := 0
	if vecmath.Vectorised() {
		for ; r+8 <= len(inv); r += 8 {
			for q, ss := range vecmath.SumSquares8(x[r*d:], d, d) {
				rmsNormRow(y, inv, x, g, d, eps, r+q, ss)
			}
		}
	}
	for ; r+4 <= len(inv); r += 4 {
		s0, s1, s2, s3 := sumSquares4(row(r), row(r+1), row(r+2), row(r+3))
		for q, ss := range [4]float32{s0, s1, s2, s3} {
			rmsNormRow(y, inv, x, g, d, eps, r+q, ss)
		}
	}
	for ; r < len(inv); r++ {
		rmsNormRow(y, inv, x, g, d, eps, r, sumSquares(row(r)))
	}
}

// rmsNormRow finishes row r of RMSNormRows from its sum of squares ss.
func rmsNormRow(y, inv, x, g []float32, d int, eps float32, r int, ss float32) {
	iv := float32(1 / math.Sqrt(float64(ss/float32(d)+eps)))
	inv[r] = iv
	vecmath.ScaleMul(y[r*d:(r+1)*d], x[r*d:(r+1)*d], iv, g)
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
	g = g[:d]
	rows := func(m []float32, r int) [4][]float32 {
		return [4][]float32{m[r*d : (r+1)*d], m[(r+1)*d : (r+2)*d], m[(r+2)*d : (r+3)*d], m[(r+3)*d : (r+4)*d]}
	}
	r := 0
	if vecmath.Vectorised() {
		for ; r+8 <= len(inv); r += 8 {
			var dots [8]float32
			if dx != nil {
				dots = vecmath.NormDot8(dy[r*d:], x[r*d:], d, g, [8]float32(inv[r:r+8]), d)
			}
			for q, dot := range dots {
				rmsNormBackwardRow(dx, dg, dy, x, g, inv, d, r+q, dot)
			}
		}
	}
	for ; r+4 <= len(inv); r += 4 {
		var dots [4]float32
		if dx != nil {
			dots = normDot4(rows(dy, r), g, rows(x, r), [4]float32(inv[r:r+4]))
		}
		for q, dot := range dots {
			rmsNormBackwardRow(dx, dg, dy, x, g, inv, d, r+q, dot)
		}
	}
	for ; r < len(inv); r++ {
		var dot float32
		if dx != nil {
			dot = normDot(dy[r*d:(r+1)*d], g, x[r*d:(r+1)*d], inv[r])
		}
		rmsNormBackwardRow(dx, dg, dy, x, g, inv, d, r, dot)
	}
}

// rmsNormBackwardRow is row r of RMSNormBackwardRows, given its row sum
// dot (normDot; unused when dx is nil): the row's dg terms are added after
// the previous row's, as the sum over rows wants.
func rmsNormBackwardRow(dx, dg, dy, x, g, inv []float32, d, r int, dot float32) {
	xr, dyr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
	if dg != nil {
		vecmath.AddMulScaled(dg, dyr, xr, inv[r])
	}
	if dx != nil {
		vecmath.RMSNormDx(dx[r*d:(r+1)*d], dyr, g, xr, inv[r], dot/float32(d))
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

// The row sums (of x², of u ⊙ x̂) are scalar, in index order, four rows
// side by side (rowsums.go); the elementwise loops run 8 lanes wide with
// the same roundings (vecmath).
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
