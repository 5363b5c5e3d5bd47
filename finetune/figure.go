package finetune

import (
	"fmt"
	"math"

	"github.com/relorago/harness/report"
)

// figure is each row's test score per task: a point at the mean over
// seeds with a bar from the lowest seed to the highest, the methods side
// by side within a task, and the majority-class and best-heuristic
// baselines as short marks across it. Tasks are categories, so nothing
// joins one to the next.
func (t *Table) figure() report.DotPlot {
	p := report.DotPlot{Title: fmt.Sprintf("Table 5: test score per task (point: mean of %d seeds, bar: min–max)", t.maxSeeds()),
		XLabel: "task (†: no method beats its best heuristic)", YLabel: "task score (GLUE-style, 0–100)"}
	for i, task := range t.Tasks {
		p.Groups = append(p.Groups, fmt.Sprintf("%d %s%s", i+1, task.Name, t.mark(task.Name)))
	}
	for _, m := range t.Methods {
		d := report.Dots{Name: rowName(m), Method: m}
		for _, task := range t.Tasks {
			y, lo, hi := math.NaN(), math.NaN(), math.NaN()
			if c := t.cell(task.Name, m); c != nil {
				if xs := finite(c.Seeds); len(xs) > 0 {
					y, lo, hi = float64(c.Mean), xs[0], xs[0]
					for _, x := range xs {
						lo, hi = math.Min(lo, x), math.Max(hi, x)
					}
				}
			}
			d.Y, d.Lo, d.Hi = append(d.Y, y), append(d.Lo, lo), append(d.Hi, hi)
		}
		p.Series = append(p.Series, d)
	}
	majority, heuristic := report.Marks{Name: "majority class"}, report.Marks{Name: "best heuristic"}
	for _, task := range t.Tasks {
		h := math.NaN()
		if task.Heuristic != nil {
			h = task.Heuristic.Test.Score
		}
		majority.Y, heuristic.Y = append(majority.Y, task.Baseline), append(heuristic.Y, h)
	}
	p.Marks = []report.Marks{majority, heuristic}
	return p
}
