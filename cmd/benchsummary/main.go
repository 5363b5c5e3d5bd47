// Command benchsummary turns the `go test -bench TrainStep` output of one or
// more GEMM backends into the compact table `make bench` prints: per step
// kind, the medians over repeated runs of tokens/s, GFLOP/s (FLOP model),
// CPU time and bytes allocated per step, the ReLoRA/full-rank ratio, and the
// GEMMs' own rate against the core's fp32 peak and their share of the step.
//
// Usage:
//
//	benchsummary [-pprof top.txt] backend=bench.txt [backend=bench.txt ...]
//
// top.txt is `go tool pprof -top` output of a profiled step; the share of
// samples in kernels/gemm is printed next to the benchmarks' own timing.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	pprofTop := flag.String("pprof", "", "`file` with `go tool pprof -top` output of a profiled step")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: benchsummary [-pprof top.txt] backend=bench.txt ...")
		os.Exit(2)
	}
	peak, clock := corePeak()
	for _, arg := range flag.Args() {
		backend, path, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "benchsummary: %q is not backend=file\n", arg)
			os.Exit(2)
		}
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchsummary:", err)
			os.Exit(1)
		}
		runs := parse(f)
		f.Close()
		printTable(os.Stdout, backend, runs, peak)
	}
	fmt.Printf("fp32 peak of one core: %.1f GFLOP/s (%s)\n", peak, clock)
	if *pprofTop != "" {
		if share, ok := gemmShare(*pprofTop); ok {
			fmt.Printf("pprof (%s): %.1f%% of samples in kernels/gemm\n", *pprofTop, share)
		}
	}
}

// result is one benchmark line: its metrics by unit ("ns/op", "tok/s", ...).
type result map[string]float64

// benchLine matches `BenchmarkName[-P]  N  value unit  value unit ...`.
var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(-\d+)?\s+\d+\s+(.*)$`)

// parse collects every run of every benchmark, by name without the
// Benchmark prefix and the -GOMAXPROCS suffix.
func parse(r io.Reader) map[string][]result {
	runs := map[string][]result{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		fields := strings.Fields(m[3])
		res := result{}
		for i := 0; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				res[fields[i+1]] = v
			}
		}
		runs[m[1]] = append(runs[m[1]], res)
	}
	return runs
}

// median returns the median of one metric over the runs (0 if absent).
func median(runs []result, unit string) float64 {
	var v []float64
	for _, r := range runs {
		if x, ok := r[unit]; ok {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
