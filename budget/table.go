package budget

import (
	"fmt"
	"math"
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/stats"
)

// Row is one method of the equal-FLOP experiment.
type Row struct {
	Name  string    `json:"name"`
	Steps int       `json:"steps"`          // steps that fit the budget
	FLOPs float64   `json:"flops"`          // their training FLOPs
	Seeds []uint64  `json:"seeds"`          // seeds with a curve
	Final []float64 `json:"final_val_loss"` // per seed
}

// Table is the budget report: Table 1's runs against their training
// FLOPs, and the equal-FLOP experiment when its runs exist.
type Table struct {
	Preset string `json:"preset"`
	// Table 1's runs (the preset's width).
	Table1      []Curve `json:"table1_curves"`
	Table1Model string  `json:"table1_model"`
	// The equal-FLOP experiment.
	Dim, Rank int     `json:"-"`
	Model     string  `json:"budget_model"`
	Budget    float64 `json:"budget_flops"`
	Rows      []Row   `json:"rows,omitempty"`
	Curves    []Curve `json:"curves,omitempty"`
	Missing   int     `json:"missing_runs,omitempty"` // budget runs without a result
}

// Build makes the table from Table 1's runs and the budget experiment's
// (either may be empty: the experiment is hours of training, and the
// report says which target trains it).
func Build(p experiments.Preset, spec experiments.BudgetSpec, t1Runs []experiments.Run, t1Outs []runner.Outcome,
	bRuns []experiments.Run, bOuts []runner.Outcome) (*Table, error) {
	t := &Table{Preset: p.Name, Budget: spec.Budget, Dim: spec.Model.Dim, Rank: spec.Rank,
		Table1Model: shapeName(p.Base.Model.Dim, p.Base.Model.Layers, p.Base.Model.FFN, p.Base.ReLoRA.Rank),
		Model:       shapeName(spec.Model.Dim, spec.Model.Layers, spec.Model.FFN, spec.Rank)}
	var err error
	if t.Table1, err = Curves(t1Runs, t1Outs); err != nil {
		return nil, err
	}
	if t.Curves, err = Curves(bRuns, bOuts); err != nil {
		return nil, err
	}
	for _, o := range bOuts {
		if o.Err != nil || o.Result == nil {
			t.Missing++
		}
	}
	for _, name := range []string{experiments.RowBudgetFull, experiments.RowBudgetReLoRA, experiments.RowBudgetLoRAWS, experiments.RowBudgetControl} {
		row := Row{Name: name, Steps: spec.Steps[name], FLOPs: spec.FLOPs[name]}
		for _, c := range t.Curves {
			if c.Row == name {
				row.Seeds = append(row.Seeds, c.Seed)
				row.Final = append(row.Final, c.Final())
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func shapeName(d, layers, ffn, r int) string {
	return fmt.Sprintf("d %d, %d layers, ffn %d, r %d", d, layers, ffn, r)
}

// paired returns, for each seed both rows have, a's value minus b's.
func paired(aSeeds []uint64, a []float64, bSeeds []uint64, b []float64) []float64 {
	var d []float64
	for i, s := range aSeeds {
		if j := slices.Index(bSeeds, s); j >= 0 {
			d = append(d, a[i]-b[j])
		}
	}
	return d
}

// meanCurves averages each row's curves over seeds, evaluation by
// evaluation (seeds of a row share their evaluation steps and FLOPs), with
// the seeds' min–max; a row's diverged seeds are left out. The x values are
// the FLOPs, or with byTime the seeds' mean training time (curves without
// one are left out).
func meanCurves(cs []Curve, rows []string, byTime bool) map[string][4][]float64 {
	out := map[string][4][]float64{}
	for _, row := range rows {
		var mine []Curve
		for _, c := range cs {
			if c.Row == row && !c.Diverged && (!byTime || len(c.Seconds) == len(c.FLOPs)) {
				mine = append(mine, c)
			}
		}
		if len(mine) == 0 {
			continue
		}
		n := math.MaxInt
		for _, c := range mine {
			n = min(n, len(c.FLOPs))
		}
		var x, y, lo, hi []float64
		for i := 0; i < n; i++ {
			var v []float64
			for _, c := range mine {
				v = append(v, c.ValLoss[i])
			}
			xi := mine[0].FLOPs[i]
			if byTime {
				var ts []float64
				for _, c := range mine {
					ts = append(ts, c.Seconds[i])
				}
				xi = stats.Mean(ts)
			}
			x, y = append(x, xi), append(y, stats.Mean(v))
			lo, hi = append(lo, slices.Min(v)), append(hi, slices.Max(v))
		}
		out[row] = [4][]float64{x, y, lo, hi}
	}
	return out
}
