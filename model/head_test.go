package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
)

// headLoss runs hidden → head → loss (cross-entropy, or MSE with targets)
// and returns the loss value and node.
func headLoss(c *kernels.Ctx, h *Head, hidden *kernels.Mat, lengths, split []int, seq int, labels []int32, targets []float32) (float64, mat.Tensor) {
	c.Reset()
	out := h.Forward(hidden, lengths, split, seq)
	var loss mat.Tensor
	if targets != nil {
		loss = MSE(out, targets)
	} else {
		loss = c.CrossEntropy(out, labels)
	}
	return float64(kernels.Data(loss.Value())[0]), loss
}

// The head's backward (pooling over each sequence's length, or a pair's
// two segments and their features, then the affine map) and MSE's agree
// with finite differences, and padding and separators get no gradient.
func TestHeadGradients(t *testing.T) {
	const seq, d = 5, 6
	lengths, split := []int{3, 5}, []int{1, 2} // pair: A [0,1) sep 1 B [2,3); A [0,2) sep 2 B [3,5)
	for _, tc := range []struct{ regression, pair bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		regression := tc.regression
		sp := split
		if !tc.pair {
			sp = nil
		}
		outs := 3
		var labels []int32
		var targets []float32
		if regression {
			outs, targets = 1, []float32{0.7, -1.2}
		} else {
			labels = []int32{2, 0}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		hidden := kernels.NewParam(len(lengths)*seq, d)
		for i := range hidden.Raw() {
			hidden.Raw()[i] = float32(rng.NormFloat64())
		}
		h := NewHead(d, outs, tc.pair, 0.5, 3)
		for i := range h.B.Raw() {
			h.B.Raw()[i] = float32(rng.NormFloat64())
		}
		c := kernels.NewCtx(1)
		params := []*kernels.Mat{hidden, h.W, h.B}
		for _, p := range params {
			p.ZeroGrad()
		}
		_, loss := headLoss(c, h, hidden, lengths, sp, seq, labels, targets)
		if err := ag.Backward(loss); err != nil {
			t.Fatal(err)
		}
		grads := make([][]float32, len(params))
		for i, p := range params {
			grads[i] = append([]float32(nil), p.GradRaw()...)
		}
		for pi, p := range params {
			for i := range p.Raw() {
				old := p.Raw()[i]
				const eps = 1e-2
				p.Raw()[i] = old + eps
				lp, _ := headLoss(c, h, hidden, lengths, sp, seq, labels, targets)
				p.Raw()[i] = old - eps
				lm, _ := headLoss(c, h, hidden, lengths, sp, seq, labels, targets)
				p.Raw()[i] = old
				fd := (lp - lm) / (2 * eps)
				if g := float64(grads[pi][i]); math.Abs(g-fd) > 2e-3*max(1, math.Abs(fd)) {
					t.Fatalf("%+v, param %d [%d]: gradient %g, finite difference %g", tc, pi, i, g, fd)
				}
				if pi == 0 {
					row := i / d
					t0, sq := row%seq, row/seq
					pad := t0 >= lengths[sq] || (tc.pair && t0 == split[sq])
					if pad && grads[0][i] != 0 {
						t.Fatalf("%+v: padding or separator row %d got gradient %g", tc, row, grads[0][i])
					}
					if !pad && grads[0][i] == 0 {
						t.Fatalf("%+v: input row %d got no gradient", tc, row)
					}
				}
			}
		}
	}
}

// Forward is the LM head on Hidden: the refactoring that exposed the hidden
// states changed no number.
func TestForwardIsHeadOfHidden(t *testing.T) {
	cfg, _ := Preset("nano")
	m, err := New(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int32, 2*cfg.SeqLen)
	for i := range ids {
		ids[i] = int32(i * 7 % 256)
	}
	c := kernels.NewCtx(1)
	logits, err := m.Forward(c, ids)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), kernels.Data(logits.Value())...)
	c.Reset()
	h, err := m.Hidden(c, ids)
	if err != nil {
		t.Fatal(err)
	}
	got := kernels.Data(c.Linear(h, m.Head).Value())
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("logit %d: %g vs %g", i, got[i], want[i])
		}
	}
}
