package sweep

import (
	"fmt"
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

// ReLoRA is given a clear lead at frequent merges, a tie at the preset's
// interval and a loss at the rarest: the table, the verdicts and the
// sentence must say so.
func TestSweepGapsAndSummary(t *testing.T) {
	p, _ := experiments.Get("default")
	p.Seeds = []uint64{1, 2, 3}
	sweeps, runs, err := experiments.Sweeps(p)
	if err != nil {
		t.Fatal(err)
	}
	noise := map[uint64]float64{1: 0.01, 2: -0.004, 3: 0.002}
	lead := map[string]float64{"reset 150": -0.05, "reset 300": -0.04, "reset 600": 0.001, "reset 1200": 0.06}
	outs := make([]runner.Outcome, len(runs))
	for i, r := range runs {
		ppl := 3.4 + noise[r.Seed]
		if r.Row == experiments.SweepReLoRA {
			ppl += lead[r.Size] + 0.5*noise[r.Seed]*float64(len(r.Size)%2)
		}
		outs[i] = runner.Outcome{Config: r.Config, Result: &train.Result{Status: train.StatusOK,
			FinalVal: train.Eval{Loss: math.Log(ppl), Perplexity: train.Number(ppl)}}}
	}
	tab, err := Build(p, sweeps, runs, withMetrics(t, outs))
	if err != nil {
		t.Fatal(err)
	}
	reset := tab.Sweeps[0]
	want := []report.Verdict{report.Reproduced, report.Reproduced, report.Inconclusive, report.NotReproduced}
	for i, pt := range reset.Points {
		if pt.Gaps[0].Verdict != want[i] {
			t.Errorf("%s: %s (%+v), want %s", pt.Label, pt.Gaps[0].Verdict, pt.Gaps[0], want[i])
		}
	}
	if g := reset.Points[0].Gaps[0]; g.Better != 3 || g.Seeds != 3 {
		t.Errorf("reset 150: ReLoRA better in %d of %d seeds, want 3 of 3", g.Better, g.Seeds)
	}
	if g := reset.Points[3].Gaps[0]; g.Better != 0 {
		t.Errorf("reset 1200: ReLoRA better in %d seeds, want 0", g.Better)
	}
	if !strings.Contains(reset.Summary, "ahead at reset 150, reset 300") || !strings.Contains(reset.Summary, "behind at reset 1200") {
		t.Errorf("summary: %s", reset.Summary)
	}
	dir := t.TempDir()
	if err := Write(dir, tab); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	for _, s := range []string{"reset 600 (preset)", "✅ 3/3", "❌ 0/3", "❔", Figure(reset) + ".png"} {
		if !strings.Contains(string(md), s) {
			t.Errorf("sweep.md lacks %q", s)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, Figure(reset)+".png")); err != nil {
		t.Error(err)
	}
}

// Each gap is drawn in its method's fixed style; a method with two
// baselines gets a variant for the second. A linear sweep puts its points
// evenly spaced and names them; a log one is over the values themselves.
func TestFigureStyles(t *testing.T) {
	p, _ := experiments.Get("default")
	sweeps, runs, err := experiments.Sweeps(p)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]runner.Outcome, len(runs))
	for i, r := range runs {
		outs[i] = runner.Outcome{Config: r.Config, Result: &train.Result{Status: train.StatusOK,
			FinalVal: train.Eval{Loss: 1, Perplexity: train.Number(math.E)}}}
	}
	tab, err := Build(p, sweeps, runs, withMetrics(t, outs))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Sweeps {
		lp := r.plot()
		variants := map[[2]any]bool{}
		for _, s := range lp.Series {
			if _, ok := report.MethodStyle(s.Method); !ok {
				t.Errorf("%s: %q has no method style", r.Name, s.Method)
			}
			k := [2]any{s.Method, s.Variant}
			if variants[k] {
				t.Errorf("%s: two lines look alike (%v)", r.Name, k)
			}
			variants[k] = true
		}
		if r.LogX != (len(lp.XTicks) == 0) {
			t.Errorf("%s: log %v with ticks %+v", r.Name, r.LogX, lp.XTicks)
		}
		for i, tk := range lp.XTicks {
			if tk.Value != float64(i) || tk.Label == "" {
				t.Errorf("%s: tick %d = %+v", r.Name, i, tk)
			}
		}
	}
}

// A sweep with a run not trained yet renders as "not run yet" with its
// count and no figure, while the complete sweeps render as usual.
func TestIncompleteSweepIsListedNotDrawn(t *testing.T) {
	p, _ := experiments.Get("default")
	p.Seeds = []uint64{1, 2}
	sweeps, runs, err := experiments.Sweeps(p)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]runner.Outcome, len(runs))
	dropped := 0
	for i, r := range runs {
		outs[i] = runner.Outcome{Config: r.Config, Result: &train.Result{Status: train.StatusOK,
			FinalVal: train.Eval{Loss: 1, Perplexity: train.Number(math.E)}}}
		if r.Size == "rank 2" && r.Seed == 2 {
			outs[i].Result = nil
			dropped++
		}
	}
	tab, err := Build(p, sweeps, runs, withMetrics(t, outs))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, tab); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	for _, r := range tab.Sweeps {
		_, statErr := os.Stat(filepath.Join(dir, Figure(r)+".png"))
		if r.Name == "rank" {
			if r.Done() || r.Missing != dropped || len(r.Points) != 0 || statErr == nil {
				t.Errorf("rank: done %v, missing %d (want %d), %d points, figure %v", r.Done(), r.Missing, dropped, len(r.Points), statErr)
			}
			continue
		}
		if !r.Done() || len(r.Points) != len(r.Sweep.Points) || statErr != nil {
			t.Errorf("%s: done %v, %d points, figure %v", r.Name, r.Done(), len(r.Points), statErr)
		}
	}
	if want := "Not run yet: 3 of its runs have no result"; dropped != 3 || !strings.Contains(string(md), want) {
		t.Errorf("dropped %d; sweep.md lacks %q:\n%s", dropped, want, md)
	}
}

// One seed of +R+O that blows up (+30 perplexity) puts the pruning sweep's
// figure on a symmetric log axis, so ReLoRA's small gaps stay readable;
// sweeps whose gaps are all small keep a linear axis.
func TestBlowUpGetsASymlogAxis(t *testing.T) {
	p, _ := experiments.Get("default")
	p.Seeds = []uint64{1, 2, 3}
	sweeps, runs, err := experiments.Sweeps(p)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]runner.Outcome, len(runs))
	for i, r := range runs {
		ppl := 3.4 + 0.01*float64(r.Seed)
		if r.Row == experiments.SweepRO && r.Size == "prune 0.9" && r.Seed == 2 {
			ppl += 30
		}
		outs[i] = runner.Outcome{Config: r.Config, Result: &train.Result{Status: train.StatusOK,
			FinalVal: train.Eval{Loss: math.Log(ppl), Perplexity: train.Number(ppl)}}}
	}
	tab, err := Build(p, sweeps, runs, withMetrics(t, outs))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Sweeps {
		lp := r.plot()
		if want := r.Name == "pruning ratio"; (lp.SymLogY > 0) != want || strings.Contains(lp.YLabel, "symlog") != want {
			t.Errorf("%s: SymLogY %g, label %q; want symlog %v", r.Name, lp.SymLogY, lp.YLabel, want)
		}
	}
	if err := Write(t.TempDir(), tab); err != nil {
		t.Fatal(err)
	}
}

// withMetrics gives each finished outcome a run folder with a short, stable
// metrics.jsonl (Build reads it for the instability rule).
func withMetrics(t *testing.T, outs []runner.Outcome) []runner.Outcome {
	t.Helper()
	dir := t.TempDir()
	var lines strings.Builder
	for s := 1; s <= 40; s++ {
		fmt.Fprintf(&lines, "{\"step\":%d,\"loss\":%g,\"lr\":0.001,\"grad_norm\":1}\n", s, 3-0.01*float64(s))
	}
	path := filepath.Join(dir, train.MetricsFile)
	if err := os.WriteFile(path, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range outs {
		if outs[i].Result != nil && outs[i].Dir == "" {
			outs[i].Dir = dir
		}
	}
	return outs
}

// A seed whose loss blew up and recovered is counted as unstable at its
// point, beside the mean perplexity.
func TestUnstableSeedsAreCounted(t *testing.T) {
	p, _ := experiments.Get("default")
	p.Seeds = []uint64{1, 2}
	sweeps, runs, err := experiments.Sweeps(p)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]runner.Outcome, len(runs))
	for i, r := range runs {
		outs[i] = runner.Outcome{Config: r.Config, Result: &train.Result{Status: train.StatusOK,
			FinalVal: train.Eval{Loss: 1, Perplexity: train.Number(math.E)}}}
	}
	outs = withMetrics(t, outs)
	jumpDir := t.TempDir()
	var lines strings.Builder
	for s := 1; s <= 100; s++ {
		loss := 3.0
		if s > 50 && s <= 80 {
			loss = 7
		}
		fmt.Fprintf(&lines, "{\"step\":%d,\"loss\":%g,\"lr\":0.001,\"grad_norm\":1}\n", s, loss)
	}
	if err := os.WriteFile(filepath.Join(jumpDir, train.MetricsFile), []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	target := -1
	for i, r := range runs {
		if r.Row == experiments.SweepReLoRA && r.Seed == 1 && target < 0 {
			target = i
			outs[i].Dir = jumpDir
		}
	}
	tab, err := Build(p, sweeps, runs, outs)
	if err != nil {
		t.Fatal(err)
	}
	if md := tab.Markdown(); !strings.Contains(md, "(unstable 1/2)") {
		t.Errorf("sweep.md does not mark %s at %s seed 1 unstable:\n%s", runs[target].Row, runs[target].Size, md)
	}
}
