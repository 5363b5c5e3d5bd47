package train

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/tasks"
)

// pretrained trains a nano full-rank run into a temporary folder and
// returns its config and final checkpoint.
func pretrained(t *testing.T) (Config, string) {
	t.Helper()
	cfg := nanoConfig(t, 20)
	dir := t.TempDir()
	runIn(t, cfg, dir)
	return cfg, filepath.Join(dir, CheckpointFile)
}

// ftLow is the low-rank settings ftConfig's runs take their relora block from.
var ftLow = relora.Config{Rank: 4, Alpha: 4, ResetEvery: 3, RestartWarmup: 1, PruneMode: relora.PruneRandom, PruneRatio: 0.999}

// ftConfig is a small fine-tuning run of a task by a method.
func ftConfig(t *testing.T, pre Config, ckpt, task, method string, steps int) Config {
	t.Helper()
	spec, err := tasks.Get(task)
	if err != nil {
		t.Fatal(err)
	}
	cfg := pre
	from := pre
	cfg.Finetune = &FinetuneConfig{Task: task, TaskSeed: 1, TaskVersion: tasks.Version, Outputs: spec.Outputs(), Method: method, Pooling: PoolMean,
		TrainExamples: 200, DevExamples: 40, From: &from}
	if method == FinetuneAdapter {
		cfg.Finetune.AdapterDim = 4
	}
	cfg.Data, cfg.Steps, cfg.Warmup, cfg.EvalEvery, cfg.CheckpointEvery, cfg.LR = "task:"+task, steps, 0, max(1, steps/2), 4, 3e-3
	if cfg.ReLoRA, err = FinetuneMethodConfig(method, ftLow, cfg.LR); err != nil {
		t.Fatal(err)
	}
	if method == FinetunePrefix {
		cfg.Finetune.PrefixLen = 4
	}
	cfg.WarmStartFrom = ckpt
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A fine-tuning step changes exactly what its method trains: everything but
// the (unused) LM head for full fine-tuning, the LoRA factors for LoRA and
// ReLoRA (the pre-trained weights, embeddings and norms stay), the prefixes
// for prefix tuning, the adapters for the adapter method, nothing of the
// model for the probe; the head always.
func TestFinetuneTrainsOnlyItsMethodsParameters(t *testing.T) {
	pre, ckpt := pretrained(t)
	base, err := LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range FinetuneMethods {
		cfg := ftConfig(t, pre, ckpt, "books", method, 2)
		dir := t.TempDir()
		res := runIn(t, cfg, dir)
		if res.Status != StatusOK || res.Finetune == nil {
			t.Fatalf("%s: %+v", method, res)
		}
		ck, err := LoadCheckpoint(filepath.Join(dir, CheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		head := model.NewHead(cfg.Model.Dim, cfg.Finetune.Outputs, false, cfg.Model.InitStd, cfg.Seed^0x636c73)
		for _, p := range head.Params() {
			if slices.Equal(ck.Params[p.Name], p.Raw()) {
				t.Errorf("%s: the head's %s did not train", method, p.Name)
			}
		}
		for name, after := range ck.Params {
			if strings.HasPrefix(name, "cls.") {
				continue
			}
			before, ok := base.Params[name]
			changed := !ok || !slices.Equal(before, after)
			var want bool
			switch {
			case relora.IsLoRAParam(name):
				want = true // B leaves zero at the first step, A at the second
			case strings.Contains(name, ".prefix."):
				want = method == FinetunePrefix
			case strings.Contains(name, ".adapter."):
				want = true // not in the pre-trained model; U leaves zero at the first step, D at the second
			case method == FinetuneFull:
				want = name != "head"
			}
			if changed != want {
				t.Errorf("%s: %s changed %v, want %v", method, name, changed, want)
			}
		}
		wantTrainable := map[string]bool{FinetuneFull: true, FinetuneLoRA: true, FinetuneReLoRA: true, FinetunePrefix: true, FinetuneAdapter: true, FinetuneProbe: true}
		if !wantTrainable[method] || res.TrainableParams <= 0 || res.TrainableParams >= res.TotalParams {
			t.Errorf("%s: %d of %d parameters trainable", method, res.TrainableParams, res.TotalParams)
		}
	}
}

// A small fine-tune learns: the training loss falls, every dev eval is
// scored, ReLoRA merges on its schedule and resets the optimizer, and the
// result carries the task's baseline.
func TestFinetuneEndToEnd(t *testing.T) {
	pre, ckpt := pretrained(t)
	for _, task := range []string{"books", "similarity"} {
		cfg := ftConfig(t, pre, ckpt, task, FinetuneReLoRA, 10)
		dir := t.TempDir()
		res := runIn(t, cfg, dir)
		ft := res.Finetune
		if res.Status != StatusOK || res.Merges != 3 || len(res.Resets) != 3 || len(ft.Evals) != 2 || len(res.Evals) != 2 {
			t.Fatalf("%s: status %s, merges %d, resets %d, evals %d/%d", task, res.Status, res.Merges, len(res.Resets), len(ft.Evals), len(res.Evals))
		}
		if ft.Train != 200 || ft.Dev != 40 || ft.Fingerprint == "" || len(ft.Metrics) == 0 || ft.Score != ft.Evals[1].Score {
			t.Fatalf("%s: result %+v", task, ft)
		}
		ms, err := ReadMetrics(filepath.Join(dir, MetricsFile))
		// Merges after steps 4, 7 and 10 (their learning rate is 0: the
		// jagged schedule's restart step), the dev set scored at 5 and 10.
		if err != nil || len(ms) != 10 || ms[3].Event != "merge+reset" || ms[3].LR != 0 || ms[4].ValLoss == nil || ms[5].ValLoss != nil || ms[9].ValLoss == nil {
			t.Fatalf("%s: metrics %v %+v", task, err, ms)
		}
	}
}

// Killed and started again, a fine-tuning run logs and ends exactly as an
// uninterrupted one; a finished folder returns its result and trains nothing.
func TestFinetuneResumeAndFinished(t *testing.T) {
	pre, ckpt := pretrained(t)
	resumeMatches(t, ftConfig(t, pre, ckpt, "books", FinetuneReLoRA, 10), 6) // the checkpoint holds step 4, after the first merge
}

// resumeMatches runs a fine-tuning config of 10 steps (checkpoints every
// 4) whole, and killed after stopAfter steps and started again, and
// requires the same metrics and result; then the finished folder must
// return its result without training.
func resumeMatches(t *testing.T, cfg Config, stopAfter int) {
	t.Helper()
	whole := t.TempDir()
	first := runIn(t, cfg, whole)

	split := t.TempDir()
	cut := cfg
	cut.stopAfter = stopAfter
	runIn(t, cut, split)
	again := cfg
	again.WarmStartFrom = "" // a resume needs only the folder's own checkpoint
	second := runIn(t, again, split)
	if a, b := readFile(t, filepath.Join(whole, MetricsFile)), readFile(t, filepath.Join(split, MetricsFile)); !bytes.Equal(a, b) {
		t.Fatalf("resumed metrics differ:\n%s\n---\n%s", a, b)
	}
	sameResult(t, "resumed", second, first)

	result := readFile(t, filepath.Join(whole, ResultFile))
	third := runIn(t, again, whole)
	sameResult(t, "finished", third, first)
	if !bytes.Equal(readFile(t, filepath.Join(whole, ResultFile)), result) {
		t.Fatal("a finished folder was trained again")
	}
}

// The fine-tuning config says what it trains, and the checkpoint given must
// be the pre-trained run it names.
func TestFinetuneConfigIsChecked(t *testing.T) {
	pre, ckpt := pretrained(t)
	bad := func(what string, edit func(c *Config)) {
		t.Helper()
		cfg := ftConfig(t, pre, ckpt, "books", FinetuneLoRA, 4)
		f := *cfg.Finetune
		cfg.Finetune = &f
		edit(&cfg)
		cfg.OutDir = t.TempDir()
		if _, err := Run(cfg); err == nil {
			t.Errorf("%s: no error", what)
		}
	}
	bad("restarts under method lora", func(c *Config) { c.ReLoRA.Restarts = true; c.ReLoRA.ResetEvery = 2 })
	bad("probe with LoRA factors", func(c *Config) { c.Finetune.Method = FinetuneProbe })
	bad("head of the wrong width", func(c *Config) { c.Finetune.Outputs = 2 })
	bad("unknown task", func(c *Config) { c.Finetune.Task, c.Data = "mnli", "task:mnli" })
	bad("examples of another generator version", func(c *Config) { c.Finetune.TaskVersion = tasks.Version + 1 })
	bad("no checkpoint", func(c *Config) { c.WarmStartFrom = "" })
	bad("another run's checkpoint", func(c *Config) {
		other := *c.Finetune.From
		other.Seed++
		c.Finetune.From = &other
	})
}

// Each method's relora block: what it switches on, and nothing it does not
// use (so an unused setting is not part of the run's identity).
func TestFinetuneMethodConfig(t *testing.T) {
	low := relora.Config{Method: relora.MethodLoRA, Rank: 8, Alpha: 16, LR: 9, WarmStartSteps: 5, ResetEvery: 10,
		RestartWarmup: 2, PruneMode: relora.PruneRandom, PruneRatio: 0.9, ControlTarget: 7, Restarts: true, Targets: relora.TargetsAttention}
	want := map[string]relora.Config{
		FinetuneFull:    {Method: relora.MethodFull},
		FinetuneProbe:   {Method: relora.MethodFull},
		FinetunePrefix:  {Method: relora.MethodFull},
		FinetuneAdapter: {Method: relora.MethodFull},
		FinetuneLoRA:    {Method: relora.MethodLoRA, Rank: 8, Alpha: 16, LR: 1e-3, Targets: relora.TargetsAttention},
		FinetuneReLoRA: {Method: relora.MethodLoRA, Rank: 8, Alpha: 16, LR: 1e-3, Restarts: true, OptimizerReset: true, Jagged: true,
			ResetEvery: 10, RestartWarmup: 2, PruneMode: relora.PruneRandom, PruneRatio: 0.9, Targets: relora.TargetsAttention},
	}
	for _, method := range FinetuneMethods {
		got, err := FinetuneMethodConfig(method, low, 1e-3)
		if err != nil || got != want[method] {
			t.Errorf("%s: %+v, %v; want %+v", method, got, err, want[method])
		}
		if err := got.Validate(100); err != nil {
			t.Errorf("%s: %v", method, err)
		}
	}
	if _, err := FinetuneMethodConfig("bitfit", low, 1e-3); err == nil {
		t.Error("an unknown method gave no error")
	}
}
