package train

import (
	"fmt"
	"os"
	"slices"

	"github.com/relorago/harness/atomicfile"
	"github.com/relorago/harness/model"
)

// Checkpoint is everything a run needs to continue exactly where it stopped:
// the weights (frozen ones too), the optimizer state and the step. Batches
// need no state: batch k depends only on (seed, k).
type Checkpoint struct {
	Step   int                   // optimizer steps completed
	Params map[string][]float32  // by model.Param name
	Adam   map[string]*AdamState // by parameter name
	Extra  map[string]float64    // method counters (merges, resets, ...)
	Evals  []Eval                // evaluations so far
	Resets []Reset               // optimizer resets so far

	// Config is the JSON of the config that wrote the checkpoint (the
	// fields that determine the numbers): a run folder refuses to resume
	// under a different one.
	Config []byte
	// RecentLoss holds the last training losses (at most lossWindow), so
	// that final_train_loss is the same after a resume.
	RecentLoss []float64
	// TrainSeconds and WallSeconds are the training-step and wall time
	// spent up to this checkpoint, summed over every process that worked
	// on the run.
	TrainSeconds, WallSeconds float64
}

// Snapshot captures the model and optimizer (copies, so training may go on).
func Snapshot(step int, m *model.Model, opt *AdamW, extra map[string]float64, evals []Eval) *Checkpoint {
	return snapshotOf(step, m.Params(), opt, extra, evals)
}

// snapshotOf captures the parameters and the optimizer (copies).
func snapshotOf(step int, params []model.Param, opt *AdamW, extra map[string]float64, evals []Eval) *Checkpoint {
	ck := &Checkpoint{Step: step, Params: map[string][]float32{}, Adam: map[string]*AdamState{}, Extra: extra, Evals: evals}
	for _, p := range params {
		ck.Params[p.Name] = slices.Clone(p.Raw())
	}
	for name, s := range opt.States {
		ck.Adam[name] = &AdamState{M: slices.Clone(s.M), V: slices.Clone(s.V), Step: s.Step, Proj: s.Proj.Clone()}
	}
	return ck
}

// Restore copies the checkpoint's weights and optimizer state into m and opt.
// The model must already have the checkpoint's structure (for a ReLoRA run
// past its warm start, the LoRA linears must be in place).
func (ck *Checkpoint) Restore(m *model.Model, opt *AdamW) error {
	if err := restoreWeights(ck, m.Params()); err != nil {
		return err
	}
	ck.restoreOptimizer(opt)
	return nil
}

// restoreWeights copies a checkpoint's values into the parameters; every
// one must be there, with its size.
func restoreWeights(ck *Checkpoint, params []model.Param) error {
	for _, p := range params {
		v, ok := ck.Params[p.Name]
		if !ok {
			return fmt.Errorf("checkpoint: no parameter %q", p.Name)
		}
		if len(v) != len(p.Raw()) {
			return fmt.Errorf("checkpoint: parameter %q has %d values, model wants %d", p.Name, len(v), len(p.Raw()))
		}
		copy(p.Raw(), v)
	}
	return nil
}

// restoreOptimizer replaces the optimizer's state with (copies of) the
// checkpoint's.
func (ck *Checkpoint) restoreOptimizer(opt *AdamW) {
	opt.States = map[string]*AdamState{}
	for name, s := range ck.Adam {
		opt.States[name] = &AdamState{M: slices.Clone(s.M), V: slices.Clone(s.V), Step: s.Step, Proj: s.Proj.Clone()}
	}
}

// Save writes the checkpoint to path as a safetensors file (the layout is
// described in checkpoint_format.go) atomically (temp file, then rename), so
// an interrupted save never leaves a half-written checkpoint behind. A
// checkpoint that LoadCheckpoint would refuse (a negative step, moments
// of the wrong length, ...) is not written.
func (ck *Checkpoint) Save(path string) error {
	b, err := ck.encode()
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return WriteFileAtomic(path, b)
}

// LoadCheckpoint reads a checkpoint written by Save. A missing file gives an
// error wrapping os.ErrNotExist; any other bad file an error
// "checkpoint <path>: <what is wrong>". Decoding allocates at most a small
// multiple of the file's size, whatever the file holds.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("checkpoint %s: not a regular file", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ck, err := decodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return ck, nil
}

// WriteFileAtomic writes data so that readers see the old file or the new
// one, never a mix (see package atomicfile).
func WriteFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }
