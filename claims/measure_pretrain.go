package claims

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/relorago/harness/ablation"
	"github.com/relorago/harness/budget"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/verdict"
	"gonum.org/v1/gonum/stat"
)

const (
	rowReLoRA = experiments.RowReLoRA
	rowLoRAWS = experiments.RowLoRAWS
	rowFull   = experiments.RowFull

	scalingReLoRA  = experiments.RowScalingReLoRA
	scalingControl = experiments.RowScalingControl
	scalingLoRAWS  = experiments.RowScalingLoRAWS
	scalingLoRA    = experiments.RowScalingLoRA
	scalingFull    = experiments.RowScalingFull
)

// canonical names a method the same in Table 1 and Table 2, so that a
// comparison of the same runs has one name.
var canonical = map[string]string{
	rowReLoRA: "ReLoRA", scalingReLoRA: "ReLoRA",
	rowLoRAWS: "LoRA+WS", scalingLoRAWS: "LoRA+WS",
	rowFull: "Full-rank", scalingFull: "Full-rank",
	"LoRA": "LoRA", scalingControl: "Control",
}

func name(row string) string {
	if c, ok := canonical[row]; ok {
		return c
	}
	return row
}

// pplComparison names a perplexity comparison at a model size.
func pplComparison(a, b, size string) string {
	return fmt.Sprintf("perplexity %s − %s @ %s", name(a), name(b), size)
}

// table1Size is the scaling ladder's name for Table 1's model (its runs
// are that size's cells), or the model's shape when no rung matches.
func table1Size(p experiments.Preset) string {
	m := p.Base.Model
	if ladder, err := experiments.Ladder(p); err == nil {
		for _, s := range ladder {
			if s.Dim == m.Dim && s.Layers == m.Layers && s.FFN == m.FFN && s.Rank == p.Base.ReLoRA.Rank {
				return s.Name
			}
		}
	}
	return fmt.Sprintf("d %d", m.Dim)
}

// pairBySeed returns a's values minus b's for the seeds both have, in a's
// seed order, skipping non-finite differences.
func pairBySeed(aSeeds []uint64, a []float64, bSeeds []uint64, b []float64) []float64 {
	var d []float64
	for i, s := range aSeeds {
		if j := slices.Index(bSeeds, s); j >= 0 {
			if x := a[i] - b[j]; !math.IsNaN(x) && !math.IsInf(x, 0) {
				d = append(d, x)
			}
		}
	}
	return d
}

func rowSeeds(r *ablation.Row) ([]uint64, []float64) {
	var seeds []uint64
	var ppl []float64
	for _, s := range r.Seeds {
		seeds, ppl = append(seeds, s.Seed), append(ppl, s.Perplexity)
	}
	return seeds, ppl
}

func ablationRow(in *Input, name string) *ablation.Row {
	for i := range in.Ablation.Rows {
		if in.Ablation.Rows[i].Name == name {
			return &in.Ablation.Rows[i]
		}
	}
	return nil
}

// ablationRuns are the runs of Table 1's rows at the given seeds.
func ablationRuns(rows ...string) func(experiments.Preset, []uint64) ([]experiments.Run, error) {
	return func(p experiments.Preset, seeds []uint64) ([]experiments.Run, error) {
		defs, err := experiments.AblationRowsNamed(rows)
		if err != nil {
			return nil, err
		}
		p.Seeds = seeds
		return experiments.AblationOf(p, defs), nil
	}
}

// ablationPart is the perplexity comparison of two Table 1 rows.
func ablationPart(in *Input, a, b string) (part, *ablation.Row, bool) {
	ra, rb := ablationRow(in, a), ablationRow(in, b)
	if ra == nil || rb == nil {
		return part{}, nil, false
	}
	as, ap := rowSeeds(ra)
	bs, bp := rowSeeds(rb)
	return part{Comparison: pplComparison(a, b, table1Size(in.Preset)), Estimate: verdict.Mean(pairBySeed(as, ap, bs, bp)),
		Detail: fmt.Sprintf("%.3f vs %.3f", ra.MeanPPL, rb.MeanPPL)}, ra, true
}

// ablationPair measures "a beats b" on Table 1; a diverged seed of a
// decides it against the paper (a declared rule, not a test).
func ablationPair(a, b string) func(*Input) measurement {
	return func(in *Input) measurement {
		if in.Ablation == nil {
			return measurement{missing: "Table 1 not built"}
		}
		p, ra, ok := ablationPart(in, a, b)
		if !ok {
			return measurement{missing: "Table 1 lacks " + a + " or " + b}
		}
		m := measurement{parts: []part{p}, runs: ablationRuns(a, b)}
		if ra.Diverged > 0 {
			m.forced, m.forcedWhy = verdict.NotReproduced, fmt.Sprintf("%s diverged in %d/%d seeds", a, ra.Diverged, len(ra.Seeds))
		}
		return m
	}
}

func roUnstable(in *Input) measurement {
	if in.Ablation == nil {
		return measurement{missing: "Table 1 not built"}
	}
	ro, r := ablationRow(in, "+R+O"), ablationRow(in, "+R")
	if ro == nil || r == nil {
		return measurement{missing: "Table 1 lacks +R+O or +R"}
	}
	m := measurement{runs: ablationRuns("+R+O", "+R")}
	if ro.Diverged > 0 {
		m.forced, m.forcedWhy = verdict.Reproduced, fmt.Sprintf("+R+O diverged in %d/%d seeds (%s)", ro.Diverged, len(ro.Seeds), ro.Seeds[0].Reason)
	}
	rs, rp := rowSeeds(r)
	var rel []float64
	for _, s := range ro.Seeds {
		if j := slices.Index(rs, s.Seed); j >= 0 && !math.IsNaN(s.Perplexity) && !math.IsInf(s.Perplexity, 0) {
			rel = append(rel, 100*(s.Perplexity/rp[j]-1))
		}
	}
	if ro.Unstable > 0 {
		m.evidence = fmt.Sprintf("+R+O was unstable (train.InstabilityOf, a rule set after this claim and not part of it) in %d/%d seeds", ro.Unstable, len(ro.Seeds))
	}
	m.parts = []part{{Comparison: fmt.Sprintf("perplexity +R+O / +R − 1 (%%) @ %s", table1Size(in.Preset)),
		Estimate: verdict.Mean(rel), Detail: fmt.Sprintf("%.3f vs %.3f", ro.MeanPPL, r.MeanPPL)}}
	return m
}

func fullIsBest(in *Input) measurement {
	if in.Ablation == nil {
		return measurement{missing: "Table 1 not built"}
	}
	m := measurement{}
	var rows []string
	for _, r := range in.Ablation.Rows {
		if r.Name == rowFull {
			continue
		}
		p, _, ok := ablationPart(in, rowFull, r.Name)
		if !ok {
			return measurement{missing: "Table 1 lacks " + rowFull}
		}
		p.Detail = r.Name + ": " + p.Detail
		m.parts = append(m.parts, p)
		rows = append(rows, r.Name)
	}
	m.runs = ablationRuns(append(rows, rowFull)...)
	return m
}

// scalingRuns are Table 2's runs of the given methods at every size.
func scalingRuns(methods ...string) func(experiments.Preset, []uint64) ([]experiments.Run, error) {
	return func(p experiments.Preset, seeds []uint64) ([]experiments.Run, error) {
		p.Seeds = seeds
		all, err := experiments.Scaling(p)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(all, func(r experiments.Run) bool { return !slices.Contains(methods, r.Row) }), nil
	}
}

func everySize(a, b string) func(*Input) measurement {
	return func(in *Input) measurement {
		t := in.Scaling
		if t == nil {
			return measurement{missing: "Tables 2–3 not built"}
		}
		m := measurement{runs: scalingRuns(a, b)}
		for _, s := range t.Sizes {
			ca, cb := t.Cells[a][s.Name], t.Cells[b][s.Name]
			if ca == nil || cb == nil {
				continue
			}
			m.parts = append(m.parts, part{Comparison: pplComparison(a, b, s.Name),
				Estimate: verdict.Mean(pairBySeed(ca.Seeds, ca.PPLs, cb.Seeds, cb.PPLs)),
				Detail:   fmt.Sprintf("%s %.2f vs %.2f", s.Name, ca.MeanPPL, cb.MeanPPL)})
			if ca.Diverged > 0 && m.forced == "" {
				m.forced, m.forcedWhy = verdict.NotReproduced, fmt.Sprintf("%s diverged at %s", a, s.Name)
			}
		}
		if len(m.parts) == 0 {
			return measurement{missing: "Tables 2–3 have no size with both methods"}
		}
		return m
	}
}

// gapShrinks measures the slope of ReLoRA's relative gap to full training
// over log10 parameters: primary on the sizes' mean gaps, sensitivity on
// every (size, seed) point (see the claim's Analysis).
func gapShrinks(in *Input) measurement {
	t := in.Scaling
	if t == nil {
		return measurement{missing: "Tables 2–3 not built"}
	}
	var x, means, px, py []float64
	var within []float64 // each gap minus its size's mean, for the seeds' variance
	var ev []string
	minSeeds := math.MaxInt
	for _, s := range t.Sizes {
		r, f := t.Cells[scalingReLoRA][s.Name], t.Cells[scalingFull][s.Name]
		if r == nil || f == nil || f.Total == 0 {
			continue
		}
		var gaps []float64
		for i, seed := range r.Seeds {
			if j := slices.Index(f.Seeds, seed); j >= 0 {
				gaps = append(gaps, 100*(r.PPLs[i]/f.PPLs[j]-1))
			}
		}
		if len(gaps) == 0 {
			continue
		}
		lx := math.Log10(float64(f.Total))
		mean := stat.Mean(gaps, nil)
		x, means = append(x, lx), append(means, mean)
		for _, g := range gaps {
			px, py = append(px, lx), append(py, g)
			within = append(within, g-mean)
		}
		minSeeds = min(minSeeds, len(gaps))
		ev = append(ev, fmt.Sprintf("%s %+.2f%%", s.Name, mean))
	}
	if len(x) < 3 {
		return measurement{missing: "Tables 2–3 have fewer than 3 sizes with ReLoRA and full training"}
	}
	primary := verdict.Slope(x, means)
	primary.N = minSeeds
	primary.At = slopeAt(x, means, within, len(px)-len(x), minSeeds)
	pooled := verdict.Slope(px, py)
	return measurement{
		parts: []part{{Comparison: "slope of the ReLoRA − full relative gap on log10 parameters (size means)", Estimate: primary,
			Detail: strings.Join(ev, "; ")}},
		evidence: fmt.Sprintf("sensitivity, least squares on every (size, seed) point: %s (%d points)", pooled.Format(2), len(px)),
		runs:     scalingRuns(scalingReLoRA, scalingFull),
	}
}

// slopeAt is the size-means slope's standard error with n seeds per size:
// a size mean's variance is the sizes' own scatter about the line, σ²_L,
// plus the seeds' σ²_W / n; σ²_W comes from the gaps about their size
// means (withinDF degrees of freedom), σ²_L from the residuals of the
// means less the seeds' share of them at n0 seeds (floored at 0).
func slopeAt(x, means, within []float64, withinDF, n0 int) func(int) (float64, float64) {
	alpha, beta := stat.LinearRegression(x, means, nil, false)
	var rss, sxx float64
	mx := stat.Mean(x, nil)
	for i := range x {
		r := means[i] - (alpha + beta*x[i])
		rss += r * r
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	residVar := rss / float64(len(x)-2)
	var ss float64
	for _, w := range within {
		ss += w * w
	}
	seedVar := 0.0
	if withinDF > 0 {
		seedVar = ss / float64(withinDF)
	}
	sizeVar := math.Max(0, residVar-seedVar/float64(n0))
	return func(n int) (float64, float64) {
		return math.Sqrt((sizeVar + seedVar/float64(n)) / sxx), float64(len(x) - 2)
	}
}

func budgetTable1(in *Input) measurement {
	t := in.Budget
	if t == nil {
		return measurement{missing: "the loss-against-compute table is not built"}
	}
	var relora, full []float64
	for _, r := range t.Table1 {
		if r.Row != rowReLoRA || r.Diverged {
			continue
		}
		for _, f := range t.Table1 {
			if f.Row == rowFull && f.Seed == r.Seed && !f.Diverged {
				if v, ok := f.At(r.TotalFLOPs); ok {
					relora, full = append(relora, r.Final()), append(full, v)
				}
			}
		}
	}
	if len(relora) == 0 {
		return measurement{missing: "Table 1 has no ReLoRA and full-rank run of one seed"}
	}
	d := make([]float64, len(relora))
	for i := range d {
		d[i] = relora[i] - full[i]
	}
	return measurement{parts: []part{{Comparison: fmt.Sprintf("validation loss ReLoRA − Full-rank at ReLoRA's FLOPs @ %s", table1Size(in.Preset)),
		Estimate: verdict.Mean(d), Detail: fmt.Sprintf("%.4f vs %.4f nats/byte (%s)", stat.Mean(relora, nil), stat.Mean(full, nil), t.Table1Model)}},
		runs: ablationRuns(rowReLoRA, rowFull)}
}

func budgetEqual(in *Input) measurement {
	t := in.Budget
	if t == nil || len(t.Curves) == 0 {
		return measurement{missing: "the equal-FLOP experiment has no runs yet"}
	}
	var rr, fr *budget.Row
	for i := range t.Rows {
		switch t.Rows[i].Name {
		case experiments.RowBudgetReLoRA:
			rr = &t.Rows[i]
		case experiments.RowBudgetFull:
			fr = &t.Rows[i]
		}
	}
	if rr == nil || fr == nil {
		return measurement{missing: "the equal-FLOP experiment lacks ReLoRA or full-rank"}
	}
	d := pairBySeed(rr.Seeds, rr.Final, fr.Seeds, fr.Final)
	return measurement{
		parts: []part{{Comparison: "validation loss ReLoRA − Full-rank at equal FLOPs @ " + t.Model, Estimate: verdict.Mean(d),
			Detail: fmt.Sprintf("ReLoRA %d steps, full-rank %d, both %.3g FLOPs: %.4f vs %.4f nats/byte", rr.Steps, fr.Steps, t.Budget,
				stat.Mean(rr.Final, nil), stat.Mean(fr.Final, nil))}},
		runs: func(p experiments.Preset, seeds []uint64) ([]experiments.Run, error) {
			p.Seeds = seeds
			spec, err := experiments.Budget(p)
			if err != nil {
				return nil, err
			}
			return slices.DeleteFunc(spec.Runs, func(r experiments.Run) bool {
				return r.Row != experiments.RowBudgetReLoRA && r.Row != experiments.RowBudgetFull
			}), nil
		},
	}
}
