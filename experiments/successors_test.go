package experiments

import (
	"math"
	"testing"

	"github.com/relorago/harness/runner"
)

// At the preset's own rates, the successors' full-training and ReLoRA
// runs are Table 2's: the same configs, so the cache trains them once.
func TestSuccessorsShareTable2sRunsAtThePresetRates(t *testing.T) {
	p, _ := Get("default")
	s, err := Successors(p)
	if err != nil {
		t.Fatal(err)
	}
	table2, err := Scaling(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, r := range table2 {
		want[r.Row+"@"+r.Size] = runner.Hash(r.Config)
	}
	chosen := map[string]float64{RowScalingFull: p.Base.LR, RowScalingReLoRA: p.Base.ReLoRA.LR}
	runs, err := s.LadderRuns(chosen, p.Seeds)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2*len(s.Sizes) {
		t.Fatalf("%d runs for 2 methods at %d sizes", len(runs), len(s.Sizes))
	}
	for _, r := range runs {
		if got := runner.Hash(r.Config); got != want[r.Row+"@"+r.Size] {
			t.Errorf("%s at %s: hash %s, Table 2's %s", r.Row, r.Size, got, want[r.Row+"@"+r.Size])
		}
	}
	if got := s.Centre(RowScalingReLoRA); got != p.Base.ReLoRA.LR {
		t.Errorf("ReLoRA's search is centred on %g, want the preset's LoRA rate %g", got, p.Base.ReLoRA.LR)
	}
}

// Every method's rate lands where its method reads it, and the search
// runs use the search seed at the search size.
func TestSuccessorsConfigsCarryTheirRate(t *testing.T) {
	p, _ := Get("default")
	s, _ := Successors(p)
	for _, m := range SuccessorMethods {
		r, err := s.SearchRun(m.Name, 0.0123)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		lr := r.Config.LR
		if m.Name == RowScalingReLoRA {
			lr = r.Config.ReLoRA.LR
			if r.Config.LR != p.Base.LR {
				t.Errorf("ReLoRA's warm start at %g, want the preset's %g", r.Config.LR, p.Base.LR)
			}
		}
		if lr != 0.0123 || r.Seed != SearchSeed || r.Config.Seed != SearchSeed || r.Config.Model.Dim != s.SearchSize.Dim {
			t.Errorf("%s: rate %g seed %d/%d dim %d", m.Name, lr, r.Seed, r.Config.Seed, r.Config.Model.Dim)
		}
	}
	if first, _ := s.FirstSearch(); len(first) != 3*len(SuccessorMethods) {
		t.Errorf("first search has %d runs, want 3 per method", len(first))
	}
}

func TestSearchExtendsPastTheBestEndUntilInterior(t *testing.T) {
	pts := []LRLoss{{1, 3}, {2, 2}, {4, 1}}
	if lr, ok := NextRate(pts); !ok || lr != 8 {
		t.Errorf("best at the top end: next %g %v, want 8", lr, ok)
	}
	pts = []LRLoss{{1, 1}, {2, 2}, {4, 3}}
	if lr, ok := NextRate(pts); !ok || lr != 0.5 {
		t.Errorf("best at the bottom end: next %g %v, want 0.5", lr, ok)
	}
	pts = []LRLoss{{4, 2}, {1, 3}, {2, 1}} // unsorted, best interior
	if _, ok := NextRate(pts); ok {
		t.Error("best interior: the search should stop")
	}
	if b, in := Best(pts); b.LR != 2 || !in {
		t.Errorf("best %v interior %v", b, in)
	}
	var capped []LRLoss
	for i := range SearchMaxRates {
		capped = append(capped, LRLoss{math.Pow(2, float64(i)), float64(-i)})
	}
	if _, ok := NextRate(capped); ok {
		t.Errorf("%d rates: the search should stop at its cap", len(capped))
	}
	// A diverged run (+Inf) is never the best; a tie goes to the lower rate.
	if b, _ := Best([]LRLoss{{1, 2}, {2, 2}, {4, math.Inf(1)}}); b.LR != 1 {
		t.Errorf("tie: chose %g, want 1", b.LR)
	}
}
