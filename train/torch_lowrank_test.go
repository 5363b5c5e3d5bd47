package train_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/nlpodyssey/spago/ag"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/reference"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// The low-rank baseline's layer (relora.Factored, y = x·(B·A)ᵀ) against
// PyTorch (torch_fixtures_test.go): x 4×6, A 2×6, B 5×2, loss Σ y², two
// steps of torch.optim.AdamW (lr 0.01 then 0.02, the GaLore test's betas,
// ε 1e-8 and weight decay 0.1) with a new x at each. The sizes and input
// formulas are the script's.
const torchLRRows, torchLRIn, torchLROut, torchLRRank = 4, 6, 5, 2

var torchLowRankLRs = []float64{0.01, 0.02}

// torchLowRankX, torchLowRankA and torchLowRankB are the script's
// lowrank_x, lowrank_a and lowrank_b.
func torchLowRankX(s, i, j int) float32 {
	return float32(0.8 * math.Cos(0.45*float64(i)-0.8*float64(j)+0.6*float64(s)+0.1))
}

func torchLowRankA(k, j int) float32 {
	return float32(0.4 * math.Sin(1.9*float64(k)+0.29*float64(j)*float64(k+1)+0.7))
}

func torchLowRankB(i, k int) float32 {
	return float32(0.4 * math.Cos(0.61*float64(i)-1.7*float64(k)+0.3))
}

type torchLowRankStep struct {
	loss                   float64
	dA, dB, aAfter, bAfter []float64
}

var torchLowRankSteps = []torchLowRankStep{
	{torchLowRankLoss1, torchLowRankDA1, torchLowRankDB1, torchLowRankA1, torchLowRankB1},
	{torchLowRankLoss2, torchLowRankDA2, torchLowRankDB2, torchLowRankA2, torchLowRankB2},
}

// torchLowRankInputs returns A₀, B₀ and each step's x, checked against the
// script's sums as in torchGaLoreInputs.
func torchLowRankInputs(t *testing.T) (a, b []float32, xs [][]float32) {
	t.Helper()
	a = torchMatrix(torchLRRank, torchLRIn, torchLowRankA)
	b = torchMatrix(torchLROut, torchLRRank, torchLowRankB)
	sums := []float64{sum64(to64(a)), sum64(to64(b))}
	for s := 1; s <= len(torchLowRankLRs); s++ {
		xs = append(xs, torchMatrix(torchLRRows, torchLRIn, func(i, j int) float32 { return torchLowRankX(s, i, j) }))
		sums = append(sums, sum64(to64(xs[s-1])))
	}
	for i, s := range sums {
		if math.Abs(s-torchLowRankInputSums[i]) > 1e-12 {
			t.Fatalf("input %d sums to %.17g here, %.17g in the script: the formulas disagree", i, s, torchLowRankInputSums[i])
		}
	}
	return a, b, xs
}

// The Factored layer's forward and backward on the harness's float32
// kernels, and train.AdamW's step on its factors, against PyTorch.
//
// Bounds: the loss and gradients are float32 GEMMs of at most 6 terms
// through a rank-2 bottleneck, each rounding at 2⁻²⁴ ≈ 6e-8 relative; the
// entries of y, dy, dA and dB are all O(0.1–1) with no cancellation to
// speak of, so 1e-6 of the largest value is ~15 roundings' headroom.
// For A and B after each step, compare each factor's change from A₀, B₀
// (as for GaLore's weights): Adam moves each entry by about lr (0.01 at
// the first step), while the fast AdamW rounds each float32 weight twice
// a step (the decay, then the update), by up to 1.5e-8 each at |a| ≤ 0.4:
// up to 6e-8 over the two steps, 6e-6 of a 0.01 change. The gradients'
// own error enters Adam's m̂/√v̂ at ~1e-7 relative, far less. Bound 1e-5
// of the largest change.
//
// The float64 reference's AdamW, given PyTorch's gradients, must give
// PyTorch's factors to 1e-12 of the change: torch.optim.AdamW and
// reference.AdamW are one formula in one precision.
func TestFactoredMatchesTorch(t *testing.T) {
	a0, b0, xs := torchLowRankInputs(t)
	for _, threads := range []int{1, 2} {
		f := &relora.Factored{A: kernels.NewParam(torchLRRank, torchLRIn), B: kernels.NewParam(torchLROut, torchLRRank)}
		copy(f.A.Raw(), a0)
		copy(f.B.Raw(), b0)
		opt := train.NewAdamW(torchAdam)
		c := kernels.NewCtx(threads)
		var worstLoss, worstGrad, worstStep float64
		for s, lr := range torchLowRankLRs {
			want := torchLowRankSteps[s]
			c.Reset()
			f.A.ZeroGrad()
			f.B.ZeroGrad()
			y := f.Forward(c, kernels.NewMat(torchLRRows, torchLRIn, xs[s]))
			yv := kernels.Data(y.Value())
			var loss float64
			dy := make([]float32, len(yv))
			for i, v := range yv {
				loss += float64(v) * float64(v)
				dy[i] = 2 * v // d(Σ y²)/dy, exact in float32
			}
			y.AccGrad(kernels.NewMat(torchLRRows, torchLROut, dy))
			if err := ag.Backward(y); err != nil {
				t.Fatal(err)
			}
			worstLoss = math.Max(worstLoss, math.Abs(loss-want.loss)/want.loss)
			worstGrad = math.Max(worstGrad, torchRelDiff(to64(f.A.GradRaw()), want.dA))
			worstGrad = math.Max(worstGrad, torchRelDiff(to64(f.B.GradRaw()), want.dB))
			if err := opt.Step(c, f.Params(), lr); err != nil {
				t.Fatal(err)
			}
			worstStep = math.Max(worstStep, torchRelDiff(sub(to64(f.A.Raw()), to64(a0)), sub(want.aAfter, to64(a0))))
			worstStep = math.Max(worstStep, torchRelDiff(sub(to64(f.B.Raw()), to64(b0)), sub(want.bAfter, to64(b0))))
		}
		reportTorchChecks(t, fmt.Sprintf("threads %d: ", threads), []torchCheck{
			{"loss", worstLoss, 1e-6},
			{"dA and dB", worstGrad, 1e-6},
			{"A − A₀ and B − B₀ after each step", worstStep, 1e-5},
		})
	}

	// The reference's AdamW on PyTorch's own gradients.
	params := reference.Params{"a": to64(a0), "b": to64(b0)}
	ref := reference.NewAdamW(torchAdam.Beta1, torchAdam.Beta2, torchAdam.Eps, torchAdam.WeightDecay)
	var worst float64
	for s, lr := range torchLowRankLRs {
		want := torchLowRankSteps[s]
		ref.Step(params, reference.Params{"a": want.dA, "b": want.dB}, lr)
		worst = math.Max(worst, torchRelDiff(sub(params["a"], to64(a0)), sub(want.aAfter, to64(a0))))
		worst = math.Max(worst, torchRelDiff(sub(params["b"], to64(b0)), sub(want.bAfter, to64(b0))))
	}
	reportTorchChecks(t, "reference: ", []torchCheck{{"A − A₀ and B − B₀ after each step", worst, 1e-12}})
}
