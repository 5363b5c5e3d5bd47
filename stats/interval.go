package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the two-sided level of every interval the claims use.
const Confidence = 0.95

// Interval is a mean with a two-sided confidence interval. N is the number
// of values it rests on; with N < 2 there is no spread to estimate, and Lo
// and Hi are NaN.
type Interval struct {
	Mean, Lo, Hi float64
	N            int
}

// MeanInterval is the Student-t interval of the mean of xs:
//
//	x̄ ± t(0.975, n−1) · s / √n,  s the sample standard deviation.
//
// Over paired per-seed differences it is the paired t interval: the seed's
// shared noise (its data order and init) cancels in each difference.
func MeanInterval(xs []float64) Interval {
	iv := Interval{Mean: Mean(xs), Lo: math.NaN(), Hi: math.NaN(), N: len(xs)}
	if len(xs) < 2 {
		return iv
	}
	half := tQuantile(len(xs)-1) * stat.StdDev(xs, nil) / math.Sqrt(float64(len(xs)))
	iv.Lo, iv.Hi = iv.Mean-half, iv.Mean+half
	return iv
}

// Below says whether the whole interval lies below x (false without one).
func (iv Interval) Below(x float64) bool { return iv.N >= 2 && !math.IsNaN(iv.Hi) && iv.Hi < x }

// Above says whether the whole interval lies above x (false without one).
func (iv Interval) Above(x float64) bool { return iv.N >= 2 && !math.IsNaN(iv.Lo) && iv.Lo > x }

// Format formats the interval, e.g. "-0.018 [-0.043, 0.007]".
func (iv Interval) Format(decimals int) string {
	if math.IsNaN(iv.Lo) {
		plural := map[bool]string{true: "s"}[iv.N != 1]
		return fmt.Sprintf("%+.*f (no interval from %d value%s)", decimals, iv.Mean, iv.N, plural)
	}
	return fmt.Sprintf("%+.*f [%+.*f, %+.*f]", decimals, iv.Mean, decimals, iv.Lo, decimals, iv.Hi)
}

// tQuantile is Student's t quantile at (1+Confidence)/2 for df degrees of
// freedom (4.30 for 2, 2.78 for 4, 1.96 as df grows).
func tQuantile(df int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile((1 + Confidence) / 2)
}
