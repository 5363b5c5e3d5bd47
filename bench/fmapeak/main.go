//go:build amd64

// Command fmapeak measures one core's single-precision AVX2 FMA peak: a
// loop of independent 8-lane FMAs on registers (peak_amd64.s), timed by
// the process's CPU time so that other work on the core does not count.
// It prints the median GFLOP/s over rounds, the ceiling the GEMM
// benchmarks' "fraction of peak" is taken against.
//
//	taskset -c 1 go run ./bench/fmapeak -rounds 11
package main

import (
	"flag"
	"fmt"
	"runtime"
	"slices"

	"golang.org/x/sys/unix"
)

// fmaLoop runs n iterations of 12 independent VFMADD231PS (192 flops).
func fmaLoop(n int)

func cpuSeconds() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return float64(ts.Nano()) / 1e9
}

func main() {
	rounds := flag.Int("rounds", 11, "timed rounds (each ~0.2 s)")
	iters := flag.Int("iters", 100_000_000, "loop iterations a round")
	flag.Parse()
	runtime.LockOSThread()
	fmaLoop(*iters / 10) // warm up: let the core reach its clock
	var g []float64
	for range *rounds {
		t0 := cpuSeconds()
		fmaLoop(*iters)
		g = append(g, 192*float64(*iters)/(cpuSeconds()-t0)/1e9)
	}
	slices.Sort(g)
	fmt.Printf("FMA peak, 1 core, AVX2 fp32: median %.1f GFLOP/s (min %.1f, max %.1f, %d rounds)\n",
		g[len(g)/2], g[0], g[len(g)-1], len(g))
}
