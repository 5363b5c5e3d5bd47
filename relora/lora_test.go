package relora

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
)

func nanoModel(t *testing.T) *model.Model {
	t.Helper()
	cfg, err := model.Preset("nano")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func logits(t *testing.T, m *model.Model, ids []int32) []float32 {
	t.Helper()
	c := kernels.NewCtx(1)
	out, err := m.Forward(c, ids)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), kernels.Data(out.Value())...)
}

func randomIDs(n int) []int32 {
	rng := rand.New(rand.NewPCG(5, 6))
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(rng.IntN(256))
	}
	return ids
}

// Wrapping (B = 0) and merging (W absorbs s·B·A, B back to 0) must not change
// what the network computes.
func TestWrapAndMergeKeepOutputs(t *testing.T) {
	m := nanoModel(t)
	ids := randomIDs(2 * m.Config.SeqLen)
	before := logits(t, m, ids)
	Wrap(m, 4, 8, 1)
	if d := maxAbsDiff(before, logits(t, m, ids)); d != 0 {
		t.Fatalf("wrapping changed the outputs by %g", d)
	}
	// Give every B a trained-looking value so the merge has work to do.
	rng := rand.New(rand.NewPCG(9, 9))
	for _, l := range LoRAs(m) {
		for i := range l.B.Raw() {
			l.B.Raw()[i] = float32(rng.NormFloat64() * 0.05)
		}
	}
	trained := logits(t, m, ids)
	if d := maxAbsDiff(before, trained); d < 1e-3 {
		t.Fatalf("non-zero B should change the outputs, changed by %g", d)
	}
	MergeAll(m, 1, 1)
	if d := maxAbsDiff(trained, logits(t, m, ids)); d > 1e-5 {
		t.Fatalf("merge changed the outputs by %g (> 1e-5)", d)
	}
}

// A is drawn from Kaiming-uniform with a = √5 (PyTorch's nn.Linear default,
// the official ReLoRaLinear's init): U(−b, b) with
//
//	b = gain·√(3/fan_in),  gain = √(2/(1 + a²))  ⇒  b = √(6/((1 + a²)·fan_in)) = 1/√fan_in,
//
// written out here rather than taken from KaimingBound. On 131,072 draws
// (r 512 × fan_in 256, b = 1/16) every |A| ≤ b, the largest is within 0.1%
// of b (a uniform sample misses that with probability (1 − 1e-3)^131072 ≈
// e^−131), the mean is 0 and the variance b²/3 within 5 standard errors —
// for the wrap and again after a merge, which also zeroes B and draws a new A.
func TestReinitDrawsKaimingAAndZeroB(t *testing.T) {
	const out, fanIn, rank = 8, 256, 512
	a := math.Sqrt(5)
	bound := math.Sqrt(6 / ((1 + a*a) * fanIn))
	if math.Abs(bound-1.0/16) > 1e-15 {
		t.Fatalf("closed form gives %g, want 1/√256 = 1/16", bound)
	}
	w := kernels.NewParam(out, fanIn)
	l := NewLoRA(w, rank, 4, rand.New(rand.NewPCG(1, 2)))
	check := func(stage string) {
		t.Helper()
		xs := l.A.Raw()
		n := float64(len(xs))
		var maxA, sum, sumSq float64
		for _, v := range xs {
			f := float64(v)
			maxA = math.Max(maxA, math.Abs(f))
			sum += f
			sumSq += f * f
		}
		if maxA > bound {
			t.Errorf("%s: max |A| = %.8g exceeds the bound %.8g", stage, maxA, bound)
		}
		if maxA < bound*(1-1e-3) {
			t.Errorf("%s: max |A| = %.8g, want within 0.1%% of the bound %.8g (the draw is too narrow)", stage, maxA, bound)
		}
		// Mean: U(−b, b) has variance b²/3. Variance: x² has variance 4b⁴/45.
		if mean := sum / n; math.Abs(mean) > 5*math.Sqrt(bound*bound/3/n) {
			t.Errorf("%s: mean of A = %.3g, want 0 ± %.2g", stage, mean, 5*math.Sqrt(bound*bound/3/n))
		}
		if v, se := sumSq/n, math.Sqrt(4*math.Pow(bound, 4)/45/n); math.Abs(v-bound*bound/3) > 5*se {
			t.Errorf("%s: variance of A = %.6g, want b²/3 = %.6g ± %.2g", stage, v, bound*bound/3, 5*se)
		}
		for _, v := range l.B.Raw() {
			if v != 0 {
				t.Fatalf("%s: B is not zero", stage)
			}
		}
	}
	check("wrap")
	first := append([]float32(nil), l.A.Raw()...)
	for i := range l.B.Raw() {
		l.B.Raw()[i] = 1
	}
	l.MergeAndReinit(rand.New(rand.NewPCG(3, 4)))
	check("after merge")
	if maxAbsDiff(first, l.A.Raw()) == 0 {
		t.Error("re-init drew the same A as the wrap: restarts would not explore new directions")
	}

	// The model's linears: each A's bound follows its own fan-in (d for
	// q, k, v, o, gate, up; ffn for down).
	m := nanoModel(t)
	Wrap(m, 4, 4, 1)
	MergeAll(m, 1, 1)
	for i, l := range LoRAs(m) {
		b := 1 / math.Sqrt(float64(l.A.Cols()))
		for _, v := range l.A.Raw() {
			if math.Abs(float64(v)) > b {
				t.Fatalf("linear %d (fan-in %d): |A| = %g exceeds 1/√fan_in = %g", i, l.A.Cols(), v, b)
			}
		}
	}
}

// The control row: a full-rank model whose total parameter count matches
// the LoRA run's trainable count. Counts from the formulas, written out:
//
//	LoRA trainable = 2·V·d + L·(r·(4·(d + d) + 2·(d + f) + (f + d)) + 2·d) + d
//	full total     = 2·V·d + L·(4·d² + 3·d·f + 2·d) + d
//
// nano (V 256, d 32, L 2, f 88), r 4: trainable = 16384 + 2·(4·616 + 64) + 32
// = 21472. Full-rank shapes near it (f = 2.75·d rounded to even): L 2, d 20,
// f 56 has 20260 (5.6% off); L 2, d 22, f 60 has 23166 (7.9%); L 1, d 26,
// f 72 has 16384·26/32 + 2704 + 5616 + 52 + 26 = 21710 (1.1%), the closest;
// none is within 1%, so the closest wins. Head count: the most ≤ 2 that
// leave an even head size: 26/2 = 13 is odd, so 1 head of 26.
func TestControlShapeAndCountByHand(t *testing.T) {
	base, err := model.Preset("nano")
	if err != nil {
		t.Fatal(err)
	}
	full := func(c model.Config) int {
		V, d, f := c.Vocab, c.Dim, c.FFN
		return 2*V*d + c.Layers*(4*d*d+3*d*f+2*d) + d
	}
	if got := TrainableParams(base, 4); got != 21472 {
		t.Fatalf("nano r 4: TrainableParams %d, want 21472", got)
	}
	c, err := ControlConfig(base, 21472)
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.Layers, want.Dim, want.Heads, want.FFN = 1, 26, 1, 72
	if c != want {
		t.Fatalf("control shape %+v, want %+v", c, want)
	}
	if full(c) != 21710 || c.NumParams() != 21710 {
		t.Fatalf("control has %d params (NumParams %d), want 21710", full(c), c.NumParams())
	}
	// The rule, checked over every candidate: no shape of the same family is
	// closer to the target than the one chosen (when none is within 1%).
	for layers := 1; layers <= base.Layers; layers++ {
		for d := 4; d <= base.Dim; d += 2 {
			cand := base
			cand.Layers, cand.Dim = layers, d
			cand.FFN = max(2, int(2.75*float64(d)/2+0.5)*2)
			e := full(cand) - 21472
			if e < 0 {
				e = -e
			}
			if e*100 <= 21472 {
				t.Errorf("candidate L %d d %d has %d params, within 1%% of 21472: the rule should prefer it", layers, d, full(cand))
			}
			if e < 21710-21472 {
				t.Errorf("candidate L %d d %d has %d params, closer to 21472 than the chosen 21710", layers, d, full(cand))
			}
		}
	}
}

func TestControlMatchesTargetWithinFivePercent(t *testing.T) {
	for _, preset := range []string{"tiny", "small64", "nano"} {
		base, _ := model.Preset(preset)
		for _, rank := range []int{4, 8, 32} {
			if 4*rank > base.Dim {
				continue // LoRA is only smaller than its base for r well below d
			}
			target := TrainableParams(base, rank)
			c, err := ControlConfig(base, target)
			if err != nil {
				t.Fatal(err)
			}
			if rel := math.Abs(float64(c.NumParams()-target)) / float64(target); rel > 0.05 {
				t.Errorf("%s r=%d: control %+v has %d params, target %d (%.1f%% off)", preset, rank, c, c.NumParams(), target, 100*rel)
			}
			if c.NumParams() >= base.NumParams() {
				t.Errorf("%s r=%d: control is not smaller than the base", preset, rank)
			}
		}
	}
}

func TestTrainableParamsCountsTheWrappedModel(t *testing.T) {
	m := nanoModel(t)
	Wrap(m, 4, 4, 1)
	_, trainable := m.Count()
	if want := TrainableParams(m.Config, 4); trainable != want {
		t.Fatalf("wrapped model trains %d params, TrainableParams says %d", trainable, want)
	}
}

func maxAbsDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// The fused LoRA op computes the same network as the composed one.
func TestFusedLoRAMatchesComposed(t *testing.T) {
	m := nanoModel(t)
	ids := randomIDs(2 * m.Config.SeqLen)
	Wrap(m, 4, 8, 1)
	rng := rand.New(rand.NewPCG(9, 9))
	for _, l := range LoRAs(m) {
		for i := range l.B.Raw() {
			l.B.Raw()[i] = float32(rng.NormFloat64() * 0.05)
		}
	}
	composed := logits(t, m, ids)
	for _, l := range LoRAs(m) {
		l.Fused = true
	}
	if d := maxAbsDiff(composed, logits(t, m, ids)); d > 1e-5 {
		t.Fatalf("fused and composed LoRA differ by %g", d)
	}
}
