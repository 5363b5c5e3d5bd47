// Package relora is the method of Lialin et al. (arXiv:2307.05695): LoRA
// linears that are merged into the frozen weights and re-initialised every
// few steps, with their optimizer state pruned and the learning rate
// re-warmed on a jagged cosine schedule, after a full-rank warm start.
package relora

import (
	"fmt"
	"math"
)

// Schedule is a learning-rate multiplier (of the peak LR) per optimizer step.
// Without Restarts it is the usual linear warmup then cosine decay to
// MinRatio over the whole run. With Restarts it is the official
// `cosine_restarts` ("jagged cosine", the paper's Fig. 4): after each
// restart step R the multiplier climbs linearly from 0 over RestartWarmup
// steps, to the value the global cosine has at the end of that re-warm,
// progress (R + RestartWarmup − Warmup)/(Steps − Warmup), then follows the
// global cosine again, so the curve is continuous there. (The official
// code's earliest version used progress R/(Steps − Warmup), a small jump.)
type Schedule struct {
	Steps         int     // total optimizer steps of the run
	Warmup        int     // first linear warmup
	MinRatio      float64 // the cosine decays to MinRatio × peak
	Restarts      []int   // steps at which the LR re-warms from 0, ascending
	RestartWarmup int     // length of each re-warm
}

// Validate reports what makes the schedule unusable.
func (s Schedule) Validate() error {
	if s.Steps < 1 || s.Warmup < 0 || s.Warmup >= s.Steps {
		return fmt.Errorf("schedule: need 0 ≤ warmup (%d) < steps (%d)", s.Warmup, s.Steps)
	}
	if !(s.MinRatio > 0 && s.MinRatio <= 1) {
		return fmt.Errorf("schedule: min_lr_ratio must be in (0, 1], got %g", s.MinRatio)
	}
	if len(s.Restarts) > 0 && s.RestartWarmup < 1 {
		return fmt.Errorf("schedule: restarts need restart_warmup ≥ 1, got %d", s.RestartWarmup)
	}
	for i, r := range s.Restarts {
		if r < 0 || r >= s.Steps || (i > 0 && r <= s.Restarts[i-1]) {
			return fmt.Errorf("schedule: restart steps must be ascending within [0, %d): %v", s.Steps, s.Restarts)
		}
	}
	return nil
}

// Multiplier returns the LR multiplier for optimizer step `step` (0-based).
func (s Schedule) Multiplier(step int) float64 {
	if step < s.Warmup {
		return float64(step) / float64(max(1, s.Warmup))
	}
	if r, ok := s.rewarming(step); ok {
		target := s.cosine(float64(r+s.RestartWarmup-s.Warmup) / float64(max(1, s.Steps-s.Warmup)))
		return float64(step-r) / float64(s.RestartWarmup) * target
	}
	return s.cosine(float64(step-s.Warmup) / float64(max(1, s.Steps-s.Warmup)))
}

// rewarming returns the restart whose re-warm covers step, if any.
func (s Schedule) rewarming(step int) (int, bool) {
	for i := len(s.Restarts) - 1; i >= 0; i-- {
		r := s.Restarts[i]
		if r <= step {
			return r, step-r < s.RestartWarmup
		}
	}
	return 0, false
}

func (s Schedule) cosine(progress float64) float64 {
	return s.MinRatio + (1-s.MinRatio)*0.5*(1+math.Cos(math.Pi*progress))
}
