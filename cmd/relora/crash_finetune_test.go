package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/train"
)

// finetuneCrashSteps is the fine-tuning run's length; ReLoRA merges every
// 30 steps (logged at steps 31, 61 and 91), the dev set is scored every 40
// and checkpoints are taken every 10 steps.
const finetuneCrashSteps = 120

// A fine-tuning run goes through the loop, checkpoints and resume that
// pre-training does: killed at chosen points and started again, it ends with
// the files of an uninterrupted run, the dev scores carried by the
// checkpoint included.
func TestCrashResumeFinetune(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the relora binary")
	}
	began := time.Now()
	tmp := t.TempDir()
	bin := buildRelora(t, tmp)

	pre := crashRun{steps: 30, args: []string{"train", "-preset", "quick", "-mode", "full", "--steps", "30", "--batch", "8",
		"--val-windows", "32", "--eval-every", "10", "--threads", "1", "--quiet"}}
	preDir := filepath.Join(tmp, "pre")
	runToEnd(t, bin, pre, preDir)
	preCfg, err := train.DecodeConfig(readFile(t, filepath.Join(preDir, train.ConfigFile)))
	if err != nil {
		t.Fatal(err)
	}

	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := experiments.Finetune(p)
	if err != nil {
		t.Fatal(err)
	}
	spec.Pretrained.Config = preCfg
	spec.Steps, spec.Batch, spec.Warmup, spec.CheckpointEvery, spec.ResetEvery = finetuneCrashSteps, 8, 4, 10, 30
	spec.TrainExamples, spec.HeldOutExamples = 256, 64
	cfg, err := spec.Config("books", "relora", 3e-3, 1) // the row: ReLoRA at rank 1 on the attention projections
	if err != nil {
		t.Fatal(err)
	}
	cfg.EvalEvery = 40 // resumes then cross dev evaluations, whose scores the checkpoint carries
	path := filepath.Join(tmp, "finetune.json")
	if err := train.WriteConfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	ft := crashRun{steps: finetuneCrashSteps, args: []string{"train", "-config", path,
		"-warm-start-from", filepath.Join(preDir, train.CheckpointFile), "--threads", "1", "--quiet"}}

	ref := filepath.Join(tmp, "A")
	runToEnd(t, bin, ft, ref)
	checkEvents(t, ref, finetuneCrashSteps, map[int]string{31: "merge+reset", 61: "merge+reset", 91: "merge+reset"})
	if res, err := train.ReadResult(ref); err != nil || res.Finetune == nil || len(res.Finetune.Evals) != 3 {
		t.Fatalf("reference fine-tuning result: %v, %+v", err, res)
	}
	t.Logf("reference runs: %v (build included)", time.Since(began).Round(time.Millisecond))

	killAndResume(t, bin, tmp, ft, ref, []killCase{
		{"before-first-checkpoint", []killPoint{{2, 9}}}, // resumes from the pre-trained weights over a non-empty log
		{"after-merge", []killPoint{{31, 39}}},           // resumes from step 30: merge+reset done again
		{"after-dev-eval", []killPoint{{41, 49}}},        // the checkpoint at 40 carries the dev scores
		{"near-end", []killPoint{{115, finetuneCrashSteps}}},
		{"twice", []killPoint{{15, 25}, {81, 89}}},
	})
	t.Logf("total %v", time.Since(began).Round(time.Millisecond))
}
