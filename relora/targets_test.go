package relora

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/relorago/harness/model"
)

// The attention targets wrap q, k, v and o of every block and leave gate,
// up and down plain Dense linears on their own (unfrozen) weights; the
// model's LoRA factors hold LoRAParams numbers; wrapping keeps the outputs
// and a merge keeps them too, touching only the wrapped weights.
func TestWrapTargetsAttentionWrapsOnlyAttention(t *testing.T) {
	m := nanoModel(t)
	ids := randomIDs(2 * m.Config.SeqLen)
	before := logits(t, m, ids)
	plain := map[string][]float32{}
	for _, p := range m.Params() {
		plain[p.Name] = slices.Clone(p.Raw())
	}
	WrapTargets(m, TargetsAttention, 1, 1, 1)
	if d := maxAbsDiff(before, logits(t, m, ids)); d != 0 {
		t.Fatalf("wrapping changed the outputs by %g", d)
	}
	factors := 0
	for l, b := range m.Blocks {
		for p, lin := range b.Proj {
			_, isLoRA := lin.(*LoRA)
			d, isDense := lin.(*model.Dense)
			if attention := model.Proj(p) <= model.ProjO; isLoRA != attention || isDense == attention {
				t.Fatalf("layer %d %s: %T", l, model.ProjNames[p], lin)
			}
			if isDense && !d.W.RequiresGrad() {
				t.Errorf("layer %d %s: a projection left plain was frozen by the wrap", l, model.ProjNames[p])
			}
		}
	}
	for _, l := range LoRAs(m) {
		factors += len(l.A.Raw()) + len(l.B.Raw())
	}
	if want := LoRAParams(m.Config, 1, TargetsAttention); factors != want || want != m.Config.Layers*4*2*m.Config.Dim {
		t.Fatalf("%d factor values, LoRAParams says %d", factors, want)
	}

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
	for _, p := range m.Params() {
		mlp := strings.Contains(p.Name, ".gate.") || strings.Contains(p.Name, ".up.") || strings.Contains(p.Name, ".down.")
		if mlp && !slices.Equal(plain[p.Name], p.Raw()) {
			t.Errorf("%s is not a target but the merge changed it", p.Name)
		}
	}
	for _, l := range LoRAs(m) {
		if !allZeroF32(l.B.Raw()) {
			t.Fatal("a merge left B non-zero")
		}
	}
}

// All targets draw exactly what Wrap drew before targets existed: the
// same A in every projection as wrapping each in block and projection
// order from the round-0 generator.
func TestWrapTargetsAllIsWrap(t *testing.T) {
	a, b := nanoModel(t), nanoModel(t)
	Wrap(a, 4, 8, 3)
	rng := factorRNG(3, 0)
	for _, blk := range b.Blocks {
		for p, lin := range blk.Proj {
			blk.Proj[p] = NewLoRA(lin.(*model.Dense).W, 4, 8, rng)
		}
	}
	la, lb := LoRAs(a), LoRAs(b)
	if len(la) != 7*a.Config.Layers || len(la) != len(lb) {
		t.Fatalf("%d and %d LoRA linears", len(la), len(lb))
	}
	for i := range la {
		if !slices.Equal(la[i].A.Raw(), lb[i].A.Raw()) {
			t.Fatalf("LoRA %d: A differs from the one drawn in order", i)
		}
	}
}

// The counts of Table 5's model (small64: d 64, 4 layers, ffn 176): rank 8
// on every projection is the 39,424 factor values the table reports (with
// its head); rank 1 on attention is 4·(64+64)·4 = 2,048.
func TestLoRAParamsOfTheFinetuningModel(t *testing.T) {
	cfg, err := model.Preset("small64")
	if err != nil {
		t.Fatal(err)
	}
	if got := LoRAParams(cfg, 8, TargetsAll); got != 39424 {
		t.Errorf("rank 8, all: %d", got)
	}
	if got := LoRAParams(cfg, 1, TargetsAttention); got != 2048 {
		t.Errorf("rank 1, attention: %d", got)
	}
	if got, want := TrainableParams(cfg, 8), 2*cfg.Vocab*cfg.Dim+cfg.Layers*2*cfg.Dim+cfg.Dim+39424; got != want {
		t.Errorf("TrainableParams %d, want %d", got, want)
	}
}

// targets is LoRA's: an unknown value names the field and the values it
// may take, and any other method must leave it out.
func TestTargetsAreValidated(t *testing.T) {
	lora := Default()
	lora.Method = MethodLoRA
	for _, ok := range []string{TargetsAll, TargetsAttention} {
		c := lora
		c.Targets = ok
		if err := c.Validate(100); err != nil {
			t.Errorf("targets %q: %v", ok, err)
		}
	}
	c := lora
	c.Targets = "mlp"
	err := c.Validate(100)
	if err == nil || !strings.Contains(err.Error(), "targets") || !strings.Contains(err.Error(), `"attention"`) {
		t.Errorf("unknown targets: %v", err)
	}
	for _, method := range []string{MethodFull, MethodControl, MethodGaLore, MethodLowRank} {
		c := Default()
		c.Method, c.Rank, c.Targets = method, 8, TargetsAttention
		if method == MethodGaLore {
			c.GaLoreRefreshEvery, c.GaLoreScale = DefaultGaLoreRefreshEvery, DefaultGaLoreScale
		}
		if err := c.Validate(100); err == nil || !strings.Contains(err.Error(), "targets") {
			t.Errorf("%s with targets: %v", method, err)
		}
	}
}
