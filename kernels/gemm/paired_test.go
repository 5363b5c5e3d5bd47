//go:build !openblas

package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/relorago/harness/bench/peak"
)

// TestPairedOldNew times the current driver against the old one
// (old_kernel_test.go) on a training step's GEMMs at each width in GEMM_D
// (a comma-separated list, default 512), alternating the two GEMM_ROUNDS
// times (default 31) per shape, and prints each shape's median rates and
// speed ratio, then the whole full-rank step's linear GEMMs (each shape
// weighted by its calls per step, as bench/gemmcmp counts them): the
// median over rounds of the step's GFLOP/s with each driver and of the
// per-round ratio. With GEMM_PEAK=1 each round also runs bench/peak's FMA
// loop for as many flops, in turn with the two drivers, and the shapes and
// the step get each driver's median per-round fraction of that peak: on a
// shared machine a peak measured apart from the GEMMs is not the ceiling
// they ran under. It measures, asserts nothing, and runs only when asked:
//
//	GEMM_PAIRED=1 GEMM_D=64,512 GEMM_PEAK=1 GOMAXPROCS=1 taskset -c 1 go test -v -run PairedOldNew ./kernels/gemm
//
// With GEMM_BASE=avx2 (on a CPU with AVX-512F) the "old" side is the
// current driver with the AVX2 micro-kernel instead, so "new/old" is what
// the AVX-512 kernel buys:
//
//	GEMM_PAIRED=1 GEMM_BASE=avx2 GEMM_D=128,512 GOMAXPROCS=1 go test -v -run PairedOldNew ./kernels/gemm
//
// and with GEMM_BASE=avx512x16 it is the AVX-512 kernels without the 6×32
// tiles (wide512 off), so "new/old" is what those buy; with
// GEMM_BASE=no12x16, without the 12×16 tiles of products 16 columns wide
// (tall512 off: at d 256 the LoRA path's rank-16 products).
//
// Times are the process's CPU time, which other work on the core does not
// advance, so the ratios hold on a loaded machine.
func TestPairedOldNew(t *testing.T) {
	if os.Getenv("GEMM_PAIRED") == "" {
		t.Skip("set GEMM_PAIRED=1 to time the driver against the old one")
	}
	widths := []int{512}
	if v := os.Getenv("GEMM_D"); v != "" {
		widths = nil
		for _, f := range strings.Split(v, ",") {
			d, err := strconv.Atoi(f)
			if err != nil || d <= 0 {
				t.Fatalf("GEMM_D: bad width %q", f)
			}
			widths = append(widths, d)
		}
	}
	rounds := 31
	if v, err := strconv.Atoi(os.Getenv("GEMM_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	withPeak := os.Getenv("GEMM_PEAK") != ""
	base := os.Getenv("GEMM_BASE")
	switch base {
	case "":
	case "avx2", "avx512x16", "no12x16":
		if !useAVX512 {
			t.Skipf("GEMM_BASE=%s pairs variants of the AVX-512 kernels: no AVX-512F here, or RELORA_GEMM_KERNEL=avx2", base)
		}
	default:
		t.Fatalf("GEMM_BASE=%q: want avx2, avx512x16 or no12x16, or leave it unset", base)
	}
	for _, d := range widths {
		pairedWidth(t, d, rounds, withPeak, base)
	}
}

func pairedWidth(t *testing.T, d, rounds int, withPeak bool, base string) {
	ffn, r := int(2.75*float64(d)/2+0.5)*2, max(1, d/16)
	// The full-rank step's shapes (count > 0) and the LoRA path's (count 0:
	// printed, not in the step's total).
	shapes := fullRankStepShapes(d)
	for _, l := range [][2]int{{d, d}, {ffn, d}, {d, ffn}} {
		out, in := l[0], l[1]
		shapes = append(shapes,
			stepShape{fmt.Sprintf("lora h %d", in), false, true, 2048, r, in, 0, 0},
			stepShape{fmt.Sprintf("lora y+=hB %d", out), false, true, 2048, out, r, 1, 0},
			stepShape{fmt.Sprintf("lora dB %d", out), true, false, out, r, 2048, 1, 0},
			stepShape{fmt.Sprintf("lora dh %d", out), false, false, 2048, r, out, 0, 0},
			stepShape{fmt.Sprintf("lora dA %d", in), true, false, r, in, 2048, 1, 0},
			stepShape{fmt.Sprintf("lora dx+=dhA %d", in), false, false, 2048, in, r, 1, 0},
		)
	}
	cpu := func() float64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
			t.Fatal(err)
		}
		return float64(ts.Nano()) / 1e9
	}
	rng := rand.New(rand.NewPCG(1, 2))
	against := map[string]string{
		"":          "old",
		"avx2":      "the same driver with the AVX2 kernel",
		"avx512x16": "the same driver with the AVX-512 kernels' 6×16 tiles only",
		"no12x16":   "the same driver without the 12×16 tiles",
	}[base]
	fmt.Printf("d %d, ffn %d, r %d: new driver vs %s, medians of %d alternations (CPU time)\n", d, ffn, r, against, rounds)
	stepOld, stepNew, stepPeak := make([]float64, rounds), make([]float64, rounds), make([]float64, rounds)
	var stepFlops float64
	for _, s := range shapes {
		ar, ac := s.m, s.k
		if s.transA {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.transB {
			br, bc = s.n, s.k
		}
		a, b, c := randSlice(rng, ar*ac), randSlice(rng, br*bc), randSlice(rng, s.m*s.n)
		flops := 2 * float64(s.m*s.n*s.k)
		stepFlops += flops * float64(s.count)
		run := []func(){
			func() { oldSgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, ac, b, bc, s.beta, c, s.n) },
			func() { Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, ac, b, bc, s.beta, c, s.n) },
		}
		switch base {
		case "avx2":
			run[0] = func() {
				useAVX512 = false
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, ac, b, bc, s.beta, c, s.n)
				useAVX512 = true
			}
		case "avx512x16":
			run[0] = func() {
				wide512 = false
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, ac, b, bc, s.beta, c, s.n)
				wide512 = true
			}
		case "no12x16":
			run[0] = func() {
				tall512 = false
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, ac, b, bc, s.beta, c, s.n)
				tall512 = true
			}
		}
		reps := max(1, int(1e8/flops)) // ~1 ms at 100 GFLOP/s
		timeIt := func(f func()) float64 {
			t0 := cpu()
			for range reps {
				f()
			}
			return (cpu() - t0) / float64(reps)
		}
		run[0]()
		run[1]()
		var ratio, gOld, gNew, fOld, fNew []float64
		for i := range rounds {
			var tOld, tNew, tPeak float64
			if i%2 == 0 {
				tOld, tNew = timeIt(run[0]), timeIt(run[1])
			} else {
				tNew, tOld = timeIt(run[1]), timeIt(run[0])
			}
			if withPeak {
				tPeak = peakSeconds(t, flops*float64(reps)) / float64(reps)
				fOld, fNew = append(fOld, tPeak/tOld), append(fNew, tPeak/tNew)
			}
			ratio, gOld, gNew = append(ratio, tOld/tNew), append(gOld, flops/tOld/1e9), append(gNew, flops/tNew/1e9)
			stepOld[i] += tOld * float64(s.count)
			stepNew[i] += tNew * float64(s.count)
			stepPeak[i] += tPeak * float64(s.count)
		}
		fmt.Printf("%-18s m %5d n %5d k %5d  old %5.1f  new %5.1f GFLOP/s  new/old %.2fx%s\n",
			s.name, s.m, s.n, s.k, median(gOld), median(gNew), median(ratio), ofPeak(fOld, fNew))
	}
	var ratio, gOld, gNew, fOld, fNew []float64
	for i := range rounds {
		ratio = append(ratio, stepOld[i]/stepNew[i])
		gOld, gNew = append(gOld, stepFlops/stepOld[i]/1e9), append(gNew, stepFlops/stepNew[i]/1e9)
		if withPeak {
			fOld, fNew = append(fOld, stepPeak[i]/stepOld[i]), append(fNew, stepPeak[i]/stepNew[i])
		}
	}
	fmt.Printf("d %d full-rank step's linear GEMMs: old %.1f  new %.1f GFLOP/s  new/old %.2fx (min %.2fx, max %.2fx over %d rounds)%s\n",
		d, median(gOld), median(gNew), median(ratio), slices.Min(ratio), slices.Max(ratio), rounds, ofPeak(fOld, fNew))
}

// peakSeconds is the CPU time bench/peak's FMA loop takes for about
// `flops` flops (one round, after its own short warm-up).
func peakSeconds(t *testing.T, flops float64) float64 {
	g, err := peak.Measure(1, max(1, int(flops/peak.FlopsPerIter())))
	if err != nil {
		t.Skip(err)
	}
	return flops / (g[0] * 1e9)
}

// ofPeak formats the drivers' median fractions of the FMA peak, or
// nothing when the peak was not measured.
func ofPeak(fOld, fNew []float64) string {
	if len(fNew) == 0 {
		return ""
	}
	return fmt.Sprintf("  of peak: old %.0f%% new %.0f%%", 100*median(fOld), 100*median(fNew))
}

// median is the middle value of x (the mean of the two middle ones for an
// even count).
func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
