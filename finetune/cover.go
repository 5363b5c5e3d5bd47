package finetune

import (
	"math"
	"slices"

	"github.com/relorago/harness/train"
)

// Cover decides which tasks the average over tasks is taken over, and
// takes it: a task on which no method's mean score beats its best
// heuristic is left out, because there a fine-tuned model has not shown it
// learnt more than a rule of thumb, and its score says little about the
// method that tuned it. A task without a heuristic score stays in (there
// is nothing to be beaten by). Build calls it; the claims read the
// averages it leaves, so the table and the verdicts use one average.
func (t *Table) Cover() {
	t.Covered, t.Excluded = nil, nil
	for _, task := range t.Tasks {
		if task.Heuristic != nil && !t.beaten(task) {
			t.Excluded = append(t.Excluded, task.Name)
		} else {
			t.Covered = append(t.Covered, task.Name)
		}
	}
	t.Averages = nil
	for _, m := range t.Methods {
		t.Averages = append(t.Averages, t.average(m, t.Covered))
	}
	t.Baseline, t.HeuristicAverage = 0, 0
	for _, task := range t.Tasks {
		if !slices.Contains(t.Covered, task.Name) {
			continue
		}
		n := float64(len(t.Covered))
		t.Baseline += train.Number(task.Baseline / n)
		if task.Heuristic == nil {
			t.HeuristicAverage = train.Number(math.NaN())
		} else {
			t.HeuristicAverage += train.Number(task.Heuristic.Test.Score / n)
		}
	}
	if len(t.Covered) == 0 {
		t.Baseline, t.HeuristicAverage = train.Number(math.NaN()), train.Number(math.NaN())
	}
}

// beaten reports whether some row's mean test score is above the task's
// best heuristic's test score (a tie does not beat it).
func (t *Table) beaten(task Task) bool {
	for _, m := range t.Methods {
		if c := t.cell(task.Name, m); c != nil && float64(c.Mean) > task.Heuristic.Test.Score {
			return true
		}
	}
	return false
}
