package elementwise

import "github.com/relorago/harness/kernels"

// Case is one elementwise pass of a training step at one shape: the
// function an op of kernels (or train.AdamW) calls on each chunk of its
// work, run over the whole step's arrays on one thread.
//
// Bytes is what a pass must read plus write, counted as STREAM counts: each
// array the pass reads once and each it writes once (an array read and
// written counts twice), a gain or table every row shares counted once,
// write-allocate not counted. Footprint is the distinct bytes the pass
// touches, its working set: above the last-level cache, repeated passes
// come from memory; below it, they may be served from cache.
type Case struct {
	Name string
	// PerStep is how many times a full-rank training step runs the pass.
	PerStep          int
	Bytes, Footprint int64
	// New allocates and fills the pass's arrays and returns the pass.
	New func() (pass func())
}

// Cases returns the passes of a step at shape s, forward before backward.
func Cases(s Shape) []Case {
	n, d, L := int64(s.Rows()), int64(s.Dim), s.Layers
	ff := n * int64(s.FFN)
	T, pairs := int64(s.SeqLen), int64(s.pairs())
	tri := T * (T + 1) / 2 // a causal softmax's live entries per pair
	rnParts := int64(kernels.Chunks(s.Rows(), kernels.RMSNormMinChunk))
	smParts := int64(kernels.Chunks(s.pairs(), 1))
	var params int64
	for _, p := range s.paramSizes() {
		params += int64(p)
	}
	const f = 4 // bytes a float32
	return []Case{
		// reads x and the gain, writes y and each row's 1/rms
		{"rmsnorm fwd", 2*L + 1, f * (2*n*d + d + n), f * (2*n*d + d + n), s.rmsNormForward},
		// reads x, dy, the gain and 1/rms, writes dx; the gain gradient's
		// per-chunk partials are read and written
		{"rmsnorm bwd", 2*L + 1, f * (3*n*d + d + n + 2*rnParts*d), f * (3*n*d + d + n + rnParts*d), s.rmsNormBackward},
		// reads gate and up, writes σ(gate) (kept for backward) and y
		{"swiglu fwd", L, f * 4 * ff, f * 4 * ff, s.swigluForward},
		// reads dy, gate, σ(gate) and up, writes d gate and d up
		{"swiglu bwd", L, f * 6 * ff, f * 6 * ff, s.swigluBackward},
		// in place over the scores: reads each row's live part, writes the
		// whole row (the probabilities, then zeros above the diagonal)
		{"softmax fwd", L, f * pairs * (tri + T*T), f * pairs * T * T, s.softmaxForward},
		// reads P's and dP's live parts, writes dP's whole row; dP is a T×T
		// scratch per chunk, as in the op
		{"softmax bwd", L, f * pairs * (2*tri + T*T), f * (pairs + smParts) * T * T, s.softmaxBackward},
		// reads x and the cos/sin table (T × hd/2 each), writes y; q and k,
		// forward and backward (the same pass with the angle negated)
		{"rotary", 4 * L, f * (2*n*d + T*int64(s.headDim())), f * (2*n*d + T*int64(s.headDim())), s.rotary},
		// reads w, g, m and v, writes w, m and v: every parameter of the
		// full-rank model (a ReLoRA step updates fewer)
		{"adamw", 1, f * 7 * params, f * 4 * params, s.adamw},
	}
}
