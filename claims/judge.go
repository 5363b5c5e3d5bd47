package claims

import (
	"slices"

	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/verdict"
)

// Result is a declared claim as measured and judged.
type Result struct {
	Claim
	Parts     []part
	Outcome   verdict.Outcome
	ForcedWhy string
	Evidence  string
	Missing   string  // why the claim was not measured ("" when it was)
	UnitHours float64 // core-hours of one more seed of its runs (0: cannot be trained or no cost known)
	runs      func(experiments.Preset, []uint64) ([]experiments.Run, error)
}

// Units is the fewest seeds (or timing rounds) any of its parts rests on.
func (r Result) Units() int {
	n := -1
	for _, p := range r.Parts {
		if n < 0 || p.Estimate.N < n {
			n = p.Estimate.N
		}
	}
	return max(n, 0)
}

// Judged is the whole family's outcome.
type Judged struct {
	Results    []Result
	runSeconds map[string]float64 // Input.RunSeconds, for planning
}

// Judge measures every claim of the family on in and decides them
// together (verdict.Judge: Holm over the whole family, unmeasured claims
// included at p = 1, so a missing table never loosens the others).
func Judge(in *Input) *Judged {
	j := &Judged{runSeconds: in.RunSeconds}
	fam := make([]verdict.Claim, len(Family))
	for i, c := range Family {
		m := c.measure(in)
		r := Result{Claim: c, Parts: m.parts, ForcedWhy: m.forcedWhy, Evidence: m.evidence, Missing: m.missing, runs: m.runs}
		if m.runs != nil {
			r.UnitHours = in.unitHours(m.runs)
		}
		var parts []verdict.Estimate
		for _, p := range m.parts {
			parts = append(parts, p.Estimate)
		}
		fam[i] = verdict.Claim{Test: c.Test, Parts: parts, Forced: m.forced, ForcedWhy: m.forcedWhy, UnitCost: r.UnitHours}
		j.Results = append(j.Results, r)
	}
	for i, o := range verdict.Judge(fam, ReachHours) {
		j.Results[i].Outcome = o
	}
	return j
}

// unitHours is what one more seed of a claim's runs costs, in core-hours:
// each distinct run once, at its mean measured wall time; 0 when any of
// them has none.
func (in *Input) unitHours(runs func(experiments.Preset, []uint64) ([]experiments.Run, error)) float64 {
	rs, err := runs(in.Preset, []uint64{1})
	if err != nil || len(rs) == 0 {
		return 0
	}
	var seen []string
	total := 0.0
	for _, r := range rs {
		k := SeedlessHash(r.Config)
		if slices.Contains(seen, k) {
			continue
		}
		seen = append(seen, k)
		s, ok := in.RunSeconds[k]
		if !ok {
			return 0
		}
		total += s
	}
	return total / 3600
}

// Counts returns how many claims have each verdict.
func (j *Judged) Counts() map[verdict.Verdict]int {
	n := map[verdict.Verdict]int{}
	for _, r := range j.Results {
		n[r.Outcome.Verdict]++
	}
	return n
}

// Of returns the results whose claims come from source.
func (j *Judged) Of(source string) []Result {
	var out []Result
	for _, r := range j.Results {
		if r.Source == source {
			out = append(out, r)
		}
	}
	return out
}
