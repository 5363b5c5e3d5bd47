package kernels

import (
	"math"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/vecmath"

	"github.com/relorago/harness/kernels/gemm"
)

// CausalAttention returns softmax(Q·Kᵀ/√hd + causal mask)·V for q, k, v
// [n×d], where n = batch·seqLen rows are consecutive sequences and the d
// columns hold `heads` heads of size hd side by side. Heads are read as
// strided views of the inputs, so nothing is transposed or copied; each
// (sequence, head) pair is two small GEMMs, run in parallel across pairs.
// The GEMMs skip the masked upper half (gemm.SgemmTri): the scores above the
// diagonal are never computed, and products with the softmax's exact zeros
// are left out, which leaves every computed value bit-identical.
func (c *Ctx) CausalAttention(q, k, v mat.Tensor, heads, seqLen int) mat.Tensor {
	f := c.ops.attention.get()
	*f = attentionFn{c: c, q: q, k: k, v: v, heads: heads, seqLen: seqLen}
	return run(f)
}

type attentionFn struct {
	c             *Ctx
	operands      [3]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y             *Mat          // forward output, whose seq orders the gradients this op sends
	q, k, v       mat.Tensor
	heads, seqLen int
	probs         []float32 // [pairs × seqLen × seqLen] softmax, kept for backward
	scale         float32   // 1/√hd
	// the backward's operands, for attentionBackward
	dy         []float32
	dq, dk, dv *Mat
	scratch    []float32 // one T×T dP per chunk
}

// attentionForward is the forward's work on a range of (sequence, head) pairs.
type attentionForward attentionFn

func (f *attentionForward) chunk(_, lo, hi int) {
	q, k, v, y := ValueOf(f.q), ValueOf(f.k), ValueOf(f.v), f.y
	_, d, hd, _, T := (*attentionFn)(f).dims()
	for p := lo; p < hi; p++ {
		off := (p/f.heads)*T*d + (p%f.heads)*hd // first element of this head's view
		P, next := f.probs[p*T*T:(p+1)*T*T], (*attentionFn)(f).nextProbs(p, hi, T)
		gemm.SgemmTri(gemm.LowerC, false, true, T, T, hd, f.scale, q.data[off:], d, k.data[off:], d, 0, P, T)
		prefetchPart(next, 0, 2)
		CausalSoftmax(P, T)
		prefetchPart(next, 1, 2)
		gemm.SgemmTri(gemm.LowerA, false, false, T, hd, T, 1, P, T, v.data[off:], d, 0, y.data[off:], d)
	}
}

// attentionBackward is the backward's work on chunk c, a range of
// (sequence, head) pairs.
type attentionBackward attentionFn

func (f *attentionBackward) chunk(c, lo, hi int) {
	q, k, v, dy := ValueOf(f.q), ValueOf(f.k), ValueOf(f.v), f.dy
	dq, dk, dv := f.dq, f.dk, f.dv
	_, d, hd, _, T := (*attentionFn)(f).dims()
	dP := f.scratch[c*T*T : (c+1)*T*T]
	for p := lo; p < hi; p++ {
		off := (p/f.heads)*T*d + (p%f.heads)*hd
		P, next := f.probs[p*T*T:(p+1)*T*T], (*attentionFn)(f).nextProbs(p, hi, T)
		gemm.SgemmTri(gemm.UpperA, true, false, T, hd, T, 1, P, T, dy[off:], d, 0, dv.data[off:], d)
		prefetchPart(next, 0, 4)
		gemm.SgemmTri(gemm.LowerC, false, true, T, T, hd, 1, dy[off:], d, v.data[off:], d, 0, dP, T)
		prefetchPart(next, 1, 4)
		CausalSoftmaxBackward(dP, P, T)
		prefetchPart(next, 2, 4)
		gemm.SgemmTri(gemm.LowerA, false, false, T, hd, T, f.scale, dP, T, k.data[off:], d, 0, dq.data[off:], d)
		prefetchPart(next, 3, 4)
		gemm.SgemmTri(gemm.UpperA, true, false, T, hd, T, f.scale, dP, T, q.data[off:], d, 0, dk.data[off:], d)
	}
}

// nextProbs is the stored softmax of pair p+1 when the chunk, which ends
// before pair hi, holds it, and nil otherwise. Each pair's P (T×T floats, 64
// KiB at T 128) is stored by the forward and read by the backward after
// every other pair and layer has gone by, so both meet it in memory: the
// forward's first store to each line waits for the line, and the
// backward's first product with P (dV) reads it cold. Inside a d 64 step
// those two products ran at well under half their rate with P in cache
// (estimated by difference with the same shapes' other calls). The
// chunk loops therefore prefetch the next pair's P, a part between each
// two of the current pair's calls, so that the transfer overlaps the
// work; a prefetch changes no value. Whole one-core steps at d 64, the
// prefetches toggled between the two halves of each of 40 pairs of steps
// (CPU time, three runs): 1.012-1.017x as fast.
func (f *attentionFn) nextProbs(p, hi, T int) []float32 {
	if p+1 >= hi {
		return nil
	}
	return f.probs[(p+1)*T*T : (p+2)*T*T]
}

// prefetchPart prefetches part i of n equal parts of P (nothing for nil).
func prefetchPart(P []float32, i, n int) {
	if P != nil {
		vecmath.Prefetch(P[i*len(P)/n : (i+1)*len(P)/n])
	}
}

func (f *attentionFn) Operands() []mat.Tensor {
	f.operands = [3]mat.Tensor{f.q, f.k, f.v}
	return f.operands[:]
}

func (f *attentionFn) dims() (n, d, hd, pairs, T int) {
	q := ValueOf(f.q)
	n, d, T = q.rows, q.cols, f.seqLen
	if n%T != 0 || d%f.heads != 0 {
		panic("kernels: CausalAttention: rows must be a multiple of seqLen and columns of heads")
	}
	return n, d, d / f.heads, (n / T) * f.heads, T
}

func (f *attentionFn) Forward() (mat.Tensor, error) {
	n, d, hd, pairs, T := f.dims()
	y := f.c.newOut(n, d)
	f.probs = f.c.arena.Get(pairs * T * T)
	f.scale = float32(1 / math.Sqrt(float64(hd)))
	f.y = y
	f.c.parallel(pairs, 1, (*attentionForward)(f))
	return y, nil
}

// CausalSoftmax turns each row i of the T×T scores into softmax over columns
// 0..i and writes exact zeros above the diagonal (the causal mask): the
// triangular GEMMs that read P rely on them, and SgemmTri(LowerC) leaves
// some of those entries unwritten. CausalAttention's forward calls it on
// each (sequence, head) pair's scores; bench/elementwise times it.
func CausalSoftmax(s []float32, T int) {
	for i := 0; i < T; i++ {
		row := s[i*T : (i+1)*T]
		m := vecmath.Max(row[:i+1])
		inv := 1 / vecmath.ExpShift(row[:i+1], row[:i+1], m)
		vecmath.Scale(row[:i+1], row[:i+1], inv)
		clear(row[i+1:])
	}
}

// CausalSoftmaxBackward is the softmax's backward over one pair's T×T
// rows, in place: with P the causal softmax and dP its gradient, it turns
// each row i's columns 0..i into dS = P ⊙ (dP − rowsum(dP ⊙ P)) and writes
// exact zeros above the diagonal, which the triangular GEMMs that read dS
// rely on. CausalAttention's backward calls it on each pair's dP between
// its GEMMs; bench/elementwise times it.
func CausalSoftmaxBackward(dP, P []float32, T int) {
	// Row i's dot product is one serial sum over its i+1 columns, in
	// order (its order is the result's rounding); eight rows at a time
	// (vecmath.Dot8, one lane a row), or four side by side where the
	// assembly does not run (rowsums.go), share the first row's columns,
	// then each finishes its own.
	row := func(m []float32, i int) []float32 { return m[i*T : i*T+i+1] }
	i := 0
	if vecmath.Vectorised() {
		for ; i+8 <= T; i += 8 {
			dots := vecmath.Dot8(P[i*T:], dP[i*T:], T, i+1)
			for q := range dots {
				r, g := row(P, i+q), row(dP, i+q)
				softmaxGradRow(dP, P, T, i+q, dotFrom(dots[q], r, g, i+1))
			}
		}
	}
	for ; i+4 <= T; i += 4 {
		ps := [4][]float32{row(P, i), row(P, i+1), row(P, i+2), row(P, i+3)}
		gs := [4][]float32{row(dP, i), row(dP, i+1), row(dP, i+2), row(dP, i+3)}
		dots := dot4(ps, gs, i+1)
		for q := range dots {
			softmaxGradRow(dP, P, T, i+q, dotFrom(dots[q], ps[q], gs[q], i+1))
		}
	}
	for ; i < T; i++ {
		softmaxGradRow(dP, P, T, i, dotFrom(0, row(P, i), row(dP, i), 0))
	}
}

// softmaxGradRow turns row i of dP into dS given its dot product with P's
// row, and clears the row above the diagonal.
func softmaxGradRow(dP, P []float32, T, i int, dot float32) {
	vecmath.SoftmaxGrad(dP[i*T:i*T+i+1], P[i*T:i*T+i+1], dot)
	clear(dP[i*T+i+1 : (i+1)*T])
}

// Backward, per (sequence, head), with P the softmax and dO the output gradient:
//
//	dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//	dQ = dS·K/√hd,  dK = dSᵀ·Q/√hd.
func (f *attentionFn) Backward(gy mat.Tensor) error {
	n, d, _, pairs, T := f.dims()
	dq, dk, dv := f.c.gradFrom(f.y, n, d), f.c.gradFrom(f.y, n, d), f.c.gradFrom(f.y, n, d)
	f.dy, f.dq, f.dk, f.dv = Data(gy), dq, dk, dv
	f.scratch = f.c.arena.Get(f.c.chunks(pairs, 1) * T * T)
	f.c.parallel(pairs, 1, (*attentionBackward)(f))
	for _, g := range []struct {
		t mat.Tensor
		m *Mat
	}{{f.q, dq}, {f.k, dk}, {f.v, dv}} {
		if g.t.RequiresGrad() {
			g.t.AccGrad(g.m)
		}
	}
	return nil
}
