package experiments

import (
	"encoding/json"
	"testing"
)

// Each sweep's preset point is Table 1's run, and baselines that do not
// depend on the swept value are one run per seed, shared by every point.
func TestSweepsShareTable1AndBaselineRuns(t *testing.T) {
	p, err := Get("default")
	if err != nil {
		t.Fatal(err)
	}
	p.Seeds = []uint64{1, 2, 3}
	sweeps, runs, err := Sweeps(p)
	if err != nil {
		t.Fatal(err)
	}
	table1 := map[string]bool{}
	for _, r := range Ablation(p) {
		table1[key(r)] = true
	}
	distinct := map[string]bool{}
	for _, r := range runs {
		distinct[key(r)] = true
	}
	fresh := 0
	for k := range distinct {
		if !table1[k] {
			fresh++
		}
	}
	// reset: ReLoRA at 3 new intervals; rank: 3 methods at 3 new ranks;
	// prune: ReLoRA and +R+O at 4 new ratios — each × 3 seeds.
	if want := (3 + 9 + 8) * 3; fresh != want {
		t.Errorf("%d runs beyond Table 1's, want %d", fresh, want)
	}
	if len(sweeps) != 3 || sweeps[0].Points[sweeps[0].Preset] != "reset 600" || sweeps[1].Points[sweeps[1].Preset] != "rank 8" ||
		sweeps[2].Points[sweeps[2].Preset] != "prune 0.999" {
		t.Errorf("preset points: %+v", sweeps)
	}
	for _, r := range runs {
		if r.Size == "rank 2" && (r.Config.ReLoRA.Rank != 2 || r.Config.ReLoRA.Alpha != 2) {
			t.Errorf("rank 2 run has rank %d alpha %g", r.Config.ReLoRA.Rank, r.Config.ReLoRA.Alpha)
		}
		if r.Size == "prune 1" && r.Row == SweepReLoRA && r.Config.ReLoRA.PruneMode != "zero" {
			t.Errorf("full reset runs prune mode %q", r.Config.ReLoRA.PruneMode)
		}
		if err := r.Config.Validate(); err != nil {
			t.Errorf("%s %s: %v", r.Row, r.Size, err)
		}
	}
}

func key(r Run) string {
	b := r.Config
	return string(mustJSON(b))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
