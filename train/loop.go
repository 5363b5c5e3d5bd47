package train

import (
	"fmt"
	"time"

	"github.com/relorago/harness/progress"
	"github.com/relorago/harness/relora"
)

// lossWindow is how many of the last steps' training losses make up
// final_train_loss.
const lossWindow = 50

// loop is the training loop of every run, pre-training and fine-tuning
// alike (the objective draws the batch and builds the loss). The ReLoRA
// events are the lines marked "method"; the re-warms are in the schedule
// (relora.Config.Schedule), read through lr.
func (r *run) loop() error {
	cfg, method := r.cfg, r.method
	bar := newProgress(cfg, r.start)
	defer bar.Finish()
	mergeAt := map[int]bool{}
	for _, s := range method.MergeSteps(cfg.Steps) {
		mergeAt[s] = true
	}
	// The trainable parameters, in the order that fixes the run's numbers,
	// are listed here and again at the switch, the one change of which
	// parameters exist or train that happens inside the loop: everything
	// else that adds, wraps or freezes them (the objective's setup, a
	// resume, a fine-tuning method) is done before the loop starts, and a
	// merge changes values in place (the LoRA keeps its Mats). Listing
	// them every step cost about 80 heap objects on the tiny preset.
	trainable := trainableOf(r.obj.weights())
	for step := r.start; step < cfg.Steps; step++ {
		var event string
		// method: the warm-start switch (or the start of a pre-training LoRA
		// run) wraps the linears and starts a fresh optimizer. A fine-tuning
		// run's linears are wrapped from the start, so it never switches.
		if method.LowRank() && step == method.WarmStartSteps && len(relora.LoRAs(r.m)) == 0 {
			relora.WrapTargets(r.m, method.Targets, method.Rank, method.Alpha, cfg.Seed)
			r.opt = NewAdamW(cfg.Adam)
			trainable = trainableOf(r.obj.weights())
			event = "switch"
		}

		t0 := time.Now()
		r.obj.drawBatch(step)
		lr := method.PeakLR(step, cfg.LR) * r.sched.Multiplier(step)
		loss, norm, err := trainStep(r.c, trainable, r.opt, r.obj.loss, lr, cfg.GradClip)
		if err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		if reason := diverged(r.rule, observation{kind: afterStep, step: step + 1, loss: loss, norm: norm}); reason != "" {
			r.res.diverge(reason)
			return r.logBlowUp(step, loss, lr, norm)
		}

		// method: merge-and-reinit after the restart step's update, then
		// prune the LoRA factors' Adam moments.
		if mergeAt[step] {
			r.merges++
			relora.MergeAll(r.m, cfg.Seed, r.merges)
			event = "merge"
			if method.OptimizerReset {
				r.res.Resets = append(r.res.Resets, r.pruneOptimizer(step+1))
				event = "merge+reset"
			}
		}
		dt := time.Since(t0)
		r.trainTime += dt

		if err := r.log(step, loss, lr, norm, event, dt); err != nil {
			return err
		}
		if r.res.Status != StatusOK {
			return nil
		}
		if err := r.checkpoint(step + 1); err != nil {
			return err
		}
		r.progress(bar, loss)
		if cfg.OnStep != nil {
			cfg.OnStep(step + 1)
		}
		if step+1 == cfg.stopAfter {
			r.killed = true // simulated kill: no final checkpoint, no result.json
			return nil
		}
	}
	return nil
}

// pruneOptimizer applies the optimizer reset to the LoRA factors' moments
// (Adam's step counters are kept) and reports the fraction zeroed.
func (r *run) pruneOptimizer(step int) Reset {
	rng := relora.PruneRNG(r.cfg.Seed, r.merges)
	var zm, zv, n int
	for _, p := range r.m.Params() {
		st := r.opt.States[p.Name]
		if st == nil || !relora.IsLoRAParam(p.Name) {
			continue
		}
		zm += relora.Prune(st.M, r.method.PruneMode, r.method.PruneRatio, rng)
		zv += relora.Prune(st.V, r.method.PruneMode, r.method.PruneRatio, rng)
		n += len(st.M)
	}
	return Reset{Step: step, ZeroedM: float64(zm) / float64(max(n, 1)), ZeroedV: float64(zv) / float64(max(n, 1))}
}

// logBlowUp writes the step a run diverged at into metrics.jsonl, so the
// curves show the blow-up and not only the steps before it. A NaN or
// infinite loss cannot be written as JSON: that step is only in
// result.json's diverged_reason.
func (r *run) logBlowUp(step int, loss, lr, norm float64) error {
	if bad(loss) || bad(norm) {
		return nil
	}
	return r.metrics.write(StepMetrics{Step: step + 1, Loss: loss, LR: lr, GradNorm: norm, Event: EventDiverged})
}

// log writes the step's metrics and timing, evaluating when due.
func (r *run) log(step int, loss, lr, norm float64, event string, dt time.Duration) error {
	cfg := r.cfg
	line := StepMetrics{Step: step + 1, Loss: loss, LR: lr, GradNorm: norm, Event: event}
	if (step+1)%cfg.EvalEvery == 0 || step+1 == cfg.Steps {
		ev, err := r.obj.evaluate(r.c, step+1)
		if err != nil {
			return fmt.Errorf("evaluate after step %d: %w", step+1, err)
		}
		if reason := diverged(r.rule, observation{kind: afterEval, step: step + 1, heldOut: ev.Loss}); reason != "" {
			r.res.diverge(reason)
		} else {
			r.res.Evals = append(r.res.Evals, ev)
			line.ValLoss = &ev.Loss
		}
	}
	if err := r.metrics.write(line); err != nil {
		return err
	}
	tokens := float64(cfg.Batch * cfg.Model.SeqLen)
	if err := r.timing.write(StepTiming{Step: step + 1, StepMillis: dt.Seconds() * 1e3, TokensPerS: tokens / dt.Seconds()}); err != nil {
		return err
	}
	r.recentLoss = append(r.recentLoss, loss)
	if len(r.recentLoss) > lossWindow {
		r.recentLoss = r.recentLoss[1:]
	}
	r.res.Steps = step + 1
	return nil
}

// progress shows the step's loss on the bar, and the last held-out loss.
func (r *run) progress(bar progress.Bar, loss float64) {
	if n := len(r.res.Evals); n > 0 {
		bar.Describe(fmt.Sprintf("loss %.3f val %.3f", loss, r.res.Evals[n-1].Loss))
	} else {
		bar.Describe(fmt.Sprintf("loss %.3f", loss))
	}
	bar.Add(1)
}
