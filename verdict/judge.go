package verdict

import (
	"math"
)

// Alpha is the family-wise error rate: the chance that any claim of the
// family gets a wrong decisive verdict is at most Alpha.
const Alpha = 0.05

// Power is the chance at which the seed count of an undecided claim is
// planned: with that many seeds, an effect as large as the one observed
// would be decided four times in five.
const Power = 0.8

// Verdict is what the numbers say of a claim after the family's error
// control.
type Verdict string

// The four verdicts.
const (
	Reproduced    Verdict = "reproduced"     // decided on the paper's side
	NotReproduced Verdict = "not reproduced" // decided against the paper
	Inconclusive  Verdict = "inconclusive"   // undecided; more seeds within reach would likely decide it
	OutOfReach    Verdict = "out of reach"   // undecided, and the seeds it needs cost more than this scale allows
)

// Mark is the verdict with its sign for Markdown.
func (v Verdict) Mark() string {
	switch v {
	case Reproduced:
		return "✅ reproduced"
	case NotReproduced:
		return "❌ not reproduced"
	case OutOfReach:
		return "⛔ out of reach"
	}
	return "❔ inconclusive"
}

// Claim is one hypothesis of the family with what was measured for it.
type Claim struct {
	Test Test
	// Parts are the estimates the claim rests on: one, or one per size
	// for "at every size", which holds only if every part does (an
	// intersection-union test: its p-value is the largest part's, with no
	// penalty for the number of parts; deciding against the paper needs
	// one part against it, at a level shared among the parts).
	Parts []Estimate
	// Forced, when set, is a verdict a declared rule reaches without a
	// test (a run that diverged decides "+R+O is unstable"); ForcedWhy says
	// which rule.
	Forced    Verdict
	ForcedWhy string
	// UnitCost is the core-hours one more seed of every run the claim
	// rests on costs; 0 when its units cannot be bought by training
	// (timing rounds, or no cost known).
	UnitCost float64
}

// Outcome is a claim's decision within the family.
type Outcome struct {
	PFor      float64 `json:"p_for"`      // one-sided p-value of the paper's side
	PAgainst  float64 `json:"p_against"`  // one-sided p-value of the other decision
	P         float64 `json:"p"`          // the claim's p-value in the family: 2·min(PFor, PAgainst), at most 1
	PAdjusted float64 `json:"p_adjusted"` // Holm-adjusted over the family
	Verdict   Verdict `json:"verdict"`
	// Needed is the units per cell (seeds) that would decide an undecided
	// claim with probability Power at the observed effect and the family's
	// Bonferroni level (Holm's first, strictest step); 0 when decided, −1
	// when none can be planned: no spread measured yet (inconclusive), or
	// no count would decide it (out of reach). NeededHours is what the extra units cost in core-hours.
	Needed      int     `json:"seeds_needed"`
	NeededHours float64 `json:"needed_core_hours"`
}

// Judge decides every claim of the family at the family-wise level Alpha
// with Holm's step-down; an undecided claim whose extra seeds would cost
// more than reachHours core-hours is out of reach.
func Judge(family []Claim, reachHours float64) []Outcome {
	outs := make([]Outcome, len(family))
	ps := make([]float64, len(family))
	for i, c := range family {
		o := &outs[i]
		o.PFor, o.PAgainst = c.pValues()
		if c.Forced != "" {
			o.PFor, o.PAgainst = map[bool]float64{true: 0, false: 1}[c.Forced == Reproduced], map[bool]float64{true: 0, false: 1}[c.Forced == NotReproduced]
		}
		// Either decision counts, so the claim pays for two one-sided
		// tests: the two-sided convention that keeps a 95% interval and a
		// 5% test in step.
		o.P = math.Min(1, 2*math.Min(o.PFor, o.PAgainst))
		ps[i] = o.P
	}
	adj := Holm(ps)
	for i, c := range family {
		o := &outs[i]
		o.PAdjusted = adj[i]
		switch {
		case o.PAdjusted <= Alpha && o.PFor <= o.PAgainst:
			o.Verdict = Reproduced
		case o.PAdjusted <= Alpha:
			o.Verdict = NotReproduced
		default:
			o.Verdict = Inconclusive
			o.Needed = c.needed(Alpha / float64(2*len(family)))
			n := c.units()
			if o.Needed > n && c.UnitCost > 0 {
				o.NeededHours = float64(o.Needed-n) * c.UnitCost
			}
			if (o.Needed < 0 && c.hasSpread()) || (c.UnitCost > 0 && o.NeededHours > reachHours) {
				o.Verdict = OutOfReach
			}
		}
	}
	return outs
}

// pValues combines the parts' one-sided p-values (see Claim.Parts).
func (c Claim) pValues() (pFor, pAgainst float64) {
	if len(c.Parts) == 0 {
		return 1, 1
	}
	pFor, pAgainst = 0, 1
	for _, e := range c.Parts {
		f, a := c.Test.pValues(e)
		pFor, pAgainst = math.Max(pFor, f), math.Min(pAgainst, a)
	}
	return pFor, math.Min(1, float64(len(c.Parts))*pAgainst)
}

// hasSpread says whether every part has a standard error, without which
// no seed count can be planned (one seed, or nothing measured).
func (c Claim) hasSpread() bool {
	for _, e := range c.Parts {
		if !e.hasSE() {
			return false
		}
	}
	return len(c.Parts) > 0
}

// units is the fewest units any part rests on.
func (c Claim) units() int {
	n := math.MaxInt
	for _, e := range c.Parts {
		n = min(n, e.N)
	}
	if n == math.MaxInt {
		return 0
	}
	return n
}

// needed is the units per cell that decide the claim with probability
// Power at one-sided level a, at the observed effect: every part if it
// leans to the paper's side, else the cheapest part that leans against
// it (at a level shared among the parts). −1 when none would.
func (c Claim) needed(a float64) int {
	allFor := true
	for _, e := range c.Parts {
		if _, toward := c.Test.distance(e); !toward {
			allFor = false
		}
	}
	best := -1
	for _, e := range c.Parts {
		d, toward := c.Test.distance(e)
		if allFor {
			n := unitsFor(e, d, a)
			if n < 0 {
				return -1
			}
			best = max(best, n)
		} else if !toward {
			if n := unitsFor(e, d, a/float64(len(c.Parts))); n >= 0 && (best < 0 || n < best) {
				best = n
			}
		}
	}
	return best
}

// maxUnits bounds the power search; beyond it the answer is "never".
const maxUnits = 100000

// unitsFor is the smallest n at which an effect d from the boundary is
// significant at one-sided level a with probability Power:
// d / se(n) ≥ t(1−a; df) + t(Power; df). The shifted central t stands in
// for the noncentral t (within a seed or two at these sizes).
func unitsFor(e Estimate, d, a float64) int {
	if !e.hasSE() || d <= 0 {
		return -1
	}
	for n := max(2, e.N); n <= maxUnits; n = next(n) {
		se, df := e.seAt(n)
		if df < 1 || se <= 0 {
			continue
		}
		if d/se >= tQuantile(1-a, df)+tQuantile(Power, df) {
			return refine(e, d, a, n)
		}
	}
	return -1
}

// next steps the search one by one at first, then geometrically.
func next(n int) int {
	if n < 64 {
		return n + 1
	}
	return n + n/8
}

// refine walks back from a geometric step to the smallest n that passes.
func refine(e Estimate, d, a float64, n int) int {
	for n > max(2, e.N) {
		se, df := e.seAt(n - 1)
		if df < 1 || d/se < tQuantile(1-a, df)+tQuantile(Power, df) {
			break
		}
		n--
	}
	return n
}
