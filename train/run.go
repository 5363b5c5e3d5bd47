package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/nlpodyssey/spago/ag"
	"github.com/schollz/progressbar/v3"

	"github.com/relorago/harness/data"
	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
)

// File names inside a run's OutDir.
const (
	ConfigFile     = "config.json"
	MetricsFile    = "metrics.jsonl"
	TimingFile     = "timing.jsonl"
	ResultFile     = "result.json"
	CheckpointFile = "checkpoint.gob"
)

// Run trains one model as cfg says and returns its result. With an OutDir it
// writes config.json, metrics.jsonl, timing.jsonl, checkpoints and
// result.json there, and resumes from a checkpoint it finds. A diverged run
// (NaN/Inf loss, or a final validation loss above the initial one) is a
// Result with Status "diverged", not an error.
func Run(cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	wallStart := time.Now()
	if cfg.OutDir != "" {
		if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
			return nil, err
		}
		if err := writeJSON(cfg.OutDir, ConfigFile, cfg); err != nil {
			return nil, err
		}
	}

	// Data: byte tokens; validation is the last ValFrac of the corpus.
	corpus, err := data.Load(cfg.Data)
	if err != nil {
		return nil, err
	}
	trainBytes, valBytes := corpus.Split(cfg.ValFrac)
	seq := cfg.Model.SeqLen
	sampler, err := data.NewSampler(corpus.Name, trainBytes, seq, cfg.Batch, cfg.Seed)
	if err != nil {
		return nil, err
	}
	val, err := data.NewValidation(corpus.Name, valBytes, seq, cfg.Batch, cfg.ValWindows)
	if err != nil {
		return nil, err
	}

	// Model, optimizer, schedule.
	m, err := model.New(cfg.Model, cfg.Seed)
	if err != nil {
		return nil, err
	}
	opt := NewAdamW(cfg.Adam)
	sched := relora.Schedule{Steps: cfg.Steps, Warmup: cfg.Warmup, MinRatio: cfg.MinLRRatio}
	if err := sched.Validate(); err != nil {
		return nil, err
	}
	c := kernels.NewCtx(cfg.Threads)

	// Resume from the last checkpoint, if there is one.
	res := &Result{Status: StatusOK, Threads: c.Threads(), GemmBackend: kernels.GemmBackend}
	start := 0
	ckPath := filepath.Join(cfg.OutDir, CheckpointFile)
	if cfg.OutDir != "" {
		ck, err := LoadCheckpoint(ckPath)
		switch {
		case err == nil:
			if err := ck.Restore(m, opt); err != nil {
				return nil, fmt.Errorf("resume %s: %w", ckPath, err)
			}
			start, res.Evals = ck.Step, ck.Evals
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("resume: %w (delete it to start over)", err)
		}
		for _, f := range []string{MetricsFile, TimingFile} {
			if err := truncateJSONL(filepath.Join(cfg.OutDir, f), start); err != nil {
				return nil, err
			}
		}
	}
	metrics, err := openJSONL(joinIf(cfg.OutDir, MetricsFile))
	if err != nil {
		return nil, err
	}
	defer metrics.Close()
	timing, err := openJSONL(joinIf(cfg.OutDir, TimingFile))
	if err != nil {
		return nil, err
	}
	defer timing.Close()

	if start == 0 {
		ev, err := Evaluate(c, m, val, cfg.Batch, 0)
		if err != nil {
			return nil, err
		}
		res.Evals = append(res.Evals, ev)
	}
	res.InitialVal = res.Evals[0]

	bar := newProgress(cfg, start)
	inputs, targets := make([]int32, cfg.Batch*seq), make([]int32, cfg.Batch*seq)
	var trainTime time.Duration
	var recentLoss []float64
	sampler.SetStep(start)
	for step := start; step < cfg.Steps; step++ {
		t0 := time.Now()
		sampler.Next(inputs, targets)
		lr := cfg.LR * sched.Multiplier(step)
		loss, norm, err := Step(c, m, opt, inputs, targets, lr, cfg.GradClip)
		if err != nil {
			return nil, err
		}
		if bad(loss) || bad(norm) {
			res.diverge(fmt.Sprintf("training loss %v, gradient norm %v at step %d", loss, norm, step+1))
			break
		}
		dt := time.Since(t0)
		trainTime += dt

		// Log, evaluate, checkpoint.
		line := StepMetrics{Step: step + 1, Loss: loss, LR: lr, GradNorm: norm}
		if (step+1)%cfg.EvalEvery == 0 || step+1 == cfg.Steps {
			ev, err := Evaluate(c, m, val, cfg.Batch, step+1)
			if err != nil {
				return nil, err
			}
			if bad(ev.Loss) {
				res.diverge(fmt.Sprintf("validation loss is %v at step %d", ev.Loss, step+1))
				break
			}
			res.Evals = append(res.Evals, ev)
			line.ValLoss = &ev.Loss
		}
		if err := metrics.write(line); err != nil {
			return nil, err
		}
		tokens := float64(cfg.Batch * seq)
		if err := timing.write(StepTiming{Step: step + 1, StepMillis: dt.Seconds() * 1e3, TokensPerS: tokens / dt.Seconds()}); err != nil {
			return nil, err
		}
		recentLoss = append(recentLoss, loss)
		if len(recentLoss) > 50 {
			recentLoss = recentLoss[1:]
		}
		res.Steps = step + 1
		if cfg.OutDir != "" && cfg.CheckpointEvery > 0 && (step+1)%cfg.CheckpointEvery == 0 && step+1 < cfg.Steps {
			if err := Snapshot(step+1, m, opt, nil, res.Evals).Save(ckPath); err != nil {
				return nil, err
			}
		}
		bar.Describe(fmt.Sprintf("loss %.3f val %.3f", loss, res.Evals[len(res.Evals)-1].Loss))
		bar.Add(1)
		if step+1 == cfg.stopAfter {
			return res, nil // simulated kill: no final checkpoint, no result.json
		}
	}
	bar.Finish()

	// Summarise.
	res.FinalVal = res.Evals[len(res.Evals)-1]
	if res.Status == StatusOK && res.FinalVal.Loss > res.InitialVal.Loss {
		res.diverge(fmt.Sprintf("final validation loss %.4f is above the initial %.4f", res.FinalVal.Loss, res.InitialVal.Loss))
	}
	res.FinalTrainLoss = mean(recentLoss)
	res.TotalParams, res.TrainableParams = m.Count()
	res.OptimizerFloats = opt.Floats()
	if trainTime > 0 {
		res.TrainSeconds = trainTime.Seconds()
		res.TokensPerSec = float64((res.Steps-start)*cfg.Batch*seq) / trainTime.Seconds()
		res.ExamplesPerSec = float64((res.Steps-start)*cfg.Batch) / trainTime.Seconds()
	}
	res.WallSeconds = time.Since(wallStart).Seconds()
	if cfg.OutDir != "" {
		if err := Snapshot(res.Steps, m, opt, nil, res.Evals).Save(ckPath); err != nil {
			return nil, err
		}
	}
	return res, writeJSON(cfg.OutDir, ResultFile, res)
}

func (r *Result) diverge(reason string) {
	r.Status, r.DivergedReason = StatusDiverged, reason
}

func newProgress(cfg Config, start int) *progressbar.ProgressBar {
	var w io.Writer = os.Stderr
	if cfg.Quiet {
		w = io.Discard
	}
	bar := progressbar.NewOptions(cfg.Steps,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("step"),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(250*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	bar.Set(start)
	return bar
}

func joinIf(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
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
	norm = ClipGradNorm(trainable, clip)
	if bad(norm) {
		return loss, norm, nil
	}
	opt.Step(trainable, lr)
	return loss, norm, nil
}

// bad reports a NaN or infinite value.
func bad(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
