package train

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/nlpodyssey/spago/ag"

	"github.com/relorago/harness/data"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/progress"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/stats"
)

// File names inside a run's OutDir.
const (
	ConfigFile     = "config.json"
	MetricsFile    = "metrics.jsonl"
	TimingFile     = "timing.jsonl"
	ResultFile     = "result.json"
	CheckpointFile = "checkpoint.safetensors"
)

// Run trains one model as cfg says and returns its result. With an OutDir it
// writes config.json, metrics.jsonl, timing.jsonl, checkpoints and
// result.json there, and resumes from a checkpoint it finds. A diverged run
// (see diverged and finish for the rules) is a
// Result with Status "diverged", not an error.
//
// A finished run folder is not trained again: Run returns its result. A run
// folder that holds another config's files is refused (Fresh deletes them
// first), and one process at a time trains a folder (WaitForLock waits for
// the other one, else Run fails with ErrLocked).
func Run(cfg Config) (*Result, error) {
	if cfg.Finetune != nil {
		return runFinetune(cfg) // the same folder rules, another loop (finetune.go)
	}
	r, err := newRun(cfg)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if r.done != nil {
		return r.done, nil
	}
	if err := r.resume(); err != nil {
		return nil, err
	}
	if err := r.loop(); err != nil {
		return nil, err
	}
	if r.killed {
		return r.res, nil
	}
	return r.finish()
}

// run is one training run's state.
type run struct {
	cfg     Config
	method  relora.Config
	sched   relora.Schedule
	sampler *data.Sampler
	val     *data.Validation
	m       *model.Model
	opt     *AdamW
	c       *kernels.Ctx
	res     *Result

	corpus          Corpus
	start, merges   int
	metrics, timing *jsonlWriter
	lock            *folderLock
	done            *Result // the folder's result, when the run was already finished

	// Training-step and wall time of earlier processes (from the
	// checkpoint) and of this one.
	trainTime, wallBefore time.Duration
	wallStart             time.Time
	recentLoss            []float64
	killed                bool
}

func newRun(cfg Config) (*run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, method: cfg.ReLoRA, wallStart: time.Now()}

	// Data: byte tokens; validation is the last ValFrac of the corpus.
	corpus, err := data.Load(cfg.Data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(corpus.Bytes)
	r.corpus = Corpus{Source: corpus.Name, Bytes: len(corpus.Bytes), SHA256: hex.EncodeToString(sum[:8]), GoVersion: runtime.Version()}
	trainBytes, valBytes := corpus.Split(cfg.ValFrac)
	seq := cfg.Model.SeqLen
	if r.sampler, err = data.NewSampler(corpus.Name, trainBytes, seq, cfg.Batch, cfg.Seed); err != nil {
		return nil, err
	}
	if r.val, err = data.NewValidation(corpus.Name, valBytes, seq, cfg.Batch, cfg.ValWindows); err != nil {
		return nil, err
	}

	// Model (the control baseline is a smaller full-rank model), optimizer, schedule.
	shape := cfg.Model
	if r.method.Method == relora.MethodControl {
		if shape, err = controlShape(cfg); err != nil {
			return nil, err
		}
	}
	if r.m, err = model.New(shape, cfg.Seed); err != nil {
		return nil, err
	}
	r.opt = NewAdamW(cfg.Adam)
	r.sched = r.method.Schedule(cfg.Steps, cfg.Warmup, cfg.MinLRRatio)
	if err := r.sched.Validate(); err != nil {
		return nil, err
	}
	r.c = kernels.NewCtx(cfg.Threads)
	r.res = &Result{Status: StatusOK, Threads: r.c.Threads(), GemmBackend: kernels.GemmBackend, Model: shape, Corpus: r.corpus}
	// The folder is touched only once the config, data and model are known
	// to be good, so a bad run leaves no stray files behind.
	if err := r.openFolder(); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// openFolder creates and locks the run folder, clears it for a fresh start,
// and either finds the run finished or writes its config.json.
func (r *run) openFolder() error {
	cfg := r.cfg
	if cfg.OutDir == "" {
		return nil
	}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return err
	}
	var err error
	if r.lock, err = lockFolder(cfg.OutDir, cfg.WaitForLock); err != nil {
		return err
	}
	if cfg.Fresh {
		if err := clearRun(cfg.OutDir); err != nil {
			return err
		}
	}
	if r.done, err = finishedResult(cfg.OutDir, cfg); err != nil || r.done != nil {
		return err
	}
	return writeJSON(cfg.OutDir, ConfigFile, cfg)
}

// controlShape sizes the control model: total parameters ≈ the trainable
// parameters of the LoRA run at this config's rank.
func controlShape(cfg Config) (model.Config, error) {
	target := cfg.ReLoRA.ControlTarget
	if target == 0 {
		target = relora.TrainableParams(cfg.Model, cfg.ReLoRA.Rank)
	}
	return relora.ControlConfig(cfg.Model, target)
}

// resume continues from OutDir's checkpoint, or from a warm-start
// checkpoint, or evaluates the untrained model to start from scratch.
func (r *run) resume() error {
	cfg := r.cfg
	ck, from, err := r.findCheckpoint()
	if err != nil {
		return err
	}
	if ck != nil && from != cfg.WarmStartFrom && len(ck.Config) > 0 {
		if err := checkSameConfig(cfg.OutDir, cfg, ck.Config, CheckpointFile); err != nil {
			return err
		}
	}
	if ck != nil && len(ck.Evals) == 0 {
		return fmt.Errorf("%s has no evaluations (not even the untrained model's): it was not written by a run; delete it or use -fresh", from)
	}
	if ck != nil && ck.Step > cfg.Steps {
		return fmt.Errorf("%s is at step %d, beyond the run's %d steps", from, ck.Step, cfg.Steps)
	}
	if ck != nil {
		// Checkpoints are taken between steps, and the switch happens at the
		// top of step WarmStartSteps, so one at that step is still full-rank.
		if r.method.LowRank() && ck.Step > r.method.WarmStartSteps {
			relora.Wrap(r.m, r.method.Rank, r.method.Alpha, cfg.Seed)
		}
		if err := ck.Restore(r.m, r.opt); err != nil {
			return fmt.Errorf("resume from %s: %w", from, err)
		}
		r.start, r.res.Evals, r.res.Steps = ck.Step, ck.Evals, ck.Step
		r.merges = int(ck.Extra["merges"])
		r.res.Resets = ck.Resets
		r.recentLoss = ck.RecentLoss
		r.trainTime = time.Duration(ck.TrainSeconds * float64(time.Second))
		r.wallBefore = time.Duration(ck.WallSeconds * float64(time.Second))
	}
	if cfg.OutDir != "" {
		// metrics.jsonl must hold every step up to the checkpoint: a resumed
		// run that silently lost steps would not be the run its config says.
		ownCheckpoint := from != cfg.WarmStartFrom || from == ""
		if err := truncateJSONL(filepath.Join(cfg.OutDir, MetricsFile), r.start, ownCheckpoint); err != nil {
			return err
		}
		if err := truncateJSONL(filepath.Join(cfg.OutDir, TimingFile), r.start, false); err != nil {
			return err
		}
		if from == cfg.WarmStartFrom && from != "" {
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
	if r.start == 0 {
		ev, err := Evaluate(r.c, r.m, r.val, cfg.Batch, 0)
		if err != nil {
			return err
		}
		r.res.Evals = append(r.res.Evals, ev)
	}
	r.res.InitialVal = r.res.Evals[0]
	return nil
}

// findCheckpoint returns the run's own checkpoint if it has one, else the
// warm-start checkpoint if configured, else nil.
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
	if path := r.cfg.WarmStartFrom; path != "" {
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

// loop is the training loop. The ReLoRA events are the lines marked "method".
func (r *run) loop() error {
	cfg, method := r.cfg, r.method
	seq := cfg.Model.SeqLen
	bar := newProgress(cfg, r.start)
	defer bar.Finish()
	inputs, targets := make([]int32, cfg.Batch*seq), make([]int32, cfg.Batch*seq)
	mergeAt := map[int]bool{}
	for _, s := range method.MergeSteps(cfg.Steps) {
		mergeAt[s] = true
	}
	r.sampler.SetStep(r.start)
	for step := r.start; step < cfg.Steps; step++ {
		var event string
		// method: the warm-start switch (or the start of a LoRA run) wraps
		// the linears and starts a fresh optimizer.
		if method.LowRank() && step == method.WarmStartSteps && len(relora.LoRAs(r.m)) == 0 {
			relora.Wrap(r.m, method.Rank, method.Alpha, cfg.Seed)
			r.opt = NewAdamW(cfg.Adam)
			event = "switch"
		}

		t0 := time.Now()
		r.sampler.Next(inputs, targets)
		lr := method.PeakLR(step, cfg.LR) * r.sched.Multiplier(step)
		loss, norm, err := Step(r.c, r.m, r.opt, inputs, targets, lr, cfg.GradClip)
		if err != nil {
			return err
		}
		if reason := r.diverged(step, loss, norm); reason != "" {
			r.res.diverge(reason)
			return nil
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
		bar.Describe(fmt.Sprintf("loss %.3f val %.3f", loss, r.res.Evals[len(r.res.Evals)-1].Loss))
		bar.Add(1)
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

// log writes the step's metrics and timing, evaluating when due.
func (r *run) log(step int, loss, lr, norm float64, event string, dt time.Duration) error {
	cfg := r.cfg
	line := StepMetrics{Step: step + 1, Loss: loss, LR: lr, GradNorm: norm, Event: event}
	if (step+1)%cfg.EvalEvery == 0 || step+1 == cfg.Steps {
		ev, err := Evaluate(r.c, r.m, r.val, cfg.Batch, step+1)
		if err != nil {
			return err
		}
		if bad(ev.Loss) {
			r.res.diverge(fmt.Sprintf("validation loss is %v at step %d", ev.Loss, step+1))
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

// checkpoint saves the resumable checkpoint every CheckpointEvery steps and
// keeps a named copy at the SaveAt steps, at the warm-start switch and after
// each merge.
func (r *run) checkpoint(done int) error {
	cfg := r.cfg
	if cfg.OutDir == "" {
		return nil
	}
	// A LoRA run always keeps its weights at the switch and after every
	// merge: the singular-value spectra (Fig. 5) and rank growth need them.
	keep := slices.Contains(cfg.SaveAt, done) ||
		(r.method.LowRank() && (done == r.method.WarmStartSteps || slices.Contains(r.method.MergeSteps(cfg.Steps), done-1)))
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

func (r *run) snapshot(done int) *Checkpoint {
	ck := Snapshot(done, r.m, r.opt, map[string]float64{"merges": float64(r.merges)}, r.res.Evals)
	ck.Resets = r.res.Resets
	ck.Config = configJSON(r.cfg)
	ck.RecentLoss = slices.Clone(r.recentLoss)
	ck.TrainSeconds, ck.WallSeconds = r.trainTime.Seconds(), r.wall().Seconds()
	return ck
}

// wall is the run's wall time so far, over every process that worked on it.
func (r *run) wall() time.Duration { return r.wallBefore + time.Since(r.wallStart) }

// KeptCheckpoint names the checkpoint kept after a step (SaveAt, warm start).
func KeptCheckpoint(step int) string { return fmt.Sprintf("ckpt-%d.safetensors", step) }

// finish summarises the run, saves the final checkpoint and result.json.
func (r *run) finish() (*Result, error) {
	res, cfg := r.res, r.cfg
	res.FinalVal = res.Evals[len(res.Evals)-1]
	if res.Status == StatusOK && res.FinalVal.Loss > res.InitialVal.Loss {
		res.diverge(fmt.Sprintf("final validation loss %.4f is above the initial %.4f", res.FinalVal.Loss, res.InitialVal.Loss))
	}
	res.FinalTrainLoss = Number(stats.Mean(r.recentLoss))
	res.TotalParams, res.TrainableParams = r.m.Count()
	res.OptimizerFloats = r.opt.Floats()
	res.Merges = r.merges
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

func (r *run) close() {
	defer r.lock.Close()
	if r.metrics != nil {
		r.metrics.Close()
	}
	if r.timing != nil {
		r.timing.Close()
	}
}

func (r *Result) diverge(reason string) {
	r.Status, r.DivergedReason = StatusDiverged, reason
}

func newProgress(cfg Config, start int) progress.Bar {
	var w io.Writer = os.Stderr
	if cfg.Quiet {
		w = nil
	}
	return progress.New(w, "train", "step", cfg.Steps, start)
}

func joinIf(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

// Step runs one training step: forward, backward, gradient clipping and the
// AdamW update at learning rate lr. It returns the loss and the gradient norm
// before clipping; when either is not finite the weights are left untouched.
func Step(c *kernels.Ctx, m *model.Model, opt *AdamW, inputs, targets []int32, lr, clip float64) (loss, norm float64, err error) {
	c.Reset()
	trainable := m.Trainable()
	for _, p := range trainable {
		p.ZeroGrad()
	}
	lossNode, err := m.Loss(c, inputs, targets)
	if err != nil {
		return 0, 0, err
	}
	loss = float64(kernels.Data(lossNode.Value())[0])
	if bad(loss) {
		return loss, math.NaN(), nil
	}
	if err := ag.Backward(lossNode); err != nil {
		return 0, 0, err
	}
	norm = ClipGradNorm(c, trainable, clip)
	if bad(norm) {
		return loss, norm, nil
	}
	opt.Step(c, trainable, lr)
	return loss, norm, nil
}

// bad reports a NaN or infinite value.
func bad(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
