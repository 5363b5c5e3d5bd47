package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShape is one GEMM the transformer runs; lda/ldb/ldc of 0 mean
// "tight" (stride == stored width).
type benchShape struct {
	name           string
	transA, transB bool
	m, n, k        int
	beta           float32
	lda, ldb, ldc  int
}

// benchShapes lists the shapes of the training step (tokens N=2048, d=128,
// ffn=352, vocab=256, LoRA rank 32 or 8).
func benchShapes() []benchShape {
	var s []benchShape
	// Forward Y = X·Wᵀ (W stored out×in).
	for _, nk := range [][2]int{{128, 128}, {352, 128}, {128, 352}, {256, 128}, {32, 128}, {8, 128}, {128, 32}, {352, 8}} {
		s = append(s, benchShape{name: "fwd", transB: true, m: 2048, n: nk[0], k: nk[1]})
	}
	// Backward dX = dY·W.
	for _, nk := range [][2]int{{128, 128}, {128, 352}, {352, 128}, {128, 256}} {
		s = append(s, benchShape{name: "dX", m: 2048, n: nk[0], k: nk[1]})
	}
	// Backward dW += dYᵀ·X, accumulating (beta=1).
	for _, mn := range [][2]int{{128, 128}, {352, 128}, {128, 352}, {256, 128}} {
		s = append(s, benchShape{name: "dW", transA: true, m: mn[0], n: mn[1], k: 2048, beta: 1})
	}
	// Attention on one head: 32-column views into 2048×128 matrices.
	s = append(s,
		benchShape{name: "attnQK", transB: true, m: 128, n: 128, k: 32, lda: 128, ldb: 128, ldc: 128},
		benchShape{name: "attnPV", m: 128, n: 32, k: 128, lda: 128, ldb: 128, ldc: 128},
		benchShape{name: "attnPtV", transA: true, m: 128, n: 32, k: 128, lda: 128, ldb: 128, ldc: 128, beta: 1},
		// Per-call overhead (cgo transition, pool, packing setup).
		benchShape{name: "tiny", transB: true, m: 4, n: 4, k: 4},
	)
	return s
}

func (s benchShape) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s_%s%s_m%d_n%d_k%d", s.name, t(s.transA), t(s.transB), s.m, s.n, s.k)
}

// BenchmarkSgemm reports GFLOP/s (2·m·n·k per call) for each shape on one
// goroutine. Compare backends with `go test -bench Sgemm` with and without
// `-tags openblas`.
func BenchmarkSgemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range benchShapes() {
		ar, ac := s.m, s.k
		if s.transA {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.transB {
			br, bc = s.n, s.k
		}
		lda, ldb, ldc := max(s.lda, ac), max(s.ldb, bc), max(s.ldc, s.n)
		a := randSlice(rng, (ar-1)*lda+ac)
		bm := randSlice(rng, (br-1)*ldb+bc)
		c := randSlice(rng, (s.m-1)*ldc+s.n)
		b.Run(s.String(), func(b *testing.B) {
			for b.Loop() {
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, s.beta, c, ldc)
			}
			flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
