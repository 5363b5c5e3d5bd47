package finetune

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/stats"
	"github.com/relorago/harness/tasks"
	"github.com/relorago/harness/train"
)

// Write renders finetune.md, finetune.json and the figure into dir.
func Write(dir string, t *Table) error {
	if err := t.plot().Save(filepath.Join(dir, FigureFile), 7, 4.2); err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	return report.WriteDocument(dir, JSONFile, t, MarkdownFile, t.Markdown())
}

func rowName(method string) string { return experiments.FinetuneRowNames[method] }

// plot is each method's score per task (mean over seeds, the min–max band),
// with the majority baseline dashed; x is the task's number in the table.
func (t *Table) plot() report.LinePlot {
	var names []string
	for i, task := range t.Tasks {
		names = append(names, fmt.Sprintf("%d %s", i+1, task.Name))
	}
	p := report.LinePlot{Title: "Table 5: dev score per task by method (mean over seeds, band min–max)",
		XLabel: "task: " + strings.Join(names, ", "), YLabel: "task score (GLUE-style, 0–100)"}
	for _, m := range t.Methods {
		s := report.Series{Name: rowName(m), Points: true}
		for i, task := range t.Tasks {
			c := t.cell(task.Name, m)
			xs := finite(c.Seeds)
			if len(xs) == 0 {
				continue
			}
			lo, hi := xs[0], xs[0]
			for _, x := range xs {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
			s.X, s.Y = append(s.X, float64(i+1)), append(s.Y, float64(c.Mean))
			s.Lo, s.Hi = append(s.Lo, lo), append(s.Hi, hi)
		}
		p.Series = append(p.Series, s)
	}
	base := report.Series{Name: "majority baseline", Dashed: true}
	for i, task := range t.Tasks {
		base.X, base.Y = append(base.X, float64(i+1)), append(base.Y, task.Baseline)
	}
	p.Series = append(p.Series, base)
	return p
}

func num(x train.Number, decimals int) string {
	if math.IsNaN(float64(x)) {
		return "–"
	}
	return strconv.FormatFloat(float64(x), 'f', decimals, 64)
}

// scoreCell is a cell's mean ± std over seeds (with the seed count when
// not every seed finished).
func scoreCell(c *Cell, seeds int) string {
	xs := finite(c.Seeds)
	switch {
	case len(xs) == 0 && len(c.Seeds) > 0:
		return "diverged"
	case len(xs) == 0:
		return "–"
	}
	s := stats.PlusMinus(xs, 1)
	if len(xs) < seeds {
		s += fmt.Sprintf(" (%d seeds)", len(xs))
	}
	return s
}

// Markdown is finetune.md (also a section of REPORT.md).
func (t *Table) Markdown() string {
	var b strings.Builder
	b.WriteString("### Table 5 — fine-tuning on a GLUE-like suite\n\n")
	fmt.Fprintf(&b, "Every task is fine-tuned from Table 1's full-rank run (seed 1, run `%s`, validation loss %s nats/byte) with a "+
		"classification (or regression) head on the mean of the final hidden states over the input's bytes (for a pair, "+
		"[u, v, |u − v|, u ⊙ v] of the two inputs' means u and v). %s. "+
		"Scores are GLUE-style (×100; the mean of the task's metrics), on dev, mean ± std over seeds.\n\n", t.Pretrained, num(t.PreLoss, 4), t.About)

	seeds := 0
	for _, c := range t.Cells {
		seeds = max(seeds, len(c.Seeds))
	}
	main := report.Table{Header: []string{"Method"}}
	for i, task := range t.Tasks {
		main.Header = append(main.Header, fmt.Sprintf("%d %s (%s)", i+1, task.Name, task.Like))
	}
	main.Header = append(main.Header, "Average", "Trainable params", "Paper avg. T5-base", "Paper avg. T5-large")
	for _, m := range t.Methods {
		row := []string{rowName(m)}
		trainable := 0
		for _, task := range t.Tasks {
			c := t.cell(task.Name, m)
			row = append(row, scoreCell(c, seeds))
			trainable = max(trainable, c.Trainable)
		}
		a := t.avg(m)
		avg := "–"
		if n := len(a.PerSeed); n > 0 {
			avg = fmt.Sprintf("%s ± %s", num(a.Mean, 2), num(a.Std, 2))
			if n == 1 {
				avg = num(a.Mean, 2) + " (1 seed)"
			}
		}
		tp := "–"
		if trainable > 0 {
			tp = fmt.Sprintf("%d", trainable)
		}
		row = append(row, avg, tp, num(a.Paper.Base, 2), num(a.Paper.Large, 2))
		main.Rows = append(main.Rows, row)
	}
	brow := []string{"Majority class (baseline)"}
	for _, task := range t.Tasks {
		brow = append(brow, fmt.Sprintf("%.1f", task.Baseline))
	}
	brow = append(brow, fmt.Sprintf("%.2f", t.Baseline), "0", "–", "–")
	main.Rows = append(main.Rows, brow)
	b.WriteString(main.Markdown())
	b.WriteString("\nPaper columns: the average GLUE scores Lialin et al. report for fine-tuning T5 (Table 5: LoRA 85.18, " +
		"ReLoRA 84.57 on T5-base; 87.99 and 87.47 on T5-large). Their per-task scores and their full fine-tuning average could " +
		"not be looked up offline, so those cells are empty; compare orderings and gaps, not levels (T5 on GLUE against a " +
		"0.2M-parameter byte-level decoder on these tasks).\n")

	// ReLoRA − LoRA per task.
	b.WriteString("\nReLoRA − LoRA and LoRA − full fine-tuning per task (points, mean of the per-seed differences with its 95% paired t interval):\n\n")
	diff := report.Table{Header: []string{"Task", "ReLoRA − LoRA", "LoRA − full"}, Align: []report.Align{report.AlignLeft}}
	for _, task := range t.Tasks {
		diff.Rows = append(diff.Rows, []string{task.Name,
			t.pairedTask(task.Name, train.FinetuneReLoRA, train.FinetuneLoRA).Format(1),
			t.pairedTask(task.Name, train.FinetuneLoRA, train.FinetuneFull).Format(1)})
	}
	diff.Rows = append(diff.Rows, []string{"**average**",
		t.pairedAverage(train.FinetuneReLoRA, train.FinetuneLoRA).Format(2),
		t.pairedAverage(train.FinetuneLoRA, train.FinetuneFull).Format(2)})
	b.WriteString(diff.Markdown())

	fmt.Fprintf(&b, "\n![Table 5 scores per task](%s.png)\n\n", FigureFile)

	b.WriteString("#### The tasks\n\n")
	tt := report.Table{Header: []string{"#", "Task", "Like", "Question", "Train / dev", "Metric", "Majority baseline", "Example (dev)"},
		Align: []report.Align{report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignRight, report.AlignLeft, report.AlignRight, report.AlignLeft}}
	for i, task := range t.Tasks {
		var base []string
		for _, m := range task.Metrics {
			base = append(base, fmt.Sprintf("%s %.1f", m, 100*task.BaselineOf[m]))
		}
		tt.Rows = append(tt.Rows, []string{strconv.Itoa(i + 1), task.Name, task.Like, task.About,
			fmt.Sprintf("%d / %d", task.Train, task.Dev), metricName(task.Metrics), strings.Join(base, ", "), "`" + strings.ReplaceAll(task.Example, "`", "'") + "`"})
	}
	b.WriteString(tt.Markdown())
	b.WriteString("\nSources: ")
	for i, task := range t.Tasks {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s — %s", task.Name, task.Source)
	}
	fmt.Fprintf(&b, ". The Go tasks read the standard library's `_test.go` files, which the pre-training corpus gostd leaves out, "+
		"with a fifth of the files (by a hash of their path) held out for dev; books reads Opticks, which the default preset "+
		"never trains on. Pair inputs are A, the byte 0x%02x, B, each side truncated to half the context.\n\n", tasks.Separator)

	b.WriteString("#### Learning-rate search (seed 1, dev score; ✱ chosen)\n\n")
	g := report.Table{Header: []string{"Task"}, Align: []report.Align{report.AlignLeft}}
	for _, m := range t.Methods {
		g.Header = append(g.Header, rowName(m))
	}
	for _, task := range t.Tasks {
		row := []string{task.Name}
		for _, m := range t.Methods {
			var parts []string
			for _, pt := range t.cell(task.Name, m).Grid {
				s := fmt.Sprintf("%g: %s", pt.LR, num(pt.Score, 1))
				if pt.Diverged {
					s = fmt.Sprintf("%g: diverged", pt.LR)
				}
				if pt.Chosen {
					s += " ✱"
				}
				parts = append(parts, s)
			}
			row = append(row, strings.Join(parts, "<br>"))
		}
		g.Rows = append(g.Rows, row)
	}
	b.WriteString(g.Markdown())
	return b.String()
}

func metricName(ms []string) string {
	names := map[string]string{tasks.Accuracy: "accuracy", tasks.F1: "F1", tasks.Matthews: "Matthews corr.",
		tasks.Pearson: "Pearson", tasks.Spearman: "Spearman"}
	var out []string
	for _, m := range ms {
		out = append(out, names[m])
	}
	if len(out) > 1 {
		return "mean of " + strings.Join(out, " and ")
	}
	return out[0]
}
