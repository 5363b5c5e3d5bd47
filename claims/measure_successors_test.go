package claims

import (
	"strings"
	"testing"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/successors"
	"github.com/relorago/harness/verdict"
)

// successorsTable has GaLore's Table 2 ordering at every rung, scaled to
// perplexities near this harness's: GaLore 1% above full training,
// ReLoRA 8% above, low-rank 60% above.
func successorsTable(galoreOverFull float64) *successors.Table {
	p, _ := experiments.Get("default")
	s, _ := experiments.Successors(p)
	ratio := map[string]float64{succFull: 1, succGaLore: 1 + galoreOverFull/100, succReLoRA: 1.08, succLowRank: 1.6}
	t := &successors.Table{Sizes: s.Sizes, Cells: map[string]map[string]*successors.Cell{}}
	for m, r := range ratio {
		t.Cells[m] = map[string]*successors.Cell{}
		for i, size := range s.Sizes {
			c := &successors.Cell{}
			for k, n := range seedNoise[:3] {
				c.Seeds = append(c.Seeds, uint64(k+1))
				c.PPLs = append(c.PPLs, (5-0.3*float64(i))*r*(1+n/100))
			}
			t.Cells[m][size.Name] = c
		}
	}
	return t
}

func TestSuccessorClaimsFollowTheNumbers(t *testing.T) {
	p, _ := experiments.Get("default")
	for _, tc := range []struct {
		galoreOverFull float64
		nearFull       verdict.Verdict
	}{{1, verdict.Reproduced}, {9, verdict.NotReproduced}} {
		j := Judge(&Input{Preset: p, Successors: successorsTable(tc.galoreOverFull)})
		got := verdicts(j)
		if got["S-GaLore-vs-ReLoRA"] != verdict.Reproduced && tc.galoreOverFull < 8 {
			t.Errorf("GaLore %g%% above full, ReLoRA 8%%: GaLore beats ReLoRA %s", tc.galoreOverFull, got["S-GaLore-vs-ReLoRA"])
		}
		if got["S-GaLore-near-full"] != tc.nearFull {
			t.Errorf("GaLore %g%% above full: within 5%% %s, want %s", tc.galoreOverFull, got["S-GaLore-near-full"], tc.nearFull)
		}
		if got["S-lowrank-worst"] != verdict.Reproduced {
			t.Errorf("low-rank 60%% above full: %s", got["S-lowrank-worst"])
		}
		for _, r := range j.Results {
			if r.ID == "S-lowrank-worst" && len(r.Parts) != 3*4 {
				t.Errorf("low-rank against 3 methods at 4 sizes: %d parts", len(r.Parts))
			}
			if strings.HasPrefix(r.ID, "S-") {
				for _, part := range r.Parts {
					if !strings.Contains(part.Comparison, "(searched rates)") {
						t.Errorf("%s: comparison %q could be mistaken for Table 2's", r.ID, part.Comparison)
					}
				}
			}
		}
	}
}
