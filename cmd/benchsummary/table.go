package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// printTable writes one backend's steps, grouped by thread count, full-rank
// first. "vs full" is the ReLoRA step's tokens/s over the full-rank step's
// at the same thread count; "FLOP bound" is the same ratio of the FLOP
// model's work per step (full/ReLoRA), the speed-up equal efficiency gives.
func printTable(w io.Writer, backend string, runs map[string][]result, peak float64) {
	names := trainSteps(runs)
	if len(names) == 0 {
		fmt.Fprintf(w, "%s: no TrainStep benchmarks\n", backend)
		return
	}
	fmt.Fprintf(w, "\nbackend %s (medians of %d runs each)\n", backend, len(runs[names[0]]))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tthreads\ttok/s\tGFLOP/s\tcpu ms\tB/step\tvs full\tFLOP bound\tGEMM GFLOP/s\t% peak\tGEMM share\t")
	for _, name := range names {
		kind, threads := splitName(name)
		r := runs[name]
		tok := median(r, "tok/s")
		flops := median(r, "GFLOP/s") * median(r, "ns/op") // FLOPs per step
		vs, bound := "", ""
		if full, ok := runs["TrainStep/full/threads="+threads]; ok && kind != "full" {
			vs = fmt.Sprintf("%.2fx", tok/median(full, "tok/s"))
			bound = fmt.Sprintf("%.2fx", median(full, "GFLOP/s")*median(full, "ns/op")/flops)
		}
		g := median(r, "gemm-GFLOP/s")
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1f\t%.0f\t%s\t%s\t%s\t%.1f\t%.0f%%\t%.0f%%\t\n",
			kind, threads, tok, median(r, "GFLOP/s"), median(r, "cpu-ms/op"), bytes(median(r, "B/op")),
			vs, bound, g, 100*g/peak, median(r, "gemm-%"))
	}
	tw.Flush()
}

// trainSteps returns the TrainStep benchmark names ordered by thread count,
// then full-rank first, then ReLoRA by rank (largest first), composed before fused.
func trainSteps(runs map[string][]result) []string {
	var names []string
	for n := range runs {
		if strings.HasPrefix(n, "TrainStep/") {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		ka, ta := splitName(a)
		kb, tb := splitName(b)
		if ta != tb {
			return strings.Compare(ta, tb)
		}
		return strings.Compare(sortKey(ka), sortKey(kb))
	})
	return names
}

// sortKey orders step kinds: full, then relora-r32, relora-r32-fused, relora-r8...
func sortKey(kind string) string {
	if kind == "full" {
		return ""
	}
	var r int
	fmt.Sscanf(strings.TrimPrefix(kind, "relora-r"), "%d", &r)
	return fmt.Sprintf("%06d%s", 1000000-r, kind)
}

// splitName turns "TrainStep/relora-r8/threads=1" into ("relora-r8", "1").
func splitName(name string) (kind, threads string) {
	parts := strings.Split(name, "/")
	kind = parts[1]
	if len(parts) > 2 {
		threads = strings.TrimPrefix(parts[2], "threads=")
	}
	return kind, threads
}

// bytes formats a byte count compactly.
func bytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}
