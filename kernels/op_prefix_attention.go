package kernels

import (
	"fmt"
	"math"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/gemm"
	"github.com/relorago/harness/kernels/vecmath"
)

// PrefixAttention is CausalAttention with p learned key and value rows in
// front of every sequence's own (prefix tuning): pk and pv [p×d] hold the
// p prefix slots' keys and values, every head's hd columns side by side as
// in k and v, and are shared by every sequence of the batch. Each query
// position i attends to the p slots and to positions 0..i, one softmax over
// both:
//
//	S = [Q·Pkᵀ | Q·Kᵀ]/√hd,  P = softmax(S + mask),  Y = P·[Pv; V],
//
// the mask hiding only the causal part's upper triangle: a prefix slot is
// visible to every position. The op applies no rotary to pk (the model
// rotates k before it gets here, so the prefix keys live in the rotated key
// space and carry no position).
//
// With p = 0 every computed value is CausalAttention's, bit for bit: the
// causal part is computed by the same GEMMs with the same arguments, the
// softmax runs over the same values in the same order, and the prefix's
// contributions are separate GEMMs added after it (tested).
func (c *Ctx) PrefixAttention(q, k, v, pk, pv mat.Tensor, heads, seqLen int) mat.Tensor {
	f := c.ops.prefixAttention.get()
	*f = prefixAttentionFn{c: c, q: q, k: k, v: v, pk: pk, pv: pv, heads: heads, seqLen: seqLen}
	return run(f)
}

type prefixAttentionFn struct {
	c                 *Ctx
	operands          [5]mat.Tensor // what Operands returns: a slice of a field allocates nothing
	y                 *Mat          // forward output, whose seq orders the gradients this op sends
	q, k, v, pk, pv   mat.Tensor
	heads, seqLen     int
	probs             []float32 // softmax, kept for backward (layout: see dims)
	n, d, hd, seqs, T int
	p, W              int
}

func (f *prefixAttentionFn) Operands() []mat.Tensor {
	f.operands = [5]mat.Tensor{f.q, f.k, f.v, f.pk, f.pv}
	return f.operands[:]
}

// dims reads the shapes. The softmax is kept as W = p+T columns per query
// row (the p prefix slots, then the T causal positions), head-major: head
// h's rows for all n = seqs·T query positions are one block, so the
// prefix's gradients are one GEMM per head over the whole batch.
func (f *prefixAttentionFn) dims() {
	q, pk, pv := ValueOf(f.q), ValueOf(f.pk), ValueOf(f.pv)
	f.n, f.d, f.T = q.rows, q.cols, f.seqLen
	if f.T < 1 || f.n%f.T != 0 || f.heads < 1 || f.d%f.heads != 0 {
		panic("kernels: PrefixAttention: rows must be a multiple of seqLen and columns of heads")
	}
	if pk.cols != f.d || pv.cols != f.d || pk.rows != pv.rows {
		panic(fmt.Sprintf("kernels: PrefixAttention: prefix keys %dx%d and values %dx%d for %d columns", pk.rows, pk.cols, pv.rows, pv.cols, f.d))
	}
	f.hd, f.seqs, f.p = f.d/f.heads, f.n/f.T, pk.rows
	f.W = f.p + f.T
}

// pair returns work item i's head, the offset of its first element in q, k,
// v and y, and its block of the softmax [T × W].
func (f *prefixAttentionFn) pair(i int, buf []float32) (h, off int, P []float32) {
	h, s := i/f.seqs, i%f.seqs
	base := (h*f.n + s*f.T) * f.W
	return h, s*f.T*f.d + h*f.hd, buf[base : base+f.T*f.W]
}

func (f *prefixAttentionFn) Forward() (mat.Tensor, error) {
	f.dims()
	q, k, v, pk, pv := ValueOf(f.q), ValueOf(f.k), ValueOf(f.v), ValueOf(f.pk), ValueOf(f.pv)
	n, d, hd, T, p, W := f.n, f.d, f.hd, f.T, f.p, f.W
	y := f.c.newOut(n, d)
	f.probs = f.c.arena.Get(f.heads * n * W)
	scale := float32(1 / math.Sqrt(float64(hd)))
	// Prefix tuning is fine-tuning only: its sections keep their closures.
	f.c.parallel(f.heads*f.seqs, 1, chunkFunc(func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			h, off, P := f.pair(i, f.probs)
			gemm.SgemmTri(gemm.LowerC, false, true, T, T, hd, scale, q.data[off:], d, k.data[off:], d, 0, P[p:], W)
			if p > 0 {
				gemm.Sgemm(false, true, T, p, hd, scale, q.data[off:], d, pk.data[h*hd:], d, 0, P, W)
			}
			prefixSoftmax(P, T, p)
			gemm.SgemmTri(gemm.LowerA, false, false, T, hd, T, 1, P[p:], W, v.data[off:], d, 0, y.data[off:], d)
			if p > 0 {
				gemm.Sgemm(false, false, T, hd, p, 1, P, W, pv.data[h*hd:], d, 1, y.data[off:], d)
			}
		}
	}))
	f.y = y
	return y, nil
}

// prefixSoftmax is CausalSoftmax over rows of W = p+T scores: row i's
// softmax runs over its p prefix slots and causal positions 0..i, and the
// rest of the row is set to exact zeros (the triangular GEMMs rely on them).
// With p = 0 it is CausalSoftmax.
func prefixSoftmax(s []float32, T, p int) {
	W := p + T
	for i := 0; i < T; i++ {
		row := s[i*W : (i+1)*W]
		live := row[:p+i+1]
		m := vecmath.Max(live)
		inv := 1 / vecmath.ExpShift(live, live, m)
		vecmath.Scale(live, live, inv)
		clear(row[p+i+1:])
	}
}

// Backward, per (sequence, head), with P = [Pp | Pc] the softmax split into
// its prefix and causal columns and dO the output gradient:
//
//	dV = Pcᵀ·dO,  dP = dO·[Pv; V]ᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//	dQ = (dSc·K + dSp·Pk)/√hd,  dK = dScᵀ·Q/√hd,
//
// and per head, summed over every sequence of the batch (the prefix is
// shared), dPk = dSpᵀ·Q/√hd and dPv = Ppᵀ·dO: one GEMM each over all n
// rows, so the sum's order is the GEMM's and not the thread count's.
func (f *prefixAttentionFn) Backward(gy mat.Tensor) error {
	q, k, v, pk, pv, dy := ValueOf(f.q), ValueOf(f.k), ValueOf(f.v), ValueOf(f.pk), ValueOf(f.pv), Data(gy)
	n, d, hd, T, p, W := f.n, f.d, f.hd, f.T, f.p, f.W
	dq, dk, dv := f.c.gradFrom(f.y, n, d), f.c.gradFrom(f.y, n, d), f.c.gradFrom(f.y, n, d)
	dpk, dpv := f.c.gradFrom(f.y, p, d), f.c.gradFrom(f.y, p, d)
	scale := float32(1 / math.Sqrt(float64(hd)))
	dSp := f.c.arena.Get(f.heads * n * p) // dS's prefix columns, head-major like probs
	items := f.heads * f.seqs
	parts := f.c.chunks(items, 1)
	scratch := f.c.arena.Get(parts * T * W)
	f.c.parallel(items, 1, chunkFunc(func(ch, lo, hi int) {
		dP := scratch[ch*T*W : (ch+1)*T*W]
		for i := lo; i < hi; i++ {
			h, off, P := f.pair(i, f.probs)
			row0 := i/f.seqs*n + i%f.seqs*T // this block's first row among head h's n
			gemm.SgemmTri(gemm.UpperA, true, false, T, hd, T, 1, P[p:], W, dy[off:], d, 0, dv.data[off:], d)
			gemm.SgemmTri(gemm.LowerC, false, true, T, T, hd, 1, dy[off:], d, v.data[off:], d, 0, dP[p:], W)
			if p > 0 {
				gemm.Sgemm(false, true, T, p, hd, 1, dy[off:], d, pv.data[h*hd:], d, 0, dP, W)
			}
			for r := 0; r < T; r++ {
				pr, gr := P[r*W:r*W+p+r+1], dP[r*W:r*W+p+r+1]
				// One serial sum, prefix slots first: its order is the
				// result's rounding.
				var dot float32
				for j, pj := range pr {
					dot += pj * gr[j]
				}
				vecmath.SoftmaxGrad(gr, pr, dot)
				clear(dP[r*W+p+r+1 : (r+1)*W])
				copy(dSp[(row0+r)*p:(row0+r+1)*p], gr[:p])
			}
			gemm.SgemmTri(gemm.LowerA, false, false, T, hd, T, scale, dP[p:], W, k.data[off:], d, 0, dq.data[off:], d)
			if p > 0 {
				gemm.Sgemm(false, false, T, hd, p, scale, dP, W, pk.data[h*hd:], d, 1, dq.data[off:], d)
			}
			gemm.SgemmTri(gemm.UpperA, true, false, T, hd, T, scale, dP[p:], W, q.data[off:], d, 0, dk.data[off:], d)
		}
	}))
	if p > 0 && (f.pk.RequiresGrad() || f.pv.RequiresGrad()) {
		// Each head writes its own hd columns of dPk and dPv.
		f.c.parallel(f.heads, 1, chunkFunc(func(_, lo, hi int) {
			for h := lo; h < hi; h++ {
				gemm.Sgemm(true, false, p, hd, n, scale, dSp[h*n*p:], p, q.data[h*hd:], d, 0, dpk.data[h*hd:], d)
				gemm.Sgemm(true, false, p, hd, n, 1, f.probs[h*n*W:], W, dy[h*hd:], d, 0, dpv.data[h*hd:], d)
			}
		}))
	}
	for _, g := range []struct {
		t mat.Tensor
		m *Mat
	}{{f.q, dq}, {f.k, dk}, {f.v, dv}, {f.pk, dpk}, {f.pv, dpv}} {
		if g.t.RequiresGrad() {
			g.t.AccGrad(g.m)
		}
	}
	return nil
}
