//go:build gemmcmp

// Command gemmcmp times the pure-Go SGEMM (kernels/gemm, default backend)
// against single-threaded OpenBLAS in one process, shape by shape, on the
// GEMMs of one training step of a model of width d: the two are alternated
// within each round (A B, then B A in the next round), so a shared or loaded
// machine slows both alike, and the summary is the median over rounds of
// each shape's ratio and of the whole step's GEMM time. Times are the
// process's CPU time (one OS thread does the work: OpenBLAS is set to one
// thread), which other processes on the core do not advance.
//
//	go run -tags gemmcmp ./bench/gemmcmp -d 512 -ffn 1408 -rank 32
//
// Needs libopenblas-dev. The tag keeps cgo out of every other build.
package main

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/relorago/harness/kernels/gemm"
)

type shape struct {
	name           string
	transA, transB bool
	m, n, k        int
	beta           float32
	count          int // times per training step (layers × projections)
}

func blas(s shape, a, b, c []float32, lda, ldb, ldc int) {
	ta, tb := C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans), C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans)
	if s.transA {
		ta = C.CblasTrans
	}
	if s.transB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(s.m), C.blasint(s.n), C.blasint(s.k), 1,
		(*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda), (*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.float(s.beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

// stepShapes lists the linear layers' GEMMs of one step: forward y = x·Wᵀ,
// dX = dY·W and dW += dYᵀ·X for every projection, and with rank > 0 the
// LoRA path's thin products instead of the frozen W's dW.
func stepShapes(tokens, d, ffn, layers, vocab, rank int) []shape {
	type lin struct{ out, in, count int }
	lins := []lin{{d, d, 4 * layers}, {ffn, d, 2 * layers}, {d, ffn, layers}, {vocab, d, 1}}
	var s []shape
	for i, l := range lins {
		s = append(s,
			shape{fmt.Sprintf("fwd %dx%d", l.out, l.in), false, true, tokens, l.out, l.in, 0, l.count},
			shape{fmt.Sprintf("dX %dx%d", l.out, l.in), false, false, tokens, l.in, l.out, 0, l.count})
		if rank == 0 || i == len(lins)-1 {
			s = append(s, shape{fmt.Sprintf("dW %dx%d", l.out, l.in), true, false, l.out, l.in, tokens, 1, l.count})
			continue
		}
		r := rank
		s = append(s,
			shape{fmt.Sprintf("lora h=x·Aᵀ %d", l.in), false, true, tokens, r, l.in, 0, l.count},
			shape{fmt.Sprintf("lora y+=h·Bᵀ %d", l.out), false, true, tokens, l.out, r, 1, l.count},
			shape{fmt.Sprintf("lora dB %d", l.out), true, false, l.out, r, tokens, 1, l.count},
			shape{fmt.Sprintf("lora dh %d", l.out), false, false, tokens, r, l.out, 0, l.count},
			shape{fmt.Sprintf("lora dA %d", l.in), true, false, r, l.in, tokens, 1, l.count},
			shape{fmt.Sprintf("lora dx+=dh·A %d", l.in), false, false, tokens, l.in, r, 1, l.count})
	}
	return s
}

// options are the command line's settings.
type options struct {
	d, ffn, layers, tokens, rank, rounds int
	minTime                              time.Duration
}

// parseOptions reads the flags; ffn defaults to the harness's SwiGLU width
// for d so that the shapes match a real training step.
func parseOptions() options {
	d := flag.Int("d", 512, "model width")
	ffn := flag.Int("ffn", 0, "SwiGLU width (default ≈ 2.75·d, even)")
	layers := flag.Int("layers", 4, "layers")
	tokens := flag.Int("tokens", 2048, "tokens per step (batch × sequence)")
	rank := flag.Int("rank", 0, "LoRA rank (0: full-rank step's GEMMs)")
	rounds := flag.Int("rounds", 5, "rounds (each times every shape with both backends)")
	minTime := flag.Duration("time", 100*time.Millisecond, "minimum time per shape, backend and round")
	flag.Parse()
	if *ffn == 0 {
		*ffn = int(2.75*float64(*d)/2+0.5) * 2
	}
	return options{d: *d, ffn: *ffn, layers: *layers, tokens: *tokens, rank: *rank, rounds: *rounds, minTime: *minTime}
}

// sample is one shape's time per call in one round, in seconds.
type sample struct{ goSec, blasSec float64 }

func main() {
	o := parseOptions()
	// One OS thread for both backends, so CPU time is the work's time.
	runtime.GOMAXPROCS(1)
	runtime.LockOSThread()
	C.openblas_set_num_threads(1)
	shapes := stepShapes(o.tokens, o.d, o.ffn, o.layers, 256, o.rank)
	samples := measure(shapes, o.rounds, o.minTime)
	fmt.Printf("d %d, ffn %d, %d layers, %d tokens, rank %d: pure-Go (%s, %s kernels) vs OpenBLAS (%s), 1 thread, medians of %d paired rounds\n",
		o.d, o.ffn, o.layers, o.tokens, o.rank, gemm.Backend, gemm.MicroKernel(), openBLASKernel(), o.rounds)
	if forced := forcedSettings(); forced != "" {
		fmt.Printf("OpenBLAS's own choice was overridden by the environment (%s): it may not be at its best on this CPU; unset them to compare with it (make bench does)\n", forced)
	}
	printShapes(shapes, samples)
	printStep(shapes, samples, o.rounds)
}

// openBLASKernel names the kernel OpenBLAS runs and its build (its own
// words: openblas_get_corename, openblas_get_config).
func openBLASKernel() string {
	return fmt.Sprintf("kernel %s; %s", C.GoString(C.openblas_get_corename()), C.GoString(C.openblas_get_config()))
}

// forcedSettings lists the environment variables that override OpenBLAS's
// choice of kernel or cache size for this CPU (a shell may set them for
// other work: OPENBLAS_CORETYPE=Haswell runs the AVX2 kernels on an AVX-512
// core at half speed).
func forcedSettings() string {
	var set []string
	for _, v := range []string{"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} {
		if x, ok := os.LookupEnv(v); ok {
			set = append(set, v+"="+x)
		}
	}
	return strings.Join(set, ", ")
}

// measure times every shape with both backends, round by round, on fresh
// random operands from a fixed seed so that runs are comparable.
func measure(shapes []shape, rounds int, minTime time.Duration) [][]sample {
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	samples := make([][]sample, len(shapes))
	for round := 0; round < rounds; round++ {
		for i, s := range shapes {
			samples[i] = append(samples[i], measureShape(s, round, minTime, rnd))
		}
	}
	return samples
}

// measureShape times one shape with both backends on the same operands.
// The backend that goes first alternates with the round, so a change in
// the machine's load during a round does not favour either.
func measureShape(s shape, round int, minTime time.Duration, rnd func(int) []float32) sample {
	ar, ac := s.m, s.k
	if s.transA {
		ar, ac = s.k, s.m
	}
	br, bc := s.k, s.n
	if s.transB {
		br, bc = s.n, s.k
	}
	a, b, c := rnd(ar*ac), rnd(br*bc), rnd(s.m*s.n)
	goCall := func() { gemm.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, ac, b, bc, s.beta, c, s.n) }
	blasCall := func() { blas(s, a, b, c, ac, bc, s.n) }
	var sm sample
	if round%2 == 0 {
		sm.goSec = secondsPerCall(goCall, minTime)
		sm.blasSec = secondsPerCall(blasCall, minTime)
	} else {
		sm.blasSec = secondsPerCall(blasCall, minTime)
		sm.goSec = secondsPerCall(goCall, minTime)
	}
	return sm
}

// secondsPerCall is f's CPU time per call over at least minTime of wall
// time, after one untimed call that warms caches and lazy allocations.
func secondsPerCall(f func(), minTime time.Duration) float64 {
	f()
	n, t0, c0 := 0, time.Now(), cpuTime()
	for time.Since(t0) < minTime {
		f()
		n++
	}
	return (cpuTime() - c0).Seconds() / float64(n)
}

// printShapes prints one row per shape: its rates with both backends and
// their speed ratio, each the median over rounds.
func printShapes(shapes []shape, samples [][]sample) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shape\tm\tn\tk\tper step\tGo GFLOP/s\tOpenBLAS GFLOP/s\tGo/OpenBLAS speed\t")
	for i, s := range shapes {
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		var gs, bs, rs []float64
		for _, sm := range samples[i] {
			gs = append(gs, flops/sm.goSec/1e9)
			bs = append(bs, flops/sm.blasSec/1e9)
			rs = append(rs, sm.blasSec/sm.goSec)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.2fx\t\n", s.name, s.m, s.n, s.k, s.count, median(gs), median(bs), median(rs))
	}
	tw.Flush()
}

// printStep prints the whole step's GEMM time with each backend, each
// shape weighted by its calls per step. The speed is the median of the
// per-round ratios, not the ratio of medians, so that it stays paired.
func printStep(shapes []shape, samples [][]sample, rounds int) {
	goStep, blasStep := make([]float64, rounds), make([]float64, rounds)
	for i, s := range shapes {
		for r, sm := range samples[i] {
			goStep[r] += float64(s.count) * sm.goSec
			blasStep[r] += float64(s.count) * sm.blasSec
		}
	}
	stepRatio := make([]float64, rounds)
	for r := range stepRatio {
		stepRatio[r] = blasStep[r] / goStep[r]
	}
	fmt.Printf("step's linear GEMMs: Go %.1f ms, OpenBLAS %.1f ms (medians); Go/OpenBLAS speed %.2fx (median of per-round ratios; >1: Go faster)\n",
		1e3*median(goStep), 1e3*median(blasStep), median(stepRatio))
}

// cpuTime is the process's CPU time: with one OS thread doing the work, the
// time the GEMMs ran, not the time other processes held the core.
func cpuTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
