package finetune

import (
	_ "embed"
	"fmt"
	"math"
	"path/filepath"
	"slices"
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
	if err := t.figure().Save(filepath.Join(dir, FigureFile), 10.5, 4.6); err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	return report.WriteDocument(dir, JSONFile, t, MarkdownFile, t.Markdown())
}

// rowName is a row's name as the table shows it; a secondary row (outside
// the parameter-efficient regime, not read by the claims) says so.
func rowName(id string) string {
	r, ok := experiments.FinetuneRowByID(id)
	if !ok {
		return id
	}
	if !r.Primary {
		return strings.TrimSuffix(r.Name, ")") + "; secondary)"
	}
	return r.Name
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
	if c.Edge {
		s += " ◁"
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
	Pretrained, PreAbout, PreLoss, About string
	Scores, Differences                  string // rendered Markdown tables
	Coverage                             string // which tasks the averages cover
	Figure                               string
	Heuristics                           string // rendered Markdown table
	Tasks, Sources, Separator            string
	LearningRates                        string // rendered Markdown table
}

// Markdown is finetune.md (also a section of REPORT.md).
func (t *Table) Markdown() string {
	data := markdownData{
		Pretrained:    t.Pretrained,
		PreAbout:      t.PreAbout,
		PreLoss:       num(t.PreLoss, 4),
		About:         t.About,
		Scores:        t.scoreTable().Markdown(),
		Differences:   t.differenceTable().Markdown(),
		Coverage:      t.coverage(),
		Figure:        FigureFile,
		Heuristics:    t.heuristicTable().Markdown(),
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
// next to the paper's, and the majority-class and best-heuristic baselines
// as the last rows; a task no method beats its heuristic on is marked.
func (t *Table) scoreTable() report.Table {
	main := report.Table{Header: []string{"Method"}}
	for i, task := range t.Tasks {
		main.Header = append(main.Header, fmt.Sprintf("%d %s (%s)%s", i+1, task.Name, task.Like, t.mark(task.Name)))
	}
	main.Header = append(main.Header, "Average (covered tasks)", "Trainable params (share)", "Paper avg. T5-base", "Paper avg. T5-large")
	seeds := t.maxSeeds()
	for _, m := range t.Methods {
		main.Rows = append(main.Rows, t.scoreRow(m, seeds))
	}
	main.Rows = append(main.Rows, t.baselineRow(), t.heuristicRow())
	return main
}

// mark is "†" for a task the averages leave out.
func (t *Table) mark(task string) string {
	if slices.Contains(t.Excluded, task) {
		return " †"
	}
	return ""
}

// coverage says which tasks the averages cover and why the rest are out.
func (t *Table) coverage() string {
	var out []string
	switch {
	case len(t.Excluded) == 0:
		out = append(out, fmt.Sprintf("On every task some method's mean score beats the best heuristic, so the Average column, the average differences and the claims cover all %d tasks.", len(t.Tasks)))
	case len(t.Covered) == 0:
		out = append(out, fmt.Sprintf("†: no method's mean score beats the task's best heuristic, on any task (%s): there is no average over tasks, and the Table 5 claims are not measured.", strings.Join(t.Excluded, ", ")))
	default:
		out = append(out, fmt.Sprintf("†: no method's mean score beats the task's best heuristic (%s). Such a task is left out of the Average column, of the average differences below and of the Table 5 claims, which therefore cover %d of the %d tasks: %s.",
			strings.Join(t.Excluded, ", "), len(t.Covered), len(t.Tasks), strings.Join(t.Covered, ", ")))
	}
	out = append(out, "Best heuristic: of each task's declared rules of thumb (listed below), the one with the best training score, its parameters fit on the training split only, scored on test as the methods are. ◁: the chosen rate is the lowest or highest the search tried (it reached its cap of "+strconv.Itoa(experiments.FinetuneSearchMaxRates)+" rates before the best was bracketed).")
	for _, task := range t.Tasks {
		if task.HeuristicNote != "" {
			out = append(out, fmt.Sprintf("%s's heuristics: %s.", task.Name, task.HeuristicNote))
		}
	}
	return strings.Join(out, " ")
}

// scoreRow is one row of Table 5; its trainable parameter count (head
// included) is the largest over tasks, as heads differ in size by task,
// with its share of the pre-trained model's parameters.
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
	if trainable > 0 && t.ModelParams > 0 {
		tp = fmt.Sprintf("%d (%.2g%%)", trainable, 100*float64(trainable)/float64(t.ModelParams))
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
	return append(row, num(t.Baseline, 2), "0", "–", "–")
}

// heuristicRow is the best heuristic of each task, named: what a method
// must beat to have learnt more than a rule of thumb.
func (t *Table) heuristicRow() []string {
	row := []string{"Best heuristic (baseline)"}
	for _, task := range t.Tasks {
		cell := "–"
		if h := task.Heuristic; h != nil {
			cell = fmt.Sprintf("%.1f (%s)", h.Test.Score, h.Name)
		}
		row = append(row, cell)
	}
	return append(row, num(t.HeuristicAverage, 2), "0", "–", "–")
}

// heuristicTable lists every declared heuristic of every task with what
// it fit on train and its scores, the best by training score marked, so
// the choice can be checked against the ones it beat.
func (t *Table) heuristicTable() report.Table {
	h := report.Table{Header: []string{"Task", "Heuristic", "Rule", "Fit on train", "Train", "Dev", "Test"},
		Align: []report.Align{report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignRight, report.AlignRight, report.AlignRight}}
	for _, task := range t.Tasks {
		for _, hs := range task.Heuristics {
			name := hs.Name
			if task.Heuristic != nil && hs.Name == task.Heuristic.Name {
				name += " ✱"
			}
			h.Rows = append(h.Rows, []string{task.Name, name, hs.About, hs.Fit, fmt.Sprintf("%.1f", hs.Train.Score), fmt.Sprintf("%.1f", hs.Dev.Score), fmt.Sprintf("%.1f", hs.Test.Score)})
		}
	}
	return h
}

// Differences are the paired comparisons the difference table shows, by
// row ID: the two the paper makes (on the primary rows the claims read),
// then the adapters the paper's conclusion names, and the same ReLoRA −
// LoRA comparison at the secondary rank.
var Differences = [][2]string{{"relora", "lora"}, {"lora", "full"}, {"adapter", "lora"}, {"relora-r8", "lora-r8"}}

// differenceTable is each of Differences per task, paired by seed, so
// the comparisons come with their intervals.
func (t *Table) differenceTable() report.Table {
	diff := report.Table{Header: []string{"Task"}, Align: []report.Align{report.AlignLeft}}
	var pairs [][2]string
	for _, d := range Differences {
		if slices.Contains(t.Methods, d[0]) && slices.Contains(t.Methods, d[1]) {
			pairs = append(pairs, d)
			diff.Header = append(diff.Header, shortName(d[0])+" − "+shortName(d[1]))
		}
	}
	for _, task := range t.Tasks {
		row := []string{task.Name}
		for _, d := range pairs {
			row = append(row, t.pairedTask(task.Name, d[0], d[1]).Format(1))
		}
		diff.Rows = append(diff.Rows, row)
	}
	row := []string{"**average** (covered tasks)"}
	for _, d := range pairs {
		row = append(row, t.pairedAverage(d[0], d[1]).Format(2))
	}
	diff.Rows = append(diff.Rows, row)
	return diff
}

// shortName is a row's name without its size: "ReLoRA r8" for the
// secondary rank, else the method alone.
func shortName(id string) string {
	names := map[string]string{"full": "full", "lora": "LoRA", "relora": "ReLoRA", "adapter": "adapters", "prefix": "prefix",
		"probe": "probe", "lora-r8": "LoRA r8", "relora-r8": "ReLoRA r8"}
	if n, ok := names[id]; ok {
		return n
	}
	return id
}

// taskTable describes the suite, one task a row with a dev example, so a
// reader can judge what each score measures.
func (t *Table) taskTable() report.Table {
	tt := report.Table{Header: []string{"#", "Task", "Like", "Question", "Train / dev / test", "Metric", "Majority baseline (test)", "Example (dev)"},
		Align: []report.Align{report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignLeft, report.AlignRight, report.AlignLeft, report.AlignRight, report.AlignLeft}}
	for i, task := range t.Tasks {
		var base []string
		for _, m := range task.Metrics {
			base = append(base, fmt.Sprintf("%s %.1f", m, 100*task.BaselineOf[m]))
		}
		tt.Rows = append(tt.Rows, []string{strconv.Itoa(i + 1), task.Name, task.Like, task.About,
			fmt.Sprintf("%d / %d / %d", task.Train, task.Dev, task.Test), metricName(task.Metrics), strings.Join(base, ", "), "`" + strings.ReplaceAll(task.Example, "`", "'") + "`"})
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

// gridCell lists a cell's searched rates one per line, lowest first,
// "rate: dev score".
func gridCell(grid []GridPoint) string {
	var parts []string
	grid = slices.Clone(grid)
	slices.SortFunc(grid, func(a, b GridPoint) int {
		if a.LR < b.LR {
			return -1
		}
		if a.LR > b.LR {
			return 1
		}
		return 0
	})
	for _, pt := range grid {
		// Three significant digits: the search's rates are its centre
		// times powers of 3 (0.000333333 reads as 0.000333).
		s := fmt.Sprintf("%.3g: %s", pt.LR, num(pt.Score, 1))
		if pt.Diverged {
			s = fmt.Sprintf("%.3g: diverged", pt.LR)
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
