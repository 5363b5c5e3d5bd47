package train

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/stats"
	"github.com/relorago/harness/tasks"
)

// Fine-tuning methods (the rows of Table 5).
const (
	FinetuneFull   = "full"   // every weight of the model trains (the LM head, unused, stays frozen)
	FinetuneLoRA   = "lora"   // LoRA factors on the 7 projections of every block; the rest frozen
	FinetuneReLoRA = "relora" // LoRA with merges, optimizer resets and the jagged schedule (no warm start)
	FinetuneProbe  = "probe"  // the model frozen: only the head trains
)

// FinetuneMethods lists the methods in table order.
var FinetuneMethods = []string{FinetuneFull, FinetuneLoRA, FinetuneReLoRA, FinetuneProbe}

// PoolMean is the head's pooling: the mean of the final hidden states over
// the input's bytes (the padding left out); for a pair task, the means u and
// v over A's and B's bytes, read as [u, v, |u − v|, u ⊙ v] (model.Head).
const PoolMean = "mean"

// FinetuneConfig makes a Config a fine-tuning run: the task, the head and
// the method, and the pre-trained run it starts from. The Config's other
// fields keep their meaning: Batch, Steps, LR, Warmup, MinLRRatio,
// GradClip, Adam and Seed (head init, LoRA factors and batch order) set the
// fine-tuning; ReLoRA holds the low-rank settings (Method "lora"; Restarts,
// OptimizerReset and Jagged for ReLoRA; no warm start); EvalEvery is how
// often the dev set is scored; Model is the pre-trained shape; Data names the
// task ("task:<name>").
type FinetuneConfig struct {
	Task     string `json:"task"`      // one of tasks.Names
	TaskSeed uint64 `json:"task_seed"` // the task generator's seed: the same examples for every run of a table
	// TaskVersion is tasks.Version when the config was made (the run's
	// examples are those of that version of the generators).
	TaskVersion int    `json:"task_version"`
	Outputs     int    `json:"outputs"` // the head's width: classes, or 1 for the regression task
	Method      string `json:"method"`  // full, lora, relora or probe
	Pooling     string `json:"pooling"` // "mean"
	// TrainExamples and DevExamples, when > 0, use only the task's first
	// examples (the quick preset's smoke test).
	TrainExamples int `json:"train_examples,omitempty"`
	DevExamples   int `json:"dev_examples,omitempty"`
	// From is the pre-trained run (a full-rank pre-training config) whose
	// final weights fine-tuning starts from: the run's identity depends on
	// that config, and its checkpoint's path is given at run time in
	// Config.WarmStartFrom.
	From *Config `json:"from"`
}

// FinetuneResult is what a fine-tuning run reports besides the losses.
type FinetuneResult struct {
	Task        string             `json:"task"`
	Method      string             `json:"method"`
	Score       float64            `json:"score"`   // the task's GLUE-style score at the end (tasks.Scores)
	Metrics     map[string]float64 `json:"metrics"` // its metrics at the end
	Baseline    tasks.Scores       `json:"baseline"`
	Evals       []FinetuneEval     `json:"evals"`
	Train       int                `json:"train_examples"`
	Dev         int                `json:"dev_examples"`
	Fingerprint string             `json:"task_fingerprint"` // tasks.Task.Fingerprint of the examples used
	// PretrainedValLoss is the pre-trained run's final validation loss,
	// read from its checkpoint.
	PretrainedValLoss float64 `json:"pretrained_val_loss"`
}

// FinetuneEval is one scoring of the dev set.
type FinetuneEval struct {
	Step    int                `json:"step"`
	Loss    float64            `json:"loss"`
	Score   float64            `json:"score"`
	Metrics map[string]float64 `json:"metrics"`
}

// validateFinetune checks a fine-tuning config: a known task with the
// right head width, a full-rank pre-trained run of the same shape, and
// low-rank settings that say what the method says.
func (c Config) validateFinetune() error {
	f := c.Finetune
	spec, err := tasks.Get(f.Task)
	if err != nil {
		return fmt.Errorf("config: finetune: %w", err)
	}
	r := c.ReLoRA
	lowRank := r.Method == relora.MethodLoRA && r.WarmStartSteps == 0 && r.LR == c.LR
	switch {
	case f.TaskVersion != tasks.Version:
		return fmt.Errorf("config: finetune: task_version %d, but this harness generates version %d of the tasks", f.TaskVersion, tasks.Version)
	case f.Outputs != spec.Outputs():
		return fmt.Errorf("config: finetune: task %s has %d outputs, config says %d", f.Task, spec.Outputs(), f.Outputs)
	case f.Pooling != PoolMean:
		return fmt.Errorf("config: finetune: pooling %q, want %q", f.Pooling, PoolMean)
	case f.TrainExamples < 0 || f.DevExamples < 0:
		return fmt.Errorf("config: finetune: example counts must be ≥ 0")
	case c.Data != "task:"+f.Task:
		return fmt.Errorf("config: finetune: data must be %q, got %q", "task:"+f.Task, c.Data)
	case f.From == nil:
		return fmt.Errorf("config: finetune: no pre-trained run (from)")
	case f.From.Finetune != nil:
		return fmt.Errorf("config: finetune: the pre-trained run is itself a fine-tuning run")
	case f.From.ReLoRA.Method != relora.MethodFull:
		return fmt.Errorf("config: finetune: the pre-trained run must be full-rank, is %q", f.From.ReLoRA.Method)
	case f.From.Model != c.Model:
		return fmt.Errorf("config: finetune: model %+v is not the pre-trained run's %+v", c.Model, f.From.Model)
	case len(c.SaveAt) > 0:
		return fmt.Errorf("config: finetune: save_at is for pre-training runs")
	}
	if err := f.From.Validate(); err != nil {
		return fmt.Errorf("config: finetune: pre-trained run: %w", err)
	}
	switch f.Method {
	case FinetuneFull, FinetuneProbe:
		if r.Method != relora.MethodFull {
			return fmt.Errorf("config: finetune: method %s trains no LoRA factors; relora.method must be full", f.Method)
		}
	case FinetuneLoRA:
		if !lowRank || r.Restarts || r.OptimizerReset || r.Jagged {
			return fmt.Errorf("config: finetune: method lora wants relora.method lora, no restarts, reset, jagged or warm start, and relora.lr = lr")
		}
	case FinetuneReLoRA:
		if !lowRank || !r.Restarts || !r.OptimizerReset || !r.Jagged {
			return fmt.Errorf("config: finetune: method relora wants relora.method lora with restarts, optimizer reset and jagged, no warm start, and relora.lr = lr")
		}
	default:
		return fmt.Errorf("config: finetune: method %q is not %s", f.Method, strings.Join(FinetuneMethods, ", "))
	}
	return nil
}

// ftRun is one fine-tuning run's state.
type ftRun struct {
	cfg    Config
	fc     FinetuneConfig
	task   *tasks.Task
	train  []tasks.Example
	dev    []tasks.Example
	m      *model.Model
	head   *model.Head
	params []model.Param // everything the method trains, the head last
	opt    *AdamW
	sched  relora.Schedule
	c      *kernels.Ctx
	res    *Result
	ft     *FinetuneResult

	pretrained      *Checkpoint // the start, when the folder has no checkpoint of its own
	start, merges   int
	metrics, timing *jsonlWriter
	lock            *folderLock
	done            *Result

	trainTime, wallBefore time.Duration
	wallStart             time.Time
	recentLoss            []float64
	killed                bool
}

// runFinetune is Run for a fine-tuning config: the run folder rules of a
// pre-training run (one config per folder, a lock, a finished folder
// returns its result, resume from the checkpoint, the final checkpoint
// before result.json), with the task's batches, head and dev scores.
func runFinetune(cfg Config) (*Result, error) {
	r, err := newFinetune(cfg)
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

func newFinetune(cfg Config) (*ftRun, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fc := *cfg.Finetune
	r := &ftRun{cfg: cfg, fc: fc, wallStart: time.Now()}
	task, err := tasks.Generate(fc.Task, fc.TaskSeed)
	if err != nil {
		return nil, err
	}
	r.task, r.train, r.dev = task, task.Train, task.Dev
	if n := fc.TrainExamples; n > 0 && n < len(r.train) {
		r.train = r.train[:n]
	}
	if n := fc.DevExamples; n > 0 && n < len(r.dev) {
		r.dev = r.dev[:n]
	}
	// The task's scores and baseline are over the dev examples used.
	scored := *task
	scored.Train, scored.Dev = r.train, r.dev

	// The pre-trained weights: needed unless the folder holds this run's
	// own checkpoint (a resume) or its result. Checked before the folder
	// is touched, so a run without them leaves nothing behind.
	if cfg.WarmStartFrom != "" {
		if r.pretrained, err = loadPretrained(cfg.WarmStartFrom, *fc.From); err != nil {
			return nil, err
		}
	} else if cfg.Fresh || !hasRunFiles(cfg.OutDir) {
		return nil, fmt.Errorf("fine-tuning needs the pre-trained run's checkpoint (warm_start_from / -warm-start-from): " +
			"the final checkpoint.safetensors of the run its finetune.from config names")
	}

	if r.m, err = model.New(cfg.Model, cfg.Seed); err != nil {
		return nil, err
	}
	if r.pretrained != nil {
		if err := r.pretrained.Restore(r.m, NewAdamW(cfg.Adam)); err != nil {
			return nil, fmt.Errorf("pre-trained checkpoint %s: %w", cfg.WarmStartFrom, err)
		}
	}
	r.setMethod()
	r.opt = NewAdamW(cfg.Adam)
	r.sched = cfg.ReLoRA.Schedule(cfg.Steps, cfg.Warmup, cfg.MinLRRatio)
	if err := r.sched.Validate(); err != nil {
		return nil, err
	}
	r.c = kernels.NewCtx(cfg.Threads)
	var bytes int
	for _, ex := range slices.Concat(r.train, r.dev) {
		bytes += len(ex.A) + len(ex.B)
	}
	r.ft = &FinetuneResult{Task: fc.Task, Method: fc.Method, Baseline: scored.Majority(), Train: len(r.train), Dev: len(r.dev),
		Fingerprint: scored.Fingerprint()}
	r.res = &Result{Status: StatusOK, Threads: r.c.Threads(), GemmBackend: kernels.GemmBackend, Model: cfg.Model,
		Corpus: Corpus{Source: cfg.Data, Bytes: bytes, SHA256: r.ft.Fingerprint, GoVersion: runtime.Version()}, Finetune: r.ft}
	r.task = &scored
	if err := r.openFolder(); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// loadPretrained reads the pre-trained run's final checkpoint and checks
// that it is the run the config names, at its last step.
func loadPretrained(path string, from Config) (*Checkpoint, error) {
	ck, err := LoadCheckpoint(path)
	if err != nil {
		return nil, fmt.Errorf("pre-trained checkpoint: %w", err)
	}
	if len(ck.Config) == 0 {
		return nil, fmt.Errorf("pre-trained checkpoint %s does not say which config wrote it", path)
	}
	if err := checkSameConfig(filepath.Dir(path), from, ck.Config, CheckpointFile); err != nil {
		return nil, fmt.Errorf("pre-trained checkpoint %s is not the run finetune.from names: %w", path, err)
	}
	if ck.Step != from.Steps {
		return nil, fmt.Errorf("pre-trained checkpoint %s is at step %d, the run has %d steps: it is not finished", path, ck.Step, from.Steps)
	}
	return ck, nil
}

// hasRunFiles reports whether a run folder holds a checkpoint or a result.
func hasRunFiles(dir string) bool {
	if dir == "" {
		return false
	}
	for _, n := range []string{CheckpointFile, ResultFile} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// setMethod freezes what the method does not train, wraps the projections
// in LoRA linears for the low-rank methods, and adds the head. The LM head
// is never read by a fine-tuning run, so it is frozen in every method.
func (r *ftRun) setMethod() {
	cfg := r.cfg
	m := r.m
	m.Head.SetRequiresGrad(false)
	switch r.fc.Method {
	case FinetuneLoRA, FinetuneReLoRA:
		relora.Wrap(m, cfg.ReLoRA.Rank, cfg.ReLoRA.Alpha, cfg.Seed)
		for _, p := range m.Params() {
			if !relora.IsLoRAParam(p.Name) {
				p.SetRequiresGrad(false)
			}
		}
	case FinetuneProbe:
		for _, p := range m.Params() {
			p.SetRequiresGrad(false)
		}
	}
	r.head = model.NewHead(cfg.Model.Dim, r.fc.Outputs, r.task.Pair, cfg.Model.InitStd, cfg.Seed^0x636c73)
	r.params = append(m.Trainable(), r.head.Params()...)
}

// allParams is every parameter a checkpoint holds: the model's, then the head's.
func (r *ftRun) allParams() []model.Param { return append(r.m.Params(), r.head.Params()...) }

func (r *ftRun) openFolder() error {
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

// resume continues from the folder's checkpoint, or starts from the
// pre-trained weights.
func (r *ftRun) resume() error {
	cfg := r.cfg
	if cfg.OutDir != "" {
		path := filepath.Join(cfg.OutDir, CheckpointFile)
		ck, err := LoadCheckpoint(path)
		switch {
		case err == nil:
			if err := r.restore(ck, path); err != nil {
				return err
			}
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("resume: %w (delete it to start over)", err)
		case r.pretrained == nil:
			return fmt.Errorf("%s has no checkpoint to resume and no pre-trained checkpoint was given (warm_start_from)", cfg.OutDir)
		}
		if err := truncateJSONL(filepath.Join(cfg.OutDir, MetricsFile), r.start, true); err != nil {
			return err
		}
		if err := truncateJSONL(filepath.Join(cfg.OutDir, TimingFile), r.start, false); err != nil {
			return err
		}
	}
	if r.pretrained != nil && len(r.pretrained.Evals) > 0 {
		r.ft.PretrainedValLoss = r.pretrained.Evals[len(r.pretrained.Evals)-1].Loss
	}
	var err error
	if r.metrics, err = openJSONL(joinIf(cfg.OutDir, MetricsFile)); err != nil {
		return err
	}
	r.timing, err = openJSONL(joinIf(cfg.OutDir, TimingFile))
	return err
}

// Extra keys of a fine-tuning checkpoint (besides "merges"): the pre-trained
// run's validation loss and the dev scores so far.
const (
	extraPretrained = "pretrained_val_loss"
	extraEval       = "eval."
)

func (r *ftRun) restore(ck *Checkpoint, path string) error {
	if err := checkSameConfig(r.cfg.OutDir, r.cfg, ck.Config, CheckpointFile); err != nil {
		return err
	}
	if ck.Step > r.cfg.Steps {
		return fmt.Errorf("%s is at step %d, beyond the run's %d steps", path, ck.Step, r.cfg.Steps)
	}
	for _, p := range r.allParams() {
		v, ok := ck.Params[p.Name]
		if !ok || len(v) != len(p.Raw()) {
			return fmt.Errorf("resume from %s: parameter %q is missing or of another size", path, p.Name)
		}
		copy(p.Raw(), v)
	}
	r.opt.States = map[string]*AdamState{}
	for name, s := range ck.Adam {
		r.opt.States[name] = &AdamState{M: slices.Clone(s.M), V: slices.Clone(s.V), Step: s.Step}
	}
	r.start, r.res.Steps = ck.Step, ck.Step
	r.merges = int(ck.Extra["merges"])
	r.res.Resets, r.res.Evals = ck.Resets, ck.Evals
	r.recentLoss = ck.RecentLoss
	r.trainTime = time.Duration(ck.TrainSeconds * float64(time.Second))
	r.wallBefore = time.Duration(ck.WallSeconds * float64(time.Second))
	r.pretrained = nil
	r.ft.PretrainedValLoss = ck.Extra[extraPretrained]
	r.ft.Evals = evalsFromExtra(ck.Evals, ck.Extra)
	return nil
}

// evalsFromExtra rebuilds the dev scores a checkpoint carries in Extra.
func evalsFromExtra(evals []Eval, extra map[string]float64) []FinetuneEval {
	var out []FinetuneEval
	for _, e := range evals {
		fe := FinetuneEval{Step: e.Step, Loss: e.Loss, Metrics: map[string]float64{}}
		prefix := extraEval + strconv.Itoa(e.Step) + "."
		for k, v := range extra {
			if name, ok := strings.CutPrefix(k, prefix); ok {
				if name == "score" {
					fe.Score = v
				} else {
					fe.Metrics[name] = v
				}
			}
		}
		out = append(out, fe)
	}
	return out
}

// batchRows draws step's batch: indices into the training examples, uniform
// with replacement, a function of (seed, step) only, so a resumed run sees
// the batches an uninterrupted one would.
func batchRows(seed uint64, step, batch, n int) []int {
	pcg := rand.NewPCG(mix(seed^0x66696e65), mix(uint64(step)^mix(seed^0x74756e65)))
	out := make([]int, batch)
	for i := range out {
		hi, lo := bits.Mul64(pcg.Uint64(), uint64(n))
		if lo < uint64(n) {
			thresh := -uint64(n) % uint64(n)
			for lo < thresh {
				hi, lo = bits.Mul64(pcg.Uint64(), uint64(n))
			}
		}
		out[i] = int(hi)
	}
	return out
}

// mix is the splitmix64 finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// batch is a step's (or a dev batch's) inputs in the model's layout.
type batch struct {
	ids     []int32
	lengths []int
	split   []int // A's bytes (pair tasks)
	labels  []int32
	targets []float32
}

func (r *ftRun) encode(exs []tasks.Example) batch {
	seq := r.cfg.Model.SeqLen
	b := batch{ids: make([]int32, len(exs)*seq), lengths: make([]int, len(exs)), split: make([]int, len(exs)),
		labels: make([]int32, len(exs)), targets: make([]float32, len(exs))}
	for i, ex := range exs {
		b.lengths[i], b.split[i] = tasks.Encode(ex, b.ids[i*seq:(i+1)*seq])
		b.labels[i], b.targets[i] = int32(ex.Label), float32(ex.Target)
	}
	return b
}

// outputs runs the model and the head on a batch (the graph is the step's).
func (r *ftRun) outputs(b batch) (mat.Tensor, error) {
	h, err := r.m.Hidden(r.c, b.ids)
	if err != nil {
		return nil, err
	}
	return r.head.Forward(h, b.lengths, b.split, r.cfg.Model.SeqLen), nil
}

// step is one training step: forward, loss, backward, clip, AdamW over the
// method's parameters. Like Step, it leaves the weights untouched when the
// loss or the gradient norm is not finite.
func (r *ftRun) step(b batch, lr float64) (loss, norm float64, err error) {
	r.c.Reset()
	for _, p := range r.params {
		p.ZeroGrad()
	}
	out, err := r.outputs(b)
	if err != nil {
		return 0, 0, err
	}
	var lossNode mat.Tensor
	if r.task.Regression() {
		lossNode = model.MSE(out, b.targets)
	} else {
		lossNode = r.c.CrossEntropy(out, b.labels)
	}
	loss = float64(kernels.Data(lossNode.Value())[0])
	if bad(loss) {
		return loss, math.NaN(), nil
	}
	if err := ag.Backward(lossNode); err != nil {
		return 0, 0, err
	}
	norm = ClipGradNorm(r.c, r.params, r.cfg.GradClip)
	if bad(norm) {
		return loss, norm, nil
	}
	r.opt.Step(r.c, r.params, lr)
	return loss, norm, nil
}

// evaluate scores the dev set: its mean loss and the task's metrics.
func (r *ftRun) evaluate(step int) (FinetuneEval, error) {
	var sum float64
	classes := make([]int, 0, len(r.dev))
	scores := make([]float64, 0, len(r.dev))
	for lo := 0; lo < len(r.dev); lo += r.cfg.Batch {
		exs := r.dev[lo:min(lo+r.cfg.Batch, len(r.dev))]
		b := r.encode(exs)
		r.c.Reset()
		out, err := r.outputs(b)
		if err != nil {
			return FinetuneEval{}, err
		}
		y := kernels.Data(out.Value())
		k := r.fc.Outputs
		for i, ex := range exs {
			row := y[i*k : (i+1)*k]
			if r.task.Regression() {
				e := float64(row[0]) - ex.Target
				sum += e * e
				scores = append(scores, float64(row[0]))
				continue
			}
			// Cross-entropy in float64, and the arg max (the first on ties).
			best, mx := 0, float64(row[0])
			for c, v := range row {
				if float64(v) > mx {
					best, mx = c, float64(v)
				}
			}
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v) - mx)
			}
			sum += mx + math.Log(z) - float64(row[ex.Label])
			classes = append(classes, best)
		}
	}
	var s tasks.Scores
	if r.task.Regression() {
		s = r.task.ScoreRegression(scores)
	} else {
		s = r.task.ScoreClasses(classes)
	}
	return FinetuneEval{Step: step, Loss: sum / float64(len(r.dev)), Score: s.Score, Metrics: s.Metrics}, nil
}

func (r *ftRun) loop() error {
	cfg, method := r.cfg, r.cfg.ReLoRA
	bar := newProgress(cfg, r.start)
	defer bar.Finish()
	mergeAt := map[int]bool{}
	for _, s := range method.MergeSteps(cfg.Steps) {
		mergeAt[s] = true
	}
	for step := r.start; step < cfg.Steps; step++ {
		t0 := time.Now()
		rows := batchRows(cfg.Seed, step, cfg.Batch, len(r.train))
		exs := make([]tasks.Example, len(rows))
		for i, k := range rows {
			exs[i] = r.train[k]
		}
		lr := cfg.LR * r.sched.Multiplier(step)
		loss, norm, err := r.step(r.encode(exs), lr)
		if err != nil {
			return err
		}
		if bad(loss) || bad(norm) {
			r.res.diverge(fmt.Sprintf("training loss %v, gradient norm %v at step %d", loss, norm, step+1))
			return nil
		}
		var event string
		// method: ReLoRA's merge-and-reinit after the restart step's
		// update, then the optimizer reset of the LoRA factors' moments.
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
		bar.Describe(fmt.Sprintf("loss %.3f", loss))
		bar.Add(1)
		if cfg.OnStep != nil {
			cfg.OnStep(step + 1)
		}
		if step+1 == cfg.stopAfter {
			r.killed = true
			return nil
		}
	}
	return nil
}

// pruneOptimizer is the optimizer reset (run.pruneOptimizer's rule).
func (r *ftRun) pruneOptimizer(step int) Reset {
	rng := relora.PruneRNG(r.cfg.Seed, r.merges)
	var zm, zv, n int
	for _, p := range r.m.Params() {
		st := r.opt.States[p.Name]
		if st == nil || !relora.IsLoRAParam(p.Name) {
			continue
		}
		zm += relora.Prune(st.M, r.cfg.ReLoRA.PruneMode, r.cfg.ReLoRA.PruneRatio, rng)
		zv += relora.Prune(st.V, r.cfg.ReLoRA.PruneMode, r.cfg.ReLoRA.PruneRatio, rng)
		n += len(st.M)
	}
	return Reset{Step: step, ZeroedM: float64(zm) / float64(max(n, 1)), ZeroedV: float64(zv) / float64(max(n, 1))}
}

func (r *ftRun) log(step int, loss, lr, norm float64, event string, dt time.Duration) error {
	cfg := r.cfg
	line := StepMetrics{Step: step + 1, Loss: loss, LR: lr, GradNorm: norm, Event: event}
	if (step+1)%cfg.EvalEvery == 0 || step+1 == cfg.Steps {
		ev, err := r.evaluate(step + 1)
		if err != nil {
			return err
		}
		if bad(ev.Loss) {
			r.res.diverge(fmt.Sprintf("dev loss is %v at step %d", ev.Loss, step+1))
		} else {
			r.res.Evals = append(r.res.Evals, Eval{Step: step + 1, Loss: ev.Loss, Perplexity: Number(math.Exp(ev.Loss)), BitsPerByte: ev.Loss / math.Ln2})
			r.ft.Evals = append(r.ft.Evals, ev)
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

func (r *ftRun) checkpoint(done int) error {
	cfg := r.cfg
	if cfg.OutDir == "" || r.res.Status != StatusOK {
		return nil
	}
	if cfg.CheckpointEvery > 0 && done%cfg.CheckpointEvery == 0 && done < cfg.Steps {
		return r.snapshot(done).Save(filepath.Join(cfg.OutDir, CheckpointFile))
	}
	return nil
}

// snapshot is the checkpoint of the model, the head and the optimizer, with
// the dev scores so far in Extra.
func (r *ftRun) snapshot(done int) *Checkpoint {
	ck := &Checkpoint{Step: done, Params: map[string][]float32{}, Adam: map[string]*AdamState{},
		Extra: map[string]float64{"merges": float64(r.merges), extraPretrained: r.ft.PretrainedValLoss}, Evals: slices.Clone(r.res.Evals)}
	for _, p := range r.allParams() {
		ck.Params[p.Name] = slices.Clone(p.Raw())
	}
	for name, s := range r.opt.States {
		ck.Adam[name] = &AdamState{M: slices.Clone(s.M), V: slices.Clone(s.V), Step: s.Step}
	}
	for _, e := range r.ft.Evals {
		prefix := extraEval + strconv.Itoa(e.Step) + "."
		ck.Extra[prefix+"score"] = e.Score
		for k, v := range e.Metrics {
			ck.Extra[prefix+k] = v
		}
	}
	ck.Resets = r.res.Resets
	ck.Config = configJSON(r.cfg)
	ck.RecentLoss = slices.Clone(r.recentLoss)
	ck.TrainSeconds, ck.WallSeconds = r.trainTime.Seconds(), r.wall().Seconds()
	return ck
}

func (r *ftRun) wall() time.Duration { return r.wallBefore + time.Since(r.wallStart) }

func (r *ftRun) finish() (*Result, error) {
	res, cfg := r.res, r.cfg
	if len(res.Evals) > 0 {
		res.InitialVal, res.FinalVal = res.Evals[0], res.Evals[len(res.Evals)-1]
	}
	if n := len(r.ft.Evals); n > 0 {
		last := r.ft.Evals[n-1]
		r.ft.Score, r.ft.Metrics = last.Score, last.Metrics
	}
	res.FinalTrainLoss = Number(stats.Mean(r.recentLoss))
	var total, trainable int
	for _, p := range r.allParams() {
		total += len(p.Raw())
		if p.RequiresGrad() {
			trainable += len(p.Raw())
		}
	}
	res.TotalParams, res.TrainableParams = total, trainable
	res.OptimizerFloats = r.opt.Floats()
	res.Merges = r.merges
	if r.trainTime > 0 {
		steps := float64(res.Steps)
		res.TrainSeconds = r.trainTime.Seconds()
		res.TokensPerSec = steps * float64(cfg.Batch*cfg.Model.SeqLen) / r.trainTime.Seconds()
		res.ExamplesPerSec = steps * float64(cfg.Batch) / r.trainTime.Seconds()
	}
	res.WallSeconds = r.wall().Seconds()
	res.FinishedAt = time.Now().UTC().Format(time.RFC3339)
	res.CPU = CPUModel()
	if cfg.OutDir != "" {
		if err := r.snapshot(res.Steps).Save(filepath.Join(cfg.OutDir, CheckpointFile)); err != nil {
			return nil, err
		}
	}
	return res, writeJSON(cfg.OutDir, ResultFile, res)
}

func (r *ftRun) close() {
	defer r.lock.Close()
	if r.metrics != nil {
		r.metrics.Close()
	}
	if r.timing != nil {
		r.timing.Close()
	}
}
