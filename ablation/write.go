package ablation

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/stats"
	"github.com/relorago/harness/train"
)

// Files written under the results folder.
const (
	MarkdownFile = "ablation.md"
	JSONFile     = "ablation.json"
	ValFigure    = "figures/ablation_val_loss"
	TrainFigure  = "figures/ablation_train_loss"
	LRFigure     = "figures/fig4_jagged_schedule"
)

// Write renders the table (Markdown and JSON) and its figures into dir.
func Write(dir string, t *Table, runs []experiments.Run, outs []runner.Outcome) error {
	if err := writeFigures(dir, runs, outs); err != nil {
		return err
	}
	return report.WriteDocument(dir, JSONFile, t, MarkdownFile, t.Markdown())
}

// Markdown is the whole ablation.md: table, claims, figures.
func (t *Table) Markdown() string {
	var b strings.Builder
	b.WriteString(t.Report().Markdown())
	b.WriteString("\n#### Claims of the paper's Table 1\n\n")
	b.WriteString(report.ClaimsMarkdown(t.Claims))
	fmt.Fprintf(&b, "\n![validation loss](%s.png)\n\n![training loss](%s.png)\n\n![jagged schedule](%s.png)\n",
		ValFigure, TrainFigure, LRFigure)
	return b.String()
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

func rowCurves(runs []experiments.Run, outs []runner.Outcome) (map[string]curve, error) {
	perRow := map[string][][]train.StepMetrics{}
	seedsOf := map[string][]uint64{}
	for i, r := range runs {
		ms, err := train.ReadMetrics(filepath.Join(outs[i].Dir, train.MetricsFile))
		if err != nil {
			return nil, fmt.Errorf("ablation: curves of %s: %w", r.Row, err)
		}
		perRow[r.Row] = append(perRow[r.Row], ms)
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
	return out, nil
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

func writeFigures(dir string, runs []experiments.Run, outs []runner.Outcome) error {
	curves, err := rowCurves(runs, outs)
	if err != nil {
		return err
	}
	var val, tr, strayLines []report.Series
	for i, row := range experiments.AblationRows {
		c, ok := curves[row.Name]
		if !ok {
			continue // not part of this matrix (-rows)
		}
		dashed := i%2 == 1
		val = append(val, report.Series{Name: row.Name, X: c.valX, Y: c.valY, Lo: c.valLo, Hi: c.valHi, Dashed: dashed, Points: true})
		tr = append(tr, report.Series{Name: row.Name, X: c.trainX, Y: c.trainY, Lo: c.trainLo, Hi: c.trainHi, Dashed: dashed})
		seeds := make([]uint64, 0, len(c.strays))
		for s := range c.strays {
			seeds = append(seeds, s)
		}
		slices.Sort(seeds)
		for _, s := range seeds {
			strayLines = append(strayLines, report.Series{Of: row.Name, X: c.trainX, Y: c.strays[s]})
		}
	}
	tr = append(tr, strayLines...)
	cfg := runs[0].Config.ReLoRA
	var restarts []float64
	for _, s := range cfg.MergeSteps(runs[0].Config.Steps) {
		restarts = append(restarts, float64(s))
	}
	plots := []struct {
		p    report.LinePlot
		path string
	}{
		{report.LinePlot{Title: "Table 1: validation loss (mean over seeds; band: min–max)", XLabel: "step", YLabel: "validation loss (nats/byte)", Series: val}, ValFigure},
		{report.LinePlot{Title: "Table 1: training loss (50-step mean; band: seed min–max; thin: a straying seed)", XLabel: "step", YLabel: "training loss (nats/byte)", Series: tr, VLines: restarts}, TrainFigure},
	}
	if relora, ok := curves[experiments.RowReLoRA]; ok {
		plots = append(plots, struct {
			p    report.LinePlot
			path string
		}{report.LinePlot{Title: "Fig. 4 — jagged cosine schedule of the ReLoRA run (as logged)", XLabel: "step", YLabel: "learning rate",
			Series: []report.Series{{Name: "ReLoRA", X: relora.lrX, Y: relora.lrY}}}, LRFigure})
	}
	for _, pl := range plots {
		if err := pl.p.Save(filepath.Join(dir, pl.path), 8, 4.5); err != nil {
			return fmt.Errorf("ablation: %s: %w", pl.path, err)
		}
	}
	return nil
}
