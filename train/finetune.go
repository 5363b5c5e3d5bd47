package train

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/tasks"
)

// PoolMean is the head's pooling: the mean of the final hidden states over
// the input's bytes (the padding left out); for a pair task, the means u and
// v over A's and B's bytes, read as [u, v, |u − v|, u ⊙ v] (model.Head).
const PoolMean = "mean"

// FinetuneConfig makes a Config a fine-tuning run: the task, the head and
// the method, and the pre-trained run it starts from. The Config's other
// fields keep their meaning: Batch, Steps, LR, Warmup, MinLRRatio,
// GradClip, Adam and Seed (head init, LoRA factors, the example the prefix
// starts from, and batch order) set the fine-tuning; ReLoRA is what the
// method says (FinetuneMethodConfig);
// EvalEvery is how often the dev set is scored; Model is the pre-trained
// shape; Data names the task ("task:<name>").
type FinetuneConfig struct {
	Task     string `json:"task"`      // one of tasks.Names
	TaskSeed uint64 `json:"task_seed"` // the task generator's seed: the same examples for every run of a table
	// TaskVersion is tasks.Version when the config was made (the run's
	// examples are those of that version of the generators).
	TaskVersion int    `json:"task_version"`
	Outputs     int    `json:"outputs"` // the head's width: classes, or 1 for the regression task
	Method      string `json:"method"`  // one of FinetuneMethods
	Pooling     string `json:"pooling"` // "mean"
	// AdapterDim is the adapter method's bottleneck b (model.Adapter); left
	// out of the JSON for every other method, which must leave it zero, so
	// their configs and hashes are what they were before adapters existed.
	AdapterDim int `json:"adapter_dim,omitempty"`
	// PrefixLen is method prefix's number of prefix slots per layer (0 for
	// every other method; left out of the JSON then, so no other run's
	// config or hash changed when it was added).
	PrefixLen int `json:"prefix_len,omitempty"`
	// TrainExamples and DevExamples, when > 0, use only the task's first
	// examples (the quick preset's smoke test); DevExamples caps the test
	// split too.
	TrainExamples int `json:"train_examples,omitempty"`
	DevExamples   int `json:"dev_examples,omitempty"`
	// From is the pre-trained run (a full-rank pre-training config) whose
	// final weights fine-tuning starts from: the run's identity depends on
	// that config, and its checkpoint's path is given at run time
	// (Config.PretrainedCheckpoint).
	From *Config `json:"from"`
}

// FinetuneResult is what a fine-tuning run reports besides the losses.
type FinetuneResult struct {
	Task    string             `json:"task"`
	Method  string             `json:"method"`
	Score   float64            `json:"score"`   // the task's GLUE-style score on dev at the end (tasks.Scores): what a search chooses on
	Metrics map[string]float64 `json:"metrics"` // its dev metrics at the end
	// Test is the test split's loss and scores at the end: what tables
	// report. Dev is scored at every evaluation, test only at the last.
	Test        *FinetuneEval  `json:"test,omitempty"`
	Baseline    tasks.Scores   `json:"baseline"`
	Evals       []FinetuneEval `json:"evals"`
	Train       int            `json:"train_examples"`
	Dev         int            `json:"dev_examples"`
	TestCount   int            `json:"test_examples"`
	Fingerprint string         `json:"task_fingerprint"` // tasks.Task.Fingerprint of the examples used
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
// right head width, a full-rank pre-trained run of the same shape, and a
// relora block that is what the method says.
func (c Config) validateFinetune() error {
	f := c.Finetune
	spec, err := tasks.Get(f.Task)
	if err != nil {
		return fmt.Errorf("config: finetune: %w", err)
	}
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
	if err := c.validatePrefix(); err != nil {
		return err
	}
	if err := f.From.Validate(); err != nil {
		return fmt.Errorf("config: finetune: pre-trained run: %w", err)
	}
	if err := f.checkAdapterDim(c.Model.Dim); err != nil {
		return err
	}
	want, err := FinetuneMethodConfig(f.Method, c.ReLoRA, c.LR)
	if err != nil {
		return fmt.Errorf("config: finetune: %w", err)
	}
	if want != c.ReLoRA {
		return fmt.Errorf("config: finetune: the relora block is not what method %s says (%s)", f.Method, reloraDiff(c.ReLoRA, want))
	}
	return nil
}

// checkAdapterDim requires the adapter method's bottleneck to be in
// [1, dim] (a wider one is not a bottleneck, and a typo must not allocate
// gigabytes), and every other method to leave it out.
func (f *FinetuneConfig) checkAdapterDim(dim int) error {
	m, err := lookupFinetuneMethod(f.Method)
	if err != nil {
		return fmt.Errorf("config: finetune: %w", err)
	}
	switch {
	case m.adapter && (f.AdapterDim < 1 || f.AdapterDim > dim):
		return fmt.Errorf("config: finetune: method %s needs adapter_dim in [1, dim = %d], got %d", f.Method, dim, f.AdapterDim)
	case !m.adapter && f.AdapterDim != 0:
		return fmt.Errorf("config: finetune: adapter_dim is the adapter method's bottleneck; method %s must leave it out, got %d", f.Method, f.AdapterDim)
	}
	return nil
}

// reloraDiff names the relora fields in which have differs from want.
func reloraDiff(have, want relora.Config) string {
	a, errA := json.Marshal(have)
	b, errB := json.Marshal(want)
	if errA != nil || errB != nil {
		return fmt.Sprintf("%+v, want %+v", have, want)
	}
	diff, err := ConfigDiff(a, b)
	if err != nil {
		return fmt.Sprintf("%+v, want %+v", have, want)
	}
	return strings.Join(diff, "; ")
}
