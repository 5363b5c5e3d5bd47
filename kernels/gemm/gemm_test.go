package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// refSgemm is the naive triple loop the backends are checked against. It
// accumulates in float64 and also returns, per element, the sum of the
// magnitudes of all terms, which scales the tolerance: a relative error
// bound of 1e-4 on that scale holds for any correct float32 summation order,
// even when the exact result cancels to near zero.
func refSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, scale []float64) {
	want = make([]float64, m*n)
	scale = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum, mag float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				t := float64(av) * float64(bv)
				sum += t
				mag += math.Abs(t)
			}
			v := float64(alpha) * sum
			mag *= math.Abs(float64(alpha))
			if beta != 0 { // beta == 0 ignores C, even NaN
				cv := float64(beta) * float64(c[i*ldc+j])
				v += cv
				mag += math.Abs(cv)
			}
			want[i*n+j] = v
			scale[i*n+j] = mag
		}
	}
	return want, scale
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	pad            int // extra elements per row of A, B and C (stride > width)
	alpha, beta    float32
	nanC           bool // fill C with NaN (only meaningful with beta == 0)
}

func (tc gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	s := fmt.Sprintf("%s%s/m%d_n%d_k%d/pad%d/a%g_b%g", t(tc.transA), t(tc.transB), tc.m, tc.n, tc.k, tc.pad, tc.alpha, tc.beta)
	if tc.nanC {
		s += "/nanC"
	}
	return s
}

// sentinel marks C elements outside the view; they must never change.
const sentinel = float32(-12345.5)

// checkCase runs one case through Sgemm and compares it with refSgemm,
// including that padding columns of C (outside the view) are untouched.
func checkCase(t *testing.T, rng *rand.Rand, tc gemmCase) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, ac+tc.pad), max(1, bc+tc.pad), max(1, tc.n+tc.pad)
	a := randSlice(rng, ar*lda)
	b := randSlice(rng, br*ldb)
	c := randSlice(rng, tc.m*ldc)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc; j++ {
			switch {
			case j >= tc.n:
				c[i*ldc+j] = sentinel
			case tc.nanC:
				c[i*ldc+j] = float32(math.NaN())
			}
		}
	}
	want, scale := refSgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)

	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)

	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= tc.n {
				if got != sentinel {
					t.Fatalf("%v: C[%d][%d] outside the view changed to %g", tc, i, j, got)
				}
				continue
			}
			w, s := want[i*tc.n+j], scale[i*tc.n+j]
			if d := math.Abs(float64(got) - w); !(d <= 1e-4*s+1e-30) {
				if bad++; bad <= 5 {
					t.Errorf("%v: C[%d][%d] = %g, want %g (scale %g)", tc, i, j, got, w, s)
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%v: %d wrong elements", tc, bad)
	}
}

// testCases covers all transpose combos, odd sizes that leave partial 6×16
// and 6×8 tiles, sizes that cross the k and n cache-block boundaries
// (k > 256; n·kc > 64Ki), strides larger than the width, and the alpha/beta
// special cases.
func testCases() []gemmCase {
	sizes := [][3]int{
		{1, 1, 1}, {1, 17, 3}, {3, 1, 17}, {3, 17, 33}, {17, 3, 65}, {33, 65, 17},
		{65, 33, 3}, {6, 16, 1}, {12, 32, 64}, {12, 8, 7}, {18, 24, 33}, {7, 16, 300},
		{150, 50, 520}, {5, 1030, 9}, {7, 1030, 70}, {13, 520, 300},
	}
	ab := [][2]float32{{1, 0}, {0.5, 1}, {-1.5, 0.25}, {2, -1}, {0, 2}, {0, 0}}
	var cases []gemmCase
	for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		for _, sz := range sizes {
			for _, pad := range []int{0, 5} {
				for _, x := range ab {
					cases = append(cases, gemmCase{tr[0], tr[1], sz[0], sz[1], sz[2], pad, x[0], x[1], false})
				}
				cases = append(cases, gemmCase{tr[0], tr[1], sz[0], sz[1], sz[2], pad, 1, 0, true})
				cases = append(cases, gemmCase{tr[0], tr[1], sz[0], sz[1], sz[2], pad, -0.5, 0, true})
			}
		}
		// k == 0: C = beta*C only.
		cases = append(cases,
			gemmCase{tr[0], tr[1], 4, 5, 0, 0, 1, 0.5, false},
			gemmCase{tr[0], tr[1], 4, 5, 0, 3, 1, 0, true})
	}
	return cases
}

func TestSgemmMatchesReference(t *testing.T) {
	t.Logf("backend %s", Backend)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range testCases() {
		checkCase(t, rng, tc)
	}
}

// TestSgemmModelShapes runs the transformer's real shape families (scaled
// down in m/k where that keeps the same code paths) with the head views the
// attention code uses.
func TestSgemmModelShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []gemmCase{
		{false, true, 300, 352, 128, 0, 1, 0, true},  // forward Y = X·Wᵀ
		{false, true, 300, 8, 32, 0, 1, 0, false},    // low-rank forward
		{false, false, 300, 128, 352, 0, 1, 0, true}, // dX = dY·W
		{true, false, 352, 128, 600, 0, 1, 1, false}, // dW += dYᵀ·X
	} {
		checkCase(t, rng, tc)
	}

	// Attention on one head: Q, K, V are 128×32 column views (lda=128) into
	// a 2048×128 row-major matrix; S = Q·Kᵀ, O = P·V, dV = Pᵀ·dO.
	const seq, d, hd, head = 128, 128, 32, 2
	q := randSlice(rng, seq*d)
	kk := randSlice(rng, seq*d)
	v := randSlice(rng, seq*d)
	p := randSlice(rng, seq*seq)
	off := head * hd
	check := func(name string, got []float32, ldc int, want []float64, scale []float64, n int) {
		for i := 0; i < seq; i++ {
			for j := 0; j < n; j++ {
				if d := math.Abs(float64(got[i*ldc+j]) - want[i*n+j]); d > 1e-4*scale[i*n+j] {
					t.Fatalf("%s: [%d][%d] = %g, want %g", name, i, j, got[i*ldc+j], want[i*n+j])
				}
			}
		}
	}
	s := make([]float32, seq*seq)
	want, scale := refSgemm(false, true, seq, seq, hd, 0.125, q[off:], d, kk[off:], d, 0, s, seq)
	Sgemm(false, true, seq, seq, hd, 0.125, q[off:], d, kk[off:], d, 0, s, seq)
	check("Q·Kᵀ", s, seq, want, scale, seq)

	o := make([]float32, seq*d)
	want, scale = refSgemm(false, false, seq, hd, seq, 1, p, seq, v[off:], d, 0, o[off:], d)
	Sgemm(false, false, seq, hd, seq, 1, p, seq, v[off:], d, 0, o[off:], d)
	check("P·V", o[off:], d, want, scale, hd)

	dv := randSlice(rng, seq*d)
	want, scale = refSgemm(true, false, seq, hd, seq, 1, p, seq, q[off:], d, 1, dv[off:], d)
	Sgemm(true, false, seq, hd, seq, 1, p, seq, q[off:], d, 1, dv[off:], d)
	check("Pᵀ·dO", dv[off:], d, want, scale, hd)
}

// TestSgemmConcurrent has several goroutines write disjoint row blocks and
// head column blocks of one C at once, as the trainer does; run with -race.
func TestSgemmConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const m, n, k, parts = 192, 64, 40, 4
	a := randSlice(rng, m*k)
	b := randSlice(rng, n*k)
	c := make([]float32, m*n)
	want, scale := refSgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
	for rep := 0; rep < 3; rep++ {
		clear(c)
		var wg sync.WaitGroup
		for g := 0; g < parts; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rows := m / parts
				// Each goroutine owns a row block; within it, it writes column
				// halves in two calls so views with ldc > n are exercised too.
				for h := 0; h < 2; h++ {
					Sgemm(false, true, rows, n/2, k, 1, a[g*rows*k:], k, b[h*(n/2)*k:], k, 0, c[g*rows*n+h*(n/2):], n)
				}
			}()
		}
		wg.Wait()
		for i := range want {
			if d := math.Abs(float64(c[i]) - want[i]); d > 1e-4*scale[i] {
				t.Fatalf("rep %d: C[%d] = %g, want %g", rep, i, c[i], want[i])
			}
		}
	}
}

// TestSgemmNoAllocs checks the steady state allocates nothing per call
// (packing buffers are pooled; the cgo call keeps slices on the stack).
func TestSgemmNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool deliberately drops items under -race")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	a := randSlice(rng, 128*128)
	b := randSlice(rng, 128*128)
	c := make([]float32, 128*128)
	// A product the blocked driver takes (a k slice of op(B) over 64K floats).
	bb, cb := randSlice(rng, 1100*64), make([]float32, 64*1100)
	allocs := testing.AllocsPerRun(50, func() {
		Sgemm(false, true, 128, 128, 32, 1, a, 128, b, 128, 0, c, 128)
		Sgemm(true, false, 128, 32, 128, 1, a, 128, b, 128, 1, c, 128)
		Sgemm(false, true, 64, 1100, 64, 1, a, 64, bb, 64, 0, cb, 1100)
	})
	if allocs > 0 {
		t.Fatalf("%v allocations per call pair", allocs)
	}
}

func TestSgemmPanicsOnBadArgs(t *testing.T) {
	a := make([]float32, 12)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"lda", func() { Sgemm(false, false, 3, 4, 4, 1, a, 3, a, 4, 0, a, 4) }},
		{"ldb", func() { Sgemm(false, true, 3, 4, 4, 1, a, 4, a, 3, 0, a, 4) }},
		{"ldc", func() { Sgemm(false, false, 3, 4, 4, 1, a, 4, a, 4, 0, a, 3) }},
		{"short a", func() { Sgemm(false, false, 4, 3, 4, 1, a, 4, a, 3, 0, a, 3) }},
		{"short c", func() { Sgemm(false, false, 3, 4, 3, 1, a, 3, a, 4, 0, a[:11], 4) }},
		{"negative", func() { Sgemm(false, false, -1, 4, 3, 1, a, 3, a, 4, 0, a, 4) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}
