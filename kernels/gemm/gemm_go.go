//go:build !openblas

package gemm

import (
	"sync"
	"unsafe"
)

// Backend names the implementation compiled in: "openblas" or "go".
const Backend = "go"

// MicroKernel names the micro-kernel this backend runs on this CPU:
// "AVX-512" (full 6×32, 12×16 and 6×16 tiles on ZMM registers, the 6×8 edge
// kernel on YMM), "AVX2", or "portable Go". AVX-512 and AVX2 give the same
// bits.
func MicroKernel() string {
	switch {
	case useAVX512:
		return "AVX-512"
	case useAVX2:
		return "AVX2"
	}
	return "portable Go"
}

// FMAKernels reports whether the GEMM runs on the AVX2 or AVX-512 FMA
// kernels, which give the same bits; the portable Go kernel (no AVX2 and
// FMA on this CPU, another architecture, or the purego tag) rounds each
// product before adding it, so its results differ in the last digits.
func FMAKernels() bool { return useAVX2 }

// AccumulateRoundsSeparately reports that with beta = 1 each element of C
// becomes round(C + round(alpha·acc)), acc being the float32 sum of the
// products in k order: exactly what storing alpha·op(A)·op(B) and adding
// it to C afterwards would give, so a caller may fuse the two.
const AccumulateRoundsSeparately = true

// Register tile of the micro-kernel: 6 rows × 16 columns = 12 YMM
// accumulators, leaving 4 of the 16 YMM registers for two B vectors and the
// A broadcasts. This is the standard AVX2/FMA shape (BLIS, OpenBLAS Haswell):
// 2 loads + 6 broadcasts feed 12 FMAs per k step, so the FMA units, not the
// load ports, are the limit.
const (
	mr = 6
	nr = 16
)

// Cache blocking (sizes for this 2-core EPYC: 32 KiB L1D, 512 KiB L2 per
// core). kcMax is part of the arithmetic, not only of the blocking: each k
// slice's products are summed in a register from zero and then added to C,
// so the slices' boundaries (k cut into ceil(k/kcMax) equal slices) decide
// every element's roundings, and changing kcMax or that rule changes every
// committed result (TestKernelMatchesOld). kcMax bounds the depth of one k
// slice so that a B micro-panel
// (kc×16 floats = 16 KiB at kc=256) plus the 6×kc A panel (6 KiB) stay in
// L1D while the kernel streams them. bBlockMax bounds the packed B block
// (kc×nc floats = 256 KiB) so that it stays in L2 while every 6-row A panel
// sweeps over it, with room left for the C block; B is packed once per k
// slice except for n=352 with kc=256 (dW), which is split in two column
// blocks. Other sizes tried on the benchmark shapes (kc 128-320, B block
// 128-512 KiB, min-of-N timings) were within noise (~5%) of these.
const (
	kcMax     = 256
	bBlockMax = 64 << 10
)

// packBuf holds the packing buffers of one call. They come from a sync.Pool
// so steady-state calls do not allocate, and each concurrent call gets its
// own buffers.
type packBuf struct {
	a [mr * kcMax]float32 // one 6×kc A panel
	b []float32           // one kc×nc B block

	// The blocked driver's (blocked.go) A block and its panels' k ranges.
	ablk   []float32
	panels [mcMax / mr]aPanel
}

var bufPool = sync.Pool{New: func() any { return new(packBuf) }}

// sgemm is the in-place driver, for products whose k slice of op(B) is at
// most blockedMinB floats and that have a side under blockedMinSide; the
// others go to the blocked driver (sgemmBlocked, blocked.go), which gives
// the same bits. For each nc-wide column block of op(B) and each kc-deep
// slice of k, it packs op(B) into kc×16 micro-panels
// (contiguous, zero-padded, in the order the kernel loads them, independent
// of transB and ldb). Then, for each 6-row panel of op(A), it runs the
// micro-kernel against every B micro-panel: the A panel stays in L1 while
// the B block streams from L2. Column blocks are the outer loop so that the
// m×nc block of C being accumulated over k slices stays cached (dW has
// k=2048, i.e. 8 slices).
//
// op(A) is read in place, without packing: the kernel takes A through a
// (row stride, k stride) pair, broadcasting from 6 row pointers for a
// row-major A (rs=lda, cs=1) or from 6 contiguous floats per k step for a
// transposed A (rs=1, cs=lda). Packing A is one extra pass over m×k floats
// per call that buys nothing when A is only swept once per B block; for the
// transposed case it measured slower than in-place reads on the d 128
// dW/attention shapes (min-of-200 timings; dW 128×128×2048: 80 vs 85
// GFLOP/s; PᵀV 128×32×128: 59 vs 75). From lda = 256 on it is not: the k
// steps of a transposed panel read in place are lda floats apart, and at lda
// = 512 every one of a panel's 256 lines falls into the same 2 of L1D's 64
// sets, so each of the panel's kernel calls rereads them from L2. There a
// panel used by at least 3 B micro-panels is packed first (packPanelT6: 6
// contiguous floats per k step, the bits moved, not converted); paired
// in-process timings (CPU time, medians of 31 alternations) measured dW
// 10-15% faster at d 512 (lda 512 and 1408), 6-8% at d 256, within noise
// at d 128 (lda 352), 1-5% slower at d 64, hence the lda threshold. A final
// panel of fewer than 6 rows is packed, zero-padded, so the kernel never
// reads past the view.
// Called only with m, n, k > 0 and alpha != 0.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmTri(Full, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmTri is the driver, with the work a Tri shape lets it skip left out.
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
func sgemmTri(tri Tri, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	buf := bufPool.Get().(*packBuf)
	defer bufPool.Put(buf)

	// Split k into equal slices no deeper than kcMax (e.g. 352 → 2×176
	// rather than 256+96), so every slice keeps the kernel's loop long.
	nk := (k + kcMax - 1) / kcMax
	kcStep := (k + nk - 1) / nk
	nb := (n*kcStep + bBlockMax - 1) / bBlockMax
	ncStep := roundUp((n+nb-1)/nb, nr)
	if cap(buf.b) < kcStep*ncStep {
		buf.b = make([]float32, kcStep*ncStep)
	}
	if nk > 1 && tri != LowerC {
		tri = Full
	}
	if kcStep*n > blockedMinB || min(m, n, k) >= blockedMinSide {
		sgemmBlocked(tri, transA, transB, m, n, k, kcStep, alpha, a, lda, b, ldb, beta, c, ldc, buf)
		return
	}
	for jc := 0; jc < n; jc += ncStep {
		nc := min(ncStep, n-jc)
		ncPad := roundUp(nc, nr)
		for pc := 0; pc < k; pc += kcStep {
			kc := min(kcStep, k-pc)
			// Only the first k slice applies the caller's beta; later ones
			// accumulate onto what the earlier slices stored.
			betaEff := beta
			if pc > 0 {
				betaEff = 1
			}
			bp := buf.b[:kc*ncPad]
			packB(transB, bp, b, ldb, pc, jc, kc, nc)
			for ir := 0; ir < m; ir += mr {
				if tallTile(tri, transA, m, ir, jc, nc, pc, kc, alpha, a, lda, bp, betaEff, c, ldc) {
					ir += mr // two panels done
					continue
				}
				rows := min(mr, m-ir)
				// This panel's columns and k range.
				ncEff, lo, hi := panelRange(tri, ir, rows, jc, nc, pc, kc)
				if ncEff <= 0 {
					continue
				}
				if lo >= hi {
					// Every product is zero: C = alpha·0 + beta·C, as the
					// full kernel would store.
					zeroProduct(rows, nc, alpha, betaEff, c[ir*ldc+jc:], ldc)
					continue
				}
				kl := hi - lo
				var ap *float32
				var rsa, csa int
				switch {
				case rows == mr && !transA:
					ap, rsa, csa = &a[ir*lda+lo], lda, 1
					// Guard the kernel's unsafe reads: the last element of
					// the 6×kl view must be in bounds.
					_ = a[(ir+mr-1)*lda+hi-1]
				case rows == mr && transA && useAVX2 && lda >= 256 && ncEff >= 3*nr:
					_ = a[(hi-1)*lda+ir+mr-1]
					packPanelT6(kl, &a[lo*lda+ir], lda, &buf.a[0])
					ap, rsa, csa = &buf.a[0], 1, mr
				case rows == mr && transA:
					ap, rsa, csa = &a[lo*lda+ir], 1, lda
					_ = a[(hi-1)*lda+ir+mr-1]
				default:
					packA(transA, buf.a[:mr*kl], a, lda, ir, lo, rows, kl)
					ap, rsa, csa = &buf.a[0], 1, mr
				}
				panelRow(rows, ncEff, kc, lo-pc, kl, alpha, ap, rsa, csa, bp, betaEff, c[ir*ldc+jc:], ldc)
			}
		}
	}
}

// tallTile computes the panels at rows ir and ir+6 as one 12×16 tile
// (kernel12x16AVX512) when the product is one B micro-panel wide, both
// panels are full, the loop above would read both in place, and their k
// ranges nest as the triangular modes make them (the first starting no
// later, the second ending no earlier, overlapping): each row then gets
// the FMAs the two 6×16 calls would give it, in the same order. It reports
// whether it did.
func tallTile(tri Tri, transA bool, m, ir, jc, nc, pc, kc int, alpha float32, a []float32, lda int, bp []float32, beta float32, c []float32, ldc int) bool {
	if !useAVX512 || !tall512 || nc != nr || tri == LowerC || ir+2*mr > m {
		return false
	}
	_, lo0, hi0 := panelRange(tri, ir, mr, jc, nc, pc, kc)
	_, lo1, hi1 := panelRange(tri, ir+mr, mr, jc, nc, pc, kc)
	if !(lo0 <= lo1 && lo1 < hi0 && hi0 <= hi1) {
		return false
	}
	// The bounds checks on the last A element either panel reads, on the
	// B rows and on the tile's last C element guard the kernel's unsafe
	// accesses (a 16-wide transposed A is never packed: see the loop).
	var ap *float32
	var rsa, csa int
	if transA {
		_ = a[(hi1-1)*lda+ir+2*mr-1]
		ap, rsa, csa = &a[lo0*lda+ir], 1, lda
	} else {
		_ = a[(ir+2*mr-1)*lda+hi1-1]
		ap, rsa, csa = &a[ir*lda+lo0], lda, 1
	}
	bPanel := bp[(lo0-pc)*nr : (hi1-pc)*nr]
	_ = c[(ir+2*mr-1)*ldc+jc+nr-1]
	kernel12x16AVX512(lo1-lo0, hi0-lo1, hi1-hi0, ap, rsa, csa, &bPanel[0], &c[ir*ldc+jc], ldc, alpha, beta)
	return true
}

// zeroProduct sets the rows×n view of C to alpha·(+0) + beta·C, what the
// kernel stores for an all-zero product, without reading C when beta == 0.
func zeroProduct(rows, n int, alpha, beta float32, c []float32, ldc int) {
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

// panelRow multiplies one 6-row A panel by every 16-column micro-panel of
// the packed B block (kc rows each), updating rows×nc of C. The kernel reads
// kl rows of each micro-panel starting at row k0 (a sub-range for
// triangular A; all of them otherwise).
func panelRow(rows, nc, kc, k0, kl int, alpha float32, ap *float32, rsa, csa int, bp []float32, beta float32, c []float32, ldc int) {
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		bPanel := bp[jr*kc+k0*nr : jr*kc+(k0+kl)*nr]
		// A last panel of at most 8 columns (n=8 for LoRA rank 8) uses the
		// 6×8 kernel instead of wasting half of the 6×16 one.
		width := nr
		if cols <= nr/2 {
			width = nr / 2
		}
		if rows == mr && useAVX512 && wide512 && jr+2*nr <= nc {
			// Two full tiles side by side as one 6×32 tile: the bounds
			// checks on its last C element and on the second B panel's
			// end guard the kernel's unsafe accesses.
			_ = c[(mr-1)*ldc+jr+2*nr-1]
			_ = bp[(jr+nr)*kc+(k0+kl)*nr-1]
			kernel6x32AVX512(kl, ap, rsa, csa, &bPanel[0], nr*kc, &c[jr], ldc, alpha, beta)
			jr += nr
			continue
		}
		if rows == mr && cols == width {
			// Full tile: the kernel writes C in place. The bounds check on
			// the tile's last element guards the unsafe writes.
			_ = c[(mr-1)*ldc+jr+width-1]
			microKernel(width, kl, ap, rsa, csa, &bPanel[0], &c[jr], ldc, alpha, beta)
			continue
		}
		edgeTile(width, kl, ap, rsa, csa, bPanel, c[jr:], ldc, rows, cols, alpha, beta)
	}
}

// edgeTile handles a partial tile at the bottom/right border: the kernel
// computes the full 6×width tile into a stack buffer (padding rows/columns
// of the packed panels are zero), then only the valid rows×cols part is
// merged into C, so C is never touched outside the view.
func edgeTile(width, kc int, ap *float32, rsa, csa int, bPanel, c []float32, ldc, rows, cols int, alpha, beta float32) {
	var tile [mr * nr]float32
	microKernel(width, kc, ap, rsa, csa, &bPanel[0], &tile[0], nr, alpha, 0)
	for i := 0; i < rows; i++ {
		t := tile[i*nr : i*nr+cols]
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

// microKernel computes a 6×width tile (width 16 or 8) with the assembly
// kernels when the CPU supports them (the 16-wide one on ZMM registers
// where it has AVX-512F), else with the portable one.
func microKernel(width, kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32) {
	switch {
	case !useAVX2:
		kernelGo(width, kc, a, rsa, csa, b, c, ldc, alpha, beta)
	case width == nr && useAVX512:
		kernel6x16AVX512(kc, a, rsa, csa, b, c, ldc, alpha, beta)
	case width == nr:
		kernel6x16AVX2(kc, a, rsa, csa, b, c, ldc, alpha, beta)
	default:
		kernel6x8AVX2(kc, a, rsa, csa, b, c, ldc, alpha, beta)
	}
}

// kernelGo is the portable micro-kernel with the same contract as
// kernel6x16AVX2 (width 16) and kernel6x8AVX2 (width 8):
// C[0:6,0:width] = alpha*A·Bpanel + beta*C with A(r, p) at
// a[r*rsa+p*csa], not reading C when beta == 0. Used on CPUs without
// AVX2/FMA (and in tests). The Go compiler does not vectorise, so it works
// on 2×4 sub-tiles whose 8 accumulators, 4 B values and 2 A values fit in
// the 15 XMM registers Go allocates (X15 is reserved); a 3×4 sub-tile
// spills, and an accumulator array lives in memory (~1 GFLOP/s).
func kernelGo(width, kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32) {
	as := unsafe.Slice(a, (mr-1)*rsa+(kc-1)*csa+1)
	bp := unsafe.Slice(b, kc*nr)
	cs := unsafe.Slice(c, (mr-1)*ldc+width)
	for i0 := 0; i0 < mr; i0 += 2 {
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
				bq := (*[4]float32)(unsafe.Add(pb, p*nr*4))
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
			store4(cs[i0*ldc+j0:], alpha, beta, c00, c01, c02, c03)
			store4(cs[(i0+1)*ldc+j0:], alpha, beta, c10, c11, c12, c13)
		}
	}
}

// store4 writes alpha*(v0..v3) + beta*c[0:4] to c[0:4], not reading c when
// beta == 0.
func store4(c []float32, alpha, beta float32, v0, v1, v2, v3 float32) {
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

// packA copies rows ir..ir+rows-1 (rows <= 6), columns pc..pc+kc-1 of op(A)
// into dst as one 6×kc panel stored k-major (6 consecutive floats per k
// step, the order the kernel broadcasts them). Rows past `rows` are zero.
func packA(trans bool, dst, a []float32, lda, ir, pc, rows, kc int) {
	if trans {
		// op(A)(i, p) = a[p*lda + i]: the values of one k step are
		// contiguous in memory.
		clear(dst)
		for p := range kc {
			o := (pc+p)*lda + ir
			copy(dst[p*mr:p*mr+rows], a[o:o+rows])
		}
		return
	}
	// op(A)(i, p) = a[i*lda + p]: interleave the rows.
	clear(dst)
	for r := 0; r < rows; r++ {
		src := a[(ir+r)*lda+pc:][:kc]
		for p, v := range src {
			dst[p*mr+r] = v
		}
	}
}

// packB copies the kc×nc block of op(B) starting at (pc, jc) into dst as
// ceil(nc/16) micro-panels of kc×16, each stored row by row (16 consecutive
// floats per k step, the order the kernel loads them). Columns past nc are
// zero.
func packB(trans bool, dst, b []float32, ldb, pc, jc, kc, nc int) {
	for jr := 0; jr < nc; jr += nr {
		panel := dst[jr*kc : jr*kc+nr*kc]
		cols := min(nr, nc-jr)
		if !trans {
			// op(B)(p, j) = b[p*ldb + j]: 16 contiguous floats per k step.
			if cols == nr {
				packRows16(kc, b[pc*ldb+jc+jr:], ldb, panel)
				continue
			}
			for p := range kc {
				o := (pc+p)*ldb + jc + jr
				d := panel[p*nr : p*nr+nr]
				copy(d, b[o:o+cols])
				clear(d[cols:])
			}
			continue
		}
		// op(B)(p, j) = b[j*ldb + p]: each stored row is one column of
		// op(B).
		if cols == nr {
			packCols16(kc, b[(jc+jr)*ldb+pc:], ldb, panel)
			continue
		}
		// Partial panel: scatter each stored row with stride 16; the panel
		// (kc×64 bytes) stays in L1.
		clear(panel)
		for j := 0; j < cols; j++ {
			src := b[(jc+jr+j)*ldb+pc:][:kc]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
	}
}

// packRows16Go is the portable packRows16: dst[p*16:p*16+16] =
// src[p*lds:p*lds+16]. Element-wise because copy() of a short row, or an
// array copy between slices, becomes a runtime.memmove call per row.
func packRows16Go(kc int, src []float32, lds int, dst []float32) {
	for p := range kc {
		s := (*[nr]float32)(src[p*lds : p*lds+nr])
		d := (*[nr]float32)(dst[p*nr : p*nr+nr])
		for j := range nr {
			d[j] = s[j]
		}
	}
}

// packCols16Go is the portable packCols16: it packs a kc×16 micro-panel
// from 16 stored rows of src (stride lds), transposing: dst[p*16+j] =
// src[j*lds+p]. It walks k in the outer loop so each store is one
// contiguous 64-byte row of the panel, and uses unchecked loads: with a
// bounds check on each of the 16 strided reads it ran at ~4 cycles a
// float, and this transposed packing is what the attention GEMMs (Q·Kᵀ,
// dO·Vᵀ, k = 32) spend a good part of their time on.
func packCols16Go(kc int, src []float32, lds int, dst []float32) {
	// These checks make the unchecked accesses below safe.
	_ = src[(nr-1)*lds+kc-1]
	_ = dst[kc*nr-1]
	base := unsafe.Pointer(&src[0])
	st := uintptr(lds) * 4
	for p := range kc {
		d := (*[nr]float32)(dst[p*nr : p*nr+nr])
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

// roundUp rounds x up to a multiple of q.
func roundUp(x, q int) int {
	return (x + q - 1) / q * q
}
