//go:build !openblas

package gemm

import (
	"sync"
	"unsafe"
)

// This file is a verbatim copy of the pure-Go backend's driver as it was
// before the BLIS-order rework (commit f0eecdb, kernels/gemm/gemm_go.go),
// every name prefixed with "old": the bit-identity reference that
// TestKernelMatchesOld holds the current driver to. It calls the
// same assembly micro-kernels (kernel6x16AVX2, kernel6x8AVX2) and packing
// helper (packRows16, copyRows16AVX2), which are kept unchanged for that
// reason (TestOldKernelGolden pins their output); the Go micro-kernel
// (kernelGo) is copied too. Do not edit it to follow the
// driver: it is what the training results were computed with.

const (
	oldMr        = 6
	oldNr        = 16
	oldKcMax     = 256
	oldBBlockMax = 64 << 10
)

type oldPackBuf struct {
	a [oldMr * oldKcMax]float32
	b []float32
}

var oldBufPool = sync.Pool{New: func() any { return new(oldPackBuf) }}

func oldSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	oldSgemmTri(Full, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// oldPackRows16 is packRows16 (kernel_amd64.go / kernel_other.go), which
// is kept unchanged.
func oldPackRows16(kc int, src []float32, lds int, dst []float32) {
	packRows16(kc, src, lds, dst)
}

// oldSgemmTri is the driver, with the work a Tri shape lets it skip left out.
// A row panel of a triangular op(A) runs the kernel over a sub-range of the
// k slice: the packed B micro-panels hold kc rows, and the kernel is simply
// started further down (UpperA) or stopped earlier (LowerA). Each C element
// is still one accumulator summed in k order, so dropping the exact zeros at
// either end of that order leaves it bit-identical (0·x adds +0, and +0
// plus +0 or −0 is +0). That only holds within one k slice, so with more
// than one slice the triangular modes compute the full product. The 6×8
// kernel sums even and odd k steps in separate registers; UpperA starts a
// panel at k = its first row, a multiple of 6 and so even, which keeps
// every term in the register it would have had.
func oldSgemmTri(tri Tri, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	buf := oldBufPool.Get().(*oldPackBuf)
	defer oldBufPool.Put(buf)

	// Split k into equal slices no deeper than oldKcMax (e.g. 352 → 2×176
	// rather than 256+96), so every slice keeps the kernel's loop long.
	nk := (k + oldKcMax - 1) / oldKcMax
	kcStep := (k + nk - 1) / nk
	nb := (n*kcStep + oldBBlockMax - 1) / oldBBlockMax
	ncStep := oldRoundUp((n+nb-1)/nb, oldNr)
	if cap(buf.b) < kcStep*ncStep {
		buf.b = make([]float32, kcStep*ncStep)
	}
	if nk > 1 && tri != LowerC {
		tri = Full
	}
	for jc := 0; jc < n; jc += ncStep {
		nc := min(ncStep, n-jc)
		ncPad := oldRoundUp(nc, oldNr)
		for pc := 0; pc < k; pc += kcStep {
			kc := min(kcStep, k-pc)
			// Only the first k slice applies the caller's beta; later ones
			// accumulate onto what the earlier slices stored.
			betaEff := beta
			if pc > 0 {
				betaEff = 1
			}
			bp := buf.b[:kc*ncPad]
			oldPackB(transB, bp, b, ldb, pc, jc, kc, nc)
			for ir := 0; ir < m; ir += oldMr {
				rows := min(oldMr, m-ir)
				// This panel's columns and k range.
				ncEff, lo, hi := nc, pc, pc+kc
				switch tri {
				case LowerC: // columns past the panel's last row are not wanted
					ncEff = min(nc, oldRoundUp(ir+rows-jc, oldNr))
					if ncEff <= 0 {
						continue
					}
				case LowerA: // op(A)(i, p) = 0 for p > i
					hi = min(hi, ir+rows)
				case UpperA: // op(A)(i, p) = 0 for p < i
					lo = max(lo, ir)
				}
				if lo >= hi {
					// Every product is zero: C = alpha·0 + beta·C, as the
					// full kernel would store.
					oldZeroProduct(rows, nc, alpha, betaEff, c[ir*ldc+jc:], ldc)
					continue
				}
				kl := hi - lo
				var ap *float32
				var rsa, csa int
				switch {
				case rows == oldMr && !transA:
					ap, rsa, csa = &a[ir*lda+lo], lda, 1
					// Guard the kernel's unsafe reads: the last element of
					// the 6×kl view must be in bounds.
					_ = a[(ir+oldMr-1)*lda+hi-1]
				case rows == oldMr && transA:
					ap, rsa, csa = &a[lo*lda+ir], 1, lda
					_ = a[(hi-1)*lda+ir+oldMr-1]
				default:
					oldPackA(transA, buf.a[:oldMr*kl], a, lda, ir, lo, rows, kl)
					ap, rsa, csa = &buf.a[0], 1, oldMr
				}
				oldPanelRow(rows, ncEff, kc, lo-pc, kl, alpha, ap, rsa, csa, bp, betaEff, c[ir*ldc+jc:], ldc)
			}
		}
	}
}

// oldZeroProduct sets the rows×n view of C to alpha·(+0) + beta·C, what the
// kernel stores for an all-zero product, without reading C when beta == 0.
func oldZeroProduct(rows, n int, alpha, beta float32, c []float32, ldc int) {
	var zero float32
	for i := 0; i < rows; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = alpha * zero
			} else {
				row[j] = alpha*zero + beta*row[j]
			}
		}
	}
}

// oldPanelRow multiplies one 6-row A panel by every 16-column micro-panel of
// the packed B block (kc rows each), updating rows×nc of C. The kernel reads
// kl rows of each micro-panel starting at row k0 (a sub-range for
// triangular A; all of them otherwise).
func oldPanelRow(rows, nc, kc, k0, kl int, alpha float32, ap *float32, rsa, csa int, bp []float32, beta float32, c []float32, ldc int) {
	for jr := 0; jr < nc; jr += oldNr {
		cols := min(oldNr, nc-jr)
		bPanel := bp[jr*kc+k0*oldNr : jr*kc+(k0+kl)*oldNr]
		// A last panel of at most 8 columns (n=8 for LoRA rank 8) uses the
		// 6×8 kernel instead of wasting half of the 6×16 one.
		width := oldNr
		if cols <= oldNr/2 {
			width = oldNr / 2
		}
		if rows == oldMr && cols == width {
			// Full tile: the kernel writes C in place. The bounds check on
			// the tile's last element guards the unsafe writes.
			_ = c[(oldMr-1)*ldc+jr+width-1]
			oldMicroKernel(width, kl, ap, rsa, csa, &bPanel[0], &c[jr], ldc, alpha, beta)
			continue
		}
		oldEdgeTile(width, kl, ap, rsa, csa, bPanel, c[jr:], ldc, rows, cols, alpha, beta)
	}
}

// oldEdgeTile handles a partial tile at the bottom/right border: the kernel
// computes the full 6×width tile into a stack buffer (padding rows/columns
// of the packed panels are zero), then only the valid rows×cols part is
// merged into C, so C is never touched outside the view.
func oldEdgeTile(width, kc int, ap *float32, rsa, csa int, bPanel, c []float32, ldc, rows, cols int, alpha, beta float32) {
	var tile [oldMr * oldNr]float32
	oldMicroKernel(width, kc, ap, rsa, csa, &bPanel[0], &tile[0], oldNr, alpha, 0)
	for i := 0; i < rows; i++ {
		t := tile[i*oldNr : i*oldNr+cols]
		row := c[i*ldc : i*ldc+cols]
		if beta == 0 {
			copy(row, t)
			continue
		}
		for j := range row {
			row[j] = t[j] + beta*row[j]
		}
	}
}

// oldMicroKernel computes a 6×width tile (width 16 or 8) with the assembly
// kernels when the CPU supports them, else with the portable one.
func oldMicroKernel(width, kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32) {
	switch {
	case !useAVX2:
		oldKernelGo(width, kc, a, rsa, csa, b, c, ldc, alpha, beta)
	case width == oldNr:
		kernel6x16AVX2(kc, a, rsa, csa, b, c, ldc, alpha, beta)
	default:
		kernel6x8AVX2(kc, a, rsa, csa, b, c, ldc, alpha, beta)
	}
}

// oldKernelGo is the portable micro-kernel with the same contract as
// kernel6x16AVX2 (width 16) and kernel6x8AVX2 (width 8):
// C[0:6,0:width] = alpha*A·Bpanel + beta*C with A(r, p) at
// a[r*rsa+p*csa], not reading C when beta == 0. Used on CPUs without
// AVX2/FMA (and in tests). The Go compiler does not vectorise, so it works
// on 2×4 sub-tiles whose 8 accumulators, 4 B values and 2 A values fit in
// the 15 XMM registers Go allocates (X15 is reserved); a 3×4 sub-tile
// spills, and an accumulator array lives in memory (~1 GFLOP/s).
func oldKernelGo(width, kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32) {
	as := unsafe.Slice(a, (oldMr-1)*rsa+(kc-1)*csa+1)
	bp := unsafe.Slice(b, kc*oldNr)
	cs := unsafe.Slice(c, (oldMr-1)*ldc+width)
	for i0 := 0; i0 < oldMr; i0 += 2 {
		for j0 := 0; j0 < width; j0 += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			// Unchecked loads: the extents were checked by the driver
			// (and are implied by the unsafe.Slice lengths above); bounds
			// checks in this loop would cost more than the arithmetic.
			// Addresses are recomputed from the base each step, so no
			// pointer ever points past its allocation.
			pa0 := unsafe.Pointer(&as[i0*rsa])
			pa1 := unsafe.Pointer(&as[(i0+1)*rsa])
			pb := unsafe.Pointer(&bp[j0])
			for p := range kc {
				bq := (*[4]float32)(unsafe.Add(pb, p*oldNr*4))
				b0, b1, b2, b3 := bq[0], bq[1], bq[2], bq[3]
				pa := p * csa * 4
				a0 := *(*float32)(unsafe.Add(pa0, pa))
				a1 := *(*float32)(unsafe.Add(pa1, pa))
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			oldStore4(cs[i0*ldc+j0:], alpha, beta, c00, c01, c02, c03)
			oldStore4(cs[(i0+1)*ldc+j0:], alpha, beta, c10, c11, c12, c13)
		}
	}
}

// oldStore4 writes alpha*(v0..v3) + beta*c[0:4] to c[0:4], not reading c when
// beta == 0.
func oldStore4(c []float32, alpha, beta float32, v0, v1, v2, v3 float32) {
	d := (*[4]float32)(c[:4])
	if beta == 0 {
		d[0], d[1], d[2], d[3] = alpha*v0, alpha*v1, alpha*v2, alpha*v3
		return
	}
	d[0] = alpha*v0 + beta*d[0]
	d[1] = alpha*v1 + beta*d[1]
	d[2] = alpha*v2 + beta*d[2]
	d[3] = alpha*v3 + beta*d[3]
}

// oldPackA copies rows ir..ir+rows-1 (rows <= 6), columns pc..pc+kc-1 of op(A)
// into dst as one 6×kc panel stored k-major (6 consecutive floats per k
// step, the order the kernel broadcasts them). Rows past `rows` are zero.
func oldPackA(trans bool, dst, a []float32, lda, ir, pc, rows, kc int) {
	if trans {
		// op(A)(i, p) = a[p*lda + i]: the values of one k step are
		// contiguous in memory.
		clear(dst)
		for p := range kc {
			o := (pc+p)*lda + ir
			copy(dst[p*oldMr:p*oldMr+rows], a[o:o+rows])
		}
		return
	}
	// op(A)(i, p) = a[i*lda + p]: interleave the rows.
	clear(dst)
	for r := 0; r < rows; r++ {
		src := a[(ir+r)*lda+pc:][:kc]
		for p, v := range src {
			dst[p*oldMr+r] = v
		}
	}
}

// oldPackB copies the kc×nc block of op(B) starting at (pc, jc) into dst as
// ceil(nc/16) micro-panels of kc×16, each stored row by row (16 consecutive
// floats per k step, the order the kernel loads them). Columns past nc are
// zero.
func oldPackB(trans bool, dst, b []float32, ldb, pc, jc, kc, nc int) {
	for jr := 0; jr < nc; jr += oldNr {
		panel := dst[jr*kc : jr*kc+oldNr*kc]
		cols := min(oldNr, nc-jr)
		if !trans {
			// op(B)(p, j) = b[p*ldb + j]: 16 contiguous floats per k step.
			if cols == oldNr {
				oldPackRows16(kc, b[pc*ldb+jc+jr:], ldb, panel)
				continue
			}
			for p := range kc {
				o := (pc+p)*ldb + jc + jr
				d := panel[p*oldNr : p*oldNr+oldNr]
				copy(d, b[o:o+cols])
				clear(d[cols:])
			}
			continue
		}
		// op(B)(p, j) = b[j*ldb + p]: each stored row is one column of
		// op(B).
		if cols == oldNr {
			oldPackCols16(kc, b[(jc+jr)*ldb+pc:], ldb, panel)
			continue
		}
		// Partial panel: scatter each stored row with stride 16; the panel
		// (kc×64 bytes) stays in L1.
		clear(panel)
		for j := 0; j < cols; j++ {
			src := b[(jc+jr+j)*ldb+pc:][:kc]
			for p, v := range src {
				panel[p*oldNr+j] = v
			}
		}
	}
}

// oldPackRows16Go is the portable packRows16: dst[p*16:p*16+16] =
// src[p*lds:p*lds+16]. Element-wise because copy() of a short row, or an
// array copy between slices, becomes a runtime.memmove call per row.
func oldPackRows16Go(kc int, src []float32, lds int, dst []float32) {
	for p := range kc {
		s := (*[oldNr]float32)(src[p*lds : p*lds+oldNr])
		d := (*[oldNr]float32)(dst[p*oldNr : p*oldNr+oldNr])
		for j := range oldNr {
			d[j] = s[j]
		}
	}
}

// oldPackCols16 packs a kc×16 micro-panel from 16 stored rows of src (stride
// lds), transposing: dst[p*16+j] = src[j*lds+p]. It walks k in the outer
// loop so each store is one contiguous 64-byte row of the panel, and uses
// unchecked loads: with a bounds check on each of the 16 strided reads it
// ran at ~4 cycles a float, and this transposed packing is what the
// attention GEMMs (Q·Kᵀ, dO·Vᵀ, k = 32) spend a good part of their time on.
func oldPackCols16(kc int, src []float32, lds int, dst []float32) {
	// These checks make the unchecked accesses below safe.
	_ = src[(oldNr-1)*lds+kc-1]
	_ = dst[kc*oldNr-1]
	base := unsafe.Pointer(&src[0])
	st := uintptr(lds) * 4
	for p := range kc {
		d := (*[oldNr]float32)(dst[p*oldNr : p*oldNr+oldNr])
		s := unsafe.Add(base, p*4)
		d[0] = *(*float32)(s)
		d[1] = *(*float32)(unsafe.Add(s, st))
		d[2] = *(*float32)(unsafe.Add(s, 2*st))
		d[3] = *(*float32)(unsafe.Add(s, 3*st))
		d[4] = *(*float32)(unsafe.Add(s, 4*st))
		d[5] = *(*float32)(unsafe.Add(s, 5*st))
		d[6] = *(*float32)(unsafe.Add(s, 6*st))
		d[7] = *(*float32)(unsafe.Add(s, 7*st))
		d[8] = *(*float32)(unsafe.Add(s, 8*st))
		d[9] = *(*float32)(unsafe.Add(s, 9*st))
		d[10] = *(*float32)(unsafe.Add(s, 10*st))
		d[11] = *(*float32)(unsafe.Add(s, 11*st))
		d[12] = *(*float32)(unsafe.Add(s, 12*st))
		d[13] = *(*float32)(unsafe.Add(s, 13*st))
		d[14] = *(*float32)(unsafe.Add(s, 14*st))
		d[15] = *(*float32)(unsafe.Add(s, 15*st))
	}
}

// oldRoundUp rounds x up to a multiple of q.
func oldRoundUp(x, q int) int {
	return (x + q - 1) / q * q
}
