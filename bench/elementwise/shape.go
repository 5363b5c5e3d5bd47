// Package elementwise times the training step's fused elementwise kernels
// (kernels/vecmath: RMSNorm, SwiGLU, the causal softmax, rotary, AdamW) at
// the shapes one step uses, and counts the bytes each pass must move, so
// that their GB/s can be set against the machine's stream bandwidth
// (bench/stream). The go test benchmark and cmd/roofline time the very same
// passes.
package elementwise

import "github.com/relorago/harness/model"

// Shape is what the elementwise passes of one training step depend on: the
// model's dimensions and the batch.
type Shape struct {
	Batch, SeqLen, Dim, FFN, Heads, Vocab, Layers int
	NormEps, RopeBase                             float64
}

// NewShape is m's step at batch sequences.
func NewShape(m model.Config, batch int) Shape {
	return Shape{Batch: batch, SeqLen: m.SeqLen, Dim: m.Dim, FFN: m.FFN, Heads: m.Heads, Vocab: m.Vocab,
		Layers: m.Layers, NormEps: m.NormEps, RopeBase: m.RopeBase}
}

// Rows is the token rows of a step's activations, batch × sequence length.
func (s Shape) Rows() int { return s.Batch * s.SeqLen }

// pairs is the (sequence, head) pairs attention runs a T×T softmax for.
func (s Shape) pairs() int { return s.Batch * s.Heads }

// headDim is a head's width.
func (s Shape) headDim() int { return s.Dim / s.Heads }

// paramSizes lists the full-rank model's parameter tensors, by element
// count, in the order model.Config.NumParams counts them: token embedding
// and LM head, then per block the four attention projections, the three
// SwiGLU projections and the two norm gains, then the final norm.
func (s Shape) paramSizes() []int {
	d, f := s.Dim, s.FFN
	out := []int{s.Vocab * d, s.Vocab * d}
	for range s.Layers {
		out = append(out, d*d, d*d, d*d, d*d, f*d, f*d, d*f, d, d)
	}
	return append(out, d)
}
