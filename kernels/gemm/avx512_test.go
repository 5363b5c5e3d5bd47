//go:build !openblas

package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPanels512Matches holds the AVX-512 micro-kernel to kernel6x16Panels
// tile by tile, bit for bit: every depth from 1 to 300 (the unrolled loop
// and its tail), runs of 1 to 5 tiles (pairs and an odd last tile), alpha
// and beta as the drivers pass them, NaN in C under beta 0, with and
// without the prefetch, and the C row after the run left alone. It runs
// only where the CPU has AVX-512F; elsewhere it says so as a skip.
func TestPanels512Matches(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512F on this CPU: the AVX-512 kernel is untested here (it is never used here either)")
	}
	rng := rand.New(rand.NewPCG(512, 16))
	const ldc = nr + 5
	for kc := 1; kc <= 300; kc++ {
		np := 1 + kc%5
		a, b := bitValues(rng, np*mr*kc), bitValues(rng, nr*kc)
		for i, ab := range tileScalars {
			want, got := tileC(rng, (np*mr+1)*ldc, kc%3 == 0 && ab[1] == 0)
			pfRows := (i % 2) * (1 + kc%7)
			kernel6x16Panels(kc, np, &a[0], &b[0], &want[0], ldc, ab[0], ab[1], &a[0], 0, 0, 0, 0)
			kernel6x16Panels512(kc, np, &a[0], &b[0], &got[0], ldc, ab[0], ab[1], &a[0], kc, 1+kc%3, 2, pfRows)
			if j := bitDiff(got, want); j >= 0 {
				t.Fatalf("kc %d, %d tiles, alpha %g, beta %g: C[%d] = %#08x, kernel6x16Panels %#08x", kc, np, ab[0], ab[1], j, math.Float32bits(got[j]), math.Float32bits(want[j]))
			}
		}
	}
}

// TestKernel512Matches holds the in-place driver's AVX-512 micro-kernel to
// kernel6x16AVX2 bit for bit: depths 1 to 300, A read as a packed panel
// (rs 1, cs 6), a row-major A in place (rs lda, cs 1) and a transposed one
// (rs 1, cs lda), the drivers' alpha and beta, NaN in C under beta 0, and
// C's padding columns and the row after the tile left alone.
func TestKernel512Matches(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512F on this CPU: the AVX-512 kernel is untested here (it is never used here either)")
	}
	rng := rand.New(rand.NewPCG(512, 6))
	const ldc = nr + 3
	for kc := 1; kc <= 300; kc++ {
		lda := kc + 1 + kc%7
		for _, layout := range aLayouts(mr, kc, lda) {
			a, b := bitValues(rng, layout.n), bitValues(rng, nr*kc)
			for _, ab := range tileScalars {
				want, got := tileC(rng, (mr+1)*ldc, kc%3 == 0 && ab[1] == 0)
				kernel6x16AVX2(kc, &a[0], layout.rs, layout.cs, &b[0], &want[0], ldc, ab[0], ab[1])
				kernel6x16AVX512(kc, &a[0], layout.rs, layout.cs, &b[0], &got[0], ldc, ab[0], ab[1])
				if j := bitDiff(got, want); j >= 0 {
					t.Fatalf("kc %d, A strides (%d, %d), alpha %g, beta %g: C[%d] = %#08x, kernel6x16AVX2 %#08x", kc, layout.rs, layout.cs, ab[0], ab[1], j, math.Float32bits(got[j]), math.Float32bits(want[j]))
				}
			}
		}
	}
}

// TestWide512Matches holds the 6×32 AVX-512 kernels to two 6×16 AVX2
// tiles side by side, bit for bit: depths 1 to 300; for the blocked
// driver's kernel runs of 1 to 4 tiles with and without the prefetch, for
// the in-place one A packed, row-major and transposed; the drivers' alpha
// and beta, NaN in C under beta 0, and C's padding columns and the row
// after the tiles left alone.
func TestWide512Matches(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512F on this CPU: the AVX-512 kernel is untested here (it is never used here either)")
	}
	rng := rand.New(rand.NewPCG(512, 32))
	const ldc = 2*nr + 5
	for kc := 1; kc <= 300; kc++ {
		np := 1 + kc%4
		a, b := bitValues(rng, np*mr*kc), bitValues(rng, 2*nr*kc)
		for i, ab := range tileScalars {
			want, got := tileC(rng, (np*mr+1)*ldc, kc%3 == 0 && ab[1] == 0)
			for half := 0; half < 2; half++ {
				kernel6x16Panels(kc, np, &a[0], &b[half*nr*kc], &want[half*nr], ldc, ab[0], ab[1], &a[0], 0, 0, 0, 0)
			}
			pfRows := (i % 2) * (1 + kc%7)
			kernel6x32Panels512(kc, np, &a[0], &b[0], &got[0], ldc, ab[0], ab[1], &a[0], kc, 1+kc%3, 2, pfRows)
			if j := bitDiff(got, want); j >= 0 {
				t.Fatalf("panels: kc %d, %d tiles, alpha %g, beta %g: C[%d] = %#08x, two kernel6x16Panels %#08x", kc, np, ab[0], ab[1], j, math.Float32bits(got[j]), math.Float32bits(want[j]))
			}
		}

		lda := kc + 1 + kc%7
		bs := nr*kc + kc%5*nr // the second micro-panel need not follow the first
		b = bitValues(rng, bs+nr*kc)
		for _, layout := range aLayouts(mr, kc, lda) {
			a := bitValues(rng, layout.n)
			for _, ab := range tileScalars {
				want, got := tileC(rng, (mr+1)*ldc, kc%3 == 0 && ab[1] == 0)
				kernel6x16AVX2(kc, &a[0], layout.rs, layout.cs, &b[0], &want[0], ldc, ab[0], ab[1])
				kernel6x16AVX2(kc, &a[0], layout.rs, layout.cs, &b[bs], &want[nr], ldc, ab[0], ab[1])
				kernel6x32AVX512(kc, &a[0], layout.rs, layout.cs, &b[0], bs, &got[0], ldc, ab[0], ab[1])
				if j := bitDiff(got, want); j >= 0 {
					t.Fatalf("in place: kc %d, A strides (%d, %d), alpha %g, beta %g: C[%d] = %#08x, two kernel6x16AVX2 %#08x", kc, layout.rs, layout.cs, ab[0], ab[1], j, math.Float32bits(got[j]), math.Float32bits(want[j]))
				}
			}
		}
	}
}

// TestTall512Matches holds the 12×16 AVX-512 kernel to two 6×16 AVX2
// tiles stacked, bit for bit: shared depths 1 to 260 with the first panel
// alone for 0-6 k steps before (UpperA) and the second alone for 0-6 after
// (LowerA); A row-major and transposed in place; the drivers' alpha and
// beta, NaN in C under beta 0, C's padding columns and the row after the
// tile left alone. A outside each panel's k range holds NaN, so a read
// there would show.
func TestTall512Matches(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512F on this CPU: the AVX-512 kernel is untested here (it is never used here either)")
	}
	rng := rand.New(rand.NewPCG(512, 12))
	const ldc = nr + 5
	nan := float32(math.NaN())
	for both := 1; both <= 260; both++ {
		head, tail := both%7, (both/7)%7
		if both%3 == 0 {
			head, tail = 0, 0 // a Full product's two panels
		}
		kc := head + both + tail
		b := bitValues(rng, nr*kc)
		lda := 2*mr + kc + both%5
		for _, layout := range aLayouts(2*mr, kc, lda)[1:] { // in place only
			a := bitValues(rng, layout.n)
			for r := range 2 * mr {
				for p := range kc {
					if (r < mr && p >= head+both) || (r >= mr && p < head) {
						a[r*layout.rs+p*layout.cs] = nan
					}
				}
			}
			for _, ab := range tileScalars {
				want, got := tileC(rng, (2*mr+1)*ldc, both%4 == 0 && ab[1] == 0)
				kernel6x16AVX2(head+both, &a[0], layout.rs, layout.cs, &b[0], &want[0], ldc, ab[0], ab[1])
				kernel6x16AVX2(both+tail, &a[mr*layout.rs+head*layout.cs], layout.rs, layout.cs, &b[head*nr], &want[mr*ldc], ldc, ab[0], ab[1])
				kernel12x16AVX512(head, both, tail, &a[0], layout.rs, layout.cs, &b[0], &got[0], ldc, ab[0], ab[1])
				if j := bitDiff(got, want); j >= 0 {
					t.Fatalf("head %d, both %d, tail %d, A strides (%d, %d), alpha %g, beta %g: C[%d] = %#08x, two kernel6x16AVX2 %#08x",
						head, both, tail, layout.rs, layout.cs, ab[0], ab[1], j, math.Float32bits(got[j]), math.Float32bits(want[j]))
				}
			}
		}
	}
}

// aLayout is how a kernel test lays out `rows` rows of A over kc k steps:
// A(r, p) at a[r*rs + p*cs], n floats in all.
type aLayout struct{ rs, cs, n int }

// aLayouts lists the three layouts the drivers give the kernels: a packed
// panel (rs 1, cs rows), a row-major A read in place (rs lda, cs 1) and a
// transposed one (rs 1, cs lda).
func aLayouts(rows, kc, lda int) []aLayout {
	return []aLayout{{1, rows, rows * kc}, {lda, 1, (rows-1)*lda + kc}, {1, lda, (kc-1)*lda + rows}}
}
