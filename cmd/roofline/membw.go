package main

import (
	"fmt"
	"io"

	"github.com/relorago/harness/bench/elementwise"
	"github.com/relorago/harness/bench/peak"
	"github.com/relorago/harness/bench/stream"
	"github.com/relorago/harness/throughput"
	"github.com/relorago/harness/train"
)

// The elementwise section: the step's fused elementwise passes
// (bench/elementwise) in GB/s against the machine's stream bandwidth
// (bench/stream), the memory-bound counterpart of the GEMM table.

// streamRounds is bench/stream's timed rounds (about 30 ms each a kernel
// and thread count on 3 × 64 MiB).
const streamRounds = 5

// memSection measures the stream bandwidth, then each pass at each width
// on one thread, printing as it goes.
func memSection(w io.Writer, p string, ws []throughput.Width, cfgs []train.Config, rounds int) {
	llc, llcErr := stream.LastLevelCache()
	var one, two stream.Rates
	var err error
	if one, err = stream.Measure(stream.DefaultFloats, 1, streamRounds); err == nil {
		two, err = stream.Measure(stream.DefaultFloats, 2, streamRounds)
	}
	printMemHeader(w, p, rounds, one, two, err, llc, llcErr)
	triad := stream.Best(one.Triad)
	for i, wd := range ws {
		cfg := cfgs[i]
		var stepMs float64
		for _, c := range elementwise.Cases(elementwise.NewShape(cfg.Model, cfg.Batch)) {
			r := elementwise.Measure(c, rounds)
			ms := r.PassSec * 1e3 * float64(c.PerStep)
			stepMs += ms
			printMemRow(w, wd.Dim, c, r, ms, triad, llc)
		}
		fmt.Fprintf(w, memSumFmt, wd.Dim, "all passes", "", "", "", "", stepMs)
	}
	printMemNotes(w)
}

func printMemHeader(w io.Writer, p string, rounds int, one, two stream.Rates, err error, llc int64, llcErr error) {
	fmt.Fprintf(w, "\nElementwise passes against memory bandwidth, 1 thread: the %s preset's step at each width\n"+
		"(bench/elementwise: the ops' loops over the vecmath kernels); best and median of %d timed\n"+
		"rounds of at least 64 MiB of traffic each.\n", p, rounds)
	if err != nil {
		fmt.Fprintf(w, "Stream bandwidth: not measured (%v); the \"of triad\" column is empty\n", err)
	} else {
		fmt.Fprintf(w, "Stream bandwidth (bench/stream: 3 × %d MiB float32, wall clock), best (median) of %d rounds, GB/s:\n"+
			"  copy  1 thread %5.1f (%5.1f)   2 threads %5.1f (%5.1f)\n"+
			"  triad 1 thread %5.1f (%5.1f)   2 threads %5.1f (%5.1f)\n",
			stream.DefaultFloats*4>>20, streamRounds,
			stream.Best(one.Copy), peak.Median(one.Copy), stream.Best(two.Copy), peak.Median(two.Copy),
			stream.Best(one.Triad), peak.Median(one.Triad), stream.Best(two.Triad), peak.Median(two.Triad))
	}
	if llcErr != nil {
		fmt.Fprintf(w, "Last-level cache: unknown (%v); the \">LLC\" column is empty\n", llcErr)
	} else {
		fmt.Fprintf(w, "Last-level cache: %d MiB (cpu0's, from sysfs)\n", llc>>20)
	}
	fmt.Fprintf(w, "\n"+memHeadFmt, "d", "pass", "per step", "set MiB", ">LLC", "µs/pass", "ms/step", "GB/s best", "GB/s med", "of triad")
}

const (
	memHeadFmt = "%5s  %-12s %8s %8s %5s %10s %8s %10s %9s %9s\n"
	memRowFmt  = "%5d  %-12s %8d %8.1f %5s %10.1f %8.2f %10.1f %9.1f %9s\n"
	memSumFmt  = "%5d  %-12s %8s %8s %5s %10s %8.2f\n"
)

// printMemRow prints one pass; triad or llc 0 leaves its column empty.
func printMemRow(w io.Writer, d int, c elementwise.Case, r elementwise.Result, stepMs, triad float64, llc int64) {
	ofTriad, big := "-", "-"
	if triad > 0 {
		ofTriad = fmt.Sprintf("%.2f", r.GBs[len(r.GBs)-1]/triad)
	}
	if llc > 0 && c.Footprint > llc {
		big = "yes"
	}
	fmt.Fprintf(w, memRowFmt, d, c.Name, c.PerStep, float64(c.Footprint)/(1<<20), big, r.PassSec*1e6, stepMs,
		r.GBs[len(r.GBs)-1], peak.Median(r.GBs), ofTriad)
}

func printMemNotes(w io.Writer) {
	fmt.Fprint(w, `
How: bytes are counted as STREAM counts them: each array a pass reads once and each it
writes once (read and written: twice), a gain or table every row shares once, the line a
store fetches first (write-allocate) not at all; GB/s = those bytes over the pass's wall
time (1e9 bytes). "of triad" divides the best GB/s by the 1-thread triad's best. Triad
(a = b + 3·c, vecmath.AddScaled) pays write-allocate on a, as the passes that write fresh
arrays do; passes that write what they read (AdamW's w, m, v; the in-place softmax) do
not, so their rate can pass triad's from memory too. "set MiB" is the pass's working set;
">LLC" marks the sets larger than the last-level cache, whose repeated passes must come
from memory; smaller ones are timed from cache (in a step, other work runs between
passes, so there they may not be). ms/step = median pass time × the passes a full-rank
step runs (per step: 2 norms a block and the final one; q and k rotated forward and back;
one AdamW update of every parameter); "all passes" sums them, a part of the roofline's
rest ms. RMSNorm's and the softmax backward's row sums are scalar (their order is the
result's rounding), four rows side by side, and run inside the passes' time.
`)
}
