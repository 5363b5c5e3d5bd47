// Package peak measures one core's single-precision FMA peak, the ceiling
// the GEMM rates of `make bench` are compared with. It is a package so that
// bench/fmapeak (the peak alone) and cmd/roofline (the peak next to the
// step's GEMM rates) time the very same loop.
package peak

import "slices"

// Median returns the median of per-round rates (0 for none).
func Median(gflops []float64) float64 {
	s := slices.Sorted(slices.Values(gflops))
	n := len(s)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
