package model_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nlpodyssey/spago/ag"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/reference"
	"github.com/relorago/harness/relora"
)

// Tolerances of the fast float32 model against the float64 reference. Each
// tensor is compared by its norm-relative error ‖fast − ref‖₂ / ‖ref‖₂, and
// by its max-relative error max|fast − ref| / max|ref| (which a single wrong
// element, an edge tile say, cannot hide in).
//
// float32 rounds at 6e-8 relative; two blocks of sums over ≤ 64 terms,
// softmaxes and norms accumulate that to (measured on this shape, Go and AVX2
// GEMM, 1 and 2 threads, full rank and LoRA): loss ≤ 2e-8, logits ≤ 3.5e-7,
// gradients ≤ 1.1e-6. The bounds leave 14–50× headroom for other summation
// orders (OpenBLAS, the portable kernel) and are still 4 orders of
// magnitude below what the mistakes of TestReferenceCatchesMistakes produce
// (a wrong attention scale, rotary layout or a causal leak: errors of 0.1 to
// 3); an RMSNorm eps of 0 instead of 1e-5 gives 1e-3 on the logits, 200×
// tolLogits.
const (
	tolLoss   = 1e-6 // relative error of the mean loss
	tolLogits = 5e-6 // all logits
	tolGrad   = 2e-5 // per parameter gradient
	tolMerge  = 1e-6 // merged W = W + s·B·A, computed once in float32
)

// refShape is a small model with every feature of the real one: 2 layers,
// 4 heads (head size 8, 4 rotary pairs), a ffn width (44) that is not a
// multiple of the GEMM's 6×16 register tile, 2 × 16 = 32 token rows (not a
// multiple of 6), and a vocabulary small enough that tokens repeat (the
// embedding's scatter-add). init_std 0.08 makes attention far from uniform,
// so a wrong scale or position encoding shows; norm_eps 1e-5 is 0.16% of
// the first layer's mean square (~0.0064), so dropping or misplacing it
// shows too.
func refShape() model.Config {
	return model.Config{Vocab: 64, Dim: 32, Layers: 2, Heads: 4, FFN: 44, SeqLen: 16,
		NormEps: 1e-5, InitStd: 0.08, RopeBase: 10000}
}

// refBatch returns 2 sequences of inputs and targets.
func refBatch(cfg model.Config, seed uint64) (inputs, targets []int32) {
	rng := rand.New(rand.NewPCG(seed, 77))
	n := 2 * cfg.SeqLen
	inputs, targets = make([]int32, n), make([]int32, n)
	for i := range inputs {
		inputs[i] = int32(rng.IntN(cfg.Vocab))
		targets[i] = int32(rng.IntN(cfg.Vocab))
	}
	return inputs, targets
}

func refConfig(cfg model.Config, loraScale float64) reference.Config {
	return reference.Config{Vocab: cfg.Vocab, Dim: cfg.Dim, Layers: cfg.Layers, Heads: cfg.Heads, FFN: cfg.FFN,
		SeqLen: cfg.SeqLen, NormEps: cfg.NormEps, RopeBase: cfg.RopeBase, LoRAScale: loraScale}
}

// paramsOf copies every parameter of m (frozen ones too) to float64.
func paramsOf(m *model.Model) reference.Params {
	p := reference.Params{}
	for _, q := range m.Params() {
		v := make([]float64, len(q.Raw()))
		for i, x := range q.Raw() {
			v[i] = float64(x)
		}
		p[q.Name] = v
	}
	return p
}

// fastResult is what the fast model computes for a batch.
type fastResult struct {
	loss   float64
	logits []float32
	grads  map[string][]float32 // trainable parameters only
}

// runFast computes the logits (model.Forward), then the loss (model.Loss)
// and every trainable parameter's gradient (ag.Backward), on a fresh context
// with the given thread count. It also checks that frozen weights get no
// gradient.
func runFast(t *testing.T, m *model.Model, threads int, inputs, targets []int32) fastResult {
	t.Helper()
	c := kernels.NewCtx(threads)
	out, err := m.Forward(c, inputs)
	if err != nil {
		t.Fatal(err)
	}
	r := fastResult{logits: append([]float32(nil), kernels.Data(out.Value())...), grads: map[string][]float32{}}
	c.Reset()
	for _, p := range m.Trainable() {
		p.ZeroGrad()
	}
	loss, err := m.Loss(c, inputs, targets)
	if err != nil {
		t.Fatal(err)
	}
	r.loss = float64(kernels.Data(loss.Value())[0])
	if err := ag.Backward(loss); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if !p.RequiresGrad() {
			if p.HasGrad() {
				t.Errorf("%s is frozen but received a gradient", p.Name)
			}
			continue
		}
		g := p.GradRaw()
		if g == nil {
			t.Fatalf("%s: no gradient", p.Name)
		}
		r.grads[p.Name] = append([]float32(nil), g...)
	}
	return r
}

// normRel returns ‖fast − ref‖₂ / ‖ref‖₂ (‖fast‖₂ when ref is zero).
func normRel(fast []float32, ref []float64) float64 {
	if len(fast) != len(ref) {
		return math.Inf(1)
	}
	var diff, norm float64
	for i, r := range ref {
		d := float64(fast[i]) - r
		diff += d * d
		norm += r * r
	}
	if norm == 0 {
		return math.Sqrt(diff)
	}
	return math.Sqrt(diff / norm)
}

// maxRel returns max|fast − ref| / max|ref| (max|fast − ref| when ref is zero).
func maxRel(fast []float32, ref []float64) float64 {
	if len(fast) != len(ref) {
		return math.Inf(1)
	}
	var diff, mx float64
	for i, r := range ref {
		diff = math.Max(diff, math.Abs(float64(fast[i])-r))
		mx = math.Max(mx, math.Abs(r))
	}
	if mx == 0 {
		return diff
	}
	return diff / mx
}

func flatLogits(l [][]float64) []float64 {
	var out []float64
	for _, row := range l {
		out = append(out, row...)
	}
	return out
}

// comparison holds the errors of one comparison (each the larger of the
// norm-relative and the max-relative error): loss, logits, the worst
// gradient and its name, every gradient.
type comparison struct {
	loss, logits, grad float64
	worst              string
	grads              map[string]float64
}

func compare(t *testing.T, fast fastResult, ref *reference.Result) comparison {
	t.Helper()
	cmp := comparison{
		loss:   math.Abs(fast.loss-ref.Loss) / math.Abs(ref.Loss),
		logits: math.Max(normRel(fast.logits, flatLogits(ref.Logits)), maxRel(fast.logits, flatLogits(ref.Logits))),
		grads:  map[string]float64{},
	}
	if len(fast.grads) == 0 {
		t.Fatal("the fast model produced no gradients")
	}
	for name, g := range fast.grads {
		rg, ok := ref.Grads[name]
		if !ok {
			t.Fatalf("the reference has no gradient for %s", name)
		}
		e := math.Max(normRel(g, rg), maxRel(g, rg))
		cmp.grads[name] = e
		if e >= cmp.grad {
			cmp.grad, cmp.worst = e, name
		}
	}
	return cmp
}

// check fails the test when a comparison exceeds the tolerances.
func (cmp comparison) check(t *testing.T, label string) {
	t.Helper()
	t.Logf("%s: loss rel err %.2g, logits %.2g, worst gradient %.2g (%s)", label, cmp.loss, cmp.logits, cmp.grad, cmp.worst)
	if !(cmp.loss <= tolLoss) {
		t.Errorf("%s: loss differs from the reference by %.3g (relative), tolerance %g", label, cmp.loss, tolLoss)
	}
	if !(cmp.logits <= tolLogits) {
		t.Errorf("%s: logits differ from the reference by %.3g (norm-relative), tolerance %g", label, cmp.logits, tolLogits)
	}
	for name, e := range cmp.grads {
		if !(e <= tolGrad) {
			t.Errorf("%s: gradient of %s differs from the reference by %.3g (norm-relative), tolerance %g", label, name, e, tolGrad)
		}
	}
}

func newRefModel(t *testing.T, seed uint64) *model.Model {
	t.Helper()
	m, err := model.New(refShape(), seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// randomizeB gives every LoRA factor B N(0, std²) values, so the low-rank
// path contributes (it is zero right after a wrap or a merge).
func randomizeB(m *model.Model, seed uint64, std float64) {
	rng := rand.New(rand.NewPCG(seed, 5))
	for _, l := range relora.LoRAs(m) {
		for i := range l.B.Raw() {
			l.B.Raw()[i] = float32(rng.NormFloat64() * std)
		}
	}
}

func TestFullRankMatchesReference(t *testing.T) {
	cfg := refShape()
	m := newRefModel(t, 11)
	inputs, targets := refBatch(cfg, 1)
	ref, err := reference.LossAndGrads(refConfig(cfg, 0), paramsOf(m), inputs, targets)
	if err != nil {
		t.Fatal(err)
	}
	// Sanity of the setup: an untrained model is near ln V, and the loss is
	// not so flat that every mistake would hide in it.
	if math.Abs(ref.Loss-math.Log(float64(cfg.Vocab))) > 0.5 {
		t.Fatalf("reference loss %.4f, expected near ln %d = %.4f", ref.Loss, cfg.Vocab, math.Log(float64(cfg.Vocab)))
	}
	for _, threads := range []int{1, 2} {
		fast := runFast(t, m, threads, inputs, targets)
		if got, want := len(fast.grads), 1+cfg.Layers*(2+7)+2; got != want {
			t.Fatalf("%d trainable parameters got gradients, want %d", got, want)
		}
		compare(t, fast, ref).check(t, fmt.Sprintf("full rank, %d threads", threads))
	}
}

// LoRA-wrapped projections, B non-zero: unmerged, then after a merge (W has
// absorbed s·B·A, A is redrawn, B is given new non-zero values); composed
// and fused ops; 1 and 2 threads.
func TestLoRAMatchesReference(t *testing.T) {
	cfg := refShape()
	inputs, targets := refBatch(cfg, 2)
	const rank, alpha = 4, 8 // s = 2
	const s = alpha / float64(rank)
	for _, fused := range []bool{false, true} {
		m := newRefModel(t, 12)
		relora.Wrap(m, rank, alpha, 3)
		loras := relora.LoRAs(m)
		if len(loras) != 7*cfg.Layers {
			t.Fatalf("%d LoRA linears, want %d", len(loras), 7*cfg.Layers)
		}
		for _, l := range loras {
			l.Fused = fused
			if float64(l.Scale) != s {
				t.Fatalf("LoRA scale %g, want alpha/r = %g", l.Scale, s)
			}
		}
		randomizeB(m, 4, 0.1)

		// The low-rank path must matter for this test to mean anything:
		// without it the reference's logits move by far more than tolLogits.
		p := paramsOf(m)
		noLoRA := p.Clone()
		for name, v := range noLoRA {
			if strings.HasSuffix(name, ".lora_b") {
				clear(v)
			}
		}
		with, _ := reference.Forward(refConfig(cfg, s), p, inputs)
		without, _ := reference.Forward(refConfig(cfg, s), noLoRA, inputs)
		if d := relDiff64(flatLogits(with), flatLogits(without)); d < 100*tolLogits {
			t.Fatalf("the low-rank path changes the logits by only %.3g: the test would not see a broken LoRA", d)
		}

		for round, stage := range []string{"unmerged", "after a merge"} {
			if round == 1 {
				// Merge: W ← W + s·B·A, computed in float64 here from the
				// factors before the merge.
				before := paramsOf(m)
				relora.MergeAll(m, 3, 1)
				after := paramsOf(m)
				for l := 0; l < cfg.Layers; l++ {
					for pi, name := range model.ProjNames {
						pre := fmt.Sprintf("layers.%d.%s.", l, name)
						out, in := m.Blocks[l].Proj[pi].Shape()
						want := reference.Merge(before[pre+"weight"], before[pre+"lora_a"], before[pre+"lora_b"], out, in, s)
						if e := normRel(toF32(after[pre+"weight"]), want); !(e <= tolMerge) {
							t.Errorf("merged %sweight differs from W + s·B·A by %.3g (norm-relative)", pre, e)
						}
						if relDiff64(after[pre+"lora_a"], before[pre+"lora_a"]) == 0 {
							t.Errorf("%slora_a was not redrawn by the merge", pre)
						}
					}
				}
				randomizeB(m, 6, 0.1)
			}
			ref, err := reference.LossAndGrads(refConfig(cfg, s), paramsOf(m), inputs, targets)
			if err != nil {
				t.Fatal(err)
			}
			for _, threads := range []int{1, 2} {
				fast := runFast(t, m, threads, inputs, targets)
				// Trainable: embed, head, norm, 2 norms per layer, A and B of 7 projections.
				if got, want := len(fast.grads), 3+cfg.Layers*(2+2*7); got != want {
					t.Fatalf("%d trainable parameters got gradients, want %d", got, want)
				}
				compare(t, fast, ref).check(t, fmt.Sprintf("LoRA fused=%v %s, %d threads", fused, stage, threads))
			}
		}
	}
}

// The comparison must be able to fail: the fast model compared with a
// deliberately wrong reference (a wrong attention scale, the other rotary
// layouts, no causal mask) must exceed the tolerances by a wide margin.
// This is what catches such a bug in the fast kernels.
func TestReferenceCatchesMistakes(t *testing.T) {
	cfg := refShape()
	m := newRefModel(t, 13)
	inputs, targets := refBatch(cfg, 3)
	fast := runFast(t, m, 1, inputs, targets)
	hd := float64(cfg.Dim / cfg.Heads)
	for _, tc := range []struct {
		name string
		v    reference.Variant
	}{
		{"attention scale 1/hd", reference.Variant{AttentionScale: 1 / hd}},
		{"attention scale 1", reference.Variant{AttentionScale: 1}},
		{"rotary pairs (2i, 2i+1)", reference.Variant{RotaryInterleaved: true}},
		{"rotary halves swapped (rotation by −θ)", reference.Variant{RotaryReversed: true}},
		{"causal leak (no mask)", reference.Variant{NonCausal: true}},
	} {
		rc := refConfig(cfg, 0)
		rc.Variant = tc.v
		ref, err := reference.LossAndGrads(rc, paramsOf(m), inputs, targets)
		if err != nil {
			t.Fatal(err)
		}
		cmp := compare(t, fast, ref)
		t.Logf("%s: logits err %.3g, worst gradient err %.3g (%s)", tc.name, cmp.logits, cmp.grad, cmp.worst)
		if cmp.logits < 10*tolLogits || cmp.grad < 10*tolGrad {
			t.Errorf("%s: a model with this mistake differs from the fast one by only %.3g (logits), %.3g (gradients): the tolerances would not catch it",
				tc.name, cmp.logits, cmp.grad)
		}
	}
}

func relDiff64(a, b []float64) float64 {
	var diff, norm float64
	for i := range a {
		diff += (a[i] - b[i]) * (a[i] - b[i])
		norm += b[i] * b[i]
	}
	if norm == 0 {
		return math.Sqrt(diff)
	}
	return math.Sqrt(diff / norm)
}

func toF32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}
