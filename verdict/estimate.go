// Package verdict decides a family of claims: each claim's test on its
// estimate (superiority, non-inferiority or equivalence), Holm's step-down
// over the whole family, and the seeds a claim still needs. It knows
// nothing of tables or runs; package claims declares the family and
// measures it.
package verdict

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the two-sided level of the raw intervals the report prints.
const Confidence = 0.95

// Estimate is one quantity a claim is judged on (a mean per-seed
// difference, a slope, a ratio) with its standard error and degrees of
// freedom, so that any test or interval can be computed from it.
type Estimate struct {
	Label string  // which part of a claim it is, e.g. "0.4M"; "" for a claim of one part
	Value float64 // the point estimate
	SE    float64 // its standard error (NaN when N is too small for one)
	DF    float64 // the t distribution's degrees of freedom
	N     int     // the units it rests on (seeds or timing rounds)
	// At gives the standard error and degrees of freedom the estimate
	// would have with n units per cell, at the spread measured now: the
	// power analysis asks it. Nil means SE·√(N/n) with n−1 degrees of
	// freedom, a mean over n units.
	At func(n int) (se, df float64) `json:"-"`
}

// Mean is the estimate of the mean of xs with the Student-t standard error
// s/√n (n−1 degrees of freedom). Over paired per-seed differences it is the
// paired t test's: each seed's shared noise (data order, initialisation)
// cancels in its difference.
func Mean(xs []float64) Estimate {
	e := Estimate{Value: math.NaN(), SE: math.NaN(), DF: float64(len(xs) - 1), N: len(xs)}
	if len(xs) == 0 {
		return e
	}
	e.Value = stat.Mean(xs, nil)
	if len(xs) >= 2 {
		e.SE = stat.StdDev(xs, nil) / math.Sqrt(float64(len(xs)))
	}
	return e
}

// Slope is the least-squares slope of y on x with its standard error from
// the residuals (n−2 degrees of freedom).
func Slope(x, y []float64) Estimate {
	n := len(x)
	e := Estimate{Value: math.NaN(), SE: math.NaN(), DF: float64(n - 2), N: n}
	if n < 2 || len(y) != n {
		return e
	}
	_, e.Value = stat.LinearRegression(x, y, nil, false)
	if n < 3 {
		return e
	}
	mx := stat.Mean(x, nil)
	var sxx, rss float64
	alpha, beta := stat.LinearRegression(x, y, nil, false)
	for i := range x {
		sxx += (x[i] - mx) * (x[i] - mx)
		r := y[i] - (alpha + beta*x[i])
		rss += r * r
	}
	e.SE = math.Sqrt(rss / float64(n-2) / sxx)
	return e
}

// Interval is the two-sided interval at level conf (NaN bounds without a
// standard error).
func (e Estimate) Interval(conf float64) (lo, hi float64) {
	if !e.hasSE() {
		return math.NaN(), math.NaN()
	}
	h := tQuantile(1-(1-conf)/2, e.DF) * e.SE
	return e.Value - h, e.Value + h
}

// Format prints the estimate and its 95% interval, e.g.
// "-0.018 [-0.043, +0.007]", or says why there is none.
func (e Estimate) Format(decimals int) string {
	if !e.hasSE() {
		plural := map[bool]string{true: "s"}[e.N != 1]
		return fmt.Sprintf("%+.*f (no interval from %d value%s)", decimals, e.Value, e.N, plural)
	}
	lo, hi := e.Interval(Confidence)
	return fmt.Sprintf("%+.*f [%+.*f, %+.*f]", decimals, e.Value, decimals, lo, decimals, hi)
}

func (e Estimate) hasSE() bool {
	return e.DF >= 1 && e.SE >= 0 && !math.IsNaN(e.SE) && !math.IsInf(e.SE, 0) && !math.IsNaN(e.Value)
}

// seAt is At, or a mean's scaling of the present standard error.
func (e Estimate) seAt(n int) (se, df float64) {
	if e.At != nil {
		return e.At(n)
	}
	return e.SE * math.Sqrt(float64(e.N)/float64(n)), float64(n - 1)
}

// cdf is P(T ≤ t) for Student's t with df degrees of freedom.
func cdf(t, df float64) float64 { return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.CDF(t) }

func tQuantile(p, df float64) float64 { return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p) }
