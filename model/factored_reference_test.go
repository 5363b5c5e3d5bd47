package model_test

import (
	"fmt"
	"testing"

	"github.com/relorago/harness/reference"
	"github.com/relorago/harness/relora"
)

// The low-rank factorisation (relora.Factorize: every projection y =
// (x·Aᵀ)·Bᵀ, no W) against the reference, whose factored backward is
// checked by finite differences in reference/: loss, logits and every
// gradient, A and B of every projection included, with 1 and 2 threads.
// Its Effective weight is B·A.
func TestFactoredMatchesReference(t *testing.T) {
	cfg := refShape()
	inputs, targets := refBatch(cfg, 3)
	m := newRefModel(t, 13)
	const rank = 4
	relora.Factorize(m, rank, 5)
	p := paramsOf(m)
	for l := 0; l < cfg.Layers; l++ {
		for pi, name := range []string{"q", "k", "v", "o", "gate", "up", "down"} {
			pre := fmt.Sprintf("layers.%d.%s.", l, name)
			if _, ok := p[pre+"weight"]; ok {
				t.Fatalf("%sweight survived the factorisation", pre)
			}
			out, in := m.Blocks[l].Proj[pi].Shape()
			want := reference.Merge(make([]float64, out*in), p[pre+"factor_a"], p[pre+"factor_b"], out, in, 1)
			if e := normRel(m.Blocks[l].Proj[pi].Effective(), want); !(e <= tolMerge) {
				t.Errorf("%s Effective differs from B·A by %.3g", pre, e)
			}
		}
	}
	ref, err := reference.LossAndGrads(refConfig(cfg, 0), p, inputs, targets)
	if err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 2} {
		fast := runFast(t, m, threads, inputs, targets)
		// Trainable: embed, head, norm, 2 norms per layer, A and B of 7 projections.
		if got, want := len(fast.grads), 3+cfg.Layers*(2+2*7); got != want {
			t.Fatalf("%d trainable parameters got gradients, want %d", got, want)
		}
		compare(t, fast, ref).check(t, fmt.Sprintf("factored, %d threads", threads))
	}
}
