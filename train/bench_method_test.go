package train

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/relorago/harness/relora"
)

// BenchmarkMethodStep times a warm training step of each method's own
// model and optimizer on the tiny preset at rank 32, as the successors
// experiment trains them: full-rank (plain AdamW), LoRA (fused op),
// the low-rank factorisation and GaLore between two refreshes of its
// projectors (a refresh, an SVD per weight, comes once in
// galore_refresh_every steps and is not timed). Not part of `make bench`:
// `go test -run '^$' -bench MethodStep ./train`.
func BenchmarkMethodStep(b *testing.B) {
	for _, method := range []string{relora.MethodFull, relora.MethodLoRA, relora.MethodLowRank, relora.MethodGaLore} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", method, threads), func(b *testing.B) {
				cfg, err := Default("tiny")
				if err != nil {
					b.Fatal(err)
				}
				if method != relora.MethodFull {
					cfg.ReLoRA = relora.Config{Method: method, Rank: 32, Alpha: 32,
						GaLoreRefreshEvery: 1 << 30, GaLoreScale: 0.25}
				}
				s, err := NewMethodStepper(cfg, threads)
				if err != nil {
					b.Fatal(err)
				}
				s.SetLoRAFused(true)
				prev := runtime.GOMAXPROCS(threads)
				defer runtime.GOMAXPROCS(prev)
				for range 2 { // the arena, the optimizer state, GaLore's projectors
					if err := s.Step(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := s.Step(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(s.Tokens())/(b.Elapsed().Seconds()/float64(b.N)), "tok/s")
			})
		}
	}
}
