package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// corePeak returns one core's fp32 peak in GFLOP/s, 2 FMA units × 8 lanes ×
// 2 flops per cycle (AVX2+FMA, as on this EPYC), at the clock
// /proc/cpuinfo reports, and that clock as text. Turbo can run above it,
// so a GEMM can exceed "100%" of this figure.
func corePeak() (float64, string) {
	mhz := 0.0
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "cpu MHz" {
				mhz, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
				break
			}
		}
	}
	if mhz == 0 {
		return 0, "unknown clock"
	}
	return mhz / 1e3 * 32, strconv.FormatFloat(mhz, 'f', 0, 64) + " MHz (/proc/cpuinfo)"
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
