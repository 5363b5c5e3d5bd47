package experiments

import (
	"fmt"

	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// Size is one rung of the scaling ladder (Table 2). Like the paper's
// llama_60m … llama_1b configs, width, depth and heads grow together and the
// SwiGLU width stays ≈ 2.75·d.
type Size struct {
	Name                    string
	Dim, Layers, Heads, FFN int
	Rank                    int // LoRA rank: d/8, as the default preset's r 8 at d 64
}

// ScalingMethod is a row of Table 2.
type ScalingMethod struct {
	Name  string
	Paper []float64 // the paper's perplexities for 60M, 130M, 250M, 350M, 1.3B (0 = not reported)
}

// The rows of Table 2, with the paper's values (Lialin et al., Table 2).
var ScalingMethods = []ScalingMethod{
	{RowScalingFull, []float64{33.81, 23.65, 22.39, 18.66, 16.83}},
	{RowScalingControl, []float64{36.52, 27.30, 25.43, 23.65, 21.73}},
	{RowScalingLoRA, []float64{47.44, 34.17, 36.60, 57.11, 0}},
	{RowScalingLoRAWS, []float64{34.73, 25.46, 22.86, 19.73, 18.23}},
	{RowScalingReLoRA, []float64{34.46, 25.04, 22.48, 19.32, 17.27}},
}

// PaperSizes names the paper's Table 2 columns.
var PaperSizes = []string{"60M", "130M", "250M", "350M", "1.3B"}

// Names of the Table 2 rows.
const (
	RowScalingFull    = "Full training"
	RowScalingControl = "Control"
	RowScalingLoRA    = "LoRA"
	RowScalingLoRAWS  = "LoRA + Warm Start"
	RowScalingReLoRA  = "ReLoRA"
)

// ladders are the sizes per preset. The default ladder spans 18× in
// parameters (the paper's spans 22×, 60M to 1.3B); 0.2M is the default
// preset's model, so Table 1's cached runs fill four of its five cells. A
// run's cost grows with parameters × steps (README.md's table of targets
// has the time the records took); a larger rung is one line here.
var ladders = map[string][]Size{
	"default": {
		{"40k", 32, 2, 2, 88, 4},
		{"0.1M", 48, 3, 3, 132, 6},
		{"0.2M", 64, 4, 4, 176, 8},
		{"0.4M", 80, 5, 5, 220, 10},
		{"0.7M", 96, 6, 6, 264, 12},
	},
	"quick": {
		{"20k", 16, 1, 2, 44, 2},
		{"40k", 32, 2, 2, 88, 4},
		{"90k", 48, 3, 3, 132, 6},
		{"150k", 64, 3, 4, 176, 8},
	},
}

// Ladder returns the preset's sizes.
func Ladder(p Preset) ([]Size, error) {
	l, ok := ladders[p.Name]
	if !ok {
		return nil, fmt.Errorf("experiments: preset %q has no scaling ladder (have default, quick)", p.Name)
	}
	return l, nil
}

// Scaling expands Table 2 for a preset: sizes × methods × seeds. The
// warm-start and restart period stay a quarter of the run at every size.
func Scaling(p Preset) ([]Run, error) {
	ladder, err := Ladder(p)
	if err != nil {
		return nil, err
	}
	var runs []Run
	// Largest first: the runner starts runs in order, so the long ones do
	// not end up alone on one core at the end.
	for i := len(ladder) - 1; i >= 0; i-- {
		size := ladder[i]
		for _, seed := range p.Seeds {
			base, err := sized(p, size, seed)
			if err != nil {
				return nil, err
			}
			m := &base.Model
			add := func(row string, cfg train.Config) {
				runs = append(runs, Run{Row: row, Size: size.Name, Seed: seed, Config: cfg})
			}
			add(RowScalingFull, withMethod(base, relora.MethodFull, false, false, false, false))
			control := withMethod(base, relora.MethodControl, false, false, false, false)
			control.ReLoRA.ControlTarget = relora.TrainableParams(*m, size.Rank)
			add(RowScalingControl, control)
			add(RowScalingLoRA, withMethod(base, relora.MethodLoRA, false, false, false, false))
			add(RowScalingLoRAWS, withMethod(base, relora.MethodLoRA, false, false, false, true))
			add(RowScalingReLoRA, withMethod(base, relora.MethodLoRA, true, true, true, true))
		}
	}
	return runs, nil
}
