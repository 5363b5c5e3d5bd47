// Command fmapeak measures one core's single-precision FMA peak: a loop of
// independent 8-lane (AVX2) or, where the CPU has AVX-512F, 16-lane FMAs
// on registers (bench/peak), timed by the process's CPU time so that other
// work on the core does not count. It prints the median GFLOP/s over
// rounds, the ceiling the GEMM benchmarks' "fraction of peak" is taken
// against (cmd/roofline prints it next to the training step's GEMM rates).
//
//	taskset -c 1 go run ./bench/fmapeak -rounds 11
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/relorago/harness/bench/peak"
)

func main() {
	rounds := flag.Int("rounds", 11, "timed rounds (each ~0.2 s)")
	iters := flag.Int("iters", 100_000_000, "loop iterations a round")
	flag.Parse()
	g, err := peak.Measure(*rounds, *iters)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fmapeak:", err)
		os.Exit(1)
	}
	isa := "AVX2"
	if peak.Lanes == 16 {
		isa = "AVX-512"
	}
	fmt.Printf("FMA peak, 1 core, %s fp32: median %.1f GFLOP/s (min %.1f, max %.1f, %d rounds)\n",
		isa, peak.Median(g), g[0], g[len(g)-1], len(g))
}
