package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/relorago/harness/relora"
)

// resume continues from the folder's checkpoint, or from a pre-training
// run's warm-start checkpoint, or starts from the objective's initial
// weights; then it opens the logs and, when the objective scores the
// untrained model, evaluates it.
func (r *run) resume() error {
	cfg := r.cfg
	ck, from, err := r.findCheckpoint()
	if err != nil {
		return err
	}
	warm := from != "" && from == cfg.warmStartCheckpoint()
	if ck == nil && r.mustResume {
		return fmt.Errorf("%s has no checkpoint to resume and no pre-trained checkpoint was given (warm_start_from)", cfg.OutDir)
	}
	if ck != nil {
		if err := r.restore(ck, from, warm); err != nil {
			return err
		}
	}
	if cfg.OutDir != "" {
		// metrics.jsonl must hold every step up to the checkpoint: a resumed
		// run that silently lost steps would not be the run its config says.
		if err := truncateJSONL(filepath.Join(cfg.OutDir, MetricsFile), r.start, !warm); err != nil {
			return err
		}
		if err := truncateJSONL(filepath.Join(cfg.OutDir, TimingFile), r.start, false); err != nil {
			return err
		}
		if warm {
			// Carry the warm start's logged steps over, so curves are whole.
			if err := copyJSONL(filepath.Join(filepath.Dir(from), MetricsFile), filepath.Join(cfg.OutDir, MetricsFile), r.start); err != nil {
				return err
			}
		}
	}
	if r.metrics, err = openJSONL(joinIf(cfg.OutDir, MetricsFile)); err != nil {
		return err
	}
	if r.timing, err = openJSONL(joinIf(cfg.OutDir, TimingFile)); err != nil {
		return err
	}
	if r.start == 0 && r.rule.scoresUntrained {
		ev, err := r.obj.evaluate(r.c, 0)
		if err != nil {
			return fmt.Errorf("evaluate the untrained model: %w", err)
		}
		r.res.Evals = append(r.res.Evals, ev)
	}
	if len(r.res.Evals) > 0 {
		r.res.InitialVal = r.res.Evals[0]
		r.rule.untrained = r.res.Evals[0].Loss
	}
	return nil
}

// findCheckpoint returns the run's own checkpoint if it has one, else a
// pre-training run's warm-start checkpoint if configured, else nil.
func (r *run) findCheckpoint() (*Checkpoint, string, error) {
	if r.cfg.OutDir != "" {
		path := filepath.Join(r.cfg.OutDir, CheckpointFile)
		ck, err := LoadCheckpoint(path)
		if err == nil {
			return ck, path, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("resume: %w (delete it to start over)", err)
		}
	}
	if path := r.cfg.warmStartCheckpoint(); path != "" {
		ck, err := LoadCheckpoint(path)
		if err != nil {
			return nil, "", fmt.Errorf("warm start: %w", err)
		}
		if ck.Step != r.method.WarmStartSteps {
			return nil, "", fmt.Errorf("warm start: %s is at step %d, the run switches at step %d", path, ck.Step, r.method.WarmStartSteps)
		}
		return ck, path, nil
	}
	return nil, "", nil
}

// restore sets the run to the checkpoint's state: weights, optimizer,
// evaluations, counters, times and the objective's own state.
func (r *run) restore(ck *Checkpoint, from string, warm bool) error {
	cfg := r.cfg
	if !warm && len(ck.Config) > 0 {
		if err := checkSameConfig(cfg.OutDir, cfg, ck.Config, CheckpointFile); err != nil {
			return err
		}
	}
	if r.rule.scoresUntrained && len(ck.Evals) == 0 {
		return fmt.Errorf("%s has no evaluations (not even the untrained model's): it was not written by a run; delete it or use -fresh", from)
	}
	if ck.Step > cfg.Steps {
		return fmt.Errorf("%s is at step %d, beyond the run's %d steps", from, ck.Step, cfg.Steps)
	}
	// Checkpoints are taken between steps, and the switch happens at the top
	// of step WarmStartSteps, so one at that step is still full-rank.
	if r.method.LowRank() && ck.Step > r.method.WarmStartSteps && len(relora.LoRAs(r.m)) == 0 {
		relora.WrapTargets(r.m, r.method.Targets, r.method.Rank, r.method.Alpha, cfg.Seed)
	}
	if err := restoreWeights(ck, r.obj.weights()); err != nil {
		return fmt.Errorf("resume from %s: %w", from, err)
	}
	ck.restoreOptimizer(r.opt)
	r.start, r.res.Evals, r.res.Steps = ck.Step, ck.Evals, ck.Step
	r.merges = int(ck.Extra["merges"])
	r.res.Resets = ck.Resets
	r.recentLoss = ck.RecentLoss
	r.trainTime = time.Duration(ck.TrainSeconds * float64(time.Second))
	r.wallBefore = time.Duration(ck.WallSeconds * float64(time.Second))
	r.obj.restoreState(ck)
	return nil
}
