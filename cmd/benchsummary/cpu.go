package main

import (
	"os"
	"strconv"
	"strings"

	"github.com/relorago/harness/bench/peak"
)

// corePeak returns one core's fp32 peak in GFLOP/s as measured here
// (bench/peak's register-only FMA loop, the median of 5 rounds), the same
// ceiling the roofline uses, and how it was found. A nominal figure from
// /proc/cpuinfo's clock misses turbo and would let a GEMM exceed "100%".
func corePeak() (float64, string) {
	g, err := peak.Measure(5, 100_000_000)
	if err != nil {
		return 0, "not measured: " + err.Error()
	}
	return peak.Median(g), "measured, bench/peak, median of 5 rounds"
}

// gemmShare sums the flat percentages of kernels/gemm functions in
// `go tool pprof -top` output.
func gemmShare(path string) (float64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	total, found := 0.0, false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.Contains(f[len(f)-1], "kernels/gemm.") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64); err == nil {
			total += v
			found = true
		}
	}
	return total, found
}
