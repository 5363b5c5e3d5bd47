package ablation

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
)

// Files written under the results folder.
const (
	MarkdownFile = "ablation.md"
	JSONFile     = "ablation.json"
	ValFigure    = "figures/ablation_val_loss"
	TrainFigure  = "figures/ablation_train_loss"
	LRFigure     = "figures/fig4_jagged_schedule"
)

// Write renders the table (Markdown and JSON) and its figures into dir. It
// reads nothing: the figures' curves come from Build, so t must be a Table
// made by Build, not one decoded from ablation.json.
func Write(dir string, t *Table) error {
	if t.curves == nil {
		return errors.New("ablation: Write needs a Table made by Build (the figures' curves are not in the JSON)")
	}
	if err := t.writeFigures(dir); err != nil {
		return err
	}
	return report.WriteDocument(dir, JSONFile, t, MarkdownFile, t.Markdown())
}

// Markdown is the whole ablation.md: table and figures (the claims are
// judged over the whole family in REPORT.md).
func (t *Table) Markdown() string {
	var b strings.Builder
	b.WriteString(t.Report().Markdown())
	fmt.Fprintf(&b, "\n![validation loss](%s.png)\n\n![training loss](%s.png)\n\n", ValFigure, TrainFigure)
	if from, ok := t.trainYRange(); ok {
		fmt.Fprintf(&b, "The training-loss axis fits the curves from step %.0f on (%.0f%% of training): the first steps' drop from ln 256 ≈ 5.5 runs off the top, so the part where the rows differ fills the figure.\n\n",
			from.step, 100*trainCut)
	}
	fmt.Fprintf(&b, "![jagged schedule](%s.png)\n", LRFigure)
	return b.String()
}

// trainCut is the fraction of training the training-loss figure's Y axis
// ignores: the initial drop from ln 256 would flatten every difference.
const trainCut = 0.12

// yFrom is the training-loss figure's Y range, fitted to the steps from
// step on.
type yFrom struct{ step, lo, hi float64 }

// trainYRange fits the Y axis to every drawn training-loss value (means,
// bands, straying seeds) from trainCut of the last step on.
func (t *Table) trainYRange() (yFrom, bool) {
	last := 0.0
	for _, c := range t.curves {
		if n := len(c.trainX); n > 0 {
			last = max(last, c.trainX[n-1])
		}
	}
	r := yFrom{step: math.Ceil(trainCut * last), lo: math.Inf(1), hi: math.Inf(-1)}
	for _, c := range t.curves {
		ys := [][]float64{c.trainY, c.trainLo, c.trainHi}
		for _, s := range c.strays {
			ys = append(ys, s)
		}
		for _, y := range ys {
			for i, v := range y {
				if c.trainX[i] >= r.step && !math.IsNaN(v) && !math.IsInf(v, 0) {
					r.lo, r.hi = math.Min(r.lo, v), math.Max(r.hi, v)
				}
			}
		}
	}
	if !(r.hi > r.lo) {
		return r, false
	}
	pad := 0.04 * (r.hi - r.lo)
	r.lo, r.hi = r.lo-pad, r.hi+pad
	return r, true
}

// writeFigures draws the validation and training loss of every row and
// ReLoRA's learning rate, each method in its own style (report.MethodStyle).
func (t *Table) writeFigures(dir string) error {
	var val, tr, strayLines []report.Series
	for _, row := range experiments.AblationRows {
		c, ok := t.curves[row.Name]
		if !ok {
			continue // not part of this matrix (-rows)
		}
		val = append(val, report.Series{Name: row.Name, X: c.valX, Y: c.valY, Lo: c.valLo, Hi: c.valHi, Points: true})
		tr = append(tr, report.Series{Name: row.Name, X: c.trainX, Y: c.trainY, Lo: c.trainLo, Hi: c.trainHi})
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
	trainPlot := report.LinePlot{Title: "Table 1: training loss (50-step mean)",
		XLabel: "step (band: seed min–max; thin: a straying seed; grey: ReLoRA's restarts)",
		YLabel: "training loss (nats/byte)", Series: tr, VLines: t.restarts}
	if r, ok := t.trainYRange(); ok {
		trainPlot.YMin, trainPlot.YMax = r.lo, r.hi
		trainPlot.Title += fmt.Sprintf(", y axis fit to steps ≥ %.0f", r.step)
	}
	plots := []struct {
		p    report.LinePlot
		path string
	}{
		{report.LinePlot{Title: "Table 1: validation loss (mean over seeds; band: min–max)", XLabel: "step", YLabel: "validation loss (nats/byte)", Series: val}, ValFigure},
		{trainPlot, TrainFigure},
	}
	if relora, ok := t.curves[experiments.RowReLoRA]; ok {
		plots = append(plots, struct {
			p    report.LinePlot
			path string
		}{report.LinePlot{Title: "Fig. 4 — jagged cosine schedule of the ReLoRA run (as logged)", XLabel: "step", YLabel: "learning rate",
			Series: []report.Series{{Method: experiments.RowReLoRA, X: relora.lrX, Y: relora.lrY}}}, LRFigure})
	}
	for _, pl := range plots {
		if err := pl.p.Save(filepath.Join(dir, pl.path), 8, 4.5); err != nil {
			return fmt.Errorf("ablation: %s: %w", pl.path, err)
		}
	}
	return nil
}
