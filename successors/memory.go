package successors

import (
	"fmt"
	"syscall"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// MemoryProbeCommand is the hidden subcommand of the relora binary that
// runs one MeasureMemory in its own process and prints the MemoryRow as
// JSON: a process's peak resident memory is then the method's own.
const MemoryProbeCommand = "memprobe"

// MemoryProbeSteps is how many steps a memory probe takes: GaLore's first
// step computes its projectors (its largest transient), its second keeps
// them beside the projected moments.
const MemoryProbeSteps = 2

// MemorySpec is one memory probe: a method's run config at a size.
type MemorySpec struct {
	Method string       `json:"method"`
	Size   string       `json:"size"`
	Config train.Config `json:"config"`
}

// MemoryRow is what a probe measured, with the counts beside it.
type MemoryRow struct {
	Method string `json:"method"`
	Size   string `json:"size"`
	Hash   string `json:"config_hash"` // the probed config's run hash (seed 1)
	// MaxRSSBytes is the probe process's peak resident memory (getrusage):
	// the corpus, the model, its gradients, the optimizer state and one
	// step's activations, and the Go runtime's overhead.
	MaxRSSBytes int64 `json:"max_rss_bytes"`
	// ArenaBytes are the step's activations and gradients (the kernels'
	// arena); OptimizerFloats the optimizer's state after the probe's steps.
	ArenaBytes      int `json:"arena_bytes"`
	OptimizerFloats int `json:"optimizer_floats"`
	Total           int `json:"total_params"`
	Trainable       int `json:"trainable_params"`
}

// MeasureMemory runs spec's method for MemoryProbeSteps steps on one core
// in this process and reads its peak memory. Run it in a fresh process.
func MeasureMemory(spec MemorySpec) (MemoryRow, error) {
	row := MemoryRow{Method: spec.Method, Size: spec.Size, Hash: runner.Hash(spec.Config)}
	s, err := train.NewMethodStepper(spec.Config, 1)
	if err != nil {
		return row, err
	}
	for range MemoryProbeSteps {
		if err := s.Step(); err != nil {
			return row, err
		}
	}
	row.Total, row.Trainable, row.OptimizerFloats = s.Counts()
	row.ArenaBytes = s.ArenaBytes()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return row, fmt.Errorf("memory probe: getrusage: %w", err)
	}
	row.MaxRSSBytes = ru.Maxrss * 1024 // Linux reports kilobytes
	return row, nil
}

// MemorySpecs are the probes of a table: every method at every size, at
// its chosen rate and the first seed.
func MemorySpecs(s experiments.SuccessorsSpec, chosen map[string]float64) ([]MemorySpec, error) {
	runs, err := s.LadderRuns(chosen, []uint64{1})
	if err != nil {
		return nil, err
	}
	specs := make([]MemorySpec, len(runs))
	for i, r := range runs {
		specs[i] = MemorySpec{Method: r.Row, Size: r.Size, Config: r.Config}
	}
	return specs, nil
}

// current reports whether rows were measured for exactly these probes.
func current(rows []MemoryRow, specs []MemorySpec) bool {
	if len(rows) != len(specs) {
		return false
	}
	have := map[string]bool{}
	for _, r := range rows {
		have[r.Hash] = true
	}
	for _, s := range specs {
		if !have[runner.Hash(s.Config)] {
			return false
		}
	}
	return true
}
