// Package train runs one training run: batches → forward → backward → clip →
// AdamW step → schedule → evaluation → metrics and checkpoints.
package train

import (
	"fmt"

	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
)

// Config is everything that determines a run's numbers. Two runs with equal
// Configs produce identical metrics.jsonl files; the runner keys its cache by
// a hash of this struct, so fields that do not change results (Threads,
// Quiet, OutDir) are excluded from JSON.
type Config struct {
	Preset string       `json:"preset"` // model preset the shape came from (label only)
	Model  model.Config `json:"model"`

	Data       string  `json:"data"`        // "opticks", "gostd", or a path (file, folder, JSONL[.gz])
	ValFrac    float64 `json:"val_frac"`    // validation = last ValFrac of the bytes
	ValWindows int     `json:"val_windows"` // evaluate on at most this many evenly spaced windows (0 = all)

	Batch      int         `json:"batch"`        // sequences per step
	Steps      int         `json:"steps"`        // optimizer steps
	LR         float64     `json:"lr"`           // peak learning rate
	Warmup     int         `json:"warmup"`       // linear warmup steps
	MinLRRatio float64     `json:"min_lr_ratio"` // cosine decays to MinLRRatio × LR
	GradClip   float64     `json:"grad_clip"`    // global-norm clip (0 = off)
	Adam       AdamWConfig `json:"adam"`

	ReLoRA relora.Config `json:"relora"` // the method: full, LoRA/ReLoRA variants, control

	EvalEvery       int    `json:"eval_every"`        // steps between validation evaluations
	CheckpointEvery int    `json:"checkpoint_every"`  // steps between checkpoints (0 = only at the end)
	Seed            uint64 `json:"seed"`              // model init and batch order
	SaveAt          []int  `json:"save_at,omitempty"` // also keep the checkpoint after these steps (ckpt-<step>.safetensors)

	// Finetune makes the run a fine-tuning run (Table 5): a task's
	// classification or regression head on a pre-trained model, trained by
	// full fine-tuning, LoRA, ReLoRA or a linear probe (see finetune.go).
	// Nil for pre-training, and then absent from the JSON, so pre-training
	// configs (and their hashes) are what they were before it existed.
	Finetune *FinetuneConfig `json:"finetune,omitempty"`

	// WarmStartFrom is a checkpoint the run starts from, given at run time
	// (-warm-start-from). The code reads it through the accessor that says
	// which it is: warmStartCheckpoint for pre-training (a full-rank run's
	// checkpoint at step ReLoRA.WarmStartSteps, to start the LoRA phase from
	// instead of training the warm start again; with the same seed and
	// settings the run is identical either way), PretrainedCheckpoint for
	// fine-tuning (the final checkpoint of the run Finetune.From names).
	WarmStartFrom string `json:"-"`

	// Fresh deletes what a run folder holds from an earlier run before
	// training; without it a folder of another config is refused.
	Fresh bool `json:"-"`
	// WaitForLock makes Run wait while another process trains the same
	// folder (the runner's matrices), instead of failing with ErrLocked.
	WaitForLock bool `json:"-"`

	Threads int    `json:"-"` // cores the kernels use (results do not depend on it)
	Quiet   bool   `json:"-"` // no progress bar
	OutDir  string `json:"-"` // where config.json, metrics.jsonl, result.json and the checkpoint go

	// OnStep, if set, is called after every optimizer step (the runner's
	// progress display).
	OnStep func(step int) `json:"-"`

	stopAfter int // tests: return after this step as if the process were killed
}

// PretrainedCheckpoint is a fine-tuning run's pre-trained model: the final
// checkpoint of the run Finetune.From names ("" for pre-training).
func (c Config) PretrainedCheckpoint() string {
	if c.Finetune == nil {
		return ""
	}
	return c.WarmStartFrom
}

// warmStartCheckpoint is a pre-training run's full-rank checkpoint at the
// switch ("" for fine-tuning, which has no warm start).
func (c Config) warmStartCheckpoint() string {
	if c.Finetune != nil {
		return ""
	}
	return c.WarmStartFrom
}

// Default returns the reference experiment for a model preset:
// AdamW (0.9, 0.999, 1e-8, no weight decay), clip 1.0, 2,000 steps, warmup
// 50, cosine to 0.1 of lr 1e-3, batch 16 on opticks.
func Default(preset string) (Config, error) {
	m, err := model.Preset(preset)
	if err != nil {
		return Config{}, err
	}
	return Config{
		Preset: preset, Model: m,
		Data: "opticks", ValFrac: 0.05, ValWindows: 2000,
		Batch: 16, Steps: 2000, LR: 1e-3, Warmup: 50, MinLRRatio: 0.1, GradClip: 1,
		Adam:      AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		ReLoRA:    relora.Default(),
		EvalEvery: 200, CheckpointEvery: 200, Seed: 1, Threads: 1,
	}, nil
}

// Validate names the first field that makes the config unusable.
func (c Config) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if !finite(c.ValFrac, c.LR, c.MinLRRatio, c.GradClip, c.Adam.Beta1, c.Adam.Beta2, c.Adam.Eps, c.Adam.WeightDecay,
		c.ReLoRA.Alpha, c.ReLoRA.LR, c.ReLoRA.PruneRatio) {
		return fmt.Errorf("config: every rate, ratio and coefficient must be a finite number (val_frac %g, lr %g, min_lr_ratio %g, "+
			"grad_clip %g, adam %+v, relora alpha %g, lr %g, prune_ratio %g)", c.ValFrac, c.LR, c.MinLRRatio, c.GradClip, c.Adam,
			c.ReLoRA.Alpha, c.ReLoRA.LR, c.ReLoRA.PruneRatio)
	}
	if err := c.checkRank(); err != nil {
		return err
	}
	switch {
	case c.Data == "":
		return fmt.Errorf("config: data is empty (want opticks, gostd or a path)")
	case !(c.ValFrac > 0 && c.ValFrac < 1):
		return fmt.Errorf("config: val_frac must be in (0, 1), got %g", c.ValFrac)
	case c.ValWindows < 0:
		return fmt.Errorf("config: val_windows must be ≥ 0, got %d", c.ValWindows)
	case c.Batch < 1 || c.Batch > maxBatch:
		return fmt.Errorf("config: batch must be in [1, %d], got %d", maxBatch, c.Batch)
	case float64(c.Batch)*float64(c.Model.Heads)*float64(c.Model.SeqLen)*float64(c.Model.SeqLen) > maxAttention:
		return fmt.Errorf("config: batch %d × heads %d × seq_len² %d² attention scores exceed the limit of %g floats",
			c.Batch, c.Model.Heads, c.Model.SeqLen, float64(maxAttention))
	case c.ValWindows > maxBatch*1000:
		return fmt.Errorf("config: val_windows must be ≤ %d, got %d", maxBatch*1000, c.ValWindows)
	case c.ReLoRA.ControlTarget > model.MaxParams:
		return fmt.Errorf("config: control_target must be ≤ %d, got %d", model.MaxParams, c.ReLoRA.ControlTarget)
	case c.Steps < 1:
		return fmt.Errorf("config: steps must be ≥ 1, got %d", c.Steps)
	case !(c.LR > 0):
		return fmt.Errorf("config: lr must be > 0, got %g", c.LR)
	case c.Warmup < 0 || c.Warmup >= c.Steps:
		return fmt.Errorf("config: warmup must be in [0, steps=%d), got %d", c.Steps, c.Warmup)
	case !(c.MinLRRatio > 0 && c.MinLRRatio <= 1):
		return fmt.Errorf("config: min_lr_ratio must be in (0, 1], got %g", c.MinLRRatio)
	case c.GradClip < 0:
		return fmt.Errorf("config: grad_clip must be ≥ 0, got %g", c.GradClip)
	case !(c.Adam.Beta1 >= 0 && c.Adam.Beta1 < 1 && c.Adam.Beta2 >= 0 && c.Adam.Beta2 < 1):
		return fmt.Errorf("config: adam betas must be in [0, 1), got %g, %g", c.Adam.Beta1, c.Adam.Beta2)
	case !(c.Adam.Eps > 0) || c.Adam.WeightDecay < 0:
		return fmt.Errorf("config: adam eps must be > 0 and weight_decay ≥ 0, got %g, %g", c.Adam.Eps, c.Adam.WeightDecay)
	case c.EvalEvery < 1:
		return fmt.Errorf("config: eval_every must be ≥ 1, got %d", c.EvalEvery)
	case c.CheckpointEvery < 0:
		return fmt.Errorf("config: checkpoint_every must be ≥ 0, got %d", c.CheckpointEvery)
	}
	for _, s := range c.SaveAt {
		if s < 1 || s > c.Steps {
			return fmt.Errorf("config: save_at step %d outside [1, steps=%d]", s, c.Steps)
		}
	}
	if c.Finetune != nil {
		if err := c.validateFinetune(); err != nil {
			return err
		}
	} else if c.warmStartCheckpoint() != "" && c.ReLoRA.WarmStartSteps == 0 {
		return fmt.Errorf("config: warm_start_from needs warm_start > 0 (the step the checkpoint was taken at)")
	}
	if err := c.ReLoRA.Validate(c.Steps); err != nil {
		return err
	}
	// A warm-start checkpoint that cannot start the run is refused here,
	// before the run folder is created or locked.
	_, err := WarmStartNotes(c)
	return err
}

// Limits of a step's size, like model.MaxParams: a typo in a config file is
// an error, not gigabytes of activations.
const (
	maxBatch     = 1 << 12
	maxAttention = 1 << 30 // attention probabilities of one step (4 GiB)
)

// checkRank refuses a LoRA rank that is not low: at r ≥ d/2 the factors of a
// d×d projection hold as many numbers as the weight they adapt (r·2d ≥ d²),
// so the run would train more parameters than full-rank training, and a
// huge r would allocate gigabytes.
func (c Config) checkRank() error {
	r := c.ReLoRA
	if r.Method == relora.MethodFull || (r.Method == relora.MethodControl && r.ControlTarget > 0) {
		return nil
	}
	if r.Rank >= c.Model.Dim/2 || r.Rank < 1 {
		return fmt.Errorf("config: relora rank %d must be in [1, d_model/2 = %d): a rank that is not low trains as many parameters as the full model",
			r.Rank, c.Model.Dim/2)
	}
	return nil
}
