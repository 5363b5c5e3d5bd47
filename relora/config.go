package relora

import (
	"fmt"
	"math"
)

// Methods a run can use.
const (
	MethodFull    = "full"    // full-rank training
	MethodLoRA    = "lora"    // LoRA linears; with Restarts etc. the ReLoRA variants
	MethodControl = "control" // full-rank training of a smaller model (see ControlConfig)
	MethodGaLore  = "galore"  // full-rank weights, the projections' Adam in a rank-r gradient subspace (see GaLore fields)
	MethodLowRank = "lowrank" // the projections trained as W = B·A from scratch at rank r (see Factorize)
)

// GaLore's defaults, the paper's (Zhao et al. 2024, arXiv:2403.03507): the
// subspace is recomputed every 200 steps and updates are scaled by 0.25.
const (
	DefaultGaLoreRefreshEvery = 200
	DefaultGaLoreScale        = 0.25
)

// Config selects the method and its hyper-parameters. Each row of the
// paper's Table 1 is a Config: LoRA is Method "lora" with every switch off,
// ReLoRA is "lora" with Restarts, OptimizerReset, Jagged and WarmStart.
type Config struct {
	Method string `json:"method"`

	Rank  int     `json:"rank"`  // r
	Alpha float64 `json:"alpha"` // scale s = alpha/r
	LR    float64 `json:"lr"`    // peak LR of the low-rank phase (the paper uses 2x full-rank)

	// Targets selects the projections Method "lora" wraps: TargetsAll ("",
	// left out of the JSON, so every config written before the field
	// existed keeps its JSON and hash) or TargetsAttention (q, k, v, o).
	Targets string `json:"targets,omitempty"`

	Restarts       bool `json:"restarts"`        // R: merge-and-reinit every ResetEvery steps
	OptimizerReset bool `json:"optimizer_reset"` // O: prune the LoRA params' Adam moments at each restart
	Jagged         bool `json:"jagged"`          // J: re-warm the LR from 0 after each restart
	WarmStartSteps int  `json:"warm_start"`      // WS: full-rank steps before the LoRA phase (0 = none)

	ResetEvery    int     `json:"reset_every"`    // steps between restarts, counted from the switch
	RestartWarmup int     `json:"restart_warmup"` // length of each re-warm (and of the one at the switch)
	PruneMode     string  `json:"prune_mode"`     // zero, random or magnitude
	PruneRatio    float64 `json:"prune_ratio"`    // fraction zeroed by random/magnitude

	// ControlTarget is, for Method "control", the parameter count the
	// smaller full-rank model must match (a ReLoRA run's trainable count; 0
	// = compute it from this config's Rank for the base model).
	ControlTarget int `json:"control_target,omitempty"`

	// GaLoreRefreshEvery (T) and GaLoreScale (α) are, for Method
	// "galore", the steps between recomputations of each projection's
	// gradient subspace and the scale of the projected-back update. Both
	// are left out of the JSON when zero, so the configs of every other
	// method, and their hashes, are what they were before GaLore existed.
	GaLoreRefreshEvery int     `json:"galore_refresh_every,omitempty"`
	GaLoreScale        float64 `json:"galore_scale,omitempty"`
}

// Default returns ReLoRA as the tiny reference experiment runs it (r 32, alpha 32, lr 2e-3).
func Default() Config {
	return Config{
		Method: MethodFull, Rank: 32, Alpha: 32, LR: 2e-3,
		ResetEvery: 500, RestartWarmup: 10, PruneMode: PruneRandom, PruneRatio: 0.999,
	}
}

// Validate names the first field that makes the config unusable for a run of
// `steps` optimizer steps.
func (c Config) Validate(steps int) error {
	if c.Method != MethodGaLore && (c.GaLoreRefreshEvery != 0 || c.GaLoreScale != 0) {
		return fmt.Errorf("relora: galore_refresh_every and galore_scale are GaLore's; method %q must leave them out", c.Method)
	}
	if c.Method != MethodLoRA && c.Targets != TargetsAll {
		return fmt.Errorf("relora: targets selects the projections LoRA wraps; method %q must leave it out", c.Method)
	}
	switch c.Method {
	case MethodFull:
		return nil
	case MethodControl:
		if c.ControlTarget < 0 || (c.ControlTarget == 0 && c.Rank < 1) {
			return fmt.Errorf("relora: control needs control_target > 0 or the rank (%d) of the ReLoRA run to match", c.Rank)
		}
		return nil
	case MethodGaLore, MethodLowRank:
		return c.validateWholeRun()
	case MethodLoRA:
	default:
		return fmt.Errorf("relora: method %q is not full, lora, control, galore or lowrank", c.Method)
	}

	switch {
	case c.Rank < 1:
		return fmt.Errorf("relora: rank must be ≥ 1, got %d", c.Rank)
	case !(c.Alpha > 0):
		return fmt.Errorf("relora: alpha must be > 0, got %g", c.Alpha)
	case !(c.LR > 0):
		return fmt.Errorf("relora: lora lr must be > 0, got %g", c.LR)
	case c.WarmStartSteps < 0 || c.WarmStartSteps >= steps:
		return fmt.Errorf("relora: warm_start must be in [0, steps=%d), got %d", steps, c.WarmStartSteps)
	case (c.Restarts || c.Jagged) && c.ResetEvery < 1:
		return fmt.Errorf("relora: restarts need reset_every ≥ 1, got %d", c.ResetEvery)
	case (c.Jagged || c.WarmStartSteps > 0) && c.RestartWarmup < 1:
		return fmt.Errorf("relora: restart_warmup must be ≥ 1, got %d", c.RestartWarmup)
	case c.OptimizerReset && !c.Restarts:
		return fmt.Errorf("relora: optimizer_reset happens at restarts; it needs restarts")
	case c.Jagged && !c.Restarts:
		return fmt.Errorf("relora: the jagged schedule re-warms at restarts; it needs restarts")
	}
	if err := ValidTargets(c.Targets); err != nil {
		return err
	}
	if c.OptimizerReset {
		if err := ValidPruneMode(c.PruneMode); err != nil {
			return err
		}
		if !(c.PruneRatio >= 0 && c.PruneRatio <= 1) || math.IsNaN(c.PruneRatio) {
			return fmt.Errorf("relora: prune_ratio must be in [0, 1], got %g", c.PruneRatio)
		}
	}
	return nil
}

// LowRank reports whether the run trains LoRA linears at some point.
func (c Config) LowRank() bool { return c.Method == MethodLoRA }

// MergeSteps returns the steps (0-based) after whose optimizer update the
// LoRA factors are merged and re-initialised.
func (c Config) MergeSteps(steps int) []int {
	if !c.LowRank() || !c.Restarts {
		return nil
	}
	var out []int
	for s := c.WarmStartSteps + c.ResetEvery; s < steps; s += c.ResetEvery {
		out = append(out, s)
	}
	return out
}

// Schedule returns the LR multiplier schedule of a run: plain warmup+cosine,
// plus a re-warm at the switch from warm start to LoRA (the fresh optimizer
// must not take full-size steps), plus a re-warm after every restart when
// Jagged.
func (c Config) Schedule(steps, warmup int, minRatio float64) Schedule {
	s := Schedule{Steps: steps, Warmup: warmup, MinRatio: minRatio, RestartWarmup: c.RestartWarmup}
	if !c.LowRank() {
		return s
	}
	if c.WarmStartSteps > 0 {
		s.Restarts = append(s.Restarts, c.WarmStartSteps)
	}
	if c.Jagged {
		// A restart step runs at multiplier 0 (its update only feeds Adam's
		// moments), then merges: merges happen after the optimizer step of
		// a restart step, as the official code orders it.
		s.Restarts = append(s.Restarts, c.MergeSteps(steps)...)
	}
	return s
}

// PeakLR returns the peak LR in force at a step: full-rank before the switch,
// the LoRA phase's own after it.
func (c Config) PeakLR(step int, fullLR float64) float64 {
	if c.LowRank() && step >= c.WarmStartSteps {
		return c.LR
	}
	return fullLR
}
