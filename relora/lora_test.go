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

func TestReinitDrawsKaimingAAndZeroB(t *testing.T) {
	m := nanoModel(t)
	Wrap(m, 4, 4, 1)
	firstA := append([]float32(nil), LoRAs(m)[0].A.Raw()...)
	for _, l := range LoRAs(m) {
		l.B.Raw()[0] = 1
	}
	MergeAll(m, 1, 1)
	for i, l := range LoRAs(m) {
		bound := KaimingBound(l.A.Cols())
		var maxA float64
		for _, v := range l.A.Raw() {
			maxA = math.Max(maxA, math.Abs(float64(v)))
		}
		if maxA > bound || maxA < 0.5*bound {
			t.Errorf("linear %d: max |A| = %g, want within (bound/2, bound = %g]", i, maxA, bound)
		}
		for _, v := range l.B.Raw() {
			if v != 0 {
				t.Fatalf("linear %d: B not zero after re-init", i)
			}
		}
	}
	if maxAbsDiff(firstA, LoRAs(m)[0].A.Raw()) == 0 {
		t.Error("re-init drew the same A as the wrap: restarts would not explore new directions")
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
