package spectra

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"

	"gonum.org/v1/gonum/mat"

	"github.com/relorago/harness/model"
	"github.com/relorago/harness/train"
)

// weights holds one matrix per projection of every layer, keyed by
// tensorName ("layers.0.q"), in float64 so differences of nearly equal
// float32 weights lose nothing before the SVD.
type weights map[string]*mat.Dense

// tensorName is a projection's name: the prefix of its checkpoint parameters
// and the tensor name in the safetensors export.
func tensorName(layer int, proj string) string { return fmt.Sprintf("layers.%d.%s", layer, proj) }

// shapeOf returns (out, in) of a projection. Checkpoints store flat slices,
// so the shapes come from the model config, as model.New lays them out.
func shapeOf(mc model.Config, proj string) (out, in int) {
	switch proj {
	case "gate", "up":
		return mc.FFN, mc.Dim
	case "down":
		return mc.Dim, mc.FFN
	}
	return mc.Dim, mc.Dim
}

// loraScale is the s of s·B·A as training applies it: relora.NewLoRA keeps
// it as float32(alpha/r), so the effective weights here match the network's
// to the last bit.
func loraScale(alpha float64, rank int) float64 {
	if rank < 1 {
		return 0
	}
	return float64(float32(alpha / float64(rank)))
}

// checkpoint is one loaded checkpoint file.
type checkpoint struct {
	path string
	*train.Checkpoint
}

// errMissing marks a checkpoint file that does not exist, so callers can
// tell "not kept by this run" from "unreadable".
var errMissing = errors.New("checkpoint file is missing")

// loadCheckpoint reads file from a run folder; what says which run and why
// it is needed, so the error tells the user what to retrain.
func loadCheckpoint(dir, file, what string) (*checkpoint, error) {
	path := filepath.Join(dir, file)
	ck, err := train.LoadCheckpoint(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("spectra: %s: %s: %w", what, path, errMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("spectra: %s: %w", what, err)
	}
	return &checkpoint{path: path, Checkpoint: ck}, nil
}

// param returns a parameter, checking its length against the shape.
func (ck *checkpoint) param(name string, n int) ([]float32, error) {
	v, ok := ck.Params[name]
	if !ok {
		return nil, fmt.Errorf("spectra: checkpoint %s has no parameter %q", ck.path, name)
	}
	if len(v) != n {
		return nil, fmt.Errorf("spectra: checkpoint %s: %q has %d values, the model config wants %d", ck.path, name, len(v), n)
	}
	return v, nil
}

// dense copies float32 values into a rows×cols float64 matrix.
func dense(rows, cols int, v []float32) *mat.Dense {
	d := make([]float64, len(v))
	for i, x := range v {
		d[i] = float64(x)
	}
	return mat.NewDense(rows, cols, d)
}

// lowRank returns s·B·A of one projection, or nil when the checkpoint has
// no LoRA factors for it (a full-rank model, or a LoRA run before its
// warm-start switch). The rank is read off the factors' lengths rather
// than the config, so a checkpoint never gets multiplied with the wrong r.
func (ck *checkpoint) lowRank(name string, out, in int, scale float64) (*mat.Dense, error) {
	a, okA := ck.Params[name+".lora_a"]
	b, okB := ck.Params[name+".lora_b"]
	switch {
	case !okA && !okB:
		return nil, nil
	case okA != okB:
		return nil, fmt.Errorf("spectra: checkpoint %s has only one of %s.lora_a and %s.lora_b", ck.path, name, name)
	case len(a) == 0 || len(a)%in != 0 || len(b) != out*(len(a)/in):
		return nil, fmt.Errorf("spectra: checkpoint %s: %s.lora_a (%d values) and .lora_b (%d values) do not fit a %d×%d projection",
			ck.path, name, len(a), len(b), out, in)
	}
	r := len(a) / in
	var d mat.Dense
	d.Mul(dense(out, r, b), dense(r, in, a))
	d.Scale(scale, &d)
	return &d, nil
}

// stored returns the "weight" parameter of every projection as stored:
// for a LoRA checkpoint the frozen (or merged) W without s·B·A.
func (ck *checkpoint) stored(mc model.Config) (weights, error) {
	out := weights{}
	for l := range mc.Layers {
		for _, p := range model.ProjNames {
			name := tensorName(l, p)
			rows, cols := shapeOf(mc, p)
			w, err := ck.param(name+".weight", rows*cols)
			if err != nil {
				return nil, err
			}
			out[name] = dense(rows, cols, w)
		}
	}
	return out, nil
}

// effective returns W + s·B·A (or W) of every projection: the weight the
// network applies, whatever form the checkpoint stores it in.
func (ck *checkpoint) effective(mc model.Config, scale float64) (weights, error) {
	out, err := ck.stored(mc)
	if err != nil {
		return nil, err
	}
	for name, m := range out {
		rows, cols := m.Dims()
		lr, err := ck.lowRank(name, rows, cols, scale)
		if err != nil {
			return nil, err
		}
		if lr != nil {
			m.Add(m, lr)
		}
	}
	return out, nil
}

// lowRankUpdates returns s·B·A of every projection: LoRA's ΔW as the
// paper's notebook computes it. A checkpoint without factors is an error
// here, since the caller asked for a LoRA update.
func (ck *checkpoint) lowRankUpdates(mc model.Config, scale float64) (weights, error) {
	out := weights{}
	for l := range mc.Layers {
		for _, p := range model.ProjNames {
			name := tensorName(l, p)
			rows, cols := shapeOf(mc, p)
			lr, err := ck.lowRank(name, rows, cols, scale)
			if err != nil {
				return nil, err
			}
			if lr == nil {
				return nil, fmt.Errorf("spectra: checkpoint %s has no LoRA factors for %s (is it a LoRA run's final checkpoint?)", ck.path, name)
			}
			out[name] = lr
		}
	}
	return out, nil
}

// sub returns a − b per projection.
func sub(a, b weights) weights {
	out := weights{}
	for name, m := range a {
		var d mat.Dense
		d.Sub(m, b[name])
		out[name] = &d
	}
	return out
}

// maxAbsDiff is the largest |a − b| entry over every projection.
func maxAbsDiff(a, b weights) float64 {
	worst := 0.0
	for name, m := range a {
		o := b[name]
		rows, cols := m.Dims()
		for i := range rows {
			for j := range cols {
				worst = max(worst, math.Abs(m.At(i, j)-o.At(i, j)))
			}
		}
	}
	return worst
}
