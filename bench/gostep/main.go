// Command gostep times full-rank training steps of the harness at a given
// model shape, the Go side of `make bench-pytorch` (bench/compare_pytorch.py):
// the tiny preset's step (opticks, batch 16 × 128 tokens, AdamW, clip 1)
// with the width, depth, heads and SwiGLU width given. It prints one line:
//
//	go threads=T d=D tok/s=X step_ms=Y kernel=K fma_gflops=P1,P2
//
// X from the median step time after -warmup untimed steps, K the GEMM
// micro-kernel that ran (gemm.MicroKernel, spaces as underscores), P1 and
// P2 one core's FMA peak read before the first step and after the last.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/relorago/harness/bench/peak"
	"github.com/relorago/harness/kernels/gemm"
	"github.com/relorago/harness/train"
)

func main() {
	dim := flag.Int("d", 128, "model width")
	layers := flag.Int("layers", 4, "blocks")
	heads := flag.Int("heads", 4, "attention heads")
	ffn := flag.Int("ffn", 352, "SwiGLU width")
	threads := flag.Int("threads", 1, "cores")
	steps := flag.Int("steps", 10, "timed steps")
	warmup := flag.Int("warmup", 2, "untimed steps first")
	flag.Parse()
	cfg, err := train.Default("tiny")
	if err != nil {
		fail(err)
	}
	m := &cfg.Model
	m.Dim, m.Layers, m.Heads, m.FFN = *dim, *layers, *heads, *ffn
	if err := m.Validate(); err != nil {
		fail(err)
	}
	runtime.GOMAXPROCS(*threads)
	s, err := train.NewStepper(cfg, *threads, 0)
	if err != nil {
		fail(err)
	}
	var peaks []string
	readPeak := func() {
		if g, err := peak.Reading(); err == nil {
			peaks = append(peaks, fmt.Sprintf("%.1f", g))
		}
	}
	readPeak()
	var ms []float64
	for i := 0; i < *warmup+*steps; i++ {
		t0 := time.Now()
		if err := s.Step(); err != nil {
			fail(err)
		}
		if i >= *warmup {
			ms = append(ms, time.Since(t0).Seconds()*1e3)
		}
	}
	// The kernels' helper threads spin briefly after a step; the peak's
	// clock is the process's CPU time.
	time.Sleep(20 * time.Millisecond)
	readPeak()
	slices.Sort(ms)
	med := ms[len(ms)/2]
	if len(ms)%2 == 0 {
		med = (ms[len(ms)/2-1] + ms[len(ms)/2]) / 2
	}
	fmt.Printf("go threads=%d d=%d tok/s=%.0f step_ms=%.1f kernel=%s", *threads, *dim, float64(s.Tokens())/med*1e3, med,
		strings.ReplaceAll(gemm.MicroKernel(), " ", "_"))
	if len(peaks) > 0 {
		fmt.Printf(" fma_gflops=%s", strings.Join(peaks, ","))
	}
	fmt.Println()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gostep:", err)
	os.Exit(1)
}
