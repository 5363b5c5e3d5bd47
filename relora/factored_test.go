package relora

import (
	"math"
	"slices"
	"testing"
)

// A factored model trains exactly LoRA's count (both factors of the 7
// projections, plus embedding, head and norms) and holds nothing else: no
// frozen weight. Its factors start at the spread NewFactored promises: the
// entries of B·A have the full-rank init's std, and neither factor is zero.
func TestFactorizeCountsAndInitScale(t *testing.T) {
	m := nanoModel(t)
	Factorize(m, 4, 1)
	total, trainable := m.Count()
	if want := TrainableParams(m.Config, 4); trainable != want || total != want {
		t.Fatalf("factored model: %d params, %d trainable; want %d, all trainable", total, trainable, want)
	}
	var sum, sumSq float64
	var n int
	for _, b := range m.Blocks {
		for _, lin := range b.Proj {
			f, ok := lin.(*Factored)
			if !ok {
				t.Fatalf("a projection is %T, not factored", lin)
			}
			if allZeroF32(f.A.Raw()) || allZeroF32(f.B.Raw()) {
				t.Fatal("a factor starts at zero")
			}
			for _, v := range f.Effective() {
				sum += float64(v)
				sumSq += float64(v) * float64(v)
				n++
			}
		}
	}
	std := math.Sqrt(sumSq/float64(n) - (sum/float64(n))*(sum/float64(n)))
	// n ≈ 20k entries (not independent: they share factors), so allow 15%.
	if want := m.Config.InitStd; math.Abs(std-want) > 0.15*want {
		t.Errorf("entries of B·A have std %.4f, want the full-rank init's %.4f", std, want)
	}
	// Same seed, same factors; another seed, others.
	again, other := nanoModel(t), nanoModel(t)
	Factorize(again, 4, 1)
	Factorize(other, 4, 2)
	a := m.Blocks[0].Proj[0].(*Factored).A.Raw()
	if !slices.Equal(a, again.Blocks[0].Proj[0].(*Factored).A.Raw()) || slices.Equal(a, other.Blocks[0].Proj[0].(*Factored).A.Raw()) {
		t.Error("the factors are not a function of the seed")
	}
}

func allZeroF32(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

func TestIsProjectionWeight(t *testing.T) {
	for name, want := range map[string]bool{
		"layers.0.q.weight": true, "layers.12.down.weight": true, "layers.3.gate.weight": true,
		"layers.0.q.lora_a": false, "layers.0.q.factor_a": false, "layers.0.attn_norm": false,
		"embed": false, "head": false, "layers.x.q.weight": false, "layers..q.weight": false, "layers.0.qq.weight": false,
		"layers.0.q.weight.x": false, "layers.0.x.q.weight": false, "layers.0.weight": false, "layers.0..weight": false,
	} {
		if got := IsProjectionWeight(name); got != want {
			t.Errorf("IsProjectionWeight(%q) = %v, want %v", name, got, want)
		}
	}
	// The optimizer asks it of every parameter every step.
	if n := testing.AllocsPerRun(10, func() { IsProjectionWeight("layers.12.down.weight") }); n != 0 {
		t.Errorf("IsProjectionWeight allocates %v objects a call", n)
	}
}
