package successors

import (
	"testing"

	"github.com/relorago/harness/experiments"
)

// A probe of each method on the quick preset's smallest rung: counts as
// the methods define them (GaLore's moments are rank-r, low-rank trains
// fewer weights), a peak RSS that holds at least the counted memory, and
// rows reused only for exactly the probed configs.
func TestMemoryProbesCountEachMethod(t *testing.T) {
	p, _ := experiments.Get("quick")
	s, err := experiments.Successors(p)
	if err != nil {
		t.Fatal(err)
	}
	s.Sizes = s.Sizes[:1]
	chosen := map[string]float64{}
	for _, m := range experiments.SuccessorMethods {
		chosen[m.Name] = s.Centre(m.Name)
	}
	specs, err := MemorySpecs(s, chosen)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]MemoryRow{}
	var all []MemoryRow
	for _, spec := range specs {
		r, err := MeasureMemory(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec.Method, err)
		}
		if r.MaxRSSBytes < 4*int64(r.Total) || r.ArenaBytes <= 0 {
			t.Errorf("%s: peak RSS %d B below its %d weights, or arena %d", r.Method, r.MaxRSSBytes, r.Total, r.ArenaBytes)
		}
		rows[r.Method] = r
		all = append(all, r)
	}
	full, galore, low := rows[experiments.RowScalingFull], rows[experiments.RowSuccessorGaLore], rows[experiments.RowSuccessorLowRank]
	if full.OptimizerFloats != 2*full.Trainable {
		t.Errorf("full training: %d optimizer floats for %d trainable weights", full.OptimizerFloats, full.Trainable)
	}
	if galore.Trainable != full.Trainable || galore.OptimizerFloats >= full.OptimizerFloats {
		t.Errorf("GaLore trains %d (full %d) with %d optimizer floats (full %d)", galore.Trainable, full.Trainable, galore.OptimizerFloats, full.OptimizerFloats)
	}
	if low.Total >= full.Total || low.Trainable != low.Total {
		t.Errorf("low-rank: %d weights, %d trainable (full %d)", low.Total, low.Trainable, full.Total)
	}
	if !current(all, specs) {
		t.Error("rows of exactly these probes are not current")
	}
	other := append([]MemorySpec(nil), specs...)
	other[0].Config.LR *= 2
	if current(all, other) {
		t.Error("rows of another rate taken as current")
	}
}
