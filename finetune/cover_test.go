package finetune

import (
	"math"
	"slices"
	"testing"

	"github.com/relorago/harness/tasks"
	"github.com/relorago/harness/train"
)

// coverTable has two tasks and two methods over two seeds: on "easy" the
// best method beats the heuristic, on "hard" none does, and "bare" has no
// heuristic score.
func coverTable() *Table {
	// The table reports test: a dev score (here 0) must not decide.
	h := func(score float64) *tasks.HeuristicScore {
		return &tasks.HeuristicScore{Name: "rule", Dev: tasks.Scores{Score: 0}, Test: tasks.Scores{Score: score}}
	}
	t := &Table{Methods: []string{"lora", "relora"}, Tasks: []Task{
		{Name: "easy", Baseline: 50, Heuristic: h(60)}, {Name: "hard", Baseline: 10, Heuristic: h(40)}, {Name: "bare", Baseline: 20}}}
	cell := func(task, m string, s1, s2 float64) Cell {
		return Cell{Task: task, Method: m, Mean: train.Number((s1 + s2) / 2),
			Seeds: []Seed{{Seed: 1, Score: train.Number(s1)}, {Seed: 2, Score: train.Number(s2)}}}
	}
	t.Cells = []Cell{
		cell("easy", "lora", 70, 72), cell("easy", "relora", 58, 60),
		cell("hard", "lora", 39, 41), cell("hard", "relora", 30, 30), // lora's mean 40 ties the heuristic: not beaten
		cell("bare", "lora", 20, 22), cell("bare", "relora", 10, 12),
	}
	return t
}

func TestCoverLeavesOutTasksNoMethodBeats(t *testing.T) {
	tab := coverTable()
	tab.Cover()
	if !slices.Equal(tab.Covered, []string{"easy", "bare"}) || !slices.Equal(tab.Excluded, []string{"hard"}) {
		t.Fatalf("covered %v, excluded %v", tab.Covered, tab.Excluded)
	}
	lora := tab.avg("lora")
	if lora.PerSeed[1] != (70+20)/2.0 || lora.PerSeed[2] != (72+22)/2.0 || float64(lora.Mean) != 46 {
		t.Errorf("lora's average over the covered tasks: %+v", lora)
	}
	if tab.Baseline != 35 {
		t.Errorf("majority average %v, want 35 (easy and bare)", tab.Baseline)
	}
	// bare has no heuristic score, so the heuristics' average has none.
	if !math.IsNaN(float64(tab.HeuristicAverage)) {
		t.Errorf("heuristic average %v, want NaN", tab.HeuristicAverage)
	}
	if d := tab.pairedAverage("relora", "lora"); math.Abs(d.Mean-((58+10)/2.0-(70+20)/2.0+(60+12)/2.0-(72+22)/2.0)/2) > 1e-12 {
		t.Errorf("paired average %+v", d)
	}
}

// With every task covered, the average is over all of them, as before
// heuristics were compared.
func TestCoverKeepsEveryBeatenTask(t *testing.T) {
	tab := coverTable()
	tab.Tasks[1].Heuristic.Test.Score = 39.9
	tab.Cover()
	if len(tab.Excluded) != 0 || len(tab.Covered) != 3 {
		t.Fatalf("covered %v, excluded %v", tab.Covered, tab.Excluded)
	}
	if got := float64(tab.avg("relora").Mean); math.Abs(got-(59+30+11)/3.0) > 1e-12 {
		t.Errorf("relora's average %v", got)
	}
}
