package scaling

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

// fake gives method m at size index i the validation loss base[m] − slope[m]·i
// (slope 0.1 unless given), plus 0.01·seed: a seed effect every method
// shares, so per-seed differences carry no noise.
func fake(runs []experiments.Run, sizes []experiments.Size, base, slope map[string]float64) []runner.Outcome {
	idx := map[string]int{}
	for i, s := range sizes {
		idx[s.Name] = i
	}
	outs := make([]runner.Outcome, len(runs))
	for i, r := range runs {
		k, ok := slope[r.Row]
		if !ok {
			k = 0.1
		}
		l := base[r.Row] - k*float64(idx[r.Size]) + 0.01*float64(r.Seed)
		ev := train.Eval{Step: r.Config.Steps, Loss: l, Perplexity: train.Number(math.Exp(l))}
		half := train.Eval{Step: r.Config.Steps / 2, Loss: l + 0.2, Perplexity: train.Number(math.Exp(l + 0.2))}
		outs[i] = runner.Outcome{Config: r.Config, Result: &train.Result{Status: train.StatusOK, FinalVal: ev,
			Evals: []train.Eval{half, ev}, TrainableParams: 100 * (idx[r.Size] + 1), TotalParams: 1000 * (idx[r.Size] + 1)}}
	}
	return outs
}

// orderedLosses are base losses in the paper's order (full best, then
// ReLoRA, LoRA+WS, control, LoRA), fresh for each test to change.
func orderedLosses() map[string]float64 {
	return map[string]float64{experiments.RowScalingFull: 3.0, experiments.RowScalingReLoRA: 3.1,
		experiments.RowScalingLoRAWS: 3.2, experiments.RowScalingControl: 3.3, experiments.RowScalingLoRA: 3.5}
}

func TestScalingTable(t *testing.T) {
	p, _ := experiments.Get("quick")
	p.Seeds = []uint64{1, 2}
	runs, err := experiments.Scaling(p)
	if err != nil {
		t.Fatal(err)
	}
	sizes, _ := experiments.Ladder(p)
	if len(runs) != 2*len(sizes)*len(experiments.ScalingMethods) {
		t.Fatalf("%d runs for %d sizes", len(runs), len(sizes))
	}
	base := orderedLosses()
	// ReLoRA's loss gap to full training falls from 0.1 to 0.04 nats.
	tab, err := Build(p, runs, fake(runs, sizes, base, map[string]float64{experiments.RowScalingReLoRA: 0.12}))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, tab); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	for _, want := range []string{"Table 3", "Training tokens", "(400)", "33.81", FLOPsFigure + ".png"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("scaling.md lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, FLOPsFigure+".svg")); err != nil {
		t.Error(err)
	}
	// Table 3 gives each checkpoint as mean ± std over the seeds too.
	_, t3, _ := strings.Cut(string(md), "Table 3")
	t3, _, _ = strings.Cut(t3, "####")
	n := 0
	for _, line := range strings.Split(t3, "\n") {
		if strings.HasPrefix(line, "| ") {
			n += strings.Count(line, " ± ")
		}
	}
	if n != 4*3 {
		t.Errorf("Table 3 has %d mean ± std cells, want 12:\n%s", n, t3)
	}
	// Every cell knows its runs' compute, and within a size full training
	// costs more than ReLoRA (frozen projections, no weight gradient).
	for _, s := range sizes {
		full, relora := tab.cell(experiments.RowScalingFull, s.Name), tab.cell(experiments.RowScalingReLoRA, s.Name)
		if full == nil || relora == nil || !(relora.FLOPs > 0 && relora.FLOPs < full.FLOPs) {
			t.Errorf("%s: training FLOPs full %v, ReLoRA %v", s.Name, full, relora)
		}
	}
}

// The figure names every size on its log axis, at the full-rank model's
// parameter count, and draws every method in its fixed style.
func TestFigureLabelsEverySize(t *testing.T) {
	p, _ := experiments.Get("quick")
	runs, _ := experiments.Scaling(p)
	sizes, _ := experiments.Ladder(p)
	base := orderedLosses()
	tab, err := Build(p, runs, fake(runs, sizes, base, nil))
	if err != nil {
		t.Fatal(err)
	}
	lp := tab.plot()
	if !lp.LogX || len(lp.XTicks) != len(sizes) {
		t.Fatalf("log %v, ticks %+v, want one per size", lp.LogX, lp.XTicks)
	}
	for i, s := range sizes {
		if tk := lp.XTicks[i]; tk.Label != s.Name || tk.Value != float64(tab.cell(experiments.RowScalingFull, s.Name).Total) {
			t.Errorf("tick %d = %+v, want %s at the full-rank model's size", i, tk, s.Name)
		}
	}
	for _, s := range lp.Series {
		if _, ok := report.MethodStyle(s.Name); !ok {
			t.Errorf("method %q has no fixed style", s.Name)
		}
	}
}

// A matrix trained part-way: a cell with fewer seeds than the others says
// so, and the note says what the numbers are over.
func TestCellWithFewerSeedsSaysSo(t *testing.T) {
	p, _ := experiments.Get("quick")
	p.Seeds = []uint64{1, 2}
	all, _ := experiments.Scaling(p)
	sizes, _ := experiments.Ladder(p)
	var runs []experiments.Run
	for _, r := range all {
		if r.Seed == 2 && r.Row == experiments.RowScalingLoRA && r.Size == sizes[0].Name {
			continue // not trained yet
		}
		runs = append(runs, r)
	}
	base := orderedLosses()
	tab, err := Build(p, runs, fake(runs, sizes, base, nil))
	if err != nil {
		t.Fatal(err)
	}
	md := tab.Markdown()
	if strings.Count(md, "[1 seed]") != 1 || !strings.Contains(md, "Mean ± std over 2 seeds; a cell with fewer") {
		t.Errorf("scaling.md does not mark the one-seed cell:\n%s", md)
	}
	tab, _ = Build(p, all, fake(all, sizes, base, nil))
	if md := tab.Markdown(); strings.Contains(md, "seed]") || !strings.Contains(md, "Mean ± std over 2 seeds.") {
		t.Errorf("complete matrix:\n%s", md)
	}
}

// When the control at one size is full training's model one size down
// (same parameter count, same per-seed numbers), Table 2 says so; a control
// that merely has as many parameters does not get the note.
func TestControlThatRepeatsFullTrainingIsNamed(t *testing.T) {
	p, _ := experiments.Get("quick")
	p.Seeds = []uint64{1, 2}
	runs, _ := experiments.Scaling(p)
	sizes, _ := experiments.Ladder(p)
	base := orderedLosses()
	outs := fake(runs, sizes, base, nil)
	// The control at sizes[1] becomes full training at sizes[0], seed by seed.
	full := map[uint64]*train.Result{}
	for i, r := range runs {
		if r.Row == experiments.RowScalingFull && r.Size == sizes[0].Name {
			full[r.Seed] = outs[i].Result
		}
	}
	for i, r := range runs {
		if r.Row == experiments.RowScalingControl && r.Size == sizes[1].Name {
			twin := *full[r.Seed]
			outs[i].Result = &twin
		}
	}
	tab, err := Build(p, runs, outs)
	if err != nil {
		t.Fatal(err)
	}
	md := tab.Markdown()
	want := "Control at " + sizes[1].Name + " is full training's " + sizes[0].Name + " model"
	if !strings.Contains(md, want) || strings.Count(md, "is full training's") != 1 {
		t.Errorf("Table 2 notes should name exactly the one twin (%q):\n%s", want, md)
	}
	// Same parameter count but other numbers: no note.
	for i, r := range runs {
		if r.Row == experiments.RowScalingControl && r.Size == sizes[1].Name && r.Seed == 2 {
			other := *outs[i].Result
			other.FinalVal.Perplexity *= 1.01
			outs[i].Result = &other
		}
	}
	if tab, err = Build(p, runs, outs); err != nil {
		t.Fatal(err)
	}
	if md := tab.Markdown(); strings.Contains(md, "is full training's") {
		t.Errorf("a control with other numbers is named a twin:\n%s", md)
	}
}
