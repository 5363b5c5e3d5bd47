package budget

import (
	"fmt"
	"path/filepath"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/stats"
)

// Files written under the results folder.
const (
	MarkdownFile = "budget.md"
	JSONFile     = "budget.json"
	Table1Figure = "figures/budget_table1_loss_vs_flops"
	BudgetFigure = "figures/budget_equal_flops"
	TimeFigure   = "figures/budget_equal_flops_time"
)

// Write renders the table (Markdown and JSON) and the figures into dir.
func Write(dir string, t *Table) error {
	var rows []string
	for _, r := range experiments.AblationRows {
		rows = append(rows, r.Name)
	}
	plots := []struct {
		p    report.LinePlot
		path string
	}{{lossPlot(fmt.Sprintf("Table 1 (%s): validation loss vs training compute", t.Table1Model), t.Table1, rows), Table1Figure}}
	if len(t.Curves) > 0 {
		var names []string
		for _, r := range t.Rows {
			names = append(names, r.Name)
		}
		plots = append(plots, struct {
			p    report.LinePlot
			path string
		}{lossPlot(fmt.Sprintf("Equal-FLOP budget (%s): validation loss vs training compute", t.Model), t.Curves, names), BudgetFigure})
		if tp, ok := timePlot(fmt.Sprintf("Equal-FLOP budget (%s): validation loss vs training time", t.Model), t.Curves, names); ok {
			plots = append(plots, struct {
				p    report.LinePlot
				path string
			}{tp, TimeFigure})
		}
	}
	for _, pl := range plots {
		if err := pl.p.Save(filepath.Join(dir, pl.path), 8, 4.5); err != nil {
			return fmt.Errorf("budget: %s: %w", pl.path, err)
		}
	}
	return report.WriteDocument(dir, JSONFile, t, MarkdownFile, t.Markdown())
}

// lossPlot is validation loss against cumulative training FLOPs, one line
// per row (its seeds' mean, min–max band), in the rows' method styles. The
// untrained model's evaluation (0 FLOPs, ~5.5 nats) is left out so that the
// curves' ends, where the rows differ, fill the axis.
func lossPlot(title string, cs []Curve, rows []string) report.LinePlot {
	means := meanCurves(cs, rows, false)
	top := 0.0
	for _, m := range means {
		for _, f := range m[0] {
			top = max(top, f)
		}
	}
	unit, name := flopUnit(top)
	series := meanSeries(means, rows, unit)
	if len(series) == 0 {
		series = []report.Series{{Name: "no runs", X: []float64{0}, Y: []float64{0}}}
	}
	return report.LinePlot{Title: title, XLabel: "training compute (" + name + ", FLOP model; band: seed min–max)",
		YLabel: "validation loss (nats/byte)", Series: series}
}

// flopUnit picks the unit that puts top between 1 and 1000.
func flopUnit(top float64) (float64, string) {
	for _, u := range []struct {
		v    float64
		name string
	}{{1e18, "EFLOP"}, {1e15, "PFLOP"}, {1e12, "TFLOP"}, {1e9, "GFLOP"}, {1e6, "MFLOP"}} {
		if top >= u.v {
			return u.v, u.name
		}
	}
	return 1, "FLOP"
}

// timePlot is validation loss against measured training time (minutes),
// like lossPlot; false when no run has a measured time.
func timePlot(title string, cs []Curve, rows []string) (report.LinePlot, bool) {
	series := meanSeries(meanCurves(cs, rows, true), rows, 60)
	if len(series) == 0 {
		return report.LinePlot{}, false
	}
	return report.LinePlot{Title: title, XLabel: "training time (minutes on one core, measured; band: seed min–max)",
		YLabel: "validation loss (nats/byte)", Series: series}, true
}

// meanSeries turns meanCurves' rows into lines with min–max bands, x
// divided by unit; the untrained evaluation (x = 0) is left out so that
// the curves' ends, where the rows differ, fill the axis.
func meanSeries(means map[string][4][]float64, rows []string, unit float64) []report.Series {
	var series []report.Series
	for _, row := range rows {
		m, ok := means[row]
		if !ok {
			continue
		}
		var x, y, lo, hi []float64
		for i, v := range m[0] {
			if v == 0 {
				continue
			}
			x, y, lo, hi = append(x, v/unit), append(y, m[1][i]), append(lo, m[2][i]), append(hi, m[3][i])
		}
		if len(x) > 0 {
			series = append(series, report.Series{Name: row, X: x, Y: y, Lo: lo, Hi: hi, Points: len(x) <= 30})
		}
	}
	return series
}

// hasTime says whether any curve has a measured training time.
func hasTime(cs []Curve) bool {
	for _, c := range cs {
		if len(c.Seconds) > 0 {
			return true
		}
	}
	return false
}

// Markdown is the whole budget.md.
func (t *Table) Markdown() string {
	return fmt.Sprintf("### Loss against training compute, preset %q\n\n", t.Preset) + t.table1Section() + t.budgetSection()
}

// table1Section is Table 1's runs at the compute they spent, and its
// figure.
func (t *Table) table1Section() string {
	t1 := report.Table{
		Title:  fmt.Sprintf("Table 1's runs (%s) at the compute they spent", t.Table1Model),
		Header: []string{"Run", "Seeds", "Training FLOPs", "vs full-rank", "Final val. loss", "Full-rank's val. loss at these FLOPs"},
	}
	fullTotal := t.table1FullRankFLOPs()
	for _, row := range experiments.AblationRows {
		if cells, ok := t.table1Row(row.Name, fullTotal); ok {
			t1.Rows = append(t1.Rows, cells)
		}
	}
	t1.Notes = []string{"Training FLOPs: the FLOP model (model.Config.FLOPsPerStep) summed step by step: a full-rank step costs 6 per weight per token plus attention; after the warm-start switch a step costs 4 per frozen projection weight and 6 per factor weight per token; a merge adds W += s·B·A. Evaluations are not training and are left out. The last column interpolates full-rank's validation curve at the row's FLOPs: what full-rank training reaches with the same compute."}
	return t1.Markdown() + fmt.Sprintf("\n![Table 1: loss vs compute](%s.png)\n", Table1Figure)
}

// table1FullRankFLOPs is the full-rank run's training FLOPs (its last
// seed's), which the other rows are compared with; 0 without one.
func (t *Table) table1FullRankFLOPs() float64 {
	var fullTotal float64
	for _, c := range t.Table1 {
		if c.Row == experiments.RowFull {
			fullTotal = c.TotalFLOPs
		}
	}
	return fullTotal
}

// table1Row is one Table 1 row's line: its FLOPs (against full-rank's),
// final loss and full-rank's loss at the same FLOPs, seed by seed; false
// when the row has no runs.
func (t *Table) table1Row(name string, fullTotal float64) ([]string, bool) {
	var flops float64
	var final, fullAt []float64
	n := 0
	for _, c := range t.Table1 {
		if c.Row != name {
			continue
		}
		n++
		flops = c.TotalFLOPs
		final = append(final, c.Final())
		fullAt = append(fullAt, t.fullRankLossAt(c.Seed, c.TotalFLOPs)...)
	}
	if n == 0 {
		return nil, false
	}
	rel, at := "—", "—"
	if fullTotal > 0 {
		rel = fmt.Sprintf("%.0f%%", 100*flops/fullTotal)
	}
	if len(fullAt) > 0 {
		at = stats.PlusMinus(fullAt, 4)
	}
	return []string{name, fmt.Sprint(n), fmt.Sprintf("%.3g", flops), rel, stats.PlusMinus(final, 4), at}, true
}

// fullRankLossAt is the validation loss of seed's full-rank run
// interpolated at flops, for each such run whose curve reaches it.
func (t *Table) fullRankLossAt(seed uint64, flops float64) []float64 {
	var out []float64
	for _, f := range t.Table1 {
		if f.Row == experiments.RowFull && f.Seed == seed {
			if v, ok := f.At(flops); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// budgetSection is the equal-FLOP budget's table and, once runs have
// curves, its figures.
func (t *Table) budgetSection() string {
	eq := report.Table{
		Title:  fmt.Sprintf("Equal-FLOP budget (%s): every row gets full-rank's %.3g training FLOPs", t.Model, t.Budget),
		Header: []string{"Run", "Steps", "Training FLOPs", "Seeds", "Final val. loss", "Training time (min)"},
	}
	for _, r := range t.Rows {
		eq.Rows = append(eq.Rows, t.budgetRow(r))
	}
	eq.Notes = []string{"The budget is full-rank's FLOPs in the preset's steps; ReLoRA (R+O+J+WS) and LoRA+WS keep the preset's warm start, restart period and re-warm and train the extra steps their cheaper low-rank steps buy; the control (a full-rank model with ReLoRA's trainable parameter count) trains as many of its steps as the budget buys. Each run's cosine schedule spans its own steps. The width is one at which Table 4 measures ReLoRA's step faster than full-rank's, so the FLOPs saved are time saved too.", "Training time: each run's measured training-step time (result.json's train_seconds; evaluations left out), runs trained two at a time, one core each; it depends on the machine and its load, unlike every other column. The time figure spreads a run's time over its steps in proportion to their FLOPs: only each curve's end is measured."}
	if t.Missing > 0 {
		eq.Notes = append(eq.Notes, fmt.Sprintf("%d of its runs have no result yet: `make budget` trains them (README.md's table of targets has the time).", t.Missing))
	}
	s := "\n" + eq.Markdown()
	if len(t.Curves) > 0 {
		s += fmt.Sprintf("\n![equal-FLOP budget: loss vs compute](%s.png)\n", BudgetFigure)
		if hasTime(t.Curves) {
			s += fmt.Sprintf("\n![equal-FLOP budget: loss vs training time](%s.png)\n", TimeFigure)
		}
	}
	return s
}

// budgetRow is one equal-FLOP row's line; a row not trained yet says so.
func (t *Table) budgetRow(r Row) []string {
	final, minutes := "not trained yet", "—"
	if len(r.Final) > 0 {
		final = stats.PlusMinus(r.Final, 4)
	}
	if secs := t.trainingMinutes(r.Name); len(secs) > 0 {
		minutes = stats.PlusMinus(secs, 1)
	}
	return []string{r.Name, fmt.Sprint(r.Steps), fmt.Sprintf("%.4g", r.FLOPs), fmt.Sprint(len(r.Seeds)), final, minutes}
}

// trainingMinutes are the measured training times of row's runs, one per
// run: the end of each curve's time axis.
func (t *Table) trainingMinutes(row string) []float64 {
	var minutes []float64
	for _, c := range t.Curves {
		if c.Row == row && len(c.Seconds) > 0 {
			minutes = append(minutes, c.Seconds[len(c.Seconds)-1]/60)
		}
	}
	return minutes
}
