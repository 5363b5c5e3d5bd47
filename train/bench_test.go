package train

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/relorago/harness/kernels/gemm"
)

// BenchmarkTrainStep measures training steps of the tiny preset (2,048
// tokens): full-rank, and ReLoRA after its warm start at ranks 32 (the tiny
// preset's) and 8, with the composed and the fused LoRA op. It reports tokens/s, GFLOP/s by the FLOP model of
// model.Config.FLOPsPerStep, bytes allocated per step (B/op), CPU time per
// step, and the GEMMs' rate and share of the step (cmd/benchsummary
// tabulates them; `make bench`).
func BenchmarkTrainStep(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("full/threads=%d", threads), func(b *testing.B) {
			benchStep(b, "tiny", threads, 0, false)
		})
		for _, rank := range []int{32, 8} {
			for _, fused := range []bool{false, true} {
				name := fmt.Sprintf("relora-r%d", rank)
				if fused {
					name += "-fused"
				}
				b.Run(fmt.Sprintf("%s/threads=%d", name, threads), func(b *testing.B) {
					benchStep(b, "tiny", threads, rank, fused)
				})
			}
		}
	}
}

// BenchmarkSmall64Step is the default ablation preset's model on one core,
// the unit of work of the Table 1 matrix (one run per core).
func BenchmarkSmall64Step(b *testing.B) {
	benchStep(b, "small64", 1, 0, false)
}

func benchStep(b *testing.B, preset string, threads, rank int, fused bool) {
	cfg, err := Default(preset)
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewStepper(cfg, threads, rank)
	if err != nil {
		b.Fatal(err)
	}
	s.SetLoRAFused(fused)
	prev := runtime.GOMAXPROCS(threads)
	defer runtime.GOMAXPROCS(prev)
	if err := s.Step(); err != nil { // warm the arena and the optimizer state
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	gemm.EnableStats(true)
	defer gemm.EnableStats(false)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	gemmFlops, gemmTime := gemm.Stats()
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(s.Tokens())/sec, "tok/s")
	b.ReportMetric(s.FLOPs()/sec/1e9, "GFLOP/s")
	// On a machine shared with other work, wall time includes waiting for a
	// core; the process's CPU time per step is the steadier comparison.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
	// The GEMMs' own rate (the products they compute, masked attention
	// halves not counted) and their share of the step's core time.
	b.ReportMetric(float64(gemmFlops)/gemmTime.Seconds()/1e9, "gemm-GFLOP/s")
	b.ReportMetric(100*gemmTime.Seconds()/(b.Elapsed().Seconds()*float64(threads)), "gemm-%")
}

// cpuTime returns the user+system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
