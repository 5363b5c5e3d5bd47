//go:build !openblas

package gemm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPanelsKernelMatches holds the blocked driver's micro-kernel
// (kernel6x16Panels) to kernel6x16AVX2 tile by tile, bit for bit: every
// depth from 1 to 300 (the unrolled loop and its tail), runs of 1 to 4
// tiles, alpha and beta as the drivers pass them, NaN in C under beta 0,
// with and without the prefetch (which must move no bit), and C rows
// outside the run left alone.
func TestPanelsKernelMatches(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2/FMA")
	}
	rng := rand.New(rand.NewPCG(77, 78))
	const ldc = nr + 3
	for kc := 1; kc <= 300; kc++ {
		np := 1 + kc%4
		a, b := bitValues(rng, np*mr*kc), bitValues(rng, nr*kc)
		for i, ab := range tileScalars {
			// One row more than the run, which must keep its values.
			want, got := tileC(rng, (np*mr+1)*ldc, kc%3 == 0 && ab[1] == 0)
			for tile := range np {
				kernel6x16AVX2(kc, &a[tile*mr*kc], 1, mr, &b[0], &want[tile*mr*ldc], ldc, ab[0], ab[1])
			}
			// Prefetch rows of a (any valid memory) on every other case.
			pfRows := (i % 2) * (1 + kc%5)
			kernel6x16Panels(kc, np, &a[0], &b[0], &got[0], ldc, ab[0], ab[1], &a[0], kc, 1+kc%3, 2, pfRows)
			if j := bitDiff(got, want); j >= 0 {
				t.Fatalf("kc %d, %d tiles, alpha %g, beta %g: C[%d] = %#08x, kernel6x16AVX2 %#08x", kc, np, ab[0], ab[1], j, math.Float32bits(got[j]), math.Float32bits(want[j]))
			}
		}
	}
}

// tileScalars are the alpha, beta pairs the tile tests run: the drivers'
// (1, 0) and (1, 1), a later k slice's (alpha, 1), a general pair, and a
// NaN beta, which must take the path that reads C.
var tileScalars = [][2]float32{{1, 0}, {1, 1}, {0.25, 1}, {-1.5, 0.25}, {2, float32(math.NaN())}}

// tileC is a C of n random floats for a tile test, all NaN when nanC (for
// beta 0, which must not read it), as two copies: one for the reference
// kernel, one for the kernel under test.
func tileC(rng *rand.Rand, n int, nanC bool) (want, got []float32) {
	c := bitValues(rng, n)
	if nanC {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	return slices.Clone(c), c
}

// bitDiff is the first index at which got and want differ in their bits,
// or -1 when they are identical.
func bitDiff(got, want []float32) int {
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i
		}
	}
	return -1
}

// TestPackRows16Sweep holds the row-by-row B packing to packRows16Go, one
// micro-panel at a time, over depths, panel counts and strides.
func TestPackRows16Sweep(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, kc := range []int{1, 2, 3, 7, 64, 255, 256} {
		for _, np := range []int{1, 2, 5, 32} {
			lds := np*nr + rng.IntN(9)
			src := bitValues(rng, (kc-1)*lds+np*nr)
			want, got := make([]float32, np*kc*nr), make([]float32, np*kc*nr)
			for j := range np {
				packRows16Go(kc, src[j*nr:], lds, want[j*kc*nr:])
			}
			packRows16Sweep(kc, np, &src[0], lds, &got[0])
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("kc %d, %d panels, lds %d: dst[%d] = %#08x, want %#08x", kc, np, lds, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
				}
			}
		}
	}
}

// TestNextBlockPlan checks the prefetch plan's arithmetic: it hands out
// every row of the next block exactly once, only from fromJr on, within
// the rows the tiles can take, and plans nothing for the last block, the
// triangular modes or blocks without full panels.
func TestNextBlockPlan(t *testing.T) {
	for _, c := range []struct {
		transA        bool
		m, ic, kc, nc int
	}{
		{false, 2048, 0, 256, 512}, {true, 512, 120, 256, 512}, {false, 300, 120, 100, 48},
		{true, 250, 120, 37, 16}, {false, 130, 0, 256, 1408}, {true, 2048, 1800, 256, 32},
		{true, 512, 0, 37, 32},
	} {
		lda := c.m + 3
		if !c.transA {
			lda = c.kc + 5
		}
		// Exactly the view, as Sgemm's checks allow.
		a := make([]float32, viewLen(c.m, c.kc, lda))
		if c.transA {
			a = make([]float32, viewLen(c.kc, c.m, lda))
		}
		tiles := min(mcMax, c.m-c.ic) / mr
		p := nextBlockPlan(Full, c.transA, a, lda, c.m, c.ic, 0, c.kc, c.nc, tiles)
		if c.ic+mcMax >= c.m {
			if p.src != nil {
				t.Errorf("%+v: a plan for the last block", c)
			}
			continue
		}
		want := min(mcMax, c.m-c.ic-mcMax)
		if c.transA {
			want = c.kc
		}
		got := 0
		for jr := 0; jr+nr <= c.nc; jr += nr {
			src, rows := p.take(jr, tiles)
			if rows > 0 && jr < p.fromJr {
				t.Errorf("%+v: prefetch at jr %d before fromJr %d", c, jr, p.fromJr)
			}
			if rows > tiles*p.perTile {
				t.Errorf("%+v: %d rows for %d tiles of %d", c, rows, tiles, p.perTile)
			}
			if rows > 0 && !c.transA && src != &a[(c.ic+mcMax+got)*lda] {
				t.Errorf("%+v: row %d at the wrong address", c, got)
			}
			got += rows
		}
		if got != want {
			t.Errorf("%+v: %d rows prefetched, want %d", c, got, want)
		}
	}
	if p := nextBlockPlan(LowerA, false, make([]float32, 300*300), 300, 300, 0, 0, 256, 300, 20); p.src != nil {
		t.Error("a plan for a triangular product")
	}
}

// TestBlockedRunsMatchOld holds the blocked driver to the old one bit for
// bit where its runs of full tiles and its prefetch plan have edges: several
// blocks of mcMax rows with a partial last block and a partial last 6-row
// panel, column counts that end a run on a 6×8 tail (n mod 16 in 1..8) or a
// partial 16-column tile, depths of 1, of one k slice and across slices,
// every transpose pair, beta 0 (NaN in C) and 1 and a general one.
func TestBlockedRunsMatchOld(t *testing.T) {
	defer func(v int) { blockedMinB = v }(blockedMinB)
	blockedMinB = 0
	rng := rand.New(rand.NewPCG(2026, 14))
	trs := [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}}
	var cases []bitCase
	for i, m := range []int{6, 119, 121, 245, 247, 360} {
		for j, n := range []int{16, 24, 31, 40, 64} {
			tr := trs[(i+j)%4]
			k := []int{1, 37, 256, 300, 513}[(i*5+j)%5]
			ab := [][2]float32{{1, 0}, {1, 1}, {0.5, 0.25}}[(i+2*j)%3]
			cases = append(cases, bitCase{Full, tr[0], tr[1], m, n, k, (i + j) % 2 * 3, ab[0], ab[1], ab[1] == 0})
		}
	}
	// Wider than one column block (ncMax) with a 6×8 tail, and triangular
	// modes whose runs break where a panel's columns or k range end.
	cases = append(cases,
		bitCase{Full, false, true, 250, ncMax + 40, 100, 0, 1, 0, true},
		bitCase{Full, true, false, 130, ncMax + 24, 260, 1, 1, 1, false},
		// B blocks that packBBlock sweeps (kc×nc ≥ sweepMinB), with an
		// 8-column tail, a padded stride, and a 12-column one.
		bitCase{Full, true, false, 130, 600, 512, 3, 1, 1, false},
		bitCase{Full, false, false, 7, 524, 256, 0, 1, 0, true},
		bitCase{LowerC, false, true, 250, 250, 64, 2, 0.125, 0, true},
		bitCase{LowerA, false, false, 250, 64, 250, 0, 1, 0, false},
		bitCase{UpperA, true, false, 250, 64, 250, 0, 1, 1, false})
	for _, c := range cases {
		c.check(t, rng)
	}
}
