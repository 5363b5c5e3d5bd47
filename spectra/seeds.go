package spectra

import (
	"fmt"
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/runner"
)

// SeedRanks is what one seed's three runs say about the claim: the
// effective and numerical ranks of ΔW, averaged over Fig5Projections and
// layers (LoRA's numerical rank is its maximum: it may never exceed r).
type SeedRanks struct {
	Seed          uint64  `json:"seed"`
	ReLoRAEff     float64 `json:"relora_effective_rank"`
	LoRAEff       float64 `json:"lora_effective_rank"`
	FullEff       float64 `json:"full_effective_rank"`
	LoRANumMax    float64 `json:"lora_numerical_rank_max"`
	ReLoRANumMean float64 `json:"relora_numerical_rank_mean"`
}

// Ratio is ReLoRA's effective rank over LoRA+WS's.
func (s SeedRanks) Ratio() float64 { return s.ReLoRAEff / s.LoRAEff }

// seedGroup is one seed's runs and outcomes.
type seedGroup struct {
	seed uint64
	runs []experiments.Run
	outs []runner.Outcome
}

// bySeed splits runs by seed, in the order the seeds first appear (the
// first group is Fig. 5's own runs).
func bySeed(runs []experiments.Run, outs []runner.Outcome) []seedGroup {
	var groups []seedGroup
	for i, r := range runs {
		k := slices.IndexFunc(groups, func(g seedGroup) bool { return g.seed == r.Seed })
		if k < 0 {
			groups, k = append(groups, seedGroup{seed: r.Seed}), len(groups)
		}
		groups[k].runs = append(groups[k].runs, r)
		if i < len(outs) {
			groups[k].outs = append(groups[k].outs, outs[i])
		}
	}
	return groups
}

// seedRanks reads one seed's RunFiles (made for W_warm at warmStep) and
// measures them.
func seedRanks(g seedGroup, warmStep int) (SeedRanks, error) {
	ps, _, err := pick(g.runs, g.outs)
	if err != nil {
		return SeedRanks{}, err
	}
	rs := map[string]*RunSpectra{}
	for _, name := range Methods {
		if rs[name], err = readRunFor(ps[name].dir, ps[name].cfg, name, warmStep); err != nil {
			return SeedRanks{}, err
		}
	}
	return measureSeed(g.seed, rs), nil
}

// measureSeed averages the ranks the claim uses over Fig5Projections and
// layers.
func measureSeed(seed uint64, rs map[string]*RunSpectra) SeedRanks {
	s := SeedRanks{Seed: seed}
	n := 0.0
	for _, p := range Fig5Projections {
		s.ReLoRAEff += meanEffRank(rs[experiments.RowReLoRA].Sigma[p])
		s.LoRAEff += meanEffRank(rs[experiments.RowLoRAWS].Sigma[p])
		s.FullEff += meanEffRank(rs[experiments.RowFull].Sigma[p])
		for _, sigma := range rs[experiments.RowLoRAWS].Sigma[p] {
			s.LoRANumMax = max(s.LoRANumMax, float64(NumericalRank(sigma, NumRankTol)))
		}
		for _, sigma := range rs[experiments.RowReLoRA].Sigma[p] {
			s.ReLoRANumMean += float64(NumericalRank(sigma, NumRankTol))
			n++
		}
	}
	k := float64(len(Fig5Projections))
	s.ReLoRAEff, s.LoRAEff, s.FullEff = s.ReLoRAEff/k, s.LoRAEff/k, s.FullEff/k
	s.ReLoRANumMean /= n
	return s
}

// otherSeeds measures every seed after the first whose three runs have
// RunFiles; a seed that cannot be measured is listed with the reason, not
// an error: Fig. 5 itself needs only the first seed.
func (t *Table) otherSeeds(groups []seedGroup) {
	for _, g := range groups[1:] {
		s, err := seedRanks(g, t.WarmStart)
		if err != nil {
			t.SeedsSkipped = append(t.SeedsSkipped, fmt.Sprintf("seed %d: %v", g.seed, err))
			continue
		}
		t.Seeds = append(t.Seeds, s)
	}
}
