package train

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
)

// ftTargets is ftConfig with the relora block derived from ftLow at another
// rank and targets.
func ftTargets(t *testing.T, pre Config, ckpt, method string, steps, rank int, targets string) Config {
	t.Helper()
	cfg := ftConfig(t, pre, ckpt, "books", method, steps)
	low := ftLow
	low.Rank, low.Targets = rank, targets
	var err error
	if cfg.ReLoRA, err = FinetuneMethodConfig(method, low, cfg.LR); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// LoRA at rank 1 on the attention projections trains their factors and
// the head, nothing else: the feed-forward projections have no factors in
// the checkpoint and keep their pre-trained weights, and the run's
// trainable count is the factors' and the head's.
func TestFinetuneLoRAOnAttentionOnly(t *testing.T) {
	pre, ckpt := pretrained(t)
	base, err := LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ftTargets(t, pre, ckpt, FinetuneLoRA, 2, 1, relora.TargetsAttention)
	if cfg.ReLoRA.Targets != relora.TargetsAttention {
		t.Fatalf("the method's relora block lost the targets: %+v", cfg.ReLoRA)
	}
	dir := t.TempDir()
	res := runIn(t, cfg, dir)
	ck, err := LoadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	head := model.NewHead(cfg.Model.Dim, cfg.Finetune.Outputs, false, cfg.Model.InitStd, cfg.Seed^0x636c73)
	heads := 0
	for _, p := range head.Params() {
		heads += len(p.Raw())
	}
	if want := relora.LoRAParams(cfg.Model, 1, relora.TargetsAttention) + heads; res.TrainableParams != want {
		t.Errorf("%d trainable parameters, want %d (factors and head)", res.TrainableParams, want)
	}
	for name, after := range ck.Params {
		if strings.HasPrefix(name, "cls.") {
			continue
		}
		mlp := strings.Contains(name, ".gate.") || strings.Contains(name, ".up.") || strings.Contains(name, ".down.")
		if mlp && relora.IsLoRAParam(name) {
			t.Errorf("%s: a feed-forward projection was wrapped", name)
		}
		before, ok := base.Params[name]
		if changed := !ok || !slices.Equal(before, after); changed != relora.IsLoRAParam(name) {
			t.Errorf("%s changed %v", name, changed)
		}
	}
	if _, ok := ck.Adam["layers.0.gate.weight"]; ok {
		t.Error("a frozen feed-forward weight has optimizer state")
	}
}

// A ReLoRA fine-tune on the attention projections resumes exactly: the
// folder's checkpoint holds factors of the targeted projections only, and
// the resumed run wraps the same ones before restoring them.
func TestFinetuneLoRATargetsResume(t *testing.T) {
	pre, ckpt := pretrained(t)
	resumeMatches(t, ftTargets(t, pre, ckpt, FinetuneReLoRA, 10, 1, relora.TargetsAttention), 6)
}

// A pre-training ReLoRA run on the attention projections switches, merges
// and resumes like one on every projection: killed after the switch and a
// merge, it logs exactly what an uninterrupted run logs; its feed-forward
// projections stay plain and train full-rank.
func TestPretrainingTargetsResume(t *testing.T) {
	cfg := reloraConfig(t, 30)
	cfg.ReLoRA.Targets = relora.TargetsAttention
	cfg.CheckpointEvery = 10
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	whole := t.TempDir()
	runIn(t, cfg, whole)
	split := t.TempDir()
	cut := cfg
	cut.stopAfter = 23 // the checkpoint holds step 20, after the switch; the first merge (step 21) is redone
	runIn(t, cut, split)
	runIn(t, cfg, split)
	if a, b := readFile(t, filepath.Join(whole, MetricsFile)), readFile(t, filepath.Join(split, MetricsFile)); !bytes.Equal(a, b) {
		t.Fatalf("resumed metrics differ:\n%s\n---\n%s", a, b)
	}
	r := startRun(t, cfg, 15)
	if n := len(relora.LoRAs(r.m)); n != 4*cfg.Model.Layers {
		t.Fatalf("%d LoRA linears, want %d", n, 4*cfg.Model.Layers)
	}
	for _, b := range r.m.Blocks {
		d, ok := b.Proj[model.ProjUp].(*model.Dense)
		if !ok || !d.W.RequiresGrad() {
			t.Fatalf("up projection %T, trainable %v", b.Proj[model.ProjUp], ok && d.W.RequiresGrad())
		}
	}
}
