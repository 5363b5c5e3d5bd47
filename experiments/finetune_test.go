package experiments

import (
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

// Table 5's runs start from Table 1's full-rank seed-1 run, name it in
// their config, and differ from each other (one cache entry per run); the
// methods' low-rank settings say what the method is.
func TestFinetuneSpec(t *testing.T) {
	for _, name := range []string{"default", "quick"} {
		p, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := Finetune(p)
		if err != nil {
			t.Fatal(err)
		}
		if spec.Pretrained.Row != RowFull || spec.Pretrained.Seed != 1 {
			t.Fatalf("%s: starts from %s seed %d", name, spec.Pretrained.Row, spec.Pretrained.Seed)
		}
		grid, err := spec.GridRuns()
		if err != nil {
			t.Fatal(err)
		}
		if want := len(spec.Tasks) * len(spec.Methods) * 3; len(grid) != want {
			t.Fatalf("%s: %d grid runs, want %d", name, len(grid), want)
		}
		seen := map[string]bool{}
		for _, r := range grid {
			h := runner.Hash(r.Config)
			if seen[h] {
				t.Fatalf("%s: two grid runs share hash %s", name, h)
			}
			seen[h] = true
			f := r.Config.Finetune
			if runner.Hash(*f.From) != runner.Hash(spec.Pretrained.Config) {
				t.Fatalf("%s: a run starts from another model", name)
			}
			rl := r.Config.ReLoRA
			switch f.Method {
			case train.FinetuneReLoRA:
				if !rl.Restarts || !rl.OptimizerReset || !rl.Jagged || rl.WarmStartSteps != 0 || len(rl.MergeSteps(r.Config.Steps)) != 3 {
					t.Fatalf("%s: ReLoRA run %+v", name, rl)
				}
			case train.FinetuneLoRA:
				if rl.Restarts || rl.Rank != p.Base.ReLoRA.Rank {
					t.Fatalf("%s: LoRA run %+v", name, rl)
				}
			}
		}
		chosen := map[string]float64{"cola/lora": FinetuneGrids[train.FinetuneLoRA][1]}
		seeds, err := spec.SeedRuns(chosen)
		if err != nil || len(seeds) != len(spec.Seeds) || seeds[0].Config.LR != chosen["cola/lora"] {
			t.Fatalf("%s: seed runs %v %+v", name, err, seeds)
		}
		if runner.Hash(seeds[0].Config) != runner.Hash(grid[len(spec.Methods)*0+3*1+1].Config) {
			t.Fatalf("%s: seed 1 at the chosen rate is not the grid's run", name)
		}
	}
}

// Table 5 searches and trains the methods with a learning-rate grid: the
// paper's four. Prefix tuning, which train offers besides, adds no run to
// the table (its committed records are the table's every run).
func TestFinetuneTableMethods(t *testing.T) {
	p, err := Get("default")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Finetune(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{train.FinetuneFull, train.FinetuneLoRA, train.FinetuneReLoRA, train.FinetuneProbe}
	if len(spec.Methods) != len(want) {
		t.Fatalf("Table 5's methods %v, want %v", spec.Methods, want)
	}
	for i, m := range want {
		if spec.Methods[i] != m || FinetuneRowNames[m] == "" {
			t.Fatalf("Table 5's methods %v, want %v (each with a row name)", spec.Methods, want)
		}
	}
}
