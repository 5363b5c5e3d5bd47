package experiments

import (
	"fmt"

	"github.com/relorago/harness/model"
	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// The equal-FLOP budget experiment: does ReLoRA suit a limited compute
// budget? Every row gets the FLOPs full-rank training spends in the
// preset's steps (model.Config.FLOPsPerStep, the FLOP model Table 4 sets
// beside its measurements); a row whose steps cost less trains more of
// them. It runs at a width where Table 4 measures ReLoRA's step faster than
// full-rank's, so that the FLOPs it saves are also time saved there.

// Rows of the budget table.
const (
	RowBudgetFull    = "Full-rank"
	RowBudgetReLoRA  = "ReLoRA"
	RowBudgetLoRAWS  = "LoRA+WS"
	RowBudgetControl = "Control"
)

// budgetWidths is the model width of the budget experiment per preset: d
// 128 for the default and tiny presets, the narrowest width at which Table 4
// (results/throughput.md, measured on a quiet machine) finds ReLoRA's step
// faster than full-rank's on one core with an interval above 1 (1.07×
// [1.02, 1.12] at r = d/8), so the FLOPs it saves are time saved too; at d
// 64, Table 1's width, it is not faster, and at d 256 a seed of the four
// runs costs three times as much (about 1.8 hours on 2 cores against 25
// minutes). The quick preset keeps its own width (a smoke test).
var budgetWidths = map[string]int{"default": 128, "tiny": 128, "quick": 32}

// BudgetSpec is the experiment for a preset: the shape, the FLOP budget
// every row gets, and the runs.
type BudgetSpec struct {
	Model  model.Config
	Rank   int
	Budget float64            // training FLOPs of each row (full-rank's preset steps)
	Steps  map[string]int     // steps per row that fit the budget
	FLOPs  map[string]float64 // each row's training FLOPs (≤ Budget)
	Runs   []Run
}

// Budget expands the equal-FLOP experiment for a preset: full-rank for the
// preset's steps; ReLoRA (R+O+J+WS) and LoRA+WS with the preset's warm
// start, restart period and re-warm, for as many steps as the budget buys
// at their cheaper low-rank steps; the control (a full-rank model with
// ReLoRA's trainable parameter count) for as many of its cheaper steps.
// Every run's cosine schedule spans its own steps. The width is
// budgetWidths' (heads of 16–64 dims, ffn 2.75·d as Table 4's widths), the
// rank the preset's rank-to-width ratio.
func Budget(p Preset) (BudgetSpec, error) {
	d, ok := budgetWidths[p.Name]
	if !ok {
		return BudgetSpec{}, fmt.Errorf("experiments: preset %q has no budget width (have default, tiny, quick)", p.Name)
	}
	base := p.Base
	m := &base.Model
	scale := float64(d) / float64(m.Dim)
	hd := min(64, max(16, d/4))
	m.Dim, m.Heads, m.FFN = d, max(1, d/hd), int(2.75*float64(d)/2+0.5)*2
	if err := m.Validate(); err != nil {
		return BudgetSpec{}, fmt.Errorf("experiments: budget width %d: %w", d, err)
	}
	r := &base.ReLoRA
	rank := max(1, int(float64(r.Rank)*scale+0.5))
	r.Alpha = r.Alpha * float64(rank) / float64(r.Rank)
	r.Rank = rank
	spec := BudgetSpec{Model: *m, Rank: rank, Steps: map[string]int{}, FLOPs: map[string]float64{}}
	full := withMethod(base, relora.MethodFull, false, false, false, false)
	budget, err := RunFLOPs(full, full.Steps)
	if err != nil {
		return BudgetSpec{}, err
	}
	spec.Budget = budget
	control := withMethod(base, relora.MethodControl, false, false, false, false)
	control.ReLoRA.ControlTarget = relora.TrainableParams(*m, rank)
	rows := []struct {
		name string
		cfg  train.Config
	}{
		{RowBudgetFull, full},
		{RowBudgetReLoRA, withMethod(base, relora.MethodLoRA, true, true, true, true)},
		{RowBudgetLoRAWS, withMethod(base, relora.MethodLoRA, false, false, false, true)},
		{RowBudgetControl, control},
	}
	for _, row := range rows {
		cfg := row.cfg
		if cfg.Steps, err = StepsWithin(cfg, budget); err != nil {
			return BudgetSpec{}, fmt.Errorf("experiments: budget row %s: %w", row.name, err)
		}
		if err := cfg.Validate(); err != nil {
			return BudgetSpec{}, fmt.Errorf("experiments: budget row %s: %w", row.name, err)
		}
		spec.Steps[row.name] = cfg.Steps
		spec.FLOPs[row.name], _ = RunFLOPs(cfg, cfg.Steps)
		for _, seed := range p.Seeds {
			c := cfg
			c.Seed = seed
			spec.Runs = append(spec.Runs, Run{Row: row.name, Seed: seed, Config: c})
		}
	}
	return spec, nil
}

// StepCosts are the FLOP-model costs of a run's steps.
type StepCosts struct {
	Full    float64 // a full-rank step of the shape trained (the control's smaller one)
	LowRank float64 // a step with frozen projections and rank-r factors (0 for full-rank methods)
	Merge   float64 // one merge-and-reinit, W += s·B·A over every projection
	// Switch is the 0-based step from which steps cost LowRank (the warm
	// start's length; -1 when every step is full-rank).
	Switch int
}

// CostsOf returns the FLOP-model costs of cfg's steps: model.Config.FLOPsPerStep
// with the frozen/trainable split train.Stepper.FLOPs uses (frozen block
// projections, trainable embeddings, head, norms and factors), for the
// shape the run trains (the control's comes from relora.ControlConfig, as
// train sizes it).
func CostsOf(cfg train.Config) (StepCosts, error) {
	m, batch, r := cfg.Model, cfg.Batch, cfg.ReLoRA
	c := StepCosts{Switch: -1}
	switch r.Method {
	case relora.MethodControl:
		target := r.ControlTarget
		if target == 0 {
			target = relora.TrainableParams(m, r.Rank)
		}
		shape, err := relora.ControlConfig(m, target)
		if err != nil {
			return c, err
		}
		c.Full = shape.FLOPsPerStep(batch, 0, 0)
		return c, nil
	case relora.MethodLoRA:
		dense := relora.TrainableParams(m, 0)
		c.LowRank = m.FLOPsPerStep(batch, m.NumParams()-dense, relora.TrainableParams(m, r.Rank)-dense)
		c.Merge = float64(m.Layers) * float64(2*r.Rank+1) * float64(4*m.Dim*m.Dim+3*m.Dim*m.FFN)
		c.Switch = r.WarmStartSteps
	}
	c.Full = m.FLOPsPerStep(batch, 0, 0)
	return c, nil
}

// Step is the cost of 0-based step s, its merge included.
func (c StepCosts) Step(s int, merge bool) float64 {
	x := c.Full
	if c.Switch >= 0 && s >= c.Switch {
		x = c.LowRank
	}
	if merge {
		x += c.Merge
	}
	return x
}

// RunFLOPs is the FLOP model's cost of cfg's first `steps` steps
// (evaluations excluded: they are not training).
func RunFLOPs(cfg train.Config, steps int) (float64, error) {
	c, err := CostsOf(cfg)
	if err != nil {
		return 0, err
	}
	merges := map[int]bool{}
	for _, s := range cfg.ReLoRA.MergeSteps(steps) {
		merges[s] = true
	}
	total := 0.0
	for s := 0; s < steps; s++ {
		total += c.Step(s, merges[s])
	}
	return total, nil
}

// StepsWithin returns the most steps of cfg whose training FLOPs stay
// within budget (its merges at their steps for that many steps).
func StepsWithin(cfg train.Config, budget float64) (int, error) {
	c, err := CostsOf(cfg)
	if err != nil {
		return 0, err
	}
	cheapest := c.Full
	if c.Switch >= 0 {
		cheapest = min(c.Full, c.LowRank)
	}
	hi := int(budget/cheapest) + 1 // more than fit
	lo := 0
	for lo+1 < hi { // the largest n with RunFLOPs(n) ≤ budget, by bisection (cost grows with n)
		mid := (lo + hi) / 2
		f, _ := RunFLOPs(cfg, mid)
		if f <= budget*(1+1e-12) {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo < 1 {
		return 0, fmt.Errorf("a budget of %.3g FLOPs buys no step", budget)
	}
	return lo, nil
}
