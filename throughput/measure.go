// Package throughput regenerates the paper's Table 4 at CPU scale: the speed
// and memory of a full-rank training step against a ReLoRA step (after the
// warm start), the immediate and the warm-start-adjusted speed-up, and how
// the speed-up depends on the rank, next to a FLOP model.
package throughput

import (
	"fmt"
	"runtime"
	"sort"
	"syscall"
	"time"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/train"
)

// Spec is one measurement: a step kind of a preset's model.
type Spec struct {
	Preset  string `json:"preset"`
	Rank    int    `json:"rank"` // 0 = full-rank step, else a ReLoRA step of this rank
	Threads int    `json:"threads"`
	Warmup  int    `json:"warmup"`          // steps run before timing (arena, optimizer state, caches)
	Steps   int    `json:"steps"`           // timed steps
	Fused   bool   `json:"fused,omitempty"` // ReLoRA step with the fused LoRA op (relora.LoRA.Fused)
	// Paired alternates every timed step with a full-rank step in the same
	// process, so that the ratio of the two is measured under the same
	// conditions: between processes the same step's speed varies by ±20% on
	// a shared VM, within one process by a few percent.
	Paired bool `json:"paired,omitempty"`
}

// Measurement is what one Spec measured.
type Measurement struct {
	Spec
	StepMillis     []float64 `json:"step_ms"`
	MedianMillis   float64   `json:"median_ms"`
	TokensPerSec   float64   `json:"tokens_per_sec"`   // at the median step time
	ExamplesPerSec float64   `json:"examples_per_sec"` // sequences per second
	FLOPs          float64   `json:"flops_per_step"`   // model.Config.FLOPsPerStep
	GFLOPs         float64   `json:"gflops"`           // FLOPs / median step time
	Total          int       `json:"total_params"`
	Trainable      int       `json:"trainable_params"`
	OptFloats      int       `json:"optimizer_floats"`
	ArenaBytes     int       `json:"activation_bytes"` // activations and gradients of a step
	MaxRSSBytes    int64     `json:"max_rss_bytes"`    // peak resident memory of the measuring process
	// With Paired: the interleaved full-rank steps.
	FullStepMillis   []float64 `json:"full_step_ms,omitempty"`
	FullTokensPerSec float64   `json:"full_tokens_per_sec,omitempty"` // at their median step time
}

// Measure times spec's steps in this process. Run it in a fresh process
// (relora's hidden "probe" command) so that MaxRSSBytes is this measurement's.
func Measure(spec Spec) (Measurement, error) {
	p, err := experiments.Get(spec.Preset)
	if err != nil {
		return Measurement{}, err
	}
	if spec.Steps < 1 || spec.Warmup < 0 || spec.Threads < 1 || spec.Rank < 0 {
		return Measurement{}, fmt.Errorf("throughput: bad spec %+v", spec)
	}
	runtime.GOMAXPROCS(spec.Threads)
	s, err := train.NewStepper(p.Base, spec.Threads, spec.Rank)
	if err != nil {
		return Measurement{}, err
	}
	s.SetLoRAFused(spec.Fused)
	var full *train.Stepper // the paired full-rank steps, if any
	if spec.Paired {
		if full, err = train.NewStepper(p.Base, spec.Threads, 0); err != nil {
			return Measurement{}, err
		}
	}
	for i := 0; i < spec.Warmup; i++ {
		if _, err := timeStep(s); err != nil {
			return Measurement{}, err
		}
		if full != nil {
			if _, err := timeStep(full); err != nil {
				return Measurement{}, err
			}
		}
	}
	m := Measurement{Spec: spec}
	for i := 0; i < spec.Steps; i++ {
		if full != nil {
			ms, err := timeStep(full)
			if err != nil {
				return Measurement{}, err
			}
			m.FullStepMillis = append(m.FullStepMillis, ms)
		}
		ms, err := timeStep(s)
		if err != nil {
			return Measurement{}, err
		}
		m.StepMillis = append(m.StepMillis, ms)
	}
	if full != nil {
		m.FullTokensPerSec = float64(full.Tokens()) / (median(m.FullStepMillis) / 1e3)
	}
	m.MedianMillis = median(m.StepMillis)
	sec := m.MedianMillis / 1e3
	m.TokensPerSec = float64(s.Tokens()) / sec
	m.ExamplesPerSec = float64(p.Base.Batch) / sec
	m.FLOPs = s.FLOPs()
	m.GFLOPs = m.FLOPs / sec / 1e9
	m.Total, m.Trainable, m.OptFloats = s.Counts()
	m.ArenaBytes = s.ArenaBytes()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		m.MaxRSSBytes = ru.Maxrss * 1024 // Linux reports kilobytes
	}
	return m, nil
}

// timeStep runs one step and returns its wall time in milliseconds.
func timeStep(s *train.Stepper) (float64, error) {
	t0 := time.Now()
	err := s.Step()
	return time.Since(t0).Seconds() * 1e3, err
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
