package ablation

import (
	"fmt"
	"path/filepath"
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

// curve is a row's metrics averaged over seeds.
type curve struct {
	valX, valY, trainX, trainY, lrX, lrY []float64
}

func rowCurves(runs []experiments.Run, outs []runner.Outcome) (map[string]curve, error) {
	perRow := map[string][][]train.StepMetrics{}
	for i, r := range runs {
		ms, err := train.ReadMetrics(filepath.Join(outs[i].Dir, train.MetricsFile))
		if err != nil {
			return nil, fmt.Errorf("ablation: curves of %s: %w", r.Row, err)
		}
		perRow[r.Row] = append(perRow[r.Row], ms)
	}
	out := map[string]curve{}
	for row, seeds := range perRow {
		var c curve
		n := len(seeds[0])
		for _, s := range seeds {
			n = min(n, len(s)) // a diverged seed stops early
		}
		train := make([]float64, n)
		for i := 0; i < n; i++ {
			var loss []float64
			var val []float64
			for _, s := range seeds {
				loss = append(loss, s[i].Loss)
				if s[i].ValLoss != nil {
					val = append(val, *s[i].ValLoss)
				}
			}
			train[i] = stats.Mean(loss)
			step := float64(seeds[0][i].Step)
			c.trainX = append(c.trainX, step)
			c.lrX, c.lrY = append(c.lrX, step), append(c.lrY, seeds[0][i].LR)
			if len(val) == len(seeds) {
				c.valX, c.valY = append(c.valX, step), append(c.valY, stats.Mean(val))
			}
		}
		c.trainY = stats.MovingAverage(train, 50)
		out[row] = c
	}
	return out, nil
}

func writeFigures(dir string, runs []experiments.Run, outs []runner.Outcome) error {
	curves, err := rowCurves(runs, outs)
	if err != nil {
		return err
	}
	var val, tr []report.Series
	for i, row := range experiments.AblationRows {
		c, ok := curves[row.Name]
		if !ok {
			continue // not part of this matrix (-rows)
		}
		dashed := i%2 == 1
		val = append(val, report.Series{Name: row.Name, X: c.valX, Y: c.valY, Dashed: dashed, Points: true})
		tr = append(tr, report.Series{Name: row.Name, X: c.trainX, Y: c.trainY, Dashed: dashed})
	}
	cfg := runs[0].Config.ReLoRA
	var restarts []float64
	for _, s := range cfg.MergeSteps(runs[0].Config.Steps) {
		restarts = append(restarts, float64(s))
	}
	plots := []struct {
		p    report.LinePlot
		path string
	}{
		{report.LinePlot{Title: "Table 1 runs: validation loss (mean over seeds)", XLabel: "step", YLabel: "validation loss (nats/byte)", Series: val}, ValFigure},
		{report.LinePlot{Title: "Table 1 runs: training loss (50-step moving average)", XLabel: "step", YLabel: "training loss (nats/byte)", Series: tr, VLines: restarts}, TrainFigure},
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
