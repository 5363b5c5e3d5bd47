package experiments

import (
	"math"
	"testing"

	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// Fine-tuning added a field to train.Config (Finetune, a pointer left out
// of the JSON when nil): every pre-training config, and so every run hash
// and cached run, is what it was before. These are Table 1's hashes at the
// default preset taken before the field existed.
func TestFinetuneFieldLeavesPretrainingHashesAlone(t *testing.T) {
	p, err := Get("default")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"LoRA":              "7495e571db902405",
		"+R":                "cba05959bca11382",
		"+R+O":              "bd9fd12c0e5aee9e",
		"+R+J":              "829bcb2c5c2bb0d6",
		"+R+O+J":            "23c4d6a837089dc8",
		"LoRA+WS":           "251cedb99951d200",
		"ReLoRA (R+O+J+WS)": "f522fd5339e9a425",
		"Full-rank":         "54eba88d54fc3c86",
	}
	for _, r := range Ablation(p) {
		if got := runner.Hash(r.Config); got != want[r.Row] {
			t.Errorf("%s: hash %s, was %s", r.Row, got, want[r.Row])
		}
	}
}

// finetuneSpec is a preset and its Table 5 spec.
func finetuneSpec(t *testing.T, name string) (Preset, FinetuneSpec) {
	t.Helper()
	p, err := Get(name)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Finetune(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, spec
}

// Table 5's pre-trained model is Table 1's full-rank seed-1 configuration
// trained FinetunePretrainLonger times as long, every other setting (the
// schedule's warmup and floor, the rate, the data) its own, and a run of its
// own in the cache; the quick preset's smoke test starts from Table 1's run.
func TestFinetunePretrainedIsTable1Longer(t *testing.T) {
	for _, name := range []string{"default", "quick"} {
		p, spec := finetuneSpec(t, name)
		var t1 train.Config
		for _, r := range Ablation(p) {
			if r.Row == RowFull && r.Seed == 1 {
				t1 = r.Config
			}
		}
		got := spec.Pretrained.Config
		if name == "quick" {
			if runner.Hash(got) != runner.Hash(t1) {
				t.Fatalf("quick: pre-trained %s, Table 1's run %s", runner.Hash(got), runner.Hash(t1))
			}
			continue
		}
		if got.Steps != FinetunePretrainLonger*t1.Steps || got.SaveAt != nil {
			t.Fatalf("%s: pre-trained for %d steps (save at %v), Table 1's run %d", name, got.Steps, got.SaveAt, t1.Steps)
		}
		back := got
		back.Steps, back.EvalEvery, back.CheckpointEvery, back.SaveAt = t1.Steps, t1.EvalEvery, t1.CheckpointEvery, t1.SaveAt
		if runner.Hash(back) != runner.Hash(t1) {
			t.Fatalf("%s: the pre-trained config differs from Table 1's in more than its length", name)
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// Table 5's runs start from the pre-trained seed-1 run, name it in
// their config, and differ from each other (one cache entry per run); each
// row's settings say what the row is, and the primary low-rank rows train
// at most 2% of the model.
func TestFinetuneSpec(t *testing.T) {
	for _, name := range []string{"default", "quick"} {
		_, spec := finetuneSpec(t, name)
		if spec.Pretrained.Row != RowFull || spec.Pretrained.Seed != 1 {
			t.Fatalf("%s: starts from %s seed %d", name, spec.Pretrained.Row, spec.Pretrained.Seed)
		}
		grid, err := spec.FirstSearch()
		if err != nil {
			t.Fatal(err)
		}
		if want := len(spec.Tasks) * len(spec.Methods) * 3; len(grid) != want {
			t.Fatalf("%s: %d first-round runs, want %d", name, len(grid), want)
		}
		seen := map[string]bool{}
		for _, r := range grid {
			h := runner.Hash(r.Config)
			if seen[h] {
				t.Fatalf("%s: two search runs share hash %s", name, h)
			}
			seen[h] = true
			f := r.Config.Finetune
			if runner.Hash(*f.From) != runner.Hash(spec.Pretrained.Config) {
				t.Fatalf("%s: a run starts from another model", name)
			}
			row, _ := FinetuneRowByID(r.Row)
			rl := r.Config.ReLoRA
			switch row.Method {
			case train.FinetuneReLoRA:
				if !rl.Restarts || !rl.OptimizerReset || !rl.Jagged || rl.WarmStartSteps != 0 || len(rl.MergeSteps(r.Config.Steps)) != 3 {
					t.Fatalf("%s: ReLoRA run %+v", name, rl)
				}
				fallthrough
			case train.FinetuneLoRA:
				if rl.Rank != row.Rank || rl.Alpha != float64(row.Rank) || rl.Targets != row.Targets {
					t.Fatalf("%s: %s run %+v", name, row.ID, rl)
				}
			case train.FinetuneAdapter:
				if f.AdapterDim != row.AdapterDim || f.AdapterDim == 0 {
					t.Fatalf("%s: adapter run %+v", name, f)
				}
			case train.FinetunePrefix:
				if f.PrefixLen != row.PrefixLen || f.PrefixLen == 0 {
					t.Fatalf("%s: prefix run %+v", name, f)
				}
			}
		}
		chosen := map[string]float64{FinetuneKey("cola", "lora"): grid[len(spec.Methods)*0+3*1+1].Config.LR}
		seeds, err := spec.SeedRuns(chosen)
		if err != nil || len(seeds) != len(spec.Seeds) || seeds[0].Config.LR != chosen["cola/lora"] {
			t.Fatalf("%s: seed runs %v %+v", name, err, seeds)
		}
		if runner.Hash(seeds[0].Config) != runner.Hash(grid[3*1+1].Config) {
			t.Fatalf("%s: seed 1 at the chosen rate is not the search's run", name)
		}
	}
}

// The search widens past whichever end is best by a factor of 3, stops at
// an interior best or at its cap, and keeps rates at their short decimals
// (so 3 × 1e-3 is the 0.003 the earlier grids trained, not 0.0030000000000000005).
func TestFinetuneNextRate(t *testing.T) {
	pts := func(best float64, lrs ...float64) []LRLoss {
		var out []LRLoss
		for _, lr := range lrs {
			out = append(out, LRLoss{LR: lr, Loss: math.Abs(math.Log(lr / best))})
		}
		return out
	}
	if lr, ok := FinetuneNextRate(pts(1e-2, 1e-3, 3e-3, 1e-2)); !ok || lr != 0.03 {
		t.Fatalf("best at the top: next %v %v, want 0.03", lr, ok)
	}
	if lr, ok := FinetuneNextRate(pts(1e-4, 1e-3, 3e-3, 1e-2)); !ok || lr != 0.000333333 {
		t.Fatalf("best at the bottom: next %v %v", lr, ok)
	}
	if _, ok := FinetuneNextRate(pts(3e-3, 1e-3, 3e-3, 1e-2)); ok {
		t.Fatal("an interior best searched further")
	}
	if _, ok := FinetuneNextRate(pts(1, 1e-3, 3e-3, 1e-2, 3e-2, 9e-2, 0.27)); ok {
		t.Fatal("searched past the cap")
	}
	for _, r := range FinetuneRows {
		if roundRate(r.Centre*FinetuneSearchStep) != r.Centre*3 && roundRate(r.Centre*3) != roundRate(r.Centre*FinetuneSearchStep) {
			t.Fatalf("row %s: centre × 3 is not a short decimal", r.ID)
		}
	}
}

// The primary low-rank, adapter and prefix rows train at most 2% of the
// model's parameters besides the head, and comparably many.
func TestFinetunePrimaryRowsAreParameterEfficient(t *testing.T) {
	p, _ := Get("default")
	spec, err := Finetune(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range FinetuneRows {
		cfg, err := spec.Config("books", r.ID, 1e-3, 1)
		if err != nil {
			t.Fatal(err)
		}
		// The head is the task's, not the method's: count without it.
		trainable, total, err := train.FinetuneParamCounts(cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		share := float64(trainable) / float64(total)
		switch {
		case r.Method == train.FinetuneFull || r.Method == train.FinetuneProbe:
		case r.Primary && (share > 0.02 || trainable < 1000):
			t.Errorf("primary row %s trains %d of %d parameters (%.2f%%)", r.ID, trainable, total, 100*share)
		case !r.Primary && share <= 0.02:
			t.Errorf("secondary row %s is inside the 2%% regime (%d of %d)", r.ID, trainable, total)
		}
		t.Logf("%-10s trains %6d of %d parameters (%.2f%%) besides the head", r.ID, trainable, total, 100*share)
	}
}
