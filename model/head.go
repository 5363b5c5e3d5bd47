package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
)

// Head is a sequence-level head for fine-tuning, on the final hidden states
// (Model.Hidden) of each input's positions, its padding left out (the decoder
// is causal, so the padding after an input does not change them):
//
//   - one input: x = the mean of its states;
//   - a pair A, separator, B: u = the mean over A's positions, v = the mean
//     over B's (which have read A), and x = [u, v, |u − v|, u ⊙ v], the
//     classifier features of InferSent and Sentence-BERT;
//
// then an affine map x·Wᵀ + b to the outputs: class logits, or one score for
// a regression task.
type Head struct {
	W    *kernels.Mat // [outputs × features], features = dim, or 4·dim for a pair
	B    *kernels.Mat // [1 × outputs]
	Pair bool
}

// NewHead returns a head with W ~ N(0, std²) drawn from seed and B = 0.
func NewHead(dim, outputs int, pair bool, std float64, seed uint64) *Head {
	rng := rand.New(rand.NewPCG(seed, 0x68656164))
	features := dim
	if pair {
		features = 4 * dim
	}
	h := &Head{W: kernels.NewParam(outputs, features), B: kernels.NewParam(1, outputs), Pair: pair}
	for i := range h.W.Raw() {
		h.W.Raw()[i] = float32(rng.NormFloat64() * std)
	}
	return h
}

// Params lists the head's parameters ("cls.weight", "cls.bias").
func (h *Head) Params() []Param {
	return []Param{{"cls.weight", h.W}, {"cls.bias", h.B}}
}

// Forward returns the outputs [n × outputs] of n sequences of seqLen hidden
// states laid end to end: sequence i has lengths[i] input positions, and for
// a pair its first split[i] are A's and the one after them the separator.
func (h *Head) Forward(hidden mat.Tensor, lengths, split []int, seqLen int) mat.Tensor {
	return ag.NewOperator(&poolHeadFn{hidden: hidden, w: h.W, b: h.B, pair: h.Pair, lengths: lengths, split: split, seq: seqLen}).Run()
}

type poolHeadFn struct {
	hidden, w, b  mat.Tensor
	pair          bool
	lengths       []int
	split         []int
	seq           int
	means         []float32 // [n × dim] per segment (A then B for a pair), kept for backward
	features, dim int
}

func (f *poolHeadFn) Operands() []mat.Tensor { return []mat.Tensor{f.hidden, f.w, f.b} }

// segments returns sequence i's position ranges: the whole input, or A and B.
func (f *poolHeadFn) segments(i int) [][2]int {
	l := f.lengths[i]
	if !f.pair {
		return [][2]int{{0, l}}
	}
	a := f.split[i]
	return [][2]int{{0, a}, {a + 1, l}}
}

func (f *poolHeadFn) Forward() (mat.Tensor, error) {
	x, w, b := kernels.ValueOf(f.hidden), kernels.ValueOf(f.w), kernels.ValueOf(f.b)
	n, d, outs := len(f.lengths), x.Cols(), w.Rows()
	f.dim, f.features = d, d
	segs := 1
	if f.pair {
		f.features, segs = 4*d, 2
	}
	if x.Rows() != n*f.seq || w.Cols() != f.features || b.Cols() != outs || (f.pair && len(f.split) != n) {
		panic(fmt.Sprintf("model: head: hidden %dx%d for %d sequences of %d, W %dx%d, b 1x%d, pair %v", x.Rows(), x.Cols(), n, f.seq, outs, w.Cols(), b.Cols(), f.pair))
	}
	xs, ws, bs := x.Raw(), w.Raw(), b.Raw()
	f.means = make([]float32, n*segs*d)
	y := make([]float32, n*outs)
	acc := make([]float64, d)
	feat := make([]float64, f.features)
	for i, l := range f.lengths {
		if l < 1 || l > f.seq {
			panic(fmt.Sprintf("model: head: sequence %d has length %d, want 1..%d", i, l, f.seq))
		}
		for s, seg := range f.segments(i) {
			if seg[1] <= seg[0] {
				panic(fmt.Sprintf("model: head: sequence %d has an empty segment %v", i, seg))
			}
			clear(acc)
			for t := seg[0]; t < seg[1]; t++ {
				for j, v := range xs[(i*f.seq+t)*d : (i*f.seq+t+1)*d] {
					acc[j] += float64(v)
				}
			}
			m := f.means[(i*segs+s)*d : (i*segs+s+1)*d]
			for j := range m {
				m[j] = float32(acc[j] / float64(seg[1]-seg[0]))
			}
		}
		f.featuresOf(i, feat)
		for c := range outs {
			s := float64(bs[c])
			for j, v := range ws[c*f.features : (c+1)*f.features] {
				s += float64(v) * feat[j]
			}
			y[i*outs+c] = float32(s)
		}
	}
	return kernels.NewMat(n, outs, y), nil
}

// featuresOf writes sequence i's head input: its mean, or [u, v, |u−v|, u⊙v].
func (f *poolHeadFn) featuresOf(i int, feat []float64) {
	d := f.dim
	if !f.pair {
		for j, v := range f.means[i*d : (i+1)*d] {
			feat[j] = float64(v)
		}
		return
	}
	u, v := f.means[2*i*d:(2*i+1)*d], f.means[(2*i+1)*d:(2*i+2)*d]
	for j := range d {
		a, b := float64(u[j]), float64(v[j])
		feat[j], feat[d+j], feat[2*d+j], feat[3*d+j] = a, b, math.Abs(a-b), a*b
	}
}

// Backward: with g = dy [n × outputs] and x_i the head input of sequence i,
//
//	dW = gᵀ·x,  db = Σ_i g_i,  dx_i = g_i·W,
//
// and dx_i goes back through the features (for a pair du = dx_u + sign(u−v)
// dx_|u−v| + v dx_u⊙v, dv likewise) to each segment's positions, divided by
// the segment's length; padding and the separator get none.
func (f *poolHeadFn) Backward(gy mat.Tensor) error {
	w := kernels.ValueOf(f.w)
	n, d, outs, nf := len(f.lengths), f.dim, w.Rows(), f.features
	g, ws := kernels.Data(gy), w.Raw()
	feat := make([]float64, nf)
	if f.w.RequiresGrad() {
		dw := make([]float64, outs*nf)
		for i := range n {
			f.featuresOf(i, feat)
			for c := range outs {
				gc := float64(g[i*outs+c])
				for j, x := range feat {
					dw[c*nf+j] += gc * x
				}
			}
		}
		f.w.AccGrad(kernels.NewMat(outs, nf, float32s(dw)))
	}
	if f.b.RequiresGrad() {
		db := make([]float64, outs)
		for i := range n {
			for c := range outs {
				db[c] += float64(g[i*outs+c])
			}
		}
		f.b.AccGrad(kernels.NewMat(1, outs, float32s(db)))
	}
	if !f.hidden.RequiresGrad() {
		return nil
	}
	dh := make([]float32, n*f.seq*d)
	dfeat := make([]float64, nf)
	dseg := make([][]float64, 2)
	for s := range dseg {
		dseg[s] = make([]float64, d)
	}
	for i := range n {
		clear(dfeat)
		for c := range outs {
			gc := float64(g[i*outs+c])
			for j, wv := range ws[c*nf : (c+1)*nf] {
				dfeat[j] += gc * float64(wv)
			}
		}
		if !f.pair {
			copy(dseg[0], dfeat)
		} else {
			u, v := f.means[2*i*d:(2*i+1)*d], f.means[(2*i+1)*d:(2*i+2)*d]
			for j := range d {
				a, b := float64(u[j]), float64(v[j])
				sign := 0.0
				if a > b {
					sign = 1
				} else if a < b {
					sign = -1
				}
				dseg[0][j] = dfeat[j] + sign*dfeat[2*d+j] + b*dfeat[3*d+j]
				dseg[1][j] = dfeat[d+j] - sign*dfeat[2*d+j] + a*dfeat[3*d+j]
			}
		}
		for s, seg := range f.segments(i) {
			inv := 1 / float64(seg[1]-seg[0])
			for t := seg[0]; t < seg[1]; t++ {
				row := dh[(i*f.seq+t)*d : (i*f.seq+t+1)*d]
				for j := range row {
					row[j] = float32(dseg[s][j] * inv)
				}
			}
		}
	}
	f.hidden.AccGrad(kernels.NewMat(n*f.seq, d, dh))
	return nil
}

func float32s(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// MSE returns the mean squared error of n predictions [n × 1] against
// targets, as a 1×1 node (the regression task's loss).
func MSE(pred mat.Tensor, targets []float32) mat.Tensor {
	return ag.NewOperator(&mseFn{pred: pred, targets: targets}).Run()
}

type mseFn struct {
	pred    mat.Tensor
	targets []float32
}

func (f *mseFn) Operands() []mat.Tensor { return []mat.Tensor{f.pred} }

func (f *mseFn) Forward() (mat.Tensor, error) {
	p := kernels.ValueOf(f.pred)
	if p.Rows() != len(f.targets) || p.Cols() != 1 {
		panic(fmt.Sprintf("model: MSE: predictions %dx%d for %d targets", p.Rows(), p.Cols(), len(f.targets)))
	}
	var s float64
	for i, v := range p.Raw() {
		e := float64(v) - float64(f.targets[i])
		s += e * e
	}
	return kernels.NewMat(1, 1, []float32{float32(s / float64(len(f.targets)))}), nil
}

func (f *mseFn) Backward(gy mat.Tensor) error {
	if !f.pred.RequiresGrad() {
		return nil
	}
	p := kernels.ValueOf(f.pred)
	n := len(f.targets)
	scale := float64(kernels.Data(gy)[0]) * 2 / float64(n)
	d := make([]float32, n)
	for i, v := range p.Raw() {
		d[i] = float32(scale * (float64(v) - float64(f.targets[i])))
	}
	f.pred.AccGrad(kernels.NewMat(n, 1, d))
	return nil
}
