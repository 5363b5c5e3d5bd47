package main

import (
	"fmt"
	"io"

	"github.com/relorago/harness/bench/peak"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/kernels/gemm"
)

// printHeader says what is measured and how, so the table reads on its own.
func printHeader(w io.Writer, p experiments.Preset, rounds int) {
	m := p.Base.Model
	fmt.Fprintf(w, "Roofline of one training step on 1 core (GOMAXPROCS 1): the %s preset's model (%d layers,\n"+
		"batch %d × %d tokens) at Table 4's widths (ffn ≈ 2.75·d), full-rank and ReLoRA after its warm\n"+
		"start (r = d/8, fused LoRA op); %d untimed steps, then medians over %d timed step(s).\n",
		p.Name, m.Layers, p.Base.Batch, m.SeqLen, untimed, rounds)
}

// printPeak prints the FMA peak line (bench/peak), or why there is none.
func printPeak(w io.Writer, g []float64, err error) {
	if err != nil {
		fmt.Fprintf(w, "FMA peak: not measured (%v); the \"of peak\" column is empty\n", err)
		return
	}
	fmt.Fprintf(w, "FMA peak, 1 core, %d-lane fp32 (bench/peak: register-only FMA loop, process CPU time): "+
		"median %.1f GFLOP/s (min %.1f, max %.1f, %d round(s)); GEMM micro-kernel %s\n\n",
		peak.Lanes, peak.Median(g), g[0], g[len(g)-1], len(g), gemm.MicroKernel())
}

// columns: width, step kind, then the measurement (kind's fields).
const (
	headFmt = "%5s  %-12s %10s %9s %9s %6s %10s %8s %9s %12s %9s\n"
	rowFmt  = "%5d  %-12s %10.1f %9.1f %9.1f %5.0f%% %10.1f %8s %9.2f %12.0f %9.1f\n"
)

func printColumns(w io.Writer) {
	fmt.Fprintf(w, headFmt, "d", "step", "step ms", "GEMM ms", "rest ms", "GEMM%", "GEMM GF/s", "of peak",
		"cpu/wall", "allocs/step", "KB/step")
}

// printRow prints one step kind at one width; peakGFLOPs 0 leaves "of
// peak" empty.
func printRow(w io.Writer, d int, k kind, peakGFLOPs float64) {
	ofPeak := "-"
	if peakGFLOPs > 0 {
		ofPeak = fmt.Sprintf("%.0f%%", 100*k.gemmGFLOPs/peakGFLOPs)
	}
	fmt.Fprintf(w, rowFmt, d, k.name, k.stepMs, k.gemmMs, k.restMs, 100*k.gemmMs/k.stepMs, k.gemmGFLOPs, ofPeak,
		k.cpuPerWall, k.allocs, k.bytes/1024)
}

// busyBelow is the cpu/wall under which the notes warn that the machine
// was busy: a quiet core gives 0.97–1.00.
const busyBelow = 0.9

// printNotes explains the method after the table, and warns when a row's
// cpu/wall says the core was shared.
func printNotes(w io.Writer, minCPUPerWall float64) {
	fmt.Fprint(w, `
How: GEMM ms is the time of the kernels/gemm calls inside the step, each call timed by
the gemm package's accounting (gemm.EnableStats: a wall clock read before and after every
Sgemm/SgemmTri call, ~100 ns a call); rest ms = step ms − GEMM ms (embeddings, norms,
rotary, softmax, SwiGLU, cross-entropy, clipping, AdamW, autograd bookkeeping). GEMM GF/s
is the FLOPs those calls did (2·m·n·k; attention's skipped triangle not counted) over their
time; "of peak" divides it by the FMA peak above. Times are wall clock: cpu/wall (process
CPU time over wall time of the timed steps) well under 1 means other work took the core,
and the wall-clock rates are then low. allocs/step and KB/step: heap objects and bytes per
timed step (runtime.MemStats), after the untimed steps have built the arena and the
optimizer state; they are spago's, made anew every step: per operator the ag.Operator,
the channel and the goroutine of its backward, and one in ag.Backward (go test
-memprofile on BenchmarkTrainStep shows them; docs/speed.md, "Allocations").
`)
	if minCPUPerWall < busyBelow {
		fmt.Fprintf(w, "\nWarning: cpu/wall went down to %.2f: the machine was busy; measure again on a quiet one.\n", minCPUPerWall)
	}
}
