// Package ablation builds the paper's Table 1 (restarts × optimizer reset ×
// jagged schedule × warm start) from finished runs, checks the orderings the
// paper states, and writes the table, its JSON and its figures.
package ablation

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/stats"
	"github.com/relorago/harness/train"
)

// SeedResult is one seed of one row.
type SeedResult struct {
	Seed       uint64  `json:"seed"`
	Dir        string  `json:"run_dir"`
	Status     string  `json:"status"`
	Reason     string  `json:"reason,omitempty"`
	ValLoss    float64 `json:"val_loss"`
	Perplexity float64 `json:"perplexity"`
	// Unstable says where the run's smoothed training loss rose above
	// train.UnstableFactor times its running minimum ("" when it did not).
	Unstable string `json:"unstable,omitempty"`
}

// Row is one row of Table 1 over all seeds.
type Row struct {
	experiments.AblationRow
	Seeds     []SeedResult `json:"seeds"`
	Diverged  int          `json:"diverged"`     // seeds that diverged
	Unstable  int          `json:"unstable"`     // seeds that did not diverge but were unstable (train.InstabilityOf)
	PPLs      []float64    `json:"perplexities"` // finite validation perplexities
	Losses    []float64    `json:"val_losses"`   // finite validation losses (nats/token)
	MeanPPL   float64      `json:"mean_perplexity"`
	StdPPL    float64      `json:"std_perplexity"`
	DeltaFull *float64     `json:"delta_full_ppl,omitempty"` // mean perplexity minus full-rank's (when it ran)
	Trainable int          `json:"trainable_params"`
}

// Table is the regenerated Table 1.
type Table struct {
	Preset string `json:"preset"`
	About  string `json:"about"`
	Rows   []Row  `json:"rows"`

	// The figures' data, read by Build from the runs' metrics.jsonl; too
	// bulky for the JSON, so a Table decoded from it cannot be written.
	curves   map[string]curve // by row name
	restarts []float64        // ReLoRA's merge steps (the figures' guides)
}

// Build assembles the table from the runner's outcomes for Ablation(p):
// their results and their metrics.jsonl (the figures' curves). It reads
// and never writes; Write writes.
func Build(p experiments.Preset, runs []experiments.Run, outs []runner.Outcome) (*Table, error) {
	if len(runs) != len(outs) {
		return nil, fmt.Errorf("ablation: %d runs but %d outcomes", len(runs), len(outs))
	}
	t := &Table{Preset: p.Name, About: p.About}
	metrics := make([][]train.StepMetrics, len(runs)) // read once: the instability rule and the curves
	for _, def := range experiments.AblationRows {
		row := Row{AblationRow: def}
		for i, r := range runs {
			if r.Row != def.Name {
				continue
			}
			res := outs[i].Result
			if res == nil {
				return nil, fmt.Errorf("ablation: row %s seed %d has no result (%v)", def.Name, r.Seed, outs[i].Err)
			}
			s := SeedResult{Seed: r.Seed, Dir: outs[i].Dir, Status: res.Status, Reason: res.DivergedReason,
				ValLoss: res.FinalVal.Loss, Perplexity: float64(res.FinalVal.Perplexity)}
			ms, err := train.ReadMetrics(filepath.Join(outs[i].Dir, train.MetricsFile))
			if err != nil {
				return nil, fmt.Errorf("ablation: curves of %s seed %d: %w", def.Name, r.Seed, err)
			}
			metrics[i] = ms
			if in := train.InstabilityOf(ms); in.Unstable() && res.Status != train.StatusDiverged {
				s.Unstable = in.String()
				row.Unstable++
			}
			row.Seeds = append(row.Seeds, s)
			if res.Status == train.StatusDiverged {
				row.Diverged++
			}
			if !math.IsInf(s.Perplexity, 0) && !math.IsNaN(s.Perplexity) {
				row.PPLs = append(row.PPLs, s.Perplexity)
				row.Losses = append(row.Losses, s.ValLoss)
			}
			row.Trainable = res.TrainableParams
		}
		if len(row.Seeds) == 0 {
			continue // not part of this matrix (-rows)
		}
		row.MeanPPL, row.StdPPL = stats.Mean(row.PPLs), stats.Std(row.PPLs)
		t.Rows = append(t.Rows, row)
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("ablation: no Table 1 row among the runs")
	}
	if full := t.row(experiments.RowFull); full != nil {
		for i := range t.Rows {
			d := t.Rows[i].MeanPPL - full.MeanPPL
			t.Rows[i].DeltaFull = &d
		}
	}
	t.curves = rowCurves(runs, metrics)
	t.restarts = restartSteps(runs)
	return t, nil
}

// restartSteps are the merge steps of the ReLoRA row (or, without it, of
// the first row that restarts), drawn as guides on the training loss.
func restartSteps(runs []experiments.Run) []float64 {
	i := slices.IndexFunc(runs, func(r experiments.Run) bool { return r.Row == experiments.RowReLoRA })
	if i < 0 {
		i = slices.IndexFunc(runs, func(r experiments.Run) bool { return r.Config.ReLoRA.Restarts })
	}
	if i < 0 {
		return nil
	}
	var out []float64
	for _, s := range runs[i].Config.ReLoRA.MergeSteps(runs[i].Config.Steps) {
		out = append(out, float64(s))
	}
	return out
}

// curve is a row's metrics over seeds: the mean, the min–max band, and
// the seeds that stray from the others (drawn on their own).
type curve struct {
	valX, valY, valLo, valHi         []float64
	trainX, trainY, trainLo, trainHi []float64
	lrX, lrY                         []float64
	strays                           map[uint64][]float64 // seed → smoothed training loss
}

// strayFraction: a seed whose smoothed training loss leaves the row's
// median by more than this fraction at some step is drawn as its own thin
// line (an optimizer reset that blows one seed up, say), so a mean never
// hides one bad seed.
const strayFraction = 0.05

// rowCurves makes each row's curves from its runs' metrics (metrics[i]
// is runs[i]'s).
func rowCurves(runs []experiments.Run, metrics [][]train.StepMetrics) map[string]curve {
	perRow := map[string][][]train.StepMetrics{}
	seedsOf := map[string][]uint64{}
	for i, r := range runs {
		perRow[r.Row] = append(perRow[r.Row], metrics[i])
		seedsOf[r.Row] = append(seedsOf[r.Row], r.Seed)
	}
	out := map[string]curve{}
	for row, seeds := range perRow {
		c := curve{strays: map[uint64][]float64{}}
		n := len(seeds[0])
		for _, s := range seeds {
			n = min(n, len(s)) // a diverged seed stops early
		}
		smoothed := make([][]float64, len(seeds))
		for k, s := range seeds {
			loss := make([]float64, n)
			for i := range n {
				loss[i] = s[i].Loss
			}
			smoothed[k] = stats.MovingAverage(loss, 50)
		}
		for i := 0; i < n; i++ {
			var val, tr []float64
			for k, s := range seeds {
				tr = append(tr, smoothed[k][i])
				if s[i].ValLoss != nil {
					val = append(val, *s[i].ValLoss)
				}
			}
			step := float64(seeds[0][i].Step)
			c.trainX = append(c.trainX, step)
			c.trainY, c.trainLo, c.trainHi = append(c.trainY, stats.Mean(tr)), append(c.trainLo, slices.Min(tr)), append(c.trainHi, slices.Max(tr))
			c.lrX, c.lrY = append(c.lrX, step), append(c.lrY, seeds[0][i].LR)
			if len(val) == len(seeds) {
				c.valX, c.valY = append(c.valX, step), append(c.valY, stats.Mean(val))
				c.valLo, c.valHi = append(c.valLo, slices.Min(val)), append(c.valHi, slices.Max(val))
			}
		}
		if len(seeds) > 1 {
			for k := range seeds {
				if strays(smoothed, k, n) {
					c.strays[seedsOf[row][k]] = smoothed[k][:n]
				}
			}
		}
		out[row] = c
	}
	return out
}

// strays says whether seed k's curve leaves the median of the row's seeds
// by more than strayFraction at some step.
func strays(curves [][]float64, k, n int) bool {
	for i := range n {
		col := make([]float64, len(curves))
		for j := range curves {
			col[j] = curves[j][i]
		}
		slices.Sort(col)
		med := col[len(col)/2]
		if len(col)%2 == 0 {
			med = (col[len(col)/2-1] + col[len(col)/2]) / 2
		}
		if math.Abs(curves[k][i]-med) > strayFraction*math.Abs(med) {
			return true
		}
	}
	return false
}

// row returns the named row, or nil when the matrix did not include it.
func (t *Table) row(name string) *Row {
	for i := range t.Rows {
		if t.Rows[i].Name == name {
			return &t.Rows[i]
		}
	}
	return nil
}

// Report returns the table as report.Table.
func (t *Table) Report() report.Table {
	tick := func(b bool) string {
		if b {
			return "✓"
		}
		return ""
	}
	paperFull := experiments.AblationRows[len(experiments.AblationRows)-1].PaperPPL
	rt := report.Table{
		Title:  "Table 1 — ablation (validation loss in nats per byte and perplexity, lower is better)",
		Header: []string{"Run", "R", "O", "J", "WS", "Seeds", "Val. loss (ours)", "Val. ppl (ours)", "Δ full (ours)", "Paper ppl", "Δ full (paper)"},
		Align:  []report.Align{report.AlignLeft, report.AlignCenter, report.AlignCenter, report.AlignCenter, report.AlignCenter, report.AlignRight},
	}
	for _, r := range t.Rows {
		// Byte-level perplexities sit near 3, where the orderings live in the
		// second and third decimals.
		ours := stats.PlusMinus(r.PPLs, 3)
		loss := stats.PlusMinus(r.Losses, 4)
		if r.Diverged > 0 {
			ours = fmt.Sprintf("diverged in %d/%d (%s)", r.Diverged, len(r.Seeds), ours)
		}
		if r.Unstable > 0 {
			ours = fmt.Sprintf("unstable in %d/%d (%s)", r.Unstable, len(r.Seeds), ours)
		}
		paper, paperDelta := "diverged", "–"
		if r.PaperNotes == "" {
			paper, paperDelta = fmt.Sprintf("%.2f", r.PaperPPL), fmt.Sprintf("%+.2f", r.PaperPPL-paperFull)
		}
		delta := "–"
		if r.DeltaFull != nil {
			delta = fmt.Sprintf("%+.3f", *r.DeltaFull)
		}
		if r.Full {
			delta = "–"
			paperDelta = "–"
		}
		rt.Rows = append(rt.Rows, []string{r.Name, tick(r.R), tick(r.O), tick(r.J), tick(r.WS), fmt.Sprint(len(r.Seeds)), loss, ours, delta, paper, paperDelta})
	}
	rt.Notes = []string{
		fmt.Sprintf("Preset %q: %s. Mean ± std over each row's seeds (the rows `make decide` added seeds to have more).", t.Preset, t.About),
		"R = restarts (merge-and-reinit), O = optimizer reset (prune LoRA Adam moments), J = jagged LR schedule, WS = full-rank warm start. " +
			"\"Diverged\" = a NaN/Inf loss, a training loss over 3× the untrained model's (blew up), an exactly zero gradient (collapsed), or a final validation loss above the initial one. " +
			fmt.Sprintf("\"Unstable\" = not diverged, but the training loss's %d-step moving average rose above %g× its running minimum (a blow-up the run recovered from).", train.UnstableWindow, train.UnstableFactor),
		"Paper: 130M LLaMA on C4 (Lialin et al., Table 1); absolute perplexities are not comparable across scales, orderings are.",
	}
	return rt
}
