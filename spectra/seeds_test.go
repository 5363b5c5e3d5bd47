package spectra

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relorago/harness/runner"
	"github.com/relorago/harness/train"
)

// Extra seeds join the claim: a seed whose RunFiles exist is measured (the
// same runs give the same ranks), one without them is listed as left out
// with its reason, and neither AnalyzeRuns nor Build fails for it.
func TestClaimOverSeeds(t *testing.T) {
	f := analyzed(t)
	runs, outs := slices.Clone(f.runs), slices.Clone(f.outs)
	for _, seed := range []uint64{2, 3} {
		for i, r := range f.runs {
			dir := filepath.Join(t.TempDir(), r.Row)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			files := []string{train.ResultFile}
			if seed == 2 {
				files = append(files, RunFile)
			}
			for _, name := range files {
				b, err := os.ReadFile(filepath.Join(f.outs[i].Dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r.Seed = seed
			runs, outs = append(runs, r), append(outs, runner.Outcome{Config: r.Config, Dir: dir})
		}
	}
	if err := AnalyzeRuns(runs, outs); err != nil {
		t.Fatalf("a seed without RunFiles or checkpoints must not fail the analysis: %v", err)
	}
	tab, err := Build(runs, outs)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Seeds) != 2 || tab.Seeds[0] != (SeedRanks{Seed: f.runs[0].Seed, ReLoRAEff: tab.Seeds[1].ReLoRAEff, LoRAEff: tab.Seeds[1].LoRAEff,
		FullEff: tab.Seeds[1].FullEff, LoRANumMax: tab.Seeds[1].LoRANumMax, ReLoRANumMean: tab.Seeds[1].ReLoRANumMean}) {
		t.Errorf("seeds %+v, want the fake's seed and seed 2 with the same ranks", tab.Seeds)
	}
	if len(tab.SeedsSkipped) != 1 || !strings.HasPrefix(tab.SeedsSkipped[0], "seed 3: ") || !strings.Contains(tab.SeedsSkipped[0], RunFile) {
		t.Errorf("skipped %q, want seed 3 for its missing %s", tab.SeedsSkipped, RunFile)
	}
	// The first seed's numbers are those of the rows the figures are drawn from.
	re := 0.0
	for _, p := range Fig5Projections {
		re += tab.row(p, "ReLoRA (R+O+J+WS)").EffRank.Mean
	}
	if d := re/float64(len(Fig5Projections)) - tab.Seeds[0].ReLoRAEff; d > 1e-12 || d < -1e-12 {
		t.Errorf("seed 1's ReLoRA effective rank %g differs from the rows' %g", tab.Seeds[0].ReLoRAEff, re/float64(len(Fig5Projections)))
	}
}
