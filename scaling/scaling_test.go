package scaling

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

// fake gives method m at size index i the validation loss base[m] − slope[m]·i
// (slope 0.1 unless given).
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
		l := base[r.Row] - k*float64(idx[r.Size])
		ev := train.Eval{Step: r.Config.Steps, Loss: l, Perplexity: train.Number(math.Exp(l))}
		half := train.Eval{Step: r.Config.Steps / 2, Loss: l + 0.2, Perplexity: train.Number(math.Exp(l + 0.2))}
		outs[i] = runner.Outcome{Config: r.Config, Result: &train.Result{Status: train.StatusOK, FinalVal: ev,
			Evals: []train.Eval{half, ev}, TrainableParams: 100 * (idx[r.Size] + 1), TotalParams: 1000 * (idx[r.Size] + 1)}}
	}
	return outs
}

func TestScalingTableAndClaims(t *testing.T) {
	p, _ := experiments.Get("quick")
	runs, err := experiments.Scaling(p)
	if err != nil {
		t.Fatal(err)
	}
	sizes, _ := experiments.Ladder(p)
	if len(runs) != len(sizes)*len(experiments.ScalingMethods) {
		t.Fatalf("%d runs for %d sizes", len(runs), len(sizes))
	}
	base := map[string]float64{experiments.RowScalingFull: 3.0, experiments.RowScalingReLoRA: 3.1,
		experiments.RowScalingLoRAWS: 3.2, experiments.RowScalingControl: 3.3, experiments.RowScalingLoRA: 3.5}
	// ReLoRA's loss gap to full training falls from 0.1 to 0.04 nats.
	tab, err := Build(p, runs, fake(runs, sizes, base, map[string]float64{experiments.RowScalingReLoRA: 0.12}))
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]bool{}
	for _, c := range tab.Claims {
		verdicts[c.Statement] = c.Reproduced
	}
	// ReLoRA beats the others everywhere, ever closer to full training.
	for statement, want := range map[string]bool{
		"ReLoRA beats Control at every size":                         true,
		"ReLoRA beats LoRA + Warm Start at every size":               true,
		"The gap between ReLoRA and full training shrinks with size": true,
	} {
		if got, ok := verdicts[statement]; !ok || got != want {
			t.Errorf("%q: reproduced %v (present %v), want %v", statement, got, ok, want)
		}
	}
	dir := t.TempDir()
	if err := Write(dir, tab); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	for _, want := range []string{"Table 3", "Training tokens", "(400)", "33.81"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("scaling.md lacks %q", want)
		}
	}
}

func TestGapClaimFailsWhenTheGapWidens(t *testing.T) {
	p, _ := experiments.Get("quick")
	runs, _ := experiments.Scaling(p)
	sizes, _ := experiments.Ladder(p)
	base := map[string]float64{experiments.RowScalingFull: 3.0, experiments.RowScalingReLoRA: 3.1,
		experiments.RowScalingLoRAWS: 3.2, experiments.RowScalingControl: 3.3, experiments.RowScalingLoRA: 3.5}
	tab, err := Build(p, runs, fake(runs, sizes, base, map[string]float64{experiments.RowScalingReLoRA: 0.08}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tab.Claims {
		if strings.HasPrefix(c.Statement, "The gap") {
			if c.Reproduced || !strings.Contains(c.Evidence, "slope") {
				t.Fatalf("widening gap judged %v: %s", c.Reproduced, c.Evidence)
			}
			return
		}
	}
	t.Fatal("no gap claim")
}
