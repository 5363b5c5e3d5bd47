package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/finetune"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// finetuneCmd runs Table 5: the fine-tuning suite by method, from Table 1's
// full-rank run, and writes finetune.md.
func finetuneCmd(args []string) error {
	m, p, err := parseMatrix("finetune", args)
	if err != nil {
		return err
	}
	spec, err := finetuneSpec(m, p)
	if err != nil {
		return err
	}
	t, _, _, err := makeFinetune(m, p, spec)
	if err != nil || t == nil {
		return err
	}
	fmt.Print(t.Markdown())
	fmt.Println()
	printClaimsNote()
	fmt.Printf("\nwrote %s/%s, %s and %s.png\n", m.results, finetune.MarkdownFile, finetune.JSONFile, finetune.FigureFile)
	return nil
}

// finetuneSpec is Table 5's spec; -seeds gives the fine-tuning seeds (the
// pre-trained model is always Table 1's seed 1).
func finetuneSpec(m *matrixFlags, p experiments.Preset) (experiments.FinetuneSpec, error) {
	spec, err := experiments.Finetune(p)
	if err != nil {
		return spec, err
	}
	if m.seeds != "" {
		spec.Seeds = p.Seeds
	}
	return spec, nil
}

// makeFinetune trains (or reuses) the learning-rate grids, then every seed
// at each chosen rate, and writes Table 5's files. The pre-trained model is
// made sure of first when a fine-tuning run has to be trained: Table 1's
// full-rank run, trained through the runner if the run cache lacks its
// weights (a committed record has none). The table is nil when
// -print-commands only printed.
func makeFinetune(m *matrixFlags, p experiments.Preset, spec experiments.FinetuneSpec) (*finetune.Table, []experiments.Run, []runner.Outcome, error) {
	pre := spec.Pretrained.Config
	ckpt := filepath.Join(runner.Dir(m.runsDir, pre), train.CheckpointFile)
	grid, err := spec.GridRuns()
	if err != nil {
		return nil, nil, nil, err
	}
	if m.commands {
		return nil, nil, nil, printFinetuneCommands(m, spec, ckpt, os.Stdout)
	}
	gridOuts, err := m.executeFinetune(grid, pre, ckpt)
	if err != nil {
		return nil, nil, nil, err
	}
	seeds, err := spec.SeedRuns(finetune.Choose(grid, gridOuts))
	if err != nil {
		return nil, nil, nil, err
	}
	seeds = experiments.WithSeeds(seeds, runner.IndexSeeds(m.runsDir, m.recordsDir()).Seeds)
	seedOuts, err := m.executeFinetune(seeds, pre, ckpt)
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := finetune.Build(p, spec, grid, gridOuts, seeds, seedOuts)
	if err != nil {
		return nil, nil, nil, err
	}
	// The run index lists each run once: the grid, then the other seeds.
	runs, outs := append([]experiments.Run(nil), grid...), append([]runner.Outcome(nil), gridOuts...)
	for i, r := range seeds {
		if r.Seed != spec.Seeds[0] {
			runs, outs = append(runs, r), append(outs, seedOuts[i])
		}
	}
	return t, runs, outs, finetune.Write(m.results, t)
}

// executeFinetune runs fine-tuning runs from the pre-trained checkpoint,
// training the pre-trained run first when one of them has to be trained
// and the cache lacks its weights, and records them.
func (m *matrixFlags) executeFinetune(runs []experiments.Run, pre train.Config, ckpt string) ([]runner.Outcome, error) {
	for i := range runs {
		runs[i].Config.WarmStartFrom = ckpt
	}
	if m.needsTraining(experiments.Configs(runs)) {
		if err := m.ensurePretrained(pre, ckpt); err != nil {
			return nil, err
		}
	}
	outs, _, err := m.execute(runs)
	if err != nil {
		return nil, err
	}
	return outs, m.record(outs)
}

// needsTraining reports whether some of the configs are neither in the run
// cache nor (unless -verify) in the records.
func (m *matrixFlags) needsTraining(configs []train.Config) bool {
	if m.verify {
		for _, c := range configs {
			if _, err := train.ReadResult(runner.Dir(m.runsDir, c)); err != nil {
				return true
			}
		}
		return false
	}
	return runner.Missing(configs, m.runsDir, m.recordsDir()) > 0
}

// ensurePretrained makes sure the pre-trained run's final checkpoint is in
// the run cache, training the run (and checking it against its record) if
// it is not.
func (m *matrixFlags) ensurePretrained(pre train.Config, ckpt string) error {
	if _, err := train.ReadResult(filepath.Dir(ckpt)); err == nil {
		if _, err := os.Stat(ckpt); err == nil {
			return nil
		}
	}
	fmt.Fprintf(os.Stderr, "pre-trained model: the run cache lacks Table 1's full-rank run (seed 1, %s): training it first "+
		"(about 7 minutes on one core at the default preset)\n", filepath.Dir(ckpt))
	outs, err := runner.Execute([]train.Config{pre}, runner.Options{RunsDir: m.runsDir, Jobs: 1})
	if err != nil {
		return fmt.Errorf("pre-trained run: %w", err)
	}
	if res := outs[0].Result; res == nil || res.Status != train.StatusOK {
		return fmt.Errorf("pre-trained run %s did not finish normally", outs[0].Dir)
	}
	return m.record(outs)
}

// printFinetuneCommands prints one `relora train` command per unfinished
// run: the pre-trained run itself while the cache lacks its weights, else
// the grid runs, and once those are finished the seeds at the chosen rates
// (each stage needs the one before it).
func printFinetuneCommands(m *matrixFlags, spec experiments.FinetuneSpec, ckpt string, w io.Writer) error {
	self, _ := os.Executable()
	if _, err := os.Stat(ckpt); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "relora finetune: the pre-trained run comes first; print the commands again once it has finished")
		return runner.WriteCommands([]train.Config{spec.Pretrained.Config}, m.runsDir, self, w)
	}
	runs, err := finetuneRuns(m, spec)
	if err != nil {
		return err
	}
	grid, _ := spec.GridRuns()
	if len(runs) == len(grid) {
		fmt.Fprintln(os.Stderr, "relora finetune: these are the learning-rate searches; print the commands again once they have finished for the seeds at the chosen rates")
	}
	return runner.WriteCommands(experiments.Configs(runs), m.runsDir, self, w)
}

// finetuneRuns are Table 5's runs as far as they are known: the grids',
// and once those are all in the cache or the records, the seeds at the
// chosen rates. Each starts from the pre-trained run's final checkpoint in
// the run cache.
func finetuneRuns(m *matrixFlags, spec experiments.FinetuneSpec) ([]experiments.Run, error) {
	ckpt := filepath.Join(runner.Dir(m.runsDir, spec.Pretrained.Config), train.CheckpointFile)
	grid, err := spec.GridRuns()
	if err != nil {
		return nil, err
	}
	for i := range grid {
		grid[i].Config.WarmStartFrom = ckpt
	}
	if runner.Missing(experiments.Configs(grid), m.runsDir, m.recordsDir()) > 0 {
		return grid, nil
	}
	outs, err := runner.Execute(experiments.Configs(grid), runner.Options{RunsDir: m.runsDir, RecordsDir: m.recordsDir(), Quiet: true, Log: io.Discard})
	if err != nil {
		return nil, err
	}
	seeds, err := spec.SeedRuns(finetune.Choose(grid, outs))
	if err != nil {
		return nil, err
	}
	for i := range seeds {
		seeds[i].Config.WarmStartFrom = ckpt
	}
	return append(grid, seeds...), nil
}
