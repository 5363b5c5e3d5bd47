package verdict

import (
	"fmt"
	"math"
)

// Kind is what a claim asserts of its estimate θ.
type Kind string

// The kinds of test. Direction and size are separate claims: "ReLoRA is
// not better than LoRA" is a non-inferiority test, "ReLoRA is as good as
// LoRA, within a margin" an equivalence test, and a result can pass the
// first and fail the second.
const (
	// Superiority: θ lies beyond Bound on the Want side (e.g. a per-seed
	// perplexity difference below 0).
	Superiority Kind = "superiority"
	// NonInferiority: θ does not cross Bound against the Want side (e.g.
	// ReLoRA − LoRA below +1 point: ReLoRA is not better by a point). The
	// arithmetic is Superiority's; the wording and the bound differ.
	NonInferiority Kind = "non-inferiority"
	// Equivalence: |θ − Bound| < Margin, by two one-sided tests (TOST).
	Equivalence Kind = "equivalence"
)

// Side is where the paper puts θ relative to a bound.
type Side int

// The sides.
const (
	Below Side = -1
	Above Side = +1
)

// Test is a claim's test, declared before its data is read.
type Test struct {
	Kind   Kind
	Want   Side    // Superiority and NonInferiority: the paper's side of Bound
	Bound  float64 // the threshold (Equivalence: the centre of the region)
	Margin float64 // Equivalence: the region's half-width
}

// Describe says the test in words, e.g. "superiority: θ < 0".
func (t Test) Describe() string {
	switch t.Kind {
	case Equivalence:
		return fmt.Sprintf("equivalence (TOST): |θ − %g| < %g", t.Bound, t.Margin)
	}
	op := map[Side]string{Below: "<", Above: ">"}[t.Want]
	return fmt.Sprintf("%s: θ %s %g", t.Kind, op, t.Bound)
}

// pValues returns the one-sided p-values of the two decisions the test can
// reach on e: pFor, that θ is where the paper puts it, and pAgainst, that
// it is not. For a superiority test they are the two one-sided t tests of
// θ = Bound; for equivalence pFor is the TOST p-value (the larger of the
// two one-sided p-values at the region's ends) and pAgainst the p-value
// that θ lies outside the region, on the side the estimate is on.
func (t Test) pValues(e Estimate) (pFor, pAgainst float64) {
	if !e.hasSE() {
		return 1, 1
	}
	below := func(b float64) float64 { return cdf((e.Value-b)/e.SE, e.DF) } // p of "θ < b"
	switch t.Kind {
	case Equivalence:
		lo, hi := t.Bound-t.Margin, t.Bound+t.Margin
		pFor = math.Max(1-below(lo), below(hi))
		pAgainst = math.Min(below(lo), 1-below(hi))
		return pFor, pAgainst
	}
	if t.Want == Below {
		return below(t.Bound), 1 - below(t.Bound)
	}
	return 1 - below(t.Bound), below(t.Bound)
}

// distance is how far e lies from the edge of the decision it leans to,
// and which decision that is (true: the paper's side). The power analysis
// asks how many units make that distance significant.
func (t Test) distance(e Estimate) (float64, bool) {
	switch t.Kind {
	case Equivalence:
		d := t.Margin - math.Abs(e.Value-t.Bound)
		return math.Abs(d), d > 0
	}
	d := float64(t.Want) * (e.Value - t.Bound)
	return math.Abs(d), d > 0
}

// PFor is the one-sided p-value of the paper's side for one estimate.
func (t Test) PFor(e Estimate) float64 {
	p, _ := t.pValues(e)
	return p
}
