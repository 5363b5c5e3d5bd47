//go:build !openblas

package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPairedOldNew times the current driver against the old one
// (old_kernel_test.go) on a training step's GEMMs at width GEMM_D (default
// 512), alternating the two 31 times per shape, and prints each shape's
// median speed ratio. It measures, asserts nothing, and runs only when asked:
//
//	GEMM_PAIRED=1 [GEMM_D=64] GOMAXPROCS=1 go test -v -run PairedOldNew ./kernels/gemm
//
// Times are the process's CPU time, which other work on the core does not
// advance, so the ratios hold on a loaded machine.
func TestPairedOldNew(t *testing.T) {
	if os.Getenv("GEMM_PAIRED") == "" {
		t.Skip("set GEMM_PAIRED=1 to time the driver against the old one")
	}
	d := 512
	if v, err := strconv.Atoi(os.Getenv("GEMM_D")); err == nil && v > 0 {
		d = v
	}
	ffn, r := int(2.75*float64(d)/2+0.5)*2, max(1, d/16)
	type shape struct {
		name    string
		ta, tb  bool
		m, n, k int
		beta    float32
	}
	var shapes []shape
	for _, l := range [][2]int{{d, d}, {ffn, d}, {d, ffn}} {
		out, in := l[0], l[1]
		shapes = append(shapes,
			shape{fmt.Sprintf("fwd %dx%d", out, in), false, true, 2048, out, in, 0},
			shape{fmt.Sprintf("dX %dx%d", out, in), false, false, 2048, in, out, 0},
			shape{fmt.Sprintf("dW %dx%d", out, in), true, false, out, in, 2048, 1},
			shape{fmt.Sprintf("lora h %d", in), false, true, 2048, r, in, 0},
			shape{fmt.Sprintf("lora y+=hB %d", out), false, true, 2048, out, r, 1},
			shape{fmt.Sprintf("lora dB %d", out), true, false, out, r, 2048, 1},
			shape{fmt.Sprintf("lora dh %d", out), false, false, 2048, r, out, 0},
			shape{fmt.Sprintf("lora dA %d", in), true, false, r, in, 2048, 1},
			shape{fmt.Sprintf("lora dx+=dhA %d", in), false, false, 2048, in, r, 1},
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
	const rounds = 31
	fmt.Printf("d %d, ffn %d, r %d: new driver vs old, medians of %d alternations (CPU time)\n", d, ffn, r, rounds)
	for _, s := range shapes {
		ar, ac := s.m, s.k
		if s.ta {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.tb {
			br, bc = s.n, s.k
		}
		a, b, c := randSlice(rng, ar*ac), randSlice(rng, br*bc), randSlice(rng, s.m*s.n)
		flops := 2 * float64(s.m*s.n*s.k)
		run := []func(){
			func() { oldSgemm(s.ta, s.tb, s.m, s.n, s.k, 1, a, ac, b, bc, s.beta, c, s.n) },
			func() { Sgemm(s.ta, s.tb, s.m, s.n, s.k, 1, a, ac, b, bc, s.beta, c, s.n) },
		}
		reps := max(1, int(1e8/flops)) // ~2 ms at 50 GFLOP/s
		timeIt := func(f func()) float64 {
			t0 := cpu()
			for range reps {
				f()
			}
			return (cpu() - t0) / float64(reps)
		}
		run[0]()
		run[1]()
		var ratio, gOld, gNew []float64
		for i := range rounds {
			var tOld, tNew float64
			if i%2 == 0 {
				tOld, tNew = timeIt(run[0]), timeIt(run[1])
			} else {
				tNew, tOld = timeIt(run[1]), timeIt(run[0])
			}
			ratio, gOld, gNew = append(ratio, tOld/tNew), append(gOld, flops/tOld/1e9), append(gNew, flops/tNew/1e9)
		}
		slices.Sort(ratio)
		slices.Sort(gOld)
		slices.Sort(gNew)
		fmt.Printf("%-18s m %5d n %5d k %5d  old %5.1f  new %5.1f GFLOP/s  new/old %.2fx\n",
			s.name, s.m, s.n, s.k, gOld[rounds/2], gNew[rounds/2], ratio[rounds/2])
	}
}
