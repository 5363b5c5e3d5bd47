package relora

import (
	"fmt"
	"math"
)

// validateWholeRun checks a method that trains its own way from the first
// step to the last (GaLore, the low-rank factorisation): the run's lr and
// schedule apply, and none of ReLoRA's phase switches do.
func (c Config) validateWholeRun() error {
	switch {
	case c.Rank < 1:
		return fmt.Errorf("relora: %s needs rank ≥ 1, got %d", c.Method, c.Rank)
	case c.Restarts:
		return fmt.Errorf("relora: %s has no merges; restarts must be false", c.Method)
	case c.OptimizerReset:
		return fmt.Errorf("relora: %s has no merges to reset the optimizer at; optimizer_reset must be false", c.Method)
	case c.Jagged:
		return fmt.Errorf("relora: %s has no restarts to re-warm after; jagged must be false", c.Method)
	case c.WarmStartSteps != 0:
		return fmt.Errorf("relora: %s trains its own way from step 0; warm_start must be 0, got %d", c.Method, c.WarmStartSteps)
	case c.ControlTarget != 0:
		return fmt.Errorf("relora: control_target is the control's; method %s must leave it out", c.Method)
	}
	if c.Method == MethodLowRank {
		return nil
	}
	switch {
	case c.GaLoreRefreshEvery < 1:
		return fmt.Errorf("relora: galore needs galore_refresh_every ≥ 1 (the paper's is %d), got %d", DefaultGaLoreRefreshEvery, c.GaLoreRefreshEvery)
	case !(c.GaLoreScale > 0) || math.IsInf(c.GaLoreScale, 0):
		return fmt.Errorf("relora: galore needs a finite galore_scale > 0 (the paper's is %g), got %g", DefaultGaLoreScale, c.GaLoreScale)
	}
	return nil
}
