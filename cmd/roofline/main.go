// Command roofline prints how close the training step's GEMMs run to this
// core's measured FMA peak, and how the step's time splits between the
// GEMMs and the rest, at each width of Table 4 (d 64–1024): the full-rank
// step and the ReLoRA step (r = d/8, fused LoRA op) on one core, with the
// heap allocations a step makes. `make bench` runs it last. The defaults
// step each model 5 times, about 90 s on a quiet machine (by Table 4's step
// times), two thirds of it at d 1024; -rounds 1 or -widths cut it.
//
// A second section times the step's fused elementwise passes (RMSNorm,
// SwiGLU, the causal softmax, rotary, AdamW) at the same widths in GB/s
// against the machine's stream bandwidth (membw.go), a few seconds more;
// -mem-rounds 0 leaves it out, -elementwise-only prints only it.
//
//	go run ./cmd/roofline [-widths 64,128] [-rounds 3] [-peak-rounds 5] [-mem-rounds 3] [-elementwise-only]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/relorago/harness/bench/peak"
	"github.com/relorago/harness/experiments"
	"github.com/relorago/harness/throughput"
	"github.com/relorago/harness/train"
)

// presetName is the preset whose model is widened: the tiny preset's
// opticks corpus loads in milliseconds, and its depth, batch and sequence
// length are the default preset's, so the shapes are Table 4's.
const presetName = "tiny"

func main() {
	widths := flag.String("widths", "", "comma-separated widths (default: Table 4's, 64,128,256,512,1024)")
	rounds := flag.Int("rounds", 3, fmt.Sprintf("timed steps per width and step kind, after %d untimed steps", untimed))
	peakRounds := flag.Int("peak-rounds", 5, "timed rounds of the FMA peak loop (~0.2 s each)")
	memRounds := flag.Int("mem-rounds", 3, "timed rounds of each elementwise pass (0: no elementwise section)")
	memOnly := flag.Bool("elementwise-only", false, "print only the elementwise section (no steps, no FMA peak)")
	flag.Parse()
	if *rounds < 1 || *peakRounds < 1 || *memRounds < 0 || (*memOnly && *memRounds == 0) {
		fail(fmt.Errorf("-rounds and -peak-rounds must be at least 1, -mem-rounds at least 0 (1 with -elementwise-only)"))
	}
	dims, err := parseWidths(*widths)
	if err != nil {
		fail(err)
	}
	p, err := experiments.Get(presetName)
	if err != nil {
		fail(err)
	}
	ws, err := throughput.Widths(p, dims)
	if err != nil {
		fail(err)
	}
	// One core: the peak is one core's, and a second P would let the
	// garbage collector work beside the step instead of inside its time.
	runtime.GOMAXPROCS(1)
	cfgs := make([]train.Config, len(ws))
	for i, w := range ws {
		if cfgs[i], err = w.Config(p); err != nil {
			fail(err)
		}
	}
	if !*memOnly {
		steps(p, ws, cfgs, *rounds, *peakRounds)
	}
	if *memRounds > 0 {
		memSection(os.Stdout, p.Name, ws, cfgs, *memRounds)
	}
}

// steps prints the FMA peak and the step table, GEMM against the rest.
func steps(p experiments.Preset, ws []throughput.Width, cfgs []train.Config, rounds, peakRounds int) {
	g, err := peak.Measure(peakRounds, 100_000_000)
	peakGFLOPs := peak.Median(g)
	printHeader(os.Stdout, p, rounds)
	printPeak(os.Stdout, g, err)
	printColumns(os.Stdout)
	minCPUPerWall := 1.0
	for i, w := range ws {
		for _, rank := range []int{0, w.MainRank()} {
			k, err := measure(cfgs[i], rank, rounds)
			if err != nil {
				fail(fmt.Errorf("d %d, rank %d: %w", w.Dim, rank, err))
			}
			k.name = "full-rank"
			if rank > 0 {
				k.name = "ReLoRA r=" + strconv.Itoa(rank)
			}
			printRow(os.Stdout, w.Dim, k, peakGFLOPs)
			minCPUPerWall = min(minCPUPerWall, k.cpuPerWall)
			runtime.GC() // give a d 1024 model's arena back before the next is built
		}
	}
	printNotes(os.Stdout, minCPUPerWall)
}

// parseWidths reads "64,128" (empty: nil, the preset's widths).
func parseWidths(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || d < 1 {
			return nil, fmt.Errorf("-widths: %q is not a positive width", f)
		}
		out = append(out, d)
	}
	return out, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "roofline:", err)
	os.Exit(1)
}
