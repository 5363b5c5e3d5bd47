//go:build !amd64

package peak

import "errors"

// Measure needs the AVX2 loop of peak_amd64.s; elsewhere there is no peak
// to measure.
func Measure(rounds, iters int) ([]float64, error) {
	return nil, errors.New("peak: only amd64 (AVX2 + FMA) is measured")
}

// Lanes is the width of the loop Measure would time.
var Lanes = 8
