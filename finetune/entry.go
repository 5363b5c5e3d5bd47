package finetune

import (
	"fmt"
	"math"
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
	return "Table 5: full fine-tuning, LoRA, ReLoRA, adapters, prefix tuning, linear probe on a GLUE-like suite"
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
// the final checkpoint of the pre-trained run in the run cache.
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

// Needs are Table 5's runs as far as they are known: each round of the
// learning-rate search needs the one before it in the cache or the records,
// and the seeds need every search settled.
func (Entry) Needs(env tables.Env) ([]experiments.Run, error) {
	s, err := spec(env)
	if err != nil {
		return nil, err
	}
	ckpt := checkpoint(env, s)
	read := func(runs []experiments.Run) ([]runner.Outcome, error) {
		startFrom(runs, ckpt)
		return tables.Known(env, runs)
	}
	search, outs, err := searchRates(s, read)
	if err != nil || outs == nil {
		if err == nil {
			fmt.Fprintln(os.Stderr, "finetune: these are the learning-rate searches so far; list the runs again once they have finished")
		}
		return search, err
	}
	seeds, err := s.SeedRuns(Choose(search, outs))
	if err != nil {
		return nil, err
	}
	startFrom(seeds, ckpt)
	return append(search, seeds...), nil
}

// searchRates runs the searches round by round through execute: the first
// round is every (task, row) at its three starting rates, each later round
// the next rate of every search whose best is still at an end
// (experiments.FinetuneNextRate). execute returning nil outcomes stops it
// there (runs not trained yet), with the runs so far.
func searchRates(s experiments.FinetuneSpec, execute func([]experiments.Run) ([]runner.Outcome, error)) ([]experiments.Run, []runner.Outcome, error) {
	runs, err := s.FirstSearch()
	if err != nil {
		return nil, nil, err
	}
	for {
		outs, err := execute(runs)
		if err != nil || outs == nil {
			return runs, nil, err
		}
		points := Points(runs, outs)
		// A search with a run neither trained nor recorded (a render that
		// does not train) stops where it is rather than guess past it.
		waiting := map[string]bool{}
		for i, r := range runs {
			if outs[i].Result == nil {
				waiting[experiments.FinetuneRunKey(r)] = true
			}
		}
		var next []experiments.Run
		for _, task := range s.Tasks {
			for _, row := range s.Methods {
				k := experiments.FinetuneKey(task, row)
				if waiting[k] {
					continue
				}
				if lr, ok := experiments.FinetuneNextRate(points[k]); ok {
					r, err := s.SearchRun(task, row, lr)
					if err != nil {
						return nil, nil, err
					}
					next = append(next, r)
				}
			}
		}
		if len(next) == 0 {
			return runs, outs, nil
		}
		runs = append(runs, next...)
	}
}

// Points are each (task, row)'s searched rates with the negated dev score
// as the loss (lower is better; a run that diverged or failed is +Inf).
func Points(search []experiments.Run, outs []runner.Outcome) map[string][]experiments.LRLoss {
	out := map[string][]experiments.LRLoss{}
	for i, r := range search {
		loss := math.Inf(1)
		if res := outs[i].Result; res != nil && res.Status == train.StatusOK && res.Finetune != nil && !math.IsNaN(res.Finetune.Score) {
			loss = -res.Finetune.Score
		}
		k := experiments.FinetuneRunKey(r)
		out[k] = append(out[k], experiments.LRLoss{LR: r.Config.LR, Loss: loss})
	}
	return out
}

func startFrom(runs []experiments.Run, ckpt string) {
	for i := range runs {
		runs[i].Config.WarmStartFrom = ckpt
	}
}

// Build trains (or reuses) the learning-rate searches round by round,
// then every seed at each chosen rate, and writes Table 5's files. The
// pre-trained model is made sure of first when a fine-tuning run has to be
// trained: Table 1's full-rank configuration pre-trained longer
// (experiments.FinetunePretrainLonger), trained through the runner if the
// run cache lacks its weights (a committed record has none).
func (Entry) Build(env tables.Env) (*tables.Built, error) {
	s, err := spec(env)
	if err != nil {
		return nil, err
	}
	ckpt := checkpoint(env, s)
	grid, gridOuts, err := searchRates(s, func(runs []experiments.Run) ([]runner.Outcome, error) {
		return execute(env, runs, s.Pretrained.Config, ckpt)
	})
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
	// The pre-trained run is recorded with the table (Table 1 trains a
	// shorter one), read from the run cache or the records; a render whose
	// records predate it goes on without it.
	pre, err := tables.Known(env, []experiments.Run{s.Pretrained})
	if err != nil {
		return nil, err
	}
	if pre != nil {
		if err := env.Record(pre); err != nil {
			return nil, err
		}
	}
	// The run index lists each run once: the pre-trained run, the
	// searches, then the other seeds.
	var runs []experiments.Run
	var outs []runner.Outcome
	if pre != nil {
		runs, outs = append(runs, s.Pretrained), append(outs, pre...)
	}
	runs, outs = append(runs, grid...), append(outs, gridOuts...)
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
	fmt.Fprintf(os.Stderr, "pre-trained model: the run cache lacks the pre-trained run (%s): training it first\n", filepath.Dir(ckpt))
	outs, err := runner.Execute([]train.Config{pre}, runner.Options{RunsDir: env.RunsDir(), Jobs: 1})
	if err != nil {
		return fmt.Errorf("pre-trained run: %w", err)
	}
	if res := outs[0].Result; res == nil || res.Status != train.StatusOK {
		return fmt.Errorf("pre-trained run %s did not finish normally", outs[0].Dir)
	}
	return env.Record(outs)
}
