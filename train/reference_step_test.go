package train_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/ag"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/reference"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// Training steps (train.Step: forward, backward, global-norm clipping,
// AdamW with bias correction and decoupled weight decay) against the
// float64 reference (reference.LossAndGrads, ClipGradNorm, AdamW).

var stepAdam = train.AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1}

// stepLRs are the learning rates of the steps: large enough that the
// weights move visibly, different per step so a step using another's LR
// shows.
var stepLRs = []float64{3e-3, 1e-2, 5e-3, 2e-2, 1e-2}

// stepClip is below every step's gradient norm (1.8 to 2.6 here), so
// clipping is active at every step and its scale matters.
const stepClip = 0.4

func stepShape() model.Config {
	return model.Config{Vocab: 64, Dim: 32, Layers: 2, Heads: 4, FFN: 48, SeqLen: 16,
		NormEps: 1e-5, InitStd: 0.08, RopeBase: 10000}
}

func stepRefConfig(cfg model.Config, s float64) reference.Config {
	return reference.Config{Vocab: cfg.Vocab, Dim: cfg.Dim, Layers: cfg.Layers, Heads: cfg.Heads, FFN: cfg.FFN,
		SeqLen: cfg.SeqLen, NormEps: cfg.NormEps, RopeBase: cfg.RopeBase, LoRAScale: s}
}

// stepBatches returns one batch of 2 sequences per step.
func stepBatches(cfg model.Config, steps int) (inputs, targets [][]int32) {
	rng := rand.New(rand.NewPCG(31, 32))
	for s := 0; s < steps; s++ {
		in, tg := make([]int32, 2*cfg.SeqLen), make([]int32, 2*cfg.SeqLen)
		for i := range in {
			in[i], tg[i] = int32(rng.IntN(cfg.Vocab)), int32(rng.IntN(cfg.Vocab))
		}
		inputs, targets = append(inputs, in), append(targets, tg)
	}
	return inputs, targets
}

func params64(m *model.Model) reference.Params {
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

// stepModel returns the model of a case: full rank, or LoRA-wrapped (rank
// 4, alpha 8: s = 2) with non-zero B, composed or fused.
func stepModel(t *testing.T, lora string) (*model.Model, float64) {
	t.Helper()
	m, err := model.New(stepShape(), 17)
	if err != nil {
		t.Fatal(err)
	}
	if lora == "" {
		return m, 0
	}
	relora.Wrap(m, 4, 8, 2)
	rng := rand.New(rand.NewPCG(18, 19))
	for _, l := range relora.LoRAs(m) {
		l.Fused = lora == "fused"
		for i := range l.B.Raw() {
			l.B.Raw()[i] = float32(rng.NormFloat64() * 0.1)
		}
	}
	return m, 2
}

func relErr32(fast []float32, ref []float64) float64 {
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

// TestStepsMatchReference trains 5 steps with train.Step and, from the same
// initial weights, with the float64 reference, and compares every
// parameter's total change Δp = p₅ − p₀ (norm-relative), the losses and the
// gradient norms. Frozen weights must not move at all.
//
// Tolerance 5e-4 on Δp: Adam divides each gradient by its own running RMS,
// so a value whose gradient is tiny next to the float32 rounding of the
// backward pass (~1e-6 of the tensor's norm) can get an update of O(lr) in
// another direction than the reference's; measured, Δp stays within 2e-5
// of the reference (full rank; 9e-6 with LoRA), so the bound has 25×
// headroom. A missing bias correction makes the first step ~3× too large, a
// wrong decay, clip scale or LR changes Δp by ≥ 1e-2: ≥ 20× the tolerance.
func TestStepsMatchReference(t *testing.T) {
	cfg := stepShape()
	inputs, targets := stepBatches(cfg, len(stepLRs))
	for _, tc := range []struct {
		lora    string
		threads int
	}{{"", 1}, {"", 2}, {"composed", 1}, {"fused", 2}} {
		name := fmt.Sprintf("lora=%q threads=%d", tc.lora, tc.threads)
		m, s := stepModel(t, tc.lora)
		rc := stepRefConfig(cfg, s)
		p0 := params64(m)
		ref := p0.Clone()
		trainable := map[string]bool{}
		for _, p := range m.Trainable() {
			trainable[p.Name] = true
		}
		opt, refOpt := train.NewAdamW(stepAdam), reference.NewAdamW(stepAdam.Beta1, stepAdam.Beta2, stepAdam.Eps, stepAdam.WeightDecay)
		c := kernels.NewCtx(tc.threads)
		for step, lr := range stepLRs {
			loss, norm, err := train.Step(c, m, opt, inputs[step], targets[step], lr, stepClip)
			if err != nil {
				t.Fatal(err)
			}
			res, err := reference.LossAndGrads(rc, ref, inputs[step], targets[step])
			if err != nil {
				t.Fatal(err)
			}
			for g := range res.Grads {
				if !trainable[g] {
					delete(res.Grads, g) // frozen W: no gradient, no update
				}
			}
			refNorm := reference.ClipGradNorm(res.Grads, stepClip)
			refOpt.Step(ref, res.Grads, lr)
			if refNorm <= stepClip {
				t.Fatalf("%s step %d: gradient norm %.3g is below the clip %g: the test would not check clipping", name, step, refNorm, stepClip)
			}
			if e := math.Abs(loss-res.Loss) / res.Loss; e > 1e-5 {
				t.Errorf("%s step %d: loss %.7f, reference %.7f", name, step, loss, res.Loss)
			}
			if e := math.Abs(norm-refNorm) / refNorm; e > 1e-4 {
				t.Errorf("%s step %d: gradient norm %.7f, reference %.7f", name, step, norm, refNorm)
			}
		}
		var worst float64
		var worstName string
		for _, p := range m.Params() {
			delta, refDelta := make([]float32, len(p.Raw())), make([]float64, len(p.Raw()))
			for i, v := range p.Raw() {
				delta[i] = float32(float64(v) - p0[p.Name][i])
				refDelta[i] = ref[p.Name][i] - p0[p.Name][i]
			}
			if !trainable[p.Name] {
				for i, v := range p.Raw() {
					if float64(v) != p0[p.Name][i] {
						t.Fatalf("%s: frozen %s changed", name, p.Name)
					}
				}
				continue
			}
			e := relErr32(delta, refDelta)
			if e > worst {
				worst, worstName = e, p.Name
			}
			if e > 5e-4 {
				t.Errorf("%s: change of %s over %d steps differs from the reference by %.3g (norm-relative)", name, p.Name, len(stepLRs), e)
			}
		}
		t.Logf("%s: worst parameter change error %.3g (%s)", name, worst, worstName)
	}
}

// TestStepAppliesClipAndAdamWExactly checks each step's optimizer
// arithmetic value by value: before every train.Step it computes the
// model's gradient itself (the backward pass is deterministic, so it is
// bit-identical to the one Step computes), applies clipping and AdamW in
// float64 to the current float32 weights and Adam moments, and compares the
// result with what Step produced. What differs is then only float32
// rounding of the update (~1e-6 of lr) and of the weights (~6e-8).
func TestStepAppliesClipAndAdamWExactly(t *testing.T) {
	cfg := stepShape()
	inputs, targets := stepBatches(cfg, len(stepLRs))
	for _, lora := range []string{"", "composed"} {
		m, _ := stepModel(t, lora)
		opt := train.NewAdamW(stepAdam)
		c := kernels.NewCtx(2)
		for step, lr := range stepLRs {
			// The gradient Step will compute, unclipped.
			c.Reset()
			for _, p := range m.Trainable() {
				p.ZeroGrad()
			}
			lossNode, err := m.Loss(c, inputs[step], targets[step])
			if err != nil {
				t.Fatal(err)
			}
			if err := ag.Backward(lossNode); err != nil {
				t.Fatal(err)
			}
			grads := reference.Params{}
			for _, p := range m.Trainable() {
				g := make([]float64, len(p.GradRaw()))
				for i, v := range p.GradRaw() {
					g[i] = float64(v)
				}
				grads[p.Name] = g
			}
			// The reference optimizer, loaded with the fast one's state.
			before := params64(m)
			expected := before.Clone()
			refOpt := reference.NewAdamW(stepAdam.Beta1, stepAdam.Beta2, stepAdam.Eps, stepAdam.WeightDecay)
			for name, st := range opt.States {
				refOpt.T[name] = st.Step
				refOpt.M[name], refOpt.V[name] = make([]float64, len(st.M)), make([]float64, len(st.V))
				for i := range st.M {
					refOpt.M[name][i], refOpt.V[name][i] = float64(st.M[i]), float64(st.V[i])
				}
			}
			clipped := grads.Clone()
			refNorm := reference.ClipGradNorm(clipped, stepClip)
			refOpt.Step(expected, clipped, lr)

			_, norm, err := train.Step(c, m, opt, inputs[step], targets[step], lr, stepClip)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(norm-refNorm) > 1e-12*refNorm {
				t.Fatalf("lora=%q step %d: Step's gradient norm %.15g, the same gradient's norm %.15g", lora, step, norm, refNorm)
			}
			for _, p := range m.Params() {
				if !p.RequiresGrad() {
					continue
				}
				st := opt.States[p.Name]
				if st == nil || st.Step != step+1 {
					t.Fatalf("lora=%q step %d: %s has optimizer state %+v, want step %d", lora, step, p.Name, st, step+1)
				}
				// Step leaves the clipped gradient in place.
				for i, g := range p.GradRaw() {
					if want := clipped[p.Name][i]; math.Abs(float64(g)-want) > 1e-6*math.Abs(want)+1e-30 {
						t.Fatalf("lora=%q step %d: clipped gradient %s[%d] = %g, want %g", lora, step, p.Name, i, g, want)
					}
				}
				for i, v := range p.Raw() {
					want := expected[p.Name][i]
					// float32 weights: half an ulp of |p|; the update: 1e-5 of lr
					// (float32 moments and constants, see TestAdamWEpsilonAfterBiasCorrection).
					tol := 1e-7*math.Abs(want) + 1e-5*lr
					if math.Abs(float64(v)-want) > tol {
						t.Fatalf("lora=%q step %d: %s[%d] = %.9g, want %.9g (before the step %.9g, clipped gradient %.3g)",
							lora, step, p.Name, i, v, want, before[p.Name][i], clipped[p.Name][i])
					}
				}
			}
		}
	}
}
