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

// FlopsPerIter is the work of one iteration of the loop Measure times: 12
// FMAs of Lanes lanes, 2 flops a lane.
func FlopsPerIter() float64 { return float64(12 * Lanes * 2) }

// The short reading taken around a measurement (Table 4's speed probes,
// bench/gostep's steps) to tell whether the host slowed the core: the
// median of ReadingRounds rounds of 50M 8-lane loop iterations' flops
// (fewer, wider iterations with AVX-512), about 0.1 s each.
const (
	ReadingRounds = 3
	readingIters  = 50_000_000
)

// Reading is one short reading of the peak in GFLOP/s; an error where the
// loop cannot run (no AVX2).
func Reading() (float64, error) {
	g, err := Measure(ReadingRounds, readingIters*8/Lanes)
	if err != nil {
		return 0, err
	}
	return Median(g), nil
}
