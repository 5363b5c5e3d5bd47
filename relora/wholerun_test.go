package relora

import (
	"strings"
	"testing"
)

// GaLore and the low-rank factorisation train one way from step 0 to the
// end: each ReLoRA switch, and GaLore's fields on any other method, is an
// error naming the field.
func TestWholeRunMethodsNameTheFieldTheyRefuse(t *testing.T) {
	galore := Default()
	galore.Method, galore.Rank = MethodGaLore, 8
	galore.GaLoreRefreshEvery, galore.GaLoreScale = DefaultGaLoreRefreshEvery, DefaultGaLoreScale
	lowrank := Default()
	lowrank.Method, lowrank.Rank = MethodLowRank, 8
	for _, ok := range []Config{galore, lowrank} {
		if err := ok.Validate(100); err != nil {
			t.Fatalf("%s: %v", ok.Method, err)
		}
	}
	for field, tc := range map[string]struct {
		base Config
		edit func(*Config)
	}{
		"restarts":             {galore, func(c *Config) { c.Restarts = true }},
		"optimizer_reset":      {lowrank, func(c *Config) { c.OptimizerReset = true }},
		"jagged":               {galore, func(c *Config) { c.Jagged = true }},
		"warm_start":           {lowrank, func(c *Config) { c.WarmStartSteps = 10 }},
		"control_target":       {galore, func(c *Config) { c.ControlTarget = 1000 }},
		"rank":                 {lowrank, func(c *Config) { c.Rank = 0 }},
		"galore_refresh_every": {galore, func(c *Config) { c.GaLoreRefreshEvery = 0 }},
		"galore_scale":         {galore, func(c *Config) { c.GaLoreScale = -1 }},
	} {
		c := tc.base
		tc.edit(&c)
		if err := c.Validate(100); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v, want one naming %s", field, err, field)
		}
	}
	for _, method := range []string{MethodFull, MethodLoRA, MethodControl, MethodLowRank} {
		c := Default()
		c.Method, c.GaLoreScale = method, 0.25
		if err := c.Validate(100); err == nil || !strings.Contains(err.Error(), "galore_scale") {
			t.Errorf("%s with galore_scale: error %v", method, err)
		}
	}
}
