package scaling

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/stats"
)

// Files written under the results folder.
const (
	MarkdownFile = "scaling.md"
	JSONFile     = "scaling.json"
	Figure       = "figures/scaling_perplexity_vs_params"
	FLOPsFigure  = "figures/scaling_perplexity_vs_flops"
)

// Write renders Tables 2 and 3 (Markdown and JSON) and the figure into dir.
// It reads nothing: everything comes from t.
func Write(dir string, t *Table) error {
	if err := t.plot().Save(filepath.Join(dir, Figure), 7.5, 4.5); err != nil {
		return err
	}
	if err := t.flopsPlot().Save(filepath.Join(dir, FLOPsFigure), 7.5, 4.5); err != nil {
		return err
	}
	return report.WriteDocument(dir, JSONFile, t, MarkdownFile, t.Markdown())
}

// plot is perplexity against total parameters, one line per method in its
// style (report.MethodStyle), the X axis labelled with the sizes' names at
// the full-rank model's parameter count of each size.
func (t *Table) plot() report.LinePlot {
	var series []report.Series
	for _, m := range t.Methods {
		var x, y, lo, hi []float64
		for _, s := range t.Sizes {
			if c := t.cell(m, s.Name); c != nil && len(c.PPLs) > 0 {
				x = append(x, float64(c.Total))
				y = append(y, c.MeanPPL)
				lo, hi = append(lo, slices.Min(c.PPLs)), append(hi, slices.Max(c.PPLs))
			}
		}
		if len(x) > 0 {
			series = append(series, report.Series{Name: m, X: x, Y: y, Lo: lo, Hi: hi, Points: true})
		}
	}
	var ticks []report.Tick
	for _, s := range t.Sizes {
		// The full-rank model of the size; a size it lacks is named at the
		// first method that has it.
		for _, m := range append([]string{experiments.RowScalingFull}, t.Methods...) {
			if c := t.cell(m, s.Name); c != nil && c.Total > 0 {
				ticks = append(ticks, report.Tick{Value: float64(c.Total), Label: s.Name})
				break
			}
		}
	}
	return report.LinePlot{Title: "Table 2 — validation perplexity vs model size (band: seed min–max)",
		XLabel: "total parameters (log scale; ticks: each size's full-rank model)", YLabel: "validation perplexity",
		LogX: true, XTicks: ticks, Series: series}
}

// flopsPlot is perplexity against the training compute each cell's run
// spent (FLOP model), one line per method across the sizes: at equal
// compute, the lower line is the better use of it.
func (t *Table) flopsPlot() report.LinePlot {
	var series []report.Series
	for _, m := range t.Methods {
		var x, y, lo, hi []float64
		for _, s := range t.Sizes {
			if c := t.cell(m, s.Name); c != nil && len(c.PPLs) > 0 && c.FLOPs > 0 {
				x = append(x, c.FLOPs/1e12)
				y = append(y, c.MeanPPL)
				lo, hi = append(lo, slices.Min(c.PPLs)), append(hi, slices.Max(c.PPLs))
			}
		}
		if len(x) > 0 {
			series = append(series, report.Series{Name: m, X: x, Y: y, Lo: lo, Hi: hi, Points: true})
		}
	}
	return report.LinePlot{Title: "Table 2 — validation perplexity vs training compute (band: seed min–max)",
		XLabel: "training compute (TFLOP, FLOP model; log scale; one point per size)", YLabel: "validation perplexity",
		LogX: true, Series: series}
}

// Markdown is the whole scaling.md.
func (t *Table) Markdown() string {
	var b strings.Builder
	ours := report.Table{Title: fmt.Sprintf("Table 2 — validation perplexity (trainable parameters), preset %q", t.Preset), Header: []string{""}}
	for _, s := range t.Sizes {
		ours.Header = append(ours.Header, s.Name)
	}
	for _, m := range t.Methods {
		row := []string{m}
		for _, s := range t.Sizes {
			row = append(row, t.cellText(m, s.Name))
		}
		ours.Rows = append(ours.Rows, row)
	}
	tokens := []string{"Training tokens"}
	for _, s := range t.Sizes {
		if c := t.cell(experiments.RowScalingFull, s.Name); c != nil {
			tokens = append(tokens, fmt.Sprintf("%.1fM", float64(c.Tokens)/1e6))
		} else {
			tokens = append(tokens, "–")
		}
	}
	ours.Rows = append(ours.Rows, tokens)
	ours.Notes = []string{t.seedNote(), "Control: a full-rank model whose total parameters match ReLoRA's trainable ones at that size. Rank r = d/8 at every size."}
	ours.Notes = append(ours.Notes, t.controlTwinNotes()...)
	b.WriteString(ours.Markdown())

	paper := report.Table{Title: "The paper's Table 2 (C4, for comparison of orderings)", Header: append([]string{""}, experiments.PaperSizes...)}
	for _, m := range experiments.ScalingMethods {
		row := []string{m.Name}
		for _, v := range m.Paper {
			if v == 0 {
				row = append(row, "–")
			} else {
				row = append(row, fmt.Sprintf("%.2f", v))
			}
		}
		paper.Rows = append(paper.Rows, row)
	}
	b.WriteString("\n" + paper.Markdown())
	b.WriteString("\n" + t.table3().Markdown())
	fmt.Fprintf(&b, "\n![perplexity vs size](%s.png)\n", Figure)
	fmt.Fprintf(&b, "\n![perplexity vs training compute](%s.png)\n", FLOPsFigure)
	return b.String()
}

func (t *Table) cellText(method, size string) string {
	c := t.cell(method, size)
	if c == nil {
		return "–"
	}
	s := stats.PlusMinus(c.PPLs, 2)
	if c.Diverged > 0 {
		s = fmt.Sprintf("diverged %d/%d (%s)", c.Diverged, c.Diverged+len(c.PPLs), s)
	}
	s += t.fewerSeeds(c)
	return fmt.Sprintf("%s (%s)", s, report.Params(c.Trainable))
}

// fewerSeeds marks a cell with fewer seeds than the table (" [2 seeds]"),
// and is empty otherwise.
func (t *Table) fewerSeeds(c *Cell) string {
	if n := c.seeds(); n < t.maxSeeds() {
		return fmt.Sprintf(" [%d seed%s]", n, map[bool]string{true: "s"}[n != 1])
	}
	return ""
}

// seeds counts the cell's runs, diverged ones included.
func (c *Cell) seeds() int { return len(c.PPLs) + c.Diverged }

// maxSeeds is the most seeds any cell has.
func (t *Table) maxSeeds() int {
	n := 0
	for _, bySize := range t.Cells {
		for _, c := range bySize {
			n = max(n, c.seeds())
		}
	}
	return n
}

// seedNote says what a cell's number is over; a matrix trained part-way
// has cells with fewer seeds, each marked.
func (t *Table) seedNote() string {
	n := t.maxSeeds()
	if n <= 1 {
		return "One seed per cell."
	}
	note := fmt.Sprintf("Mean ± std over %d seeds", n)
	for _, bySize := range t.Cells {
		for _, c := range bySize {
			if c.seeds() < n {
				return note + "; a cell with fewer (the matrix is trained part-way) says so in brackets."
			}
		}
	}
	return note + "."
}

// table3 is the largest size at 50%, 67% and 100% of training (the paper:
// 15K, 20K and 30K of 30K steps), read from the runs' evaluations.
func (t *Table) table3() report.Table {
	largest := t.Sizes[len(t.Sizes)-1].Name
	out := report.Table{Title: fmt.Sprintf("Table 3 — size %s during training (validation perplexity)", largest), Header: []string{""}}
	var steps []int
	if c := t.cell(experiments.RowScalingFull, largest); c != nil {
		final := 0
		for s := range c.Evals {
			final = max(final, s)
		}
		for _, frac := range []float64{0.5, 2.0 / 3, 1} {
			steps = append(steps, nearestEval(c.Evals, int(frac*float64(final)+0.5)))
		}
	}
	for _, s := range steps {
		out.Header = append(out.Header, fmt.Sprintf("step %d", s))
	}
	for _, m := range []string{experiments.RowScalingFull, experiments.RowScalingControl, experiments.RowScalingLoRAWS, experiments.RowScalingReLoRA} {
		row := []string{m}
		c := t.cell(m, largest)
		for _, s := range steps {
			if c == nil {
				row = append(row, "–")
			} else {
				row = append(row, t.evalText(c, s))
			}
		}
		out.Rows = append(out.Rows, row)
	}
	seeds := t.seedNote() // "Mean ± std over …" or "One seed per cell.", continuing the sentence
	out.Notes = []string{"Columns are the evaluations nearest to 50%, 67% and 100% of the run; " + strings.ToLower(seeds[:1]) + seeds[1:]}
	return out
}

// evalText is a Table 3 cell: mean ± std of the runs' perplexities at
// step, with the count of runs that had no finite value there (diverged)
// and of seeds when the cell has fewer than the table.
func (t *Table) evalText(c *Cell, step int) string {
	var finite []float64
	for _, v := range c.EvalPPLs[step] {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			finite = append(finite, v)
		}
	}
	s := stats.PlusMinus(finite, 2)
	if bad := len(c.EvalPPLs[step]) - len(finite); bad > 0 {
		s += fmt.Sprintf(" (%d diverged)", bad)
	}
	s += t.fewerSeeds(c)
	return s
}

func nearestEval(evals map[int]float64, target int) int {
	var steps []int
	for s := range evals {
		steps = append(steps, s)
	}
	sort.Ints(steps)
	best := steps[0]
	for _, s := range steps {
		if abs(s-target) < abs(best-target) {
			best = s
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// controlTwinNotes explains control cells that repeat full training at a
// smaller size: on a ladder where ReLoRA at one size trains about as many
// parameters as the full model one size down, the control search can land
// on that very shape, and with the same seeds it trains the same model.
// A reader seeing two identical rows of numbers should know why.
func (t *Table) controlTwinNotes() []string {
	var notes []string
	for _, s := range t.Sizes {
		c := t.cell(experiments.RowScalingControl, s.Name)
		if c == nil {
			continue
		}
		for _, o := range t.Sizes {
			f := t.cell(experiments.RowScalingFull, o.Name)
			if o.Name == s.Name || f == nil || f.Total != c.Total || !slices.Equal(f.PPLs, c.PPLs) || !slices.Equal(f.Seeds, c.Seeds) {
				continue
			}
			notes = append(notes, fmt.Sprintf("Control at %s is full training's %s model (%s parameters): "+
				"same shape and seeds, so the same numbers.", s.Name, o.Name, report.Params(c.Total)))
		}
	}
	return notes
}
