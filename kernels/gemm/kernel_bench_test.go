//go:build !openblas

package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMicroKernel times the 6×16 micro-kernels (the strided one the
// in-place driver calls, and the packed one of the blocked driver) alone
// on a packed A panel and a B micro-panel that stay in L1D (kc 256: 6 KiB
// + 16 KiB), writing one C tile: the ceiling any driver can reach with
// them. Compare its GFLOP/s with the FMA peak (go run ./bench/fmapeak).
func BenchmarkMicroKernel(b *testing.B) {
	if !useAVX2 {
		b.Skip("no AVX2/FMA")
	}
	rng := rand.New(rand.NewPCG(3, 3))
	const kc = kcMax
	a := randSlice(rng, mr*kc)
	bp := randSlice(rng, nr*kc)
	c := randSlice(rng, mr*nr)
	for _, beta := range []float32{0, 1} {
		name := "beta0"
		if beta != 0 {
			name = "beta1"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				microKernel(nr, kc, &a[0], 1, mr, &bp[0], &c[0], nr, 1, beta)
			}
			b.ReportMetric(2*mr*nr*kc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(name+"/packed", func(b *testing.B) {
			for b.Loop() {
				kernel6x16Panels(kc, 1, &a[0], &bp[0], &c[0], nr, 1, beta, &a[0], 0, 0, 0, 0)
			}
			b.ReportMetric(2*mr*nr*kc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		// A run of tiles as the blocked driver passes them (20 panels:
		// mcMax rows, 120 KiB of A from L2), on AVX2 and on AVX-512.
		const run = mcMax / mr
		ar := randSlice(rng, run*mr*kc)
		cr := randSlice(rng, run*mr*nr)
		for _, k := range []struct {
			name string
			f    func(kc, np int, a, b, c *float32, ldc int, alpha, beta float32, pf *float32, pfStride, pfLines, pfPerTile, pfRows int)
			ok   bool
		}{{"run/avx2", kernel6x16Panels, true}, {"run/avx512", kernel6x16Panels512, hasAVX512}} {
			b.Run(name+"/"+k.name, func(b *testing.B) {
				if !k.ok {
					b.Skip("no AVX-512F")
				}
				for b.Loop() {
					k.f(kc, run, &ar[0], &bp[0], &cr[0], nr, 1, beta, &ar[0], 0, 0, 0, 0)
				}
				b.ReportMetric(2*run*mr*nr*kc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// stepShape is one linear-layer GEMM of a full-rank training step and how
// many times a step runs it.
type stepShape struct {
	name           string
	transA, transB bool
	m, n, k        int
	beta           float32
	count          int
}

// fullRankStepShapes are the linear layers' GEMMs of one full-rank step of
// the Table 4 model of width d (4 layers, ffn ≈ 2.75·d, vocabulary 256,
// 2048 tokens), as bench/gemmcmp lists them: forward y = x·Wᵀ, dX = dY·W
// and dW += dYᵀ·X for the q, k, v, o, gate, up and down projections and
// the head.
func fullRankStepShapes(d int) []stepShape {
	const layers, tokens, vocab = 4, 2048, 256
	ffn := int(2.75*float64(d)/2+0.5) * 2
	var s []stepShape
	for _, l := range [][3]int{{d, d, 4 * layers}, {ffn, d, 2 * layers}, {d, ffn, layers}, {vocab, d, 1}} {
		out, in, count := l[0], l[1], l[2]
		s = append(s,
			stepShape{fmt.Sprintf("fwd %dx%d", out, in), false, true, tokens, out, in, 0, count},
			stepShape{fmt.Sprintf("dX %dx%d", out, in), false, false, tokens, in, out, 0, count},
			stepShape{fmt.Sprintf("dW %dx%d", out, in), true, false, out, in, tokens, 1, count})
	}
	return s
}

// BenchmarkStepGEMMs runs all the linear GEMMs of a full-rank step at each
// width (each shape as often as a step does) on one goroutine, with the
// current driver and with the old one (old_kernel_test.go), and reports
// GFLOP/s. For a paired old-vs-new comparison use TestPairedOldNew; for a
// profile, e.g.:
//
//	taskset -c 1 go test -run '^$' -bench 'StepGEMMs/d=512/new' -cpuprofile /tmp/cpu.prof ./kernels/gemm
func BenchmarkStepGEMMs(b *testing.B) {
	for _, d := range []int{64, 128, 256, 512, 1024} {
		shapes := fullRankStepShapes(d)
		rng := rand.New(rand.NewPCG(4, 4))
		type operands struct{ a, b, c []float32 }
		ops := make([]operands, len(shapes))
		var flops float64
		for i, s := range shapes {
			ops[i] = operands{randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), randSlice(rng, s.m*s.n)}
			flops += 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(s.count)
		}
		for _, drv := range []struct {
			name string
			f    func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
		}{{"new", Sgemm}, {"old", oldSgemm}} {
			b.Run(fmt.Sprintf("d=%d/%s", d, drv.name), func(b *testing.B) {
				for b.Loop() {
					for i, s := range shapes {
						lda, ldb := s.k, s.n
						if s.transA {
							lda = s.m
						}
						if s.transB {
							ldb = s.k
						}
						for range s.count {
							drv.f(s.transA, s.transB, s.m, s.n, s.k, 1, ops[i].a, lda, ops[i].b, ldb, s.beta, ops[i].c, s.n)
						}
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
