package finetune

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/tables"
	"github.com/relorago/harness/train"
)

// Entry is Table 5 in the harness's registry of tables.
type Entry struct{}

func (Entry) Name() string { return "finetune" }
func (Entry) About() string {
	return "Table 5: full fine-tuning, LoRA, ReLoRA, linear probe on a GLUE-like suite"
}
func (Entry) Section() string { return "Table 5 — fine-tuning" }
func (Entry) Source() string  { return "Table 5" }
func (Entry) File() string    { return MarkdownFile }
func (Entry) Target() string  { return "finetune" }

// spec is Table 5's spec; -seeds gives the fine-tuning seeds (the
// pre-trained model is always Table 1's seed 1).
func spec(env tables.Env) (experiments.FinetuneSpec, error) {
	p := env.Preset()
	s, err := experiments.Finetune(p)
	if err != nil {
		return s, err
	}
	if env.SeedsAsked() {
		s.Seeds = p.Seeds
	}
	return s, nil
}

// checkpoint is where every fine-tuning run reads the pre-trained weights:
// the final checkpoint of Table 1's full-rank run in the run cache.
func checkpoint(env tables.Env, s experiments.FinetuneSpec) string {
	return filepath.Join(runner.Dir(env.RunsDir(), s.Pretrained.Config), train.CheckpointFile)
}

// Runs are Table 5's runs as far as they can be trained now, each stage
// needing the one before it: the pre-trained run itself while the cache
// lacks its weights, else Needs.
func (e Entry) Runs(env tables.Env) ([]experiments.Run, error) {
	s, err := spec(env)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(checkpoint(env, s)); err != nil {
		fmt.Fprintln(os.Stderr, "finetune: the pre-trained run comes first; list the runs again once it has finished")
		return []experiments.Run{s.Pretrained}, nil
	}
	return e.Needs(env)
}

// Needs are Table 5's runs as far as they are known: the grids', and once
// those are all in the cache or the records, the seeds at the chosen
// rates. Each starts from the pre-trained run's final checkpoint.
func (Entry) Needs(env tables.Env) ([]experiments.Run, error) {
	s, err := spec(env)
	if err != nil {
		return nil, err
	}
	ckpt := checkpoint(env, s)
	grid, err := s.GridRuns()
	if err != nil {
		return nil, err
	}
	startFrom(grid, ckpt)
	if env.Missing(grid) > 0 {
		fmt.Fprintln(os.Stderr, "finetune: these are the learning-rate searches; list the runs again once they have finished for the seeds at the chosen rates")
		return grid, nil
	}
	outs, err := runner.Execute(experiments.Configs(grid), runner.Options{RunsDir: env.RunsDir(), RecordsDir: env.RecordsDir(), Quiet: true, Log: io.Discard})
	if err != nil {
		return nil, err
	}
	seeds, err := s.SeedRuns(Choose(grid, outs))
	if err != nil {
		return nil, err
	}
	startFrom(seeds, ckpt)
	return append(grid, seeds...), nil
}

func startFrom(runs []experiments.Run, ckpt string) {
	for i := range runs {
		runs[i].Config.WarmStartFrom = ckpt
	}
}

// Build trains (or reuses) the learning-rate grids, then every seed at
// each chosen rate, and writes Table 5's files. The pre-trained model is
// made sure of first when a fine-tuning run has to be trained: Table 1's
// full-rank run, trained through the runner if the run cache lacks its
// weights (a committed record has none).
func (Entry) Build(env tables.Env) (*tables.Built, error) {
	s, err := spec(env)
	if err != nil {
		return nil, err
	}
	ckpt := checkpoint(env, s)
	grid, err := s.GridRuns()
	if err != nil {
		return nil, err
	}
	gridOuts, err := execute(env, grid, s.Pretrained.Config, ckpt)
	if err != nil {
		return nil, err
	}
	seeds, err := s.SeedRuns(Choose(grid, gridOuts))
	if err != nil {
		return nil, err
	}
	seeds = experiments.WithSeeds(seeds, runner.IndexSeeds(env.RunsDir(), env.RecordsDir()).Seeds)
	seedOuts, err := execute(env, seeds, s.Pretrained.Config, ckpt)
	if err != nil {
		return nil, err
	}
	t, err := Build(env.Preset(), s, grid, gridOuts, seeds, seedOuts)
	if err != nil {
		return nil, err
	}
	if err := Write(env.Results(), t); err != nil {
		return nil, err
	}
	// The run index lists each run once: the grid, then the other seeds.
	runs, outs := append([]experiments.Run(nil), grid...), append([]runner.Outcome(nil), gridOuts...)
	for i, r := range seeds {
		if r.Seed != s.Seeds[0] {
			runs, outs = append(runs, r), append(outs, seedOuts[i])
		}
	}
	return &tables.Built{Table: t, Markdown: t.Markdown(), Terminal: t.Markdown(), Runs: runs, Outcomes: outs}, nil
}

// execute runs fine-tuning runs from the pre-trained checkpoint, training
// the pre-trained run first when one of them has to be trained and the
// cache lacks its weights, and records them.
func execute(env tables.Env, runs []experiments.Run, pre train.Config, ckpt string) ([]runner.Outcome, error) {
	startFrom(runs, ckpt)
	if needsTraining(env, runs) {
		if err := ensurePretrained(env, pre, ckpt); err != nil {
			return nil, err
		}
	}
	outs, err := env.Execute(runs)
	if err != nil {
		return nil, err
	}
	return outs, env.Record(outs)
}

// needsTraining reports whether some of the runs are neither in the run
// cache nor (unless -verify) in the records.
func needsTraining(env tables.Env, runs []experiments.Run) bool {
	if env.Verify() {
		for _, r := range runs {
			if _, err := train.ReadResult(runner.Dir(env.RunsDir(), r.Config)); err != nil {
				return true
			}
		}
		return false
	}
	return env.Missing(runs) > 0
}

// ensurePretrained makes sure the pre-trained run's final checkpoint is in
// the run cache, training the run (and checking it against its record) if
// it is not.
func ensurePretrained(env tables.Env, pre train.Config, ckpt string) error {
	if _, err := train.ReadResult(filepath.Dir(ckpt)); err == nil {
		if _, err := os.Stat(ckpt); err == nil {
			return nil
		}
	}
	fmt.Fprintf(os.Stderr, "pre-trained model: the run cache lacks Table 1's full-rank run (seed 1, %s): training it first\n", filepath.Dir(ckpt))
	outs, err := runner.Execute([]train.Config{pre}, runner.Options{RunsDir: env.RunsDir(), Jobs: 1})
	if err != nil {
		return fmt.Errorf("pre-trained run: %w", err)
	}
	if res := outs[0].Result; res == nil || res.Status != train.StatusOK {
		return fmt.Errorf("pre-trained run %s did not finish normally", outs[0].Dir)
	}
	return env.Record(outs)
}
