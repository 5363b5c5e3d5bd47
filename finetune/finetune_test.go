package finetune

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// End to end at the quick preset (two tasks, every row): the pre-trained
// run, the staged learning-rate searches, the seeds at the chosen rates,
// the table and its files.
func TestTable5EndToEnd(t *testing.T) {
	p, err := experiments.Get("quick")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := experiments.Finetune(p)
	if err != nil {
		t.Fatal(err)
	}
	spec.Tasks = []string{"books", "similarity"}
	runs, results := t.TempDir(), t.TempDir()
	opt := runner.Options{RunsDir: runs, Jobs: 2, Quiet: true, Log: nopWriter{}}
	if _, err := runner.Execute([]train.Config{spec.Pretrained.Config}, opt); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(runner.Dir(runs, spec.Pretrained.Config), train.CheckpointFile)
	grid, gridOuts, err := searchRates(spec, func(runs []experiments.Run) ([]runner.Outcome, error) {
		startFrom(runs, ckpt)
		return runner.Execute(experiments.Configs(runs), opt)
	})
	if err != nil {
		t.Fatal(err)
	}
	chosen := Choose(grid, gridOuts)
	if len(chosen) != len(spec.Tasks)*len(spec.Methods) {
		t.Fatalf("chosen %v", chosen)
	}
	seeds, err := spec.SeedRuns(chosen)
	if err != nil {
		t.Fatal(err)
	}
	for i := range seeds {
		seeds[i].Config.WarmStartFrom = ckpt
	}
	seedOuts, err := runner.Execute(experiments.Configs(seeds), opt)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Build(p, spec, grid, gridOuts, seeds, seedOuts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tab.Cells {
		if len(c.Seeds) != len(spec.Seeds) || len(c.Grid) < 3 || len(c.Grid) > experiments.FinetuneSearchMaxRates ||
			math.IsNaN(float64(c.Mean)) || c.Trainable == 0 || c.Total <= c.Trainable && c.Method != "full" {
			t.Fatalf("cell %+v", c)
		}
		// A search stops at an interior best or at its cap: an edge
		// only at the cap.
		if c.Edge && len(c.Grid) < experiments.FinetuneSearchMaxRates {
			t.Fatalf("cell %s/%s: best at an edge of only %d rates", c.Task, c.Method, len(c.Grid))
		}
		for _, pt := range c.Grid {
			if pt.Chosen != (pt.LR == c.LR) {
				t.Fatalf("cell %s/%s: chosen mark at %g, rate %g", c.Task, c.Method, pt.LR, c.LR)
			}
		}
	}
	// The table reports the test split; the search read dev.
	differ := false
	for _, c := range tab.Cells {
		for _, sd := range c.Seeds {
			differ = differ || sd.Score != sd.Dev
		}
	}
	if !differ {
		t.Fatal("every seed's reported score equals its dev score: the table is not reading the test split")
	}
	for _, a := range tab.Averages {
		// At toy scale a heuristic may win every task; then no task, and
		// no seed, is averaged.
		if want := len(spec.Seeds); len(a.PerSeed) != want && (len(tab.Covered) > 0 || len(a.PerSeed) != 0) {
			t.Fatalf("average %+v over %v", a, tab.Covered)
		}
	}
	if tab.Tasks[0].Train != spec.TrainExamples || tab.Tasks[0].Test == 0 || tab.Tasks[0].Baseline <= 0 {
		t.Fatalf("tasks %+v", tab.Tasks)
	}
	if err := Write(results, tab); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{MarkdownFile, JSONFile, FigureFile + ".png", FigureFile + ".svg"} {
		if _, err := os.Stat(filepath.Join(results, f)); err != nil {
			t.Fatal(err)
		}
	}
	if md := tab.Markdown(); !strings.Contains(md, "Table 5") || !strings.Contains(md, "85.18") || !strings.Contains(md, "Best heuristic") {
		t.Fatalf("markdown:\n%s", md)
	}
	for _, task := range tab.Tasks {
		if task.Heuristic == nil || len(task.Heuristics) == 0 {
			t.Fatalf("task %s has no heuristic: %s", task.Name, task.HeuristicNote)
		}
	}
	if len(tab.Covered)+len(tab.Excluded) != len(spec.Tasks) {
		t.Fatalf("covered %v, excluded %v", tab.Covered, tab.Excluded)
	}
}

type nopWriter struct{}

func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
