package experiments

import (
	"fmt"
	"strconv"

	"github.com/relorago/harness/relora"
	"github.com/relorago/harness/train"
)

// A sensitivity sweep varies one of the paper's fixed choices around the
// preset and compares ReLoRA with a baseline at every value, over seeds:
// where does ReLoRA's advantage hold? Each Run's Size is the sweep point's
// label (e.g. "reset 300"), its Row the method; the point at the preset's
// own value is Table 1's run (shared through the cache).

// Sweep is one parameter swept.
type Sweep struct {
	Name      string   // "reset interval", "rank", "pruning ratio"
	Param     string   // axis label
	Points    []string // point labels, in axis order
	Values    []float64
	Methods   []string    // every row trained at each point
	Pairs     [][2]string // (method, baseline): the gaps the sweep reports
	Preset    int         // index of the preset's own value in Points
	LogX      bool
	Statement string // the question the sweep answers
}

// Names of the sweep rows (the Table 1 rows they are).
const (
	SweepReLoRA = RowReLoRA
	SweepLoRAWS = RowLoRAWS
	SweepLoRA   = "LoRA"
	SweepRO     = "+R+O"
)

// Sweeps returns the preset's three sweeps and their runs.
func Sweeps(p Preset) ([]Sweep, []Run, error) {
	base := p.Base
	r := base.ReLoRA
	if r.ResetEvery < 1 || r.Rank < 1 {
		return nil, nil, fmt.Errorf("experiments: preset %q has no ReLoRA settings to sweep around", p.Name)
	}
	var sweeps []Sweep
	var runs []Run
	add := func(sw Sweep, configure func(cfg *train.Config, v float64)) {
		sweeps = append(sweeps, sw)
		for i, v := range sw.Values {
			for _, method := range sw.Methods {
				for _, seed := range p.Seeds {
					cfg := sweepMethod(base, method)
					cfg.Seed = seed
					configure(&cfg, v)
					runs = append(runs, Run{Row: method, Size: sw.Points[i], Seed: seed, Config: cfg})
				}
			}
		}
	}

	// Reset interval: how often ReLoRA merges (LoRA+WS never does, so its
	// runs are one per seed, shared by every point).
	resets := scaled(r.ResetEvery, []float64{0.25, 0.5, 1, 2})
	add(Sweep{Name: "reset interval", Param: "steps between merges", Points: labels("reset ", resets), Values: resets,
		Methods: []string{SweepReLoRA, SweepLoRAWS}, Pairs: [][2]string{{SweepReLoRA, SweepLoRAWS}}, Preset: 2, LogX: true,
		Statement: "How often should ReLoRA merge? ReLoRA − LoRA+WS by reset interval"},
		func(cfg *train.Config, v float64) {
			if cfg.ReLoRA.Restarts {
				cfg.ReLoRA.ResetEvery = int(v)
			}
		})

	// Rank: the low-rank bottleneck, for ReLoRA and both LoRA baselines.
	ranks := scaled(r.Rank, []float64{0.25, 0.5, 1, 2})
	add(Sweep{Name: "rank", Param: "LoRA rank r", Points: labels("rank ", ranks), Values: ranks,
		Methods: []string{SweepReLoRA, SweepLoRAWS, SweepLoRA}, Pairs: [][2]string{{SweepReLoRA, SweepLoRAWS}, {SweepReLoRA, SweepLoRA}},
		Preset: 2, LogX: true,
		Statement: "Does ReLoRA's advantage grow as the rank gets lower? ReLoRA − baseline by rank"},
		func(cfg *train.Config, v float64) {
			cfg.ReLoRA.Rank, cfg.ReLoRA.Alpha = int(v), v // alpha = r keeps the scale s = 1
		})

	// Pruning ratio of the optimizer reset, for ReLoRA and for R+O without
	// the jagged schedule (the paper's unstable row), each against the same
	// method without restarts (whose runs do not depend on the ratio): 1 is
	// a full reset.
	ratios := []float64{0, 0.9, 0.99, r.PruneRatio, 1}
	add(Sweep{Name: "pruning ratio", Param: "fraction of Adam moments zeroed at a reset", Points: labels("prune ", ratios), Values: ratios,
		Methods: []string{SweepReLoRA, SweepRO, SweepLoRAWS, SweepLoRA}, Pairs: [][2]string{{SweepReLoRA, SweepLoRAWS}, {SweepRO, SweepLoRA}},
		Preset:    3,
		Statement: "How much optimizer state should a reset keep? ReLoRA − LoRA+WS and +R+O − LoRA by pruning ratio"},
		func(cfg *train.Config, v float64) {
			if !cfg.ReLoRA.OptimizerReset {
				return
			}
			if v == 1 {
				cfg.ReLoRA.PruneMode, cfg.ReLoRA.PruneRatio = relora.PruneZero, 1
				return
			}
			cfg.ReLoRA.PruneRatio = v
		})
	return sweeps, runs, nil
}

// sweepMethod is base configured as one of Table 1's rows, so the preset's
// own point is Table 1's run.
func sweepMethod(base train.Config, name string) train.Config {
	for _, row := range AblationRows {
		if row.Name == name {
			return withMethod(base, relora.MethodLoRA, row.R, row.O, row.J, row.WS)
		}
	}
	panic("experiments: no Table 1 row " + name)
}

// scaled returns base × each factor, rounded, at least 1.
func scaled(base int, factors []float64) []float64 {
	out := make([]float64, len(factors))
	for i, f := range factors {
		out[i] = max(1, float64(int(float64(base)*f+0.5)))
	}
	return out
}

func labels(prefix string, vs []float64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = prefix + strconv.FormatFloat(v, 'g', -1, 64)
	}
	return out
}
