package verdict

import (
	"math"
	"testing"
)

// Fixtures from SciPy 1.10.1 (Debian python3-scipy), made by:
//
//	from scipy import stats; import numpy as np
//	d = np.array([-0.025, -0.009, -0.021])
//	stats.ttest_1samp(d, 0.0, alternative='less').pvalue         # 0.031197026629796242
//	stats.t.interval(0.95, 2, loc=d.mean(), scale=stats.sem(d))   # (-0.03901791338428029, 0.0023512467176136156)
//	x = np.array([-4.1, -9.0, -1.2, -4.5])
//	max(stats.ttest_1samp(x, -1.0, alternative='greater').pvalue,
//	    stats.ttest_1samp(x, 1.0, alternative='less').pvalue)     # TOST: 0.9473540364166568
//	min(stats.ttest_1samp(x, -1.0, alternative='less').pvalue,
//	    stats.ttest_1samp(x, 1.0, alternative='greater').pvalue)  # outside: 0.052645963583343156
//	stats.linregress([0,1,2,3,4], [0.1,1.9,4.1,5.9,8.0])         # slope 1.98, stderr 0.03464101615138122
func TestAgainstSciPy(t *testing.T) {
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.15g, want %.15g (SciPy)", name, got, want)
		}
	}
	e := Mean([]float64{-0.025, -0.009, -0.021})
	pFor, pAgainst := Test{Kind: Superiority, Want: Below}.pValues(e)
	near("paired t, less", pFor, 0.031197026629796242)
	near("paired t, greater", pAgainst, 1-0.031197026629796242)
	lo, hi := e.Interval(0.95)
	near("interval low", lo, -0.03901791338428029)
	near("interval high", hi, 0.0023512467176136156)

	x := Mean([]float64{-4.1, -9.0, -1.2, -4.5})
	pFor, pAgainst = Test{Kind: Equivalence, Margin: 1}.pValues(x)
	near("TOST", pFor, 0.9473540364166568)
	near("outside the margin", pAgainst, 0.052645963583343156)

	s := Slope([]float64{0, 1, 2, 3, 4}, []float64{0.1, 1.9, 4.1, 5.9, 8.0})
	near("slope", s.Value, 1.98)
	near("slope se", s.SE, 0.03464101615138122)
}

// Holm by hand: p 0.01, 0.04, 0.03, 0.005 sort to 0.005·4 = 0.02,
// 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → 0.06 (monotone).
func TestHolmByHand(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("Holm = %v, want %v", got, want)
		}
	}
	if got := Holm([]float64{0.5, 0.9}); got[0] != 1 || got[1] != 1 {
		t.Errorf("adjusted p-values must be capped at 1: %v", got)
	}
}

// The seed counts against SciPy's exact noncentral t power
// (stats.nct): effect 0.018, per-seed sd 0.0094, one-sided level 0.05/38 → 9
// seeds; effect 0.5 sd 1 level 0.025 → 34; effect 0.2 sd 1 level
// 0.05/34 → 369. The shifted central t may differ by a seed.
//
//	for n in range(2, 10000):
//	    nc = d/(s/sqrt(n)); crit = stats.t.ppf(1-a, n-1)
//	    if 1-stats.nct.cdf(crit, n-1, nc) >= 0.8: return n
func TestSeedsNeededAgainstNoncentralT(t *testing.T) {
	for _, c := range []struct {
		d, sd, a float64
		want     int
	}{{0.018, 0.0094, 0.05 / 38, 9}, {0.5, 1, 0.025, 34}, {0.2, 1, 0.05 / 34, 369}} {
		e := Estimate{Value: -c.d, SE: c.sd / math.Sqrt(3), DF: 2, N: 3}
		got := unitsFor(e, c.d, c.a)
		if got < c.want-1 || got > c.want+1 {
			t.Errorf("effect %g sd %g level %g: %d seeds, want %d ± 1", c.d, c.sd, c.a, got, c.want)
		}
	}
}

// Direction and size are separate claims: a 4.7-point deficit with a wide
// interval is "not better" (non-inferiority at +1) but not "as close as
// the paper" (equivalence within ±1).
func TestDirectionAndSizeAreSeparateClaims(t *testing.T) {
	deficit := Mean([]float64{-2.1, -7.9, -1.0, -6.5, -5.9, -4.8})
	fam := []Claim{
		{Test: Test{Kind: NonInferiority, Want: Below, Bound: 1}, Parts: []Estimate{deficit}},
		{Test: Test{Kind: Equivalence, Margin: 1}, Parts: []Estimate{deficit}},
	}
	outs := Judge(fam, 1e9)
	if outs[0].Verdict != Reproduced {
		t.Errorf("not better: %+v, want reproduced", outs[0])
	}
	if outs[1].Verdict != NotReproduced {
		t.Errorf("as close as the paper: %+v, want not reproduced (the deficit is well outside ±1)", outs[1])
	}
}

// Error control: a claim decided alone at 5% is not decided in a family
// of ten where its p-value does not survive Holm's first step.
func TestFamilyControlsTheError(t *testing.T) {
	marginal := Estimate{Value: -1, SE: 0.4, DF: 9, N: 10} // two-sided p ≈ 0.034
	alone := Judge([]Claim{{Test: Test{Kind: Superiority, Want: Below}, Parts: []Estimate{marginal}}}, 1e9)
	if alone[0].Verdict != Reproduced {
		t.Fatalf("alone: %+v, want reproduced", alone[0])
	}
	fam := make([]Claim, 10)
	for i := range fam {
		fam[i] = Claim{Test: Test{Kind: Superiority, Want: Below}, Parts: []Estimate{marginal}}
	}
	for i, o := range Judge(fam, 1e9) {
		if o.Verdict == Reproduced || o.PAdjusted <= Alpha {
			t.Fatalf("claim %d in a family of 10: %+v, want undecided", i, o)
		}
		if o.Needed <= 10 {
			t.Errorf("claim %d: needs %d seeds, want more than the 10 it has", i, o.Needed)
		}
	}
}

// "At every size" holds only if every size does; one size against the
// paper decides it against.
func TestEverySizeIsAnIntersection(t *testing.T) {
	clear := Estimate{Value: -1, SE: 0.05, DF: 4, N: 5}
	unclear := Estimate{Value: -0.01, SE: 0.05, DF: 4, N: 5}
	against := Estimate{Value: +1, SE: 0.05, DF: 4, N: 5}
	sup := Test{Kind: Superiority, Want: Below}
	outs := Judge([]Claim{
		{Test: sup, Parts: []Estimate{clear, clear}, UnitCost: 1},
		{Test: sup, Parts: []Estimate{clear, unclear}, UnitCost: 1},
		{Test: sup, Parts: []Estimate{clear, against}, UnitCost: 1},
	}, 100)
	want := []Verdict{Reproduced, OutOfReach, NotReproduced}
	for i := range want {
		if outs[i].Verdict != want[i] {
			t.Errorf("claim %d: %s, want %s (%+v)", i, outs[i].Verdict, want[i], outs[i])
		}
	}
}

// A claim is out of reach when the seeds it needs cost more than the
// stated budget, inconclusive when they do not.
func TestOutOfReachIsABudget(t *testing.T) {
	c := Claim{Test: Test{Kind: Superiority, Want: Below}, Parts: []Estimate{{Value: -0.2, SE: 1 / math.Sqrt(3), DF: 2, N: 3}}, UnitCost: 0.5}
	o := Judge([]Claim{c}, 1000)[0]
	if o.Verdict != Inconclusive || o.Needed < 150 || o.NeededHours != float64(o.Needed-3)*0.5 {
		t.Errorf("within a 1000 h reach: %+v", o)
	}
	if o := Judge([]Claim{c}, 10)[0]; o.Verdict != OutOfReach {
		t.Errorf("beyond a 10 h reach: %+v, want out of reach", o)
	}
	forced := Judge([]Claim{{Forced: Reproduced, ForcedWhy: "diverged"}}, 10)[0]
	if forced.Verdict != Reproduced {
		t.Errorf("a rule's verdict: %+v", forced)
	}
}
