package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/relorago/harness/model"
)

// Status values of a Result.
const (
	StatusOK       = "ok"
	StatusDiverged = "diverged"
)

// Result is what a finished run reports (result.json).
type Result struct {
	Status         string `json:"status"`                    // "ok" or "diverged"
	DivergedReason string `json:"diverged_reason,omitempty"` // what went wrong, and at which step
	Steps          int    `json:"steps"`                     // optimizer steps completed
	InitialVal     Eval   `json:"initial_val"`
	FinalVal       Eval   `json:"final_val"`
	Evals          []Eval `json:"evals"`
	FinalTrainLoss Number `json:"final_train_loss"` // mean of the last 50 steps' training loss

	TotalParams     int `json:"total_params"`
	TrainableParams int `json:"trainable_params"`
	OptimizerFloats int `json:"optimizer_floats"`

	// Throughput of the training steps only (evaluation and checkpoint time excluded).
	TokensPerSec   float64 `json:"tokens_per_sec"`
	ExamplesPerSec float64 `json:"examples_per_sec"`
	TrainSeconds   float64 `json:"train_seconds"`
	WallSeconds    float64 `json:"wall_seconds"`
	Threads        int     `json:"threads"`
	GemmBackend    string  `json:"gemm_backend"`
	CPU            string  `json:"cpu,omitempty"`         // model name of the machine that finished the run
	FinishedAt     string  `json:"finished_at,omitempty"` // UTC, RFC 3339

	Model model.Config `json:"model"` // the shape trained (the control's is smaller)
	// Corpus identifies the data: gostd is the Go toolchain's own source, so
	// another Go version trains on (slightly) different text.
	Corpus Corpus `json:"corpus"`
	Merges int    `json:"merges"` // merge-and-reinit restarts done
	// WarmStartDifferences are the settings in which the run whose
	// checkpoint started this one (-warm-start-from) differs from it
	// ("field: warm start's → this run's"), e.g. its seed or learning rate.
	WarmStartDifferences []string `json:"warm_start_differences,omitempty"`
	Resets               []Reset  `json:"resets,omitempty"` // optimizer resets, with the fraction of moments zeroed

	// Finetune is a fine-tuning run's task scores (nil for pre-training).
	// Its evals above hold the dev loss: cross-entropy per example, or the
	// regression task's mean squared error.
	Finetune *FinetuneResult `json:"finetune,omitempty"`
}

// Reset records one optimizer reset: after which step, and which fraction of
// the LoRA factors' first (M) and second (V) Adam moments it zeroed.
type Reset struct {
	Step    int     `json:"step"`
	ZeroedM float64 `json:"zeroed_m"`
	ZeroedV float64 `json:"zeroed_v"`
}

func writeJSON(dir, name string, v any) error {
	if dir == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, name), append(b, '\n'))
}

// ReadResult loads a run's result.json. A result that is not whole is an
// error naming the file: `{}` or `{"status":"ok"}` would otherwise read as a
// finished run with a validation loss of 0.
func ReadResult(dir string) (*Result, error) {
	path := filepath.Join(dir, ResultFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, name := range requiredResultFields {
		if _, ok := fields[name]; !ok {
			return nil, fmt.Errorf("%s: field %q is missing (not a whole result)", path, name)
		}
	}
	if r.Status != StatusOK && r.Status != StatusDiverged {
		return nil, fmt.Errorf("%s: status %q, want %q or %q", path, r.Status, StatusOK, StatusDiverged)
	}
	if len(r.Evals) == 0 || r.Evals[0] != r.InitialVal || r.Evals[len(r.Evals)-1] != r.FinalVal {
		return nil, fmt.Errorf("%s: initial_val and final_val must be the first and last of evals", path)
	}
	return &r, nil
}

// requiredResultFields are the fields every finished run writes.
var requiredResultFields = []string{"status", "steps", "initial_val", "final_val", "evals", "final_train_loss",
	"total_params", "trainable_params", "model", "corpus", "merges"}

// WriteConfig writes cfg as JSON (the format of config.json and --config).
func WriteConfig(path string, cfg Config) error {
	return writeJSON(filepath.Dir(path), filepath.Base(path), cfg)
}

// Corpus names a run's data and fingerprints it.
type Corpus struct {
	Source    string `json:"source"`
	Bytes     int    `json:"bytes"`
	SHA256    string `json:"sha256"` // first 16 hex digits
	GoVersion string `json:"go_version"`
}
