package budget

import (
	"fmt"
	"math"
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
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
	Dim, Rank int            `json:"-"`
	Model     string         `json:"budget_model"`
	Budget    float64        `json:"budget_flops"`
	Rows      []Row          `json:"rows,omitempty"`
	Curves    []Curve        `json:"curves,omitempty"`
	Missing   int            `json:"missing_runs,omitempty"` // budget runs without a result
	Claims    []report.Claim `json:"claims"`
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
	t.Claims = append(t.Claims, t.table1Claim())
	if len(t.Curves) > 0 {
		t.Claims = append(t.Claims, t.budgetClaim())
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

// table1Claim compares, in Table 1's runs, ReLoRA's final validation loss
// with full-rank's at the same training FLOPs (full-rank's curve
// interpolated at the FLOPs ReLoRA's run spent), seed by seed.
func (t *Table) table1Claim() report.Claim {
	cl := report.Claim{Statement: "ReLoRA suits a limited budget: at equal training FLOPs (Table 1's runs) its validation loss is below full-rank's"}
	var seeds []uint64
	var relora, full []float64
	for _, r := range t.Table1 {
		if r.Row != experiments.RowReLoRA || r.Diverged {
			continue
		}
		for _, f := range t.Table1 {
			if f.Row == experiments.RowFull && f.Seed == r.Seed && !f.Diverged {
				if v, ok := f.At(r.TotalFLOPs); ok {
					seeds = append(seeds, r.Seed)
					relora, full = append(relora, r.Final()), append(full, v)
				}
			}
		}
	}
	if len(seeds) == 0 {
		cl.Verdict, cl.Evidence = report.Inconclusive, "Table 1 has no ReLoRA and full-rank run of one seed"
		return cl
	}
	iv := stats.MeanInterval(paired(seeds, relora, seeds, full))
	cl.Verdict = report.JudgeBelow(iv, 0)
	var rFLOPs, fFLOPs float64
	for _, c := range t.Table1 {
		switch c.Row {
		case experiments.RowReLoRA:
			rFLOPs = c.TotalFLOPs
		case experiments.RowFull:
			fFLOPs = c.TotalFLOPs
		}
	}
	cl.Evidence = fmt.Sprintf("%s: ReLoRA's run costs %.3g training FLOPs, %.0f%% of full-rank's %.3g; there ReLoRA ends at %.4f and full-rank's curve is at %.4f nats/byte (mean over %d seed(s)); ReLoRA − full-rank %s",
		t.Table1Model, rFLOPs, 100*rFLOPs/fFLOPs, fFLOPs, stats.Mean(relora), stats.Mean(full), len(seeds), iv.Format(4))
	return cl
}

// budgetClaim judges the equal-FLOP experiment: ReLoRA's final validation
// loss minus full-rank's, seed by seed, both having spent the budget.
func (t *Table) budgetClaim() report.Claim {
	cl := report.Claim{Statement: fmt.Sprintf("ReLoRA suits a limited budget: with full-rank's training FLOPs (%s) ReLoRA's validation loss is below full-rank's", t.Model)}
	row := func(name string) Row {
		for _, r := range t.Rows {
			if r.Name == name {
				return r
			}
		}
		return Row{}
	}
	rr, fr := row(experiments.RowBudgetReLoRA), row(experiments.RowBudgetFull)
	d := paired(rr.Seeds, rr.Final, fr.Seeds, fr.Final)
	if len(d) == 0 {
		cl.Verdict, cl.Evidence = report.Inconclusive, fmt.Sprintf("the experiment has no ReLoRA and full-rank run of one seed yet (%d runs missing)", t.Missing)
		return cl
	}
	iv := stats.MeanInterval(d)
	cl.Verdict = report.JudgeBelow(iv, 0)
	cl.Evidence = fmt.Sprintf("ReLoRA %d steps, full-rank %d, both %.3g FLOPs: final validation loss %.4f vs %.4f nats/byte; ReLoRA − full-rank %s over %d seed(s)",
		rr.Steps, fr.Steps, t.Budget, stats.Mean(rr.Final), stats.Mean(fr.Final), iv.Format(4), len(d))
	for _, other := range []string{experiments.RowBudgetLoRAWS, experiments.RowBudgetControl} {
		o := row(other)
		if dd := paired(rr.Seeds, rr.Final, o.Seeds, o.Final); len(dd) > 0 {
			cl.Evidence += fmt.Sprintf("; ReLoRA − %s %s", other, stats.MeanInterval(dd).Format(4))
		}
	}
	return cl
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
