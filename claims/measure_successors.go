package claims

import (
	"fmt"
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/successors"
	"github.com/relorago/harness/verdict"
)

// The successors table's rows.
const (
	succFull    = experiments.RowScalingFull
	succReLoRA  = experiments.RowScalingReLoRA
	succGaLore  = experiments.RowSuccessorGaLore
	succLowRank = experiments.RowSuccessorLowRank
)

// succRuns are the successors table's ladder runs of the given methods at
// their chosen rates, for the given seeds.
func succRuns(t *successors.Table, methods ...string) func(experiments.Preset, []uint64) ([]experiments.Run, error) {
	return func(p experiments.Preset, seeds []uint64) ([]experiments.Run, error) {
		s, err := experiments.Successors(p)
		if err != nil {
			return nil, err
		}
		all, err := s.LadderRuns(t.Chosen(), seeds)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(all, func(r experiments.Run) bool { return !slices.Contains(methods, r.Row) }), nil
	}
}

// succComparison names a comparison of the successors table: its full
// and ReLoRA runs are at searched rates, so not always Table 2's runs.
func succComparison(what, a, b, size string) string {
	return fmt.Sprintf("%s %s − %s @ %s (searched rates)", what, name(a), name(b), size)
}

// succEverySize measures a against b at every size of the successors
// table: their perplexity difference (percent false) or 100·(a/b − 1)
// (percent true), paired by seed.
func succEverySize(a, b string, percent bool) func(*Input) measurement {
	return func(in *Input) measurement {
		t := in.Successors
		if t == nil {
			return measurement{missing: "the successors table is not built"}
		}
		m := measurement{runs: succRuns(t, a, b)}
		for _, s := range t.Sizes {
			if p, ok := succPart(t, a, b, s.Name, percent); ok {
				m.parts = append(m.parts, p)
			}
			if c := t.Cells[a][s.Name]; c != nil && c.Diverged > 0 && m.forced == "" && !percent {
				m.forced, m.forcedWhy = verdict.NotReproduced, fmt.Sprintf("%s diverged at %s", a, s.Name)
			}
		}
		if len(m.parts) == 0 {
			return measurement{missing: "the successors table has no size with both methods"}
		}
		return m
	}
}

func succPart(t *successors.Table, a, b, size string, percent bool) (part, bool) {
	ca, cb := t.Cells[a][size], t.Cells[b][size]
	if ca == nil || cb == nil {
		return part{}, false
	}
	detail := fmt.Sprintf("%s %.2f vs %.2f", size, ca.MeanPPL, cb.MeanPPL)
	if !percent {
		return part{Comparison: succComparison("perplexity", a, b, size),
			Estimate: verdict.Mean(pairBySeed(ca.Seeds, ca.PPLs, cb.Seeds, cb.PPLs)), Detail: detail}, true
	}
	var rel []float64
	for i, s := range ca.Seeds {
		if j := slices.Index(cb.Seeds, s); j >= 0 {
			rel = append(rel, 100*(ca.PPLs[i]/cb.PPLs[j]-1))
		}
	}
	return part{Comparison: succComparison("relative perplexity (%)", a, b, size), Estimate: verdict.Mean(rel), Detail: detail}, true
}

// lowRankWorst measures low-rank against every other method at every
// size, relative perplexity in percent, paired by seed.
func lowRankWorst(in *Input) measurement {
	t := in.Successors
	if t == nil {
		return measurement{missing: "the successors table is not built"}
	}
	m := measurement{runs: succRuns(t, succFull, succReLoRA, succGaLore, succLowRank)}
	for _, s := range t.Sizes {
		for _, other := range []string{succFull, succReLoRA, succGaLore} {
			if p, ok := succPart(t, succLowRank, other, s.Name, true); ok {
				m.parts = append(m.parts, p)
			}
		}
	}
	if len(m.parts) == 0 {
		return measurement{missing: "the successors table has no size with low-rank and another method"}
	}
	return m
}
