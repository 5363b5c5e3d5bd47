package train

import (
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/relorago/harness/kernels"
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/progress"
	"github.com/relorago/harness/relora"
)

// File names inside a run's OutDir.
const (
	ConfigFile     = "config.json"
	MetricsFile    = "metrics.jsonl"
	TimingFile     = "timing.jsonl"
	ResultFile     = "result.json"
	CheckpointFile = "checkpoint.safetensors"
)

// Run trains one model as cfg says and returns its result: pre-training,
// or with cfg.Finetune a fine-tuning run; both go through the same folder
// rules, loop and step, and differ only in their objective (objective.go).
// With an OutDir it writes config.json, metrics.jsonl, timing.jsonl,
// checkpoints and result.json there, and resumes from a checkpoint it
// finds. A diverged run (see diverged for the rule) is a Result with Status
// "diverged", not an error.
//
// A finished run folder is not trained again: Run returns its result. A run
// folder that holds another config's files is refused (Fresh deletes them
// first), and one process at a time trains a folder (WaitForLock waits for
// the other one, else Run fails with ErrLocked).
func Run(cfg Config) (*Result, error) {
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

// run is one training run's state, whatever its objective.
type run struct {
	cfg    Config
	method relora.Config
	sched  relora.Schedule
	obj    objective
	m      *model.Model // the objective's model, for the ReLoRA events
	opt    *AdamW
	c      *kernels.Ctx
	res    *Result
	rule   divergenceRule

	// keepEventWeights keeps the weights at the LoRA switch and after each
	// merge (ckpt-<step>.safetensors), for analyses of those weights.
	keepEventWeights bool
	// mustResume: the run has no starting weights of its own (a
	// fine-tuning run given no pre-trained checkpoint), only the folder's.
	mustResume bool

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
	r := &run{cfg: cfg, method: cfg.ReLoRA, wallStart: time.Now(), c: kernels.NewCtx(cfg.Threads)}
	set := r.setPretraining
	if cfg.Finetune != nil {
		set = r.setFinetuning
	}
	if err := set(); err != nil {
		return nil, err
	}
	r.rule = r.obj.divergence()
	r.opt = NewAdamW(cfg.Adam)
	r.opt.GaLore = galoreOf(r.method)
	r.sched = r.method.Schedule(cfg.Steps, cfg.Warmup, cfg.MinLRRatio)
	if err := r.sched.Validate(); err != nil {
		return nil, err
	}
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
