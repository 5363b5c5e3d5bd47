package finetune

import (
	_ "embed"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

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

// markdownTemplate is finetune.md's prose, kept beside this file so the
// document reads as a document; the tables are rendered into it.
//
//go:embed finetune.md.tmpl
var markdownTemplate string

var markdownDoc = template.Must(template.New(MarkdownFile).Parse(markdownTemplate))

// markdownData is what finetune.md.tmpl fills in, every value already
// formatted, so the template holds no number formatting of its own.
type markdownData struct {
	Pretrained, PreLoss, About string
	Scores, Differences        string // rendered Markdown tables
	Figure                     string
	Tasks, Sources, Separator  string
	LearningRates              string // rendered Markdown table
}

// Markdown is finetune.md (also a section of REPORT.md).
func (t *Table) Markdown() string {
	data := markdownData{
		Pretrained:    t.Pretrained,
		PreLoss:       num(t.PreLoss, 4),
		About:         t.About,
		Scores:        t.scoreTable().Markdown(),
		Differences:   t.differenceTable().Markdown(),
		Figure:        FigureFile,
		Tasks:         t.taskTable().Markdown(),
		Sources:       t.sources(),
		Separator:     fmt.Sprintf("0x%02x", tasks.Separator),
		LearningRates: t.learningRateTable().Markdown(),
	}
	var b strings.Builder
	if err := markdownDoc.Execute(&b, data); err != nil {
		// Markdown has no error return; as report.Table does, surface the
		// failure in the document instead of dropping the rest silently.
		b.WriteString("<!-- finetune: cannot render finetune.md: " + err.Error() + " -->\n")
	}
	return b.String()
}

// maxSeeds is the most seeds any cell has, so a cell with fewer can say
// how many of its seeds finished.
func (t *Table) maxSeeds() int {
	seeds := 0
	for _, c := range t.Cells {
		seeds = max(seeds, len(c.Seeds))
	}
	return seeds
}

// scoreTable is Table 5 itself: each method's score per task, its average
// next to the paper's, and the majority-class baseline as the last row.
func (t *Table) scoreTable() report.Table {
	main := report.Table{Header: []string{"Method"}}
	for i, task := range t.Tasks {
		main.Header = append(main.Header, fmt.Sprintf("%d %s (%s)", i+1, task.Name, task.Like))
	}
	main.Header = append(main.Header, "Average", "Trainable params", "Paper avg. T5-base", "Paper avg. T5-large")
	seeds := t.maxSeeds()
	for _, m := range t.Methods {
		main.Rows = append(main.Rows, t.scoreRow(m, seeds))
	}
	main.Rows = append(main.Rows, t.baselineRow())
	return main
}

// scoreRow is one method's row of Table 5; its trainable parameter count
// is the largest over tasks, as heads differ in size by task.
func (t *Table) scoreRow(m string, seeds int) []string {
	row := []string{rowName(m)}
	trainable := 0
	for _, task := range t.Tasks {
		c := t.cell(task.Name, m)
		row = append(row, scoreCell(c, seeds))
		trainable = max(trainable, c.Trainable)
	}
	a := t.avg(m)
	tp := "–"
	if trainable > 0 {
		tp = fmt.Sprintf("%d", trainable)
	}
	return append(row, averageCell(a), tp, num(a.Paper.Base, 2), num(a.Paper.Large, 2))
}

// averageCell is a method's average over tasks, mean ± std over seeds; a
// single seed has no spread to show, so it says so instead.
func averageCell(a *Average) string {
	switch len(a.PerSeed) {
	case 0:
		return "–"
	case 1:
		return num(a.Mean, 2) + " (1 seed)"
	}
	return fmt.Sprintf("%s ± %s", num(a.Mean, 2), num(a.Std, 2))
}

// baselineRow is the majority-class row: what a method must beat to have
// learnt anything from a task.
func (t *Table) baselineRow() []string {
	row := []string{"Majority class (baseline)"}
	for _, task := range t.Tasks {
		row = append(row, fmt.Sprintf("%.1f", task.Baseline))
	}
	return append(row, fmt.Sprintf("%.2f", t.Baseline), "0", "–", "–")
}

// differenceTable is ReLoRA − LoRA and LoRA − full per task, paired by
// seed, so the comparisons the paper makes come with their intervals.
func (t *Table) differenceTable() report.Table {
	diff := report.Table{Header: []string{"Task", "ReLoRA − LoRA", "LoRA − full"}, Align: []report.Align{report.AlignLeft}}
	for _, task := range t.Tasks {
		diff.Rows = append(diff.Rows, []string{task.Name,
			t.pairedTask(task.Name, train.FinetuneReLoRA, train.FinetuneLoRA).Format(1),
			t.pairedTask(task.Name, train.FinetuneLoRA, train.FinetuneFull).Format(1)})
	}
	diff.Rows = append(diff.Rows, []string{"**average**",
		t.pairedAverage(train.FinetuneReLoRA, train.FinetuneLoRA).Format(2),
		t.pairedAverage(train.FinetuneLoRA, train.FinetuneFull).Format(2)})
	return diff
}

// taskTable describes the suite, one task a row with a dev example, so a
// reader can judge what each score measures.
func (t *Table) taskTable() report.Table {
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
	return tt
}

// sources is "task — source" for every task, one sentence for all.
func (t *Table) sources() string {
	parts := make([]string, len(t.Tasks))
	for i, task := range t.Tasks {
		parts[i] = fmt.Sprintf("%s — %s", task.Name, task.Source)
	}
	return strings.Join(parts, "; ")
}

// learningRateTable shows each method's grid per task with the chosen
// rate marked, so a score can be checked against the rates it beat.
func (t *Table) learningRateTable() report.Table {
	g := report.Table{Header: []string{"Task"}, Align: []report.Align{report.AlignLeft}}
	for _, m := range t.Methods {
		g.Header = append(g.Header, rowName(m))
	}
	for _, task := range t.Tasks {
		row := []string{task.Name}
		for _, m := range t.Methods {
			row = append(row, gridCell(t.cell(task.Name, m).Grid))
		}
		g.Rows = append(g.Rows, row)
	}
	return g
}

// gridCell lists a cell's grid points one per line, "rate: score".
func gridCell(grid []GridPoint) string {
	var parts []string
	for _, pt := range grid {
		s := fmt.Sprintf("%g: %s", pt.LR, num(pt.Score, 1))
		if pt.Diverged {
			s = fmt.Sprintf("%g: diverged", pt.LR)
		}
		if pt.Chosen {
			s += " ✱"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "<br>")
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
