package finetune

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/report"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// End to end at the quick preset (two tasks): the pre-trained run, the
// learning-rate grids, the seeds at the chosen rates, the table and its
// files.
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
	grid, err := spec.GridRuns()
	if err != nil {
		t.Fatal(err)
	}
	for i := range grid {
		grid[i].Config.WarmStartFrom = ckpt
	}
	gridOuts, err := runner.Execute(experiments.Configs(grid), opt)
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
		if len(c.Seeds) != len(spec.Seeds) || len(c.Grid) != 3 || math.IsNaN(float64(c.Mean)) || c.Trainable == 0 {
			t.Fatalf("cell %+v", c)
		}
		for _, pt := range c.Grid {
			if pt.Chosen != (pt.LR == c.LR) {
				t.Fatalf("cell %s/%s: chosen mark at %g, rate %g", c.Task, c.Method, pt.LR, c.LR)
			}
		}
	}
	for _, a := range tab.Averages {
		if len(a.PerSeed) != len(spec.Seeds) {
			t.Fatalf("average %+v", a)
		}
	}
	if len(tab.Claims) != 2 || tab.Tasks[0].Train != spec.TrainExamples || tab.Tasks[0].Baseline <= 0 {
		t.Fatalf("claims %v, tasks %+v", tab.Claims, tab.Tasks)
	}
	if err := Write(results, tab); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{MarkdownFile, JSONFile, FigureFile + ".png", FigureFile + ".svg"} {
		if _, err := os.Stat(filepath.Join(results, f)); err != nil {
			t.Fatal(err)
		}
	}
	if md := tab.Markdown(); !strings.Contains(md, "Table 5") || !strings.Contains(md, "85.18") {
		t.Fatalf("markdown:\n%s", md)
	}
}

type nopWriter struct{}

func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }

// The claims are judged on the per-seed differences of the averages.
func TestClaims(t *testing.T) {
	tab := &Table{Tasks: []Task{{Name: "a"}}, Averages: []Average{
		{Method: train.FinetuneFull, PerSeed: map[uint64]float64{1: 60, 2: 61, 3: 62}},
		{Method: train.FinetuneLoRA, PerSeed: map[uint64]float64{1: 59.9, 2: 60.8, 3: 62.1}},
		{Method: train.FinetuneReLoRA, PerSeed: map[uint64]float64{1: 55, 2: 56, 3: 57.5}},
	}}
	c := tab.claims()
	if c[0].Verdict != report.Reproduced { // ReLoRA clearly below LoRA + 1
		t.Errorf("ReLoRA vs LoRA: %s", c[0].Verdict)
	}
	if c[1].Verdict != report.Reproduced { // LoRA − full = −0.1, 0.1... within ±1
		t.Errorf("LoRA vs full: %s (%s)", c[1].Verdict, c[1].Evidence)
	}
	tab.Averages[1].PerSeed = map[uint64]float64{1: 50, 2: 51, 3: 52} // LoRA 10 points below full
	if c := tab.claims(); c[1].Verdict != report.NotReproduced || c[0].Verdict != report.NotReproduced {
		t.Errorf("verdicts %s, %s", c[0].Verdict, c[1].Verdict)
	}
}
