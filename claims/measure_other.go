package claims

import (
	"fmt"
	"slices"
	"strings"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/spectra"
	"github.com/relorago/harness/throughput"
	"github.com/relorago/harness/verdict"
)

// speed measures Table 4's claim: one part per cell at widths ≥
// SpeedWidth (fused op, both ranks, both thread counts); the narrower
// widths' main cells are listed in the evidence, unjudged.
func speed(in *Input) measurement {
	t := in.Throughput
	if t == nil {
		return measurement{missing: "Table 4 not measured"}
	}
	m := measurement{}
	var narrow []string
	for _, w := range t.Widths {
		for _, threads := range []int{1, 2} {
			for _, rank := range w.Ranks {
				c, ok := t.Cell(w.Dim, rank, true, threads)
				if !ok {
					continue
				}
				e := verdict.Mean(c.Ratios)
				label := fmt.Sprintf("d %d, r %d, %d thread(s)", w.Dim, rank, threads)
				if w.Dim < SpeedWidth {
					if rank == w.MainRank() && threads == 1 {
						narrow = append(narrow, fmt.Sprintf("d %d: %s", w.Dim, ratioFormat(e)))
					}
					continue
				}
				m.parts = append(m.parts, part{Comparison: "step speed-up full / ReLoRA @ " + label, Estimate: e,
					Detail: fmt.Sprintf("%s (FLOP model %.2fx)", label, c.FLOPSpeedup)})
			}
		}
	}
	if len(m.parts) == 0 {
		return measurement{missing: fmt.Sprintf("Table 4 has no width ≥ %d", SpeedWidth)}
	}
	var ev []string
	if len(narrow) > 0 {
		ev = append(ev, "narrower widths, not judged (1 core, r = d/8): "+strings.Join(narrow, "; "))
	}
	if w := t.WarmFraction; w > 0 {
		last := t.Widths[len(t.Widths)-1]
		if c, ok := t.Cell(last.Dim, last.MainRank(), true, 1); ok {
			s := verdict.Mean(c.Ratios).Value
			ev = append(ev, fmt.Sprintf("warm-start-adjusted at d %d: %.2fx with the preset's %.0f%% warm start, %.2fx with the paper's 33%%",
				last.Dim, throughput.Adjusted(s, w), 100*w, throughput.Adjusted(s, throughput.PaperWarmFraction)))
		}
	}
	m.evidence = strings.Join(ev, "; ")
	return m
}

// ratioFormat prints a speed-up with its 95% interval, e.g. "1.08x [1.02, 1.13]".
func ratioFormat(e verdict.Estimate) string {
	lo, hi := e.Interval(verdict.Confidence)
	if e.N < 2 {
		return fmt.Sprintf("%.2fx (one round)", e.Value)
	}
	return fmt.Sprintf("%.2fx [%.2f, %.2f]", e.Value, lo, hi)
}

// spectraRuns are Fig. 5's three Table 1 rows at the given seeds.
func spectraRuns(p experiments.Preset, seeds []uint64) ([]experiments.Run, error) {
	return ablationRuns(rowFull, rowLoRAWS, rowReLoRA)(p, seeds)
}

func spectraAboveLoRA(in *Input) measurement {
	t := in.Spectra
	if t == nil || len(t.Seeds) == 0 {
		return measurement{missing: "Fig. 5 not analysed"}
	}
	r := float64(t.Rank)
	var ratios []float64
	separated := true
	var per []string
	for _, s := range t.Seeds {
		separated = separated && s.LoRANumMax <= r && s.ReLoRANumMean > r
		ratios = append(ratios, s.Ratio())
		per = append(per, fmt.Sprintf("%d: %.2f×", s.Seed, s.Ratio()))
	}
	first := t.Seeds[0]
	m := measurement{runs: spectraRuns,
		parts: []part{{Comparison: "effective rank of ΔW, ReLoRA / LoRA+WS @ " + table1Size(in.Preset), Estimate: verdict.Mean(ratios),
			Detail: fmt.Sprintf("by seed %s; seed %d: ReLoRA %.1f vs LoRA+WS %.1f (full-rank %.1f)", strings.Join(per, ", "),
				first.Seed, first.ReLoRAEff, first.LoRAEff, first.FullEff)}},
		evidence: fmt.Sprintf("numerical rank (σ > %g·σ_max), seed %d: LoRA+WS at most %.0f (r = %d), ReLoRA %.1f on average",
			spectra.NumRankTol, first.Seed, first.LoRANumMax, t.Rank, first.ReLoRANumMean)}
	if len(t.SeedsSkipped) > 0 {
		m.evidence += "; left out: " + strings.Join(t.SeedsSkipped, "; ")
	}
	if !separated {
		m.forced, m.forcedWhy = verdict.NotReproduced, "the numerical rank does not separate LoRA+WS (≤ r) from ReLoRA (> r) in every seed"
	}
	return m
}

func spectraLikeFull(in *Input) measurement {
	t := in.Spectra
	if t == nil || len(t.Seeds) == 0 {
		return measurement{missing: "Fig. 5 not analysed"}
	}
	var ratios []float64
	var per []string
	for _, s := range t.Seeds {
		ratios = append(ratios, s.ReLoRAEff/s.FullEff)
		per = append(per, fmt.Sprintf("%d: %.1f / %.1f", s.Seed, s.ReLoRAEff, s.FullEff))
	}
	return measurement{runs: spectraRuns,
		parts: []part{{Comparison: "effective rank of ΔW, ReLoRA / Full-rank @ " + table1Size(in.Preset), Estimate: verdict.Mean(ratios),
			Detail: "ReLoRA / full-rank by seed " + strings.Join(per, ", ")}}}
}

// finetunePair measures the average-score difference a − b of Table 5,
// paired by seed. The average is the table's own (finetune.Table.Cover):
// per seed, over the tasks on which some method beats the best heuristic.
// Fine-tuning seeds are not planned by decide: the suite's runs depend on
// a learning-rate search per method.
func finetunePair(a, b string) func(*Input) measurement {
	return func(in *Input) measurement {
		t := in.Finetune
		if t == nil {
			return measurement{missing: "Table 5 not built"}
		}
		if len(t.Covered) == 0 {
			return measurement{missing: "no Table 5 task where a method beats the best heuristic"}
		}
		var pa, pb map[uint64]float64
		var ma, mb float64
		for _, av := range t.Averages {
			switch av.Method {
			case a:
				pa, ma = av.PerSeed, float64(av.Mean)
			case b:
				pb, mb = av.PerSeed, float64(av.Mean)
			}
		}
		if pa == nil || pb == nil {
			return measurement{missing: "Table 5 lacks " + a + " or " + b}
		}
		var seeds []uint64
		for s := range pa {
			seeds = append(seeds, s)
		}
		slices.Sort(seeds)
		var d []float64
		for _, s := range seeds {
			if vb, ok := pb[s]; ok {
				d = append(d, pa[s]-vb)
			}
		}
		m := measurement{parts: []part{{Comparison: fmt.Sprintf("fine-tuning average score %s − %s", a, b), Estimate: verdict.Mean(d),
			Detail: fmt.Sprintf("per-seed average over %d of %d tasks (%s): %.2f vs %.2f", len(t.Covered), len(t.Tasks), strings.Join(t.Covered, ", "), ma, mb)}}}
		if len(t.Excluded) > 0 {
			m.evidence = fmt.Sprintf("left out of the average, as in Table 5: %s (no method's mean score beats the task's best heuristic)", strings.Join(t.Excluded, ", "))
		}
		return m
	}
}
