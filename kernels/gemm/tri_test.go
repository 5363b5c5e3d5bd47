package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmTriMatchesSgemm checks that every element a Tri mode promises is
// bit-identical to the full Sgemm (with the pure-Go backend; OpenBLAS runs
// the full product anyway), on attention's head views and on odd sizes that
// hit the edge tiles, the packed last A panel and, with k > kcMax, the
// fallback to the full product.
func TestSgemmTriMatchesSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	type tc struct {
		tri            Tri
		transA, transB bool
		m, n, k        int
		lda, ldb, ldc  int
		beta           float32
	}
	var cases []tc
	for _, T := range []int{128, 13, 50, 300} {
		for _, hd := range []int{32, 8} {
			cases = append(cases,
				tc{LowerC, false, true, T, T, hd, 4 * hd, 4 * hd, T, 0},      // S = Q·Kᵀ
				tc{LowerC, false, true, T, T, hd, 4 * hd, 4 * hd, T, 1},      // beta = 1 keeps the skipped tiles
				tc{LowerA, false, false, T, hd, T, T, 4 * hd, 4 * hd, 0},     // O = P·V, dQ = dS·K
				tc{UpperA, true, false, T, hd, T, T, 4 * hd, 4 * hd, 0},      // dV = Pᵀ·dO, dK = dSᵀ·Q
				tc{UpperA, true, false, T, hd, T, T, 4 * hd, 4 * hd, 0.5},    // accumulating
				tc{LowerA, false, false, T, 2 * hd, T, T, 4 * hd, 4 * hd, 1}, // wider than one tile
			)
		}
	}
	cases = append(cases, tc{UpperA, true, false, 20, 16, 12, 20, 16, 16, 0.5}) // rows past k: all-zero products
	for _, c := range cases {
		ar, ac := c.m, c.k
		if c.transA {
			ar, ac = c.k, c.m
		}
		a := randSlice(rng, ar*c.lda)
		// Zero op(A)'s known-zero triangle, as the causal softmax does.
		for r := 0; r < ar; r++ {
			for col := 0; col < ac; col++ {
				i, p := r, col
				if c.transA {
					i, p = col, r
				}
				if (c.tri == LowerA && p > i) || (c.tri == UpperA && p < i) {
					a[r*c.lda+col] = 0
				}
			}
		}
		br := c.k
		if c.transB {
			br = c.n
		}
		b := randSlice(rng, br*c.ldb)
		c0 := randSlice(rng, c.m*c.ldc)
		want := append([]float32(nil), c0...)
		got := append([]float32(nil), c0...)
		if c.beta == 0 && c.tri != LowerC {
			nan := float32(math.NaN())
			for i := range got {
				got[i] = nan // beta = 0 must not read C
			}
		}
		Sgemm(c.transA, c.transB, c.m, c.n, c.k, 0.7, a, c.lda, b, c.ldb, c.beta, want, c.ldc)
		SgemmTri(c.tri, c.transA, c.transB, c.m, c.n, c.k, 0.7, a, c.lda, b, c.ldb, c.beta, got, c.ldc)
		for i := 0; i < c.m; i++ {
			for j := 0; j < c.n; j++ {
				if c.tri == LowerC && j > i {
					continue
				}
				g, w := got[i*c.ldc+j], want[i*c.ldc+j]
				if math.Float32bits(g) != math.Float32bits(w) {
					t.Fatalf("%+v: C[%d][%d] = %g, Sgemm gives %g", c, i, j, g, w)
				}
			}
		}
	}
}
