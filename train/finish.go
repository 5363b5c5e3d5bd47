package train

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/relorago/harness/model"
	"github.com/relorago/harness/stats"
)

// checkpoint saves the resumable checkpoint every CheckpointEvery steps and
// keeps a named copy at the SaveAt steps and, when the run keeps its event
// weights, at the warm-start switch and after each merge.
func (r *run) checkpoint(done int) error {
	cfg := r.cfg
	if cfg.OutDir == "" {
		return nil
	}
	atEvent := r.method.LowRank() && (done == r.method.WarmStartSteps || slices.Contains(r.method.MergeSteps(cfg.Steps), done-1))
	keep := slices.Contains(cfg.SaveAt, done) || (r.keepEventWeights && atEvent)
	periodic := cfg.CheckpointEvery > 0 && done%cfg.CheckpointEvery == 0 && done < cfg.Steps
	if !keep && !periodic {
		return nil
	}
	ck := r.snapshot(done)
	if keep {
		if err := ck.Save(filepath.Join(cfg.OutDir, KeptCheckpoint(done))); err != nil {
			return err
		}
	}
	if periodic {
		return ck.Save(filepath.Join(cfg.OutDir, CheckpointFile))
	}
	return nil
}

// snapshot is the run's state after done steps: every weight (the
// objective's), the optimizer, the evaluations and counters, and the
// objective's own state.
func (r *run) snapshot(done int) *Checkpoint {
	ck := snapshotOf(done, r.obj.weights(), r.opt, map[string]float64{"merges": float64(r.merges)}, slices.Clone(r.res.Evals))
	ck.Resets = r.res.Resets
	ck.Config = configJSON(r.cfg)
	ck.RecentLoss = slices.Clone(r.recentLoss)
	ck.TrainSeconds, ck.WallSeconds = r.trainTime.Seconds(), r.wall().Seconds()
	r.obj.saveState(ck)
	return ck
}

// wall is the run's wall time so far, over every process that worked on it.
func (r *run) wall() time.Duration { return r.wallBefore + time.Since(r.wallStart) }

// KeptCheckpoint names the checkpoint kept after a step (SaveAt, warm start).
func KeptCheckpoint(step int) string { return fmt.Sprintf("ckpt-%d.safetensors", step) }

// finish summarises the run, saves the final checkpoint and result.json.
func (r *run) finish() (*Result, error) {
	res, cfg := r.res, r.cfg
	if n := len(res.Evals); n > 0 {
		res.InitialVal, res.FinalVal = res.Evals[0], res.Evals[n-1]
	}
	if res.Status == StatusOK {
		if reason := diverged(r.rule, observation{kind: atEnd, step: res.Steps, heldOut: res.FinalVal.Loss}); reason != "" {
			res.diverge(reason)
		}
	}
	res.FinalTrainLoss = Number(stats.Mean(r.recentLoss))
	res.TotalParams, res.TrainableParams = countParams(r.obj.weights())
	res.OptimizerFloats = r.opt.Floats()
	res.Merges = r.merges
	if r.cfg.warmStartCheckpoint() != "" {
		// Validation accepted these differences; the result keeps them
		// (config.json cannot: the run's hash would change).
		notes, err := WarmStartNotes(cfg)
		if err != nil {
			return nil, err
		}
		res.WarmStartDifferences = notes
	}
	if r.trainTime > 0 {
		// Every step trained, over every process that worked on the run.
		steps := float64(res.Steps)
		res.TrainSeconds = r.trainTime.Seconds()
		res.TokensPerSec = steps * float64(cfg.Batch*cfg.Model.SeqLen) / r.trainTime.Seconds()
		res.ExamplesPerSec = steps * float64(cfg.Batch) / r.trainTime.Seconds()
	}
	res.WallSeconds = r.wall().Seconds()
	res.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	res.CPU = CPUModel()
	r.obj.finish(res)
	if cfg.OutDir != "" {
		// The final checkpoint goes first: a crash before result.json leaves
		// a checkpoint at the last step, from which Run finishes the run
		// again without training.
		if err := r.snapshot(res.Steps).Save(filepath.Join(cfg.OutDir, CheckpointFile)); err != nil {
			return nil, err
		}
	}
	return res, writeJSON(cfg.OutDir, ResultFile, res)
}

// countParams returns the total and the trainable number of values.
func countParams(ps []model.Param) (total, trainable int) {
	for _, p := range ps {
		total += len(p.Raw())
		if p.RequiresGrad() {
			trainable += len(p.Raw())
		}
	}
	return total, trainable
}
