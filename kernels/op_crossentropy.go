package kernels

import (
	"fmt"
	"math"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/vecmath"
)

// CrossEntropy returns the mean over rows of −log softmax(logits)[target]
// (nats per token) as a 1×1 matrix, for logits [n×V] and n integer targets.
func (c *Ctx) CrossEntropy(logits mat.Tensor, targets []int32) mat.Tensor {
	f := c.ops.crossEntropy.get()
	*f = crossEntropyFn{c: c, logits: logits, targets: targets}
	return run(f)
}

type crossEntropyFn struct {
	c        *Ctx
	operands [1]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y        *Mat          // forward output, whose seq orders the gradients this op sends
	logits   mat.Tensor
	targets  []int32
	lse      []float32 // log-sum-exp per row, kept for backward
	// the forward's per-chunk state, for crossEntropyForward
	partial [maxChunks]float64 // per chunk, summed in order: reproducible
	scratch []float32          // one row of exponentials per chunk
	// the backward's operands, for crossEntropyBackward
	scale float32
	dx    *Mat
}

// crossEntropyForward is the forward's work on chunk p, a range of rows:
// their log-sum-exps, and the sum of their losses in f.partial[p].
type crossEntropyForward crossEntropyFn

func (f *crossEntropyForward) chunk(p, lo, hi int) {
	x := ValueOf(f.logits)
	V := x.cols
	exps := f.scratch[p*V : (p+1)*V]
	var sum float64
	for r := lo; r < hi; r++ {
		row := x.data[r*V : (r+1)*V]
		t := f.targets[r]
		if t < 0 || int(t) >= V {
			panic(fmt.Sprintf("kernels: CrossEntropy: target %d outside %d classes", t, V))
		}
		// The builtin max's result, 8 lanes at a time (vecmath.Max): a
		// serial max over the vocabulary waited on its chain.
		m := vecmath.Max(row)
		s := vecmath.ExpShift(exps, row, m)
		lse := m + float32(math.Log(float64(s)))
		f.lse[r] = lse
		sum += float64(lse - row[t])
	}
	f.partial[p] = sum
}

// crossEntropyBackward is the backward's work on a range of rows.
type crossEntropyBackward crossEntropyFn

func (f *crossEntropyBackward) chunk(_, lo, hi int) {
	x := ValueOf(f.logits)
	V, scale := x.cols, f.scale
	for r := lo; r < hi; r++ {
		row, out := x.data[r*V:(r+1)*V], f.dx.data[r*V:(r+1)*V]
		vecmath.ExpShift(out, row, f.lse[r])
		vecmath.Scale(out, out, scale)
		out[f.targets[r]] -= scale
	}
}

func (f *crossEntropyFn) Operands() []mat.Tensor {
	f.operands = [1]mat.Tensor{f.logits}
	return f.operands[:]
}

func (f *crossEntropyFn) Forward() (mat.Tensor, error) {
	x := ValueOf(f.logits)
	n, V := x.rows, x.cols
	if len(f.targets) != n {
		panic(fmt.Sprintf("kernels: CrossEntropy: %d targets for %d rows", len(f.targets), n))
	}
	f.lse = f.c.arena.Get(n)
	parts := f.c.chunks(n, 64)
	f.scratch = f.c.arena.Get(parts * V)
	f.c.parallel(n, 64, (*crossEntropyForward)(f))
	var total float64
	for _, s := range f.partial[:parts] {
		total += s
	}
	y := f.c.newOut(1, 1)
	y.data[0] = float32(total / float64(n))
	f.y = y
	return y, nil
}

// Backward: dlogits = dy/n · (softmax(logits) − onehot(target)).
func (f *crossEntropyFn) Backward(gy mat.Tensor) error {
	if !f.logits.RequiresGrad() {
		return nil
	}
	x := ValueOf(f.logits)
	n, V := x.rows, x.cols
	f.scale = Data(gy)[0] / float32(n)
	dx := f.c.gradFrom(f.y, n, V)
	f.dx = dx
	f.c.parallel(n, 64, (*crossEntropyBackward)(f))
	f.logits.AccGrad(dx)
	return nil
}
