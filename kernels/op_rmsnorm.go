package kernels

import (
	"math"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/vecmath"
)

// RMSNorm returns y = x / rms(x) ⊙ g per row, rms(x) = sqrt(mean(x²) + eps)
// (Zhang & Sennrich 2019, as in LLaMA), for x [n×d] and a gain g [1×d].
func (c *Ctx) RMSNorm(x, g mat.Tensor, eps float32) mat.Tensor {
	return run(&rmsNormFn{c: c, x: x, g: g, eps: eps})
}

type rmsNormFn struct {
	c    *Ctx
	y    *Mat // forward output, whose seq orders the gradients this op sends
	x, g mat.Tensor
	eps  float32
	inv  []float32 // 1/rms per row, kept for backward
}

func (f *rmsNormFn) Operands() []mat.Tensor { return []mat.Tensor{f.x, f.g} }

func (f *rmsNormFn) Forward() (mat.Tensor, error) {
	x, g := ValueOf(f.x), ValueOf(f.g)
	checkCols("RMSNorm", x, g.cols)
	n, d := x.rows, x.cols
	y := f.c.newOut(n, d)
	f.inv = f.c.arena.Get(n)
	f.c.parallel(n, 64, func(lo, hi int) {
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
	})
	f.y = y
	return y, nil
}

// The row sums (of x², of u ⊙ x̂) are scalar, in index order; the
// elementwise loops run 8 lanes wide with the same roundings (vecmath).
//
// Backward, with x̂ = x/rms and u = dy ⊙ g:
//
//	dx = (u − x̂ · mean(u ⊙ x̂)) / rms,   dg = Σ_rows dy ⊙ x̂.
func (f *rmsNormFn) Backward(gy mat.Tensor) error {
	x, g, dy := ValueOf(f.x), ValueOf(f.g), Data(gy)
	n, d := x.rows, x.cols
	var dx *Mat
	if f.x.RequiresGrad() {
		dx = f.c.gradFrom(f.y, n, d)
	}
	needG := f.g.RequiresGrad()
	parts := f.c.chunks(n, 64)
	partial := f.c.arena.GetZero(parts * d) // one dg partial per chunk, summed in order
	f.c.parallelChunks(n, 64, func(p, lo, hi int) {
		dg := partial[p*d : (p+1)*d]
		for r := lo; r < hi; r++ {
			xr, dyr := x.data[r*d:(r+1)*d], dy[r*d:(r+1)*d]
			inv := f.inv[r]
			if needG {
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
	})
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
