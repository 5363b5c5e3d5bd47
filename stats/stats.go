// Package stats holds the few summary statistics the tables report over seeds.
package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
)

// Mean returns the arithmetic mean (NaN for no values), summed in index
// order. Not gonum's stat.Mean on purpose: its floats.Sum keeps several
// partial sums in assembly, whose rounding differs in the last bit, and
// result.json's final_train_loss (a mean) must stay bit for bit what the
// committed run records hold.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Std returns the sample standard deviation (n−1 denominator; 0 for fewer
// than two values, where spread is unknown rather than zero — callers show n).
func Std(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	return stat.StdDev(xs, nil)
}

// PlusMinus formats mean ± std with the given decimals, or just the mean for
// a single value.
func PlusMinus(xs []float64, decimals int) string {
	if len(xs) == 0 {
		return "–"
	}
	if len(xs) == 1 {
		return fmt.Sprintf("%.*f", decimals, xs[0])
	}
	return fmt.Sprintf("%.*f ± %.*f", decimals, Mean(xs), decimals, Std(xs))
}

// MovingAverage returns the trailing mean over `window` values at each index.
func MovingAverage(xs []float64, window int) []float64 {
	out := make([]float64, len(xs))
	sum := 0.0
	for i, x := range xs {
		sum += x
		if i >= window {
			sum -= xs[i-window]
		}
		out[i] = sum / float64(min(i+1, window))
	}
	return out
}
