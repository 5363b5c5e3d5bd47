package budget

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// fakeRun writes a finished run's metrics.jsonl (evaluations every 50
// steps, val loss from f(step), merge events where the method merges) and
// returns its outcome.
func fakeRun(t *testing.T, r experiments.Run, f func(step int) float64) runner.Outcome {
	t.Helper()
	dir := t.TempDir()
	cfg := r.Config
	merges := map[int]bool{}
	for _, s := range cfg.ReLoRA.MergeSteps(cfg.Steps) {
		merges[s] = true
	}
	var b strings.Builder
	for s := 1; s <= cfg.Steps; s++ {
		m := train.StepMetrics{Step: s, Loss: 2}
		if s%50 == 0 || s == cfg.Steps {
			v := f(s)
			m.ValLoss = &v
		}
		if merges[s-1] {
			m.Event = "merge"
		}
		line, _ := json.Marshal(m)
		b.Write(append(line, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, train.MetricsFile), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// A step's time: a second per 1000 steps, so that curves have a time.
	return runner.Outcome{Config: cfg, Dir: dir, Result: &train.Result{Status: train.StatusOK, InitialVal: train.Eval{Loss: 5.5}, TrainSeconds: float64(cfg.Steps) / 1000}}
}

// A curve's time ends at the run's measured training time, starts at 0 and
// grows with the FLOPs spent.
func TestCurveTimeIsTheMeasuredTimeSpreadByFLOPs(t *testing.T) {
	p, _ := experiments.Get("quick")
	for _, r := range experiments.Ablation(p) {
		if r.Row != experiments.RowReLoRA {
			continue
		}
		o := fakeRun(t, r, func(int) float64 { return 2 })
		o.Result.TrainSeconds = 120
		ms, err := train.ReadMetrics(filepath.Join(o.Dir, train.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		c, err := CurveOf(r.Row, r.Seed, r.Config, o.Result, ms)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Seconds) != len(c.FLOPs) || c.Seconds[0] != 0 || math.Abs(c.Seconds[len(c.Seconds)-1]-120) > 1e-9 {
			t.Fatalf("seconds %v, want 0 … 120 beside %d evaluations", c.Seconds, len(c.FLOPs))
		}
		for i := range c.FLOPs {
			if want := 120 * c.FLOPs[i] / c.TotalFLOPs; math.Abs(c.Seconds[i]-want) > 1e-9 {
				t.Errorf("evaluation %d: %g s, want %g (its share of the FLOPs)", i, c.Seconds[i], want)
			}
		}
		o.Result.TrainSeconds = 0
		if c, _ = CurveOf(r.Row, r.Seed, r.Config, o.Result, ms); c.Seconds != nil {
			t.Errorf("a result without a time gave seconds %v", c.Seconds)
		}
		return
	}
	t.Fatal("the quick preset has no ReLoRA run")
}

func TestCurveCountsEveryStepsFLOPs(t *testing.T) {
	p, _ := experiments.Get("quick")
	for _, r := range experiments.Ablation(p) {
		if r.Row != experiments.RowReLoRA && r.Row != experiments.RowFull {
			continue
		}
		o := fakeRun(t, r, func(s int) float64 { return 3 - float64(s)/1000 })
		cs, err := Curves([]experiments.Run{r}, []runner.Outcome{o})
		if err != nil {
			t.Fatal(err)
		}
		c := cs[0]
		want, _ := experiments.RunFLOPs(r.Config, r.Config.Steps)
		if math.Abs(c.TotalFLOPs-want) > 1e-6*want || c.FLOPs[0] != 0 || c.ValLoss[0] != 5.5 || c.Steps[len(c.Steps)-1] != r.Config.Steps {
			t.Errorf("%s: total %.6g, want %.6g; curve starts %v/%v", r.Row, c.TotalFLOPs, want, c.FLOPs[0], c.ValLoss[0])
		}
		// Interpolation between evaluations, nothing past the end.
		mid := (c.FLOPs[1] + c.FLOPs[2]) / 2
		if v, ok := c.At(mid); !ok || math.Abs(v-(c.ValLoss[1]+c.ValLoss[2])/2) > 1e-12 {
			t.Errorf("%s: At(mid) = %v, %v", r.Row, v, ok)
		}
		if _, ok := c.At(c.TotalFLOPs * 1.01); ok {
			t.Errorf("%s: a value past the curve's end", r.Row)
		}
	}
}

func TestBuildJudgesEqualFLOPs(t *testing.T) {
	p, _ := experiments.Get("quick")
	p.Seeds = []uint64{1, 2, 3}
	spec, err := experiments.Budget(p)
	if err != nil {
		t.Fatal(err)
	}
	var t1Runs []experiments.Run
	var t1Outs []runner.Outcome
	for _, r := range experiments.Ablation(p) {
		seed := float64(r.Seed) / 1000
		// Full-rank improves faster per step; ReLoRA spends fewer FLOPs.
		slope := 1.0
		if r.Row == experiments.RowFull {
			slope = 1.5
		}
		t1Runs = append(t1Runs, r)
		t1Outs = append(t1Outs, fakeRun(t, r, func(s int) float64 { return 3 - slope*float64(s)/1000 + seed }))
	}
	var bRuns []experiments.Run
	var bOuts []runner.Outcome
	for _, r := range spec.Runs {
		if r.Seed == 3 && r.Row == experiments.RowBudgetControl {
			bRuns = append(bRuns, r)
			bOuts = append(bOuts, runner.Outcome{Config: r.Config, Err: os.ErrNotExist})
			continue
		}
		seed := float64(r.Seed) / 1000
		end := map[string]float64{experiments.RowBudgetFull: 2.4, experiments.RowBudgetReLoRA: 2.3, experiments.RowBudgetLoRAWS: 2.35, experiments.RowBudgetControl: 2.5}[r.Row]
		steps := float64(r.Config.Steps)
		bRuns = append(bRuns, r)
		bOuts = append(bOuts, fakeRun(t, r, func(s int) float64 { return end + 0.5*(1-float64(s)/steps) + seed }))
	}
	tab, err := Build(p, spec, t1Runs, t1Outs, bRuns, bOuts)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Missing != 1 {
		t.Fatalf("missing %d, want 1", tab.Missing)
	}
	// The claims on these numbers are package claims' to judge; the rows
	// they read must be here.
	if len(tab.Rows) != 4 || len(tab.Table1) == 0 {
		t.Fatalf("rows %+v, Table 1 curves %d", tab.Rows, len(tab.Table1))
	}
	dir := t.TempDir()
	if err := Write(dir, tab); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{MarkdownFile, JSONFile, Table1Figure + ".png", BudgetFigure + ".svg", TimeFigure + ".png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	md := tab.Markdown()
	for _, want := range []string{"1 of its runs have no result yet", "| ReLoRA ", "Full-rank's val. loss at these FLOPs"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
}
