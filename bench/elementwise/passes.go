package elementwise

import (
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/kernels/vecmath"
)

// Each pass below calls the very functions kernels' ops call on a chunk of
// their work (kernels.RMSNormRows, RMSNormBackwardRows, SwiGLUChunk,
// CausalSoftmax, CausalSoftmaxBackward, RotaryRows; for SwiGLU's backward
// and AdamW, whose chunk is one vecmath call, that call), on one thread.
// Where the cut changes the work (RMSNorm's dg partials, how long SwiGLU's
// σ lives, the softmax backward's scratch) the pass is cut into
// kernels.Chunks pieces as kernels.Ctx.parallel cuts the op; where it does
// not, one call covers all rows. The arrays and the chunk loop are the
// benchmark's; the loops it times are the ops' own.

// filled returns n floats of a fixed pattern in (−0.5, 0.5), never zero:
// cheap to make at a d 1024 model's size, and no denormals.
func filled(n, seed int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((i*7+seed)%97)/97 - 0.5
	}
	return x
}

// rmsNormForward runs kernels.RMSNormRows over all rows in one call: the
// rows are independent, so it is the op's chunks run one after the other.
func (s Shape) rmsNormForward() func() {
	n, d, eps := s.Rows(), s.Dim, float32(s.NormEps)
	x, g, y, inv := filled(n*d, 1), filled(d, 2), make([]float32, n*d), make([]float32, n)
	return func() { kernels.RMSNormRows(y, inv, x, g, d, eps) }
}

func (s Shape) rmsNormBackward() func() {
	n, d := s.Rows(), s.Dim
	parts := kernels.Chunks(n, kernels.RMSNormMinChunk)
	x, dy, g := filled(n*d, 1), filled(n*d, 3), filled(d, 2)
	inv := make([]float32, n)
	for r := range inv {
		inv[r] = 3.5 // about 1/rms of the fill pattern's rows
	}
	dx, partial := make([]float32, n*d), make([]float32, parts*d)
	return func() {
		clear(partial) // the op takes it zeroed from the arena
		for p := range parts {
			lo, hi := p*n/parts, (p+1)*n/parts
			kernels.RMSNormBackwardRows(dx[lo*d:hi*d], partial[p*d:(p+1)*d], dy[lo*d:hi*d], x[lo*d:hi*d], g, inv[lo:hi], d)
		}
	}
}

func (s Shape) swigluForward() func() {
	n := s.Rows() * s.FFN
	g, u, sig, y := filled(n, 1), filled(n, 2), make([]float32, n), make([]float32, n)
	return func() { swigluForward(y, sig, g, u) }
}

// swigluForward is SwiGLU's forward chunk after chunk, cut as the op cuts
// it: σ of a chunk is re-read while it is still in cache.
func swigluForward(y, sig, g, u []float32) {
	n := len(y)
	parts := kernels.Chunks(n, kernels.SwiGLUMinChunk)
	for p := range parts {
		lo, hi := p*n/parts, (p+1)*n/parts
		kernels.SwiGLUChunk(y[lo:hi], sig[lo:hi], g[lo:hi], u[lo:hi])
	}
}

func (s Shape) swigluBackward() func() {
	n := s.Rows() * s.FFN
	parts := kernels.Chunks(n, kernels.SwiGLUMinChunk)
	g, u, dy := filled(n, 1), filled(n, 2), filled(n, 3)
	sig := make([]float32, n)
	vecmath.Sigmoid(sig, g)
	dg, du := make([]float32, n), make([]float32, n)
	return func() {
		for p := range parts {
			lo, hi := p*n/parts, (p+1)*n/parts
			// the op's whole chunk: one vecmath call
			vecmath.SwiGLUBackward(dg[lo:hi], du[lo:hi], dy[lo:hi], g[lo:hi], sig[lo:hi], u[lo:hi])
		}
	}
}

// softmaxForward runs kernels.CausalSoftmax over every pair's scores, in
// place: after the first pass it normalises probabilities again, whose
// values stay in (0, 1], so every pass does the same work.
func (s Shape) softmaxForward() func() {
	T, pairs := s.SeqLen, s.pairs()
	P := filled(pairs*T*T, 1)
	return func() {
		for p := range pairs {
			kernels.CausalSoftmax(P[p*T*T:(p+1)*T*T], T)
		}
	}
}

// softmaxBackward is the attention backward's row step,
// kernels.CausalSoftmaxBackward, over every pair. In the op a GEMM writes
// dP into the chunk's scratch just before; here the scratch starts at zero,
// which the step maps to zero (no denormals on later passes) at the same
// cost.
func (s Shape) softmaxBackward() func() {
	T, pairs := s.SeqLen, s.pairs()
	parts := kernels.Chunks(pairs, 1)
	P := filled(pairs*T*T, 1)
	for p := range pairs {
		kernels.CausalSoftmax(P[p*T*T:(p+1)*T*T], T)
	}
	scratch := make([]float32, parts*T*T)
	return func() {
		for c := range parts {
			dP := scratch[c*T*T : (c+1)*T*T]
			for p := c * pairs / parts; p < (c+1)*pairs/parts; p++ {
				kernels.CausalSoftmaxBackward(dP, P[p*T*T:(p+1)*T*T], T)
			}
		}
	}
}

// rotary rotates every head's pairs (i, i+hd/2) of every row by its
// position's angles (kernels.RotaryRows, from kernels.RopeTable's table).
// The rows are independent, so one call over all of them is the op's
// chunks run one after the other.
func (s Shape) rotary() func() {
	cos, sin := kernels.RopeTable(s.SeqLen, s.headDim(), s.RopeBase)
	n := s.Rows()
	x, y := filled(n*s.Dim, 1), make([]float32, n*s.Dim)
	return func() { kernels.RotaryRows(y, x, cos, sin, s.Dim, s.Heads, s.SeqLen, 0, n, 1) }
}

// adamw updates every parameter tensor of the full-rank model, one
// vecmath.AdamW call each (train.AdamW.Step's span is one such call on up
// to 16k values of a tensor; values are independent), with a fixed
// gradient: m and v settle at g and
// g², w moves by about lr a pass, so no value drifts to a denormal.
func (s Shape) adamw() func() {
	sizes := s.paramSizes()
	total := 0
	for _, n := range sizes {
		total += n
	}
	w, g, m, v := filled(total, 1), filled(total, 2), make([]float32, total), make([]float32, total)
	for i := range g {
		g[i] *= 1e-2
	}
	const lr, decay = 1e-3, 0.01
	c := vecmath.AdamWStep{B1: 0.9, B2: 0.999, StepSize: lr, InvBc2: 1, Eps: 1e-8, Decay: 1 - lr*decay}
	return func() {
		off := 0
		for _, n := range sizes {
			vecmath.AdamW(w[off:off+n], g[off:off+n], m[off:off+n], v[off:off+n], c)
			off += n
		}
	}
}
