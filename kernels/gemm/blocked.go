//go:build !openblas

package gemm

// The blocked driver: the BLIS loop order, for products whose k slice of
// op(B) is larger than blockedMinB (the step GEMMs from d 256 on, and at
// d 128 the ones of width ffn; at d 64 the weight gradient of width ffn)
// or whose sides are all at least blockedMinSide (the rest of d 128's).
// For each column block of op(B) and each k slice:
//
//	pack the kc×nc block of op(B) into kc×16 micro-panels
//	for each block of mcMax rows of op(A):
//	    pack it into 6-row panels, k-major (6 floats per k step)
//	    for each 16-column B micro-panel (kept in L1D: 16 KiB at kc 256):
//	        for each 6-row A panel of the block (streamed from L2):
//	            micro-kernel → 6×16 tile of C
//
// The full tiles of one B micro-panel are one kernel6x16Panels call, which
// during the block's last micro-panels also prefetches the rows of op(A)
// the next block's packing reads (prefetch.go). With AVX-512 two adjacent
// micro-panels (32 KiB at kc 256) make one pass of 6×32 tiles instead.
//
// The in-place driver (sgemmTri) keeps one A panel in L1D and streams the
// whole packed B block from L2 past it: 64 bytes of B per k step, against
// 24 of A here, and it reads a row-major A in place through 6 row pointers
// lda apart, which at lda = 512 or 1024 fall into the same few L1D sets;
// a transposed A (the weight gradients) it repacks for every B block.
// Profiles of both drivers on a d 512 step's GEMMs put ~90% of the time in
// the micro-kernel and ~5% in packing: what the blocking changes is how
// often the kernel waits for its operands. Paired against the in-place
// driver (TestPairedOldNew, CPU time, medians of 11 alternations, one
// core), a full-rank step's linear GEMMs ran 1.08x as fast at d 512 and
// 1.19x at d 1024 (dW 1.1-1.5x), 1.03x at d 256; 87-89% of the measured
// FMA peak (bench/fmapeak) against 72-82% before. A profile of that
// driver at d 512 (GEMM time) then put 91% in the micro-kernel, 6% in
// packing and 2.5% in the Go loop around the kernel. One call per run of
// tiles, the late prefetch and sweeping large B blocks (packBBlock) made
// the step's GEMMs 1.02x as fast again at d 512 and 1024 (dW 1.02-1.11x;
// paired against a copy of that driver, medians of 21 rounds on a shared
// machine).
//
// Only the order of the tiles changes, never what a tile computes: the k
// slices are the same (k cut into ceil(k/kcMax) equal slices, the first
// applying beta, the later ones adding onto C in k order), every tile is
// the same micro-kernel call on the same values (packing moves bits; zero
// padding only fills rows and columns that are thrown away), the edge
// tiles take the same path (a last ≤ 8-column panel the 6×8 kernel, a
// partial tile the stack buffer and the Go merge), and the triangular
// modes skip the same tiles and the same k ranges per 6-row panel.
// TestKernelMatchesOld holds it to the old driver bit for bit.

// blockedMinB is the largest k slice of op(B) (kc×n floats) the in-place
// driver keeps: up to 32K floats (128 KiB) it streams the whole slice from
// L2 past each A panel at close to the kernel's speed, and packing A, an
// extra pass over m×k floats, does not pay for itself. It was 64K (the
// in-place driver's B block) when the blocked driver called the kernel
// once per tile; with one call per run of tiles, paired timings of the
// products between 16K and 64K floats (three runs, medians of 31
// alternations, a shared machine) put the blocked driver ahead on the
// full-rank step's GEMMs at d 256 (1.03-1.07x over the moved shapes,
// 1.00-1.12x each) and at d 128 on those over 32K (fwd and dX of width
// ffn: 1.02-1.09x), level or mixed at 16-32K (d 128's dW 0.97-1.07x; the
// LoRA path's k-32 products at d 256 0.91-1.14x). At d 64 every product
// stays below but the weight gradient of width ffn (0.97-1.06x) and
// LoRA's dA beside it (8 rows: 0.96-0.97x), a sliver of the step.
// A variable so that tests can send every product through the blocked
// driver.
var blockedMinB = 32 << 10

// blockedMinSide sends a product whose m, n and k are all at least this
// large to the blocked driver even when its k slice of op(B) is small:
// the d 128 step's products of width d (m 2048 or k 2048, n 128, k or m
// 128-352), which the in-place driver ran at 55-68 GFLOP/s. Paired on one
// core (CPU time, medians of 21 alternations, a shared machine) the
// blocked driver ran them 0.99-1.09x as fast, most 1.02-1.05x (the weight
// gradients of width ffn, 352×128×2048, 1.05-1.09x in five runs), and
// the products with a side under 128 as fast or slower (n 64: 0.95-1.05x;
// n 16-32: 0.70-0.87x), hence the bound on every side; k under 128 keeps
// attention's Q·Kᵀ (k the head width) and LoRA's k-r products where they
// were. Whole one-thread steps at d 128, alternated: 1.023x, 1.033x and
// 1.026x as fast (medians of 60 pairs). At 2 threads, where the forward
// and dX products are cut into row tasks of m 512 (blocked now too) and
// the weight gradients into column tasks of n 32 (not), steps measured
// level (1.00-1.01x). d 64's products all have a side under 128, and from
// d 256 on the full-rank step's products so bounded were blocked already;
// at d 1024 the LoRA factors' products of width r 128 move (dB, 1024×128
// and 2816×128 × 2048, 1.11x and 1.13x; dh, 2048×128 × 1024 and 2816,
// 1.09x and 1.03x, paired as above).
const blockedMinSide = 128

// mcMax is the rows of op(A) packed at a time: 120×256 floats = 120 KiB, a
// quarter of a Zen 3 core's L2 (512 KiB), so the A block stays in L2
// while every B micro-panel sweeps it. A multiple of mr. 72 and 240
// measured the same at d 512 and 1024 (within 2%, paired).
const mcMax = 120

// ncMax bounds the columns of one packed B block (kc×nc floats: 1.5 MiB
// at kc 256 and nc 1536, in L3): the step GEMMs' n is one block up to
// d 512 (ffn 1408), two at d 1024's ffn.
const ncMax = 1536

// aPanel is one 6-row panel of the packed A block: the k range [lo, lo+kl)
// the kernel runs over (a sub-range of the slice for triangular A; kl = 0
// when the panel is skipped or was already stored as a zero product) and
// the columns it computes (fewer for LowerC).
type aPanel struct {
	lo, kl, ncEff int
}

// sgemmBlocked is sgemmTri for a k slice of op(B) larger than
// blockedMinB floats; tri is already Full when a
// triangular A spans more than one k slice. Called only with m, n, k > 0
// and alpha != 0.
func sgemmBlocked(tri Tri, transA, transB bool, m, n, k, kcStep int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, buf *packBuf) {
	nb := (n + ncMax - 1) / ncMax
	ncStep := roundUp((n+nb-1)/nb, nr)
	if cap(buf.b) < kcStep*ncStep {
		buf.b = make([]float32, kcStep*ncStep)
	}
	if cap(buf.ablk) < mcMax*kcMax {
		buf.ablk = make([]float32, mcMax*kcMax)
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
			packBBlock(transB, bp, b, ldb, pc, jc, kc, nc)
			for ic := 0; ic < m; ic += mcMax {
				panels := packAPanels(tri, transA, m, ic, jc, nc, pc, kc, alpha, betaEff, a, lda, c, ldc, buf)
				pf := nextBlockPlan(tri, transA, a, lda, m, ic, pc, kc, nc, min(mcMax, m-ic)/mr)
				runPanels(panels, m, ic, jc, nc, pc, kc, alpha, betaEff, bp, c, ldc, buf, &pf)
			}
		}
	}
}

// packAPanels packs the 6-row panels of op(A)'s rows ic..ic+mcMax-1 over
// the k slice [pc, pc+kc) into buf.ablk, each over its own k range; a
// panel whose products are all zero stores C = beta·C at once and is
// marked kl = 0, as the in-place driver does.
func packAPanels(tri Tri, transA bool, m, ic, jc, nc, pc, kc int, alpha, betaEff float32, a []float32, lda int, c []float32, ldc int, buf *packBuf) []aPanel {
	mc := min(mcMax, m-ic)
	panels := buf.panels[:(mc+mr-1)/mr]
	for q := range panels {
		ir := ic + q*mr
		rows := min(mr, m-ir)
		ncEff, lo, hi := panelRange(tri, ir, rows, jc, nc, pc, kc)
		panels[q] = aPanel{lo: lo, ncEff: ncEff}
		if ncEff <= 0 {
			continue
		}
		if lo >= hi {
			// Every product is zero: C = alpha·0 + beta·C, as the
			// full kernel would store.
			zeroProduct(rows, nc, alpha, betaEff, c[ir*ldc+jc:], ldc)
			continue
		}
		panels[q].kl = hi - lo
		packAPanel(transA, buf.ablk[q*mr*kc:q*mr*kc+mr*(hi-lo)], a, lda, ir, lo, rows, hi-lo)
	}
	return panels
}

// runPanels multiplies the packed A panels by each 16-column micro-panel
// of the packed B slice bp, B's panel held in L1 while A's stream by. A
// run of consecutive full tiles (6 rows, 16 columns, the whole k slice) is
// one kernel6x16Panels call, which also issues the prefetch pf plans;
// every other tile goes through runTile. With the AVX-512 kernels two
// micro-panels at a time make 6×32 tiles (runPanelsWide) while 32 columns
// remain.
func runPanels(panels []aPanel, m, ic, jc, nc, pc, kc int, alpha, betaEff float32, bp, c []float32, ldc int, buf *packBuf, pf *prefetchPlan) {
	for jr := 0; jr < nc; jr += nr {
		if useAVX512 && wide512 && jr+2*nr <= nc {
			runPanelsWide(panels, m, ic, jc, jr, pc, kc, alpha, betaEff, bp, c, ldc, buf, pf)
			jr += nr
			continue
		}
		for q := 0; q < len(panels); {
			run := 0
			if useAVX2 {
				run = fullRun(panels[q:], m-ic-q*mr, jr, nr, kc)
			}
			if run == 0 {
				runTile(panels[q], q, m, ic, jc, jr, pc, kc, alpha, betaEff, bp, c, ldc, buf)
				q++
				continue
			}
			ir := ic + q*mr
			ct := c[ir*ldc+jc+jr:]
			// The bounds checks on the last tile's last C element and
			// on the panels' ends guard the kernel's unsafe accesses.
			_ = ct[(run*mr-1)*ldc+nr-1]
			ap := buf.ablk[q*mr*kc : (q+run)*mr*kc]
			bPanel := bp[jr*kc : jr*kc+kc*nr]
			src, rows := pf.take(jr, run)
			if src == nil {
				src = &ap[0] // any valid pointer: rows = 0 prefetches nothing
			}
			if useAVX512 {
				kernel6x16Panels512(kc, run, &ap[0], &bPanel[0], &ct[0], ldc, alpha, betaEff, src, pf.stride, pf.lines, pf.perTile, rows)
			} else {
				kernel6x16Panels(kc, run, &ap[0], &bPanel[0], &ct[0], ldc, alpha, betaEff, src, pf.stride, pf.lines, pf.perTile, rows)
			}
			q += run
		}
	}
}

// runPanelsWide is runPanels's pass over the micro-panels at jr and
// jr+16 together: a run of full 6×32 tiles is one kernel6x32Panels512
// call, counted as two 6×16 tiles each by the prefetch plan; a panel that
// is not a full tile at both takes runTile for each half.
func runPanelsWide(panels []aPanel, m, ic, jc, jr, pc, kc int, alpha, betaEff float32, bp, c []float32, ldc int, buf *packBuf, pf *prefetchPlan) {
	for q := 0; q < len(panels); {
		run := fullRun(panels[q:], m-ic-q*mr, jr, 2*nr, kc)
		if run == 0 {
			runTile(panels[q], q, m, ic, jc, jr, pc, kc, alpha, betaEff, bp, c, ldc, buf)
			runTile(panels[q], q, m, ic, jc, jr+nr, pc, kc, alpha, betaEff, bp, c, ldc, buf)
			q++
			continue
		}
		ir := ic + q*mr
		ct := c[ir*ldc+jc+jr:]
		_ = ct[(run*mr-1)*ldc+2*nr-1]
		ap := buf.ablk[q*mr*kc : (q+run)*mr*kc]
		bPanels := bp[jr*kc : jr*kc+2*kc*nr]
		src, rows := pf.take(jr+nr, 2*run)
		if src == nil {
			src = &ap[0]
		}
		kernel6x32Panels512(kc, run, &ap[0], &bPanels[0], &ct[0], ldc, alpha, betaEff, src, pf.stride, pf.lines, 2*pf.perTile, rows)
		q += run
	}
}

// fullRun is how many panels from the first of ps are full tiles of width
// columns at column offset jr: all 6 rows inside op(A) (rowsLeft of them
// remain from the first), the whole k slice (kl == kc, so the k range
// starts at the slice's), and the columns from jr among those the panel
// computes.
func fullRun(ps []aPanel, rowsLeft, jr, width, kc int) int {
	n := 0
	for _, p := range ps {
		if rowsLeft < mr || p.kl != kc || jr+width > p.ncEff {
			break
		}
		n++
		rowsLeft -= mr
	}
	return n
}

// runTile computes one tile of panel q at column offset jr the way the
// in-place driver does: a last panel of at most 8 columns with the 6×8
// kernel, a partial tile through the stack buffer and the Go merge.
func runTile(p aPanel, q, m, ic, jc, jr, pc, kc int, alpha, betaEff float32, bp, c []float32, ldc int, buf *packBuf) {
	if p.kl == 0 || jr >= p.ncEff {
		return
	}
	ir := ic + q*mr
	rows := min(mr, m-ir)
	cols := min(nr, p.ncEff-jr)
	k0 := p.lo - pc
	bPanel := bp[jr*kc+k0*nr : jr*kc+(k0+p.kl)*nr]
	width := nr
	if cols <= nr/2 {
		width = nr / 2
	}
	ap := buf.ablk[q*mr*kc : q*mr*kc+mr*p.kl]
	ct := c[ir*ldc+jc+jr:]
	if rows == mr && cols == width {
		// The bounds check on the tile's last element guards the
		// kernel's unsafe writes.
		_ = ct[(mr-1)*ldc+width-1]
		microKernelPacked(width, p.kl, &ap[0], &bPanel[0], &ct[0], ldc, alpha, betaEff)
		return
	}
	edgeTile(width, p.kl, &ap[0], 1, mr, bPanel, ct, ldc, rows, cols, alpha, betaEff)
}

// panelRange is the columns (ncEff, of the nc from jc) and the k range
// [lo, hi) of the slice [pc, pc+kc) that a panel of rows ir..ir+rows-1
// computes: the triangular modes leave out what is known to be zero or
// not wanted. Both drivers use it, so they skip the same products.
func panelRange(tri Tri, ir, rows, jc, nc, pc, kc int) (ncEff, lo, hi int) {
	ncEff, lo, hi = nc, pc, pc+kc
	switch tri {
	case LowerC: // columns past the panel's last row are not wanted
		ncEff = min(nc, roundUp(ir+rows-jc, nr))
	case LowerA: // op(A)(i, p) = 0 for p > i
		hi = min(hi, ir+rows)
	case UpperA: // op(A)(i, p) = 0 for p < i
		lo = max(lo, ir)
	}
	return ncEff, lo, hi
}

// packAPanel packs rows ir..ir+rows-1 (rows ≤ 6) of op(A), k from lo to
// lo+kl-1, into dst as one k-major 6×kl panel (rows past `rows` zero).
func packAPanel(trans bool, dst, a []float32, lda, ir, lo, rows, kl int) {
	switch {
	case rows == mr && trans && useAVX2:
		// op(A)(i, p) = a[p*lda + i]: the 6 values of a k step are
		// contiguous. The checks guard the assembly's unchecked accesses.
		_ = a[(lo+kl-1)*lda+ir+mr-1]
		_ = dst[mr*kl-1]
		packPanelT6(kl, &a[lo*lda+ir], lda, &dst[0])
	case rows == mr && !trans:
		packPanelN6(kl, a[ir*lda+lo:], lda, dst)
	default:
		packA(trans, dst, a, lda, ir, lo, rows, kl)
	}
}

// packPanelN6Go is the portable packPanelN6: dst[p*6+r] = src[r*lds+p] for
// r < 6, p < kl (six rows of a row-major A interleaved k-major).
func packPanelN6Go(kl int, src []float32, lds int, dst []float32) {
	r0 := src[:kl]
	r1 := src[lds : lds+kl]
	r2 := src[2*lds : 2*lds+kl]
	r3 := src[3*lds : 3*lds+kl]
	r4 := src[4*lds : 4*lds+kl]
	r5 := src[5*lds : 5*lds+kl]
	dst = dst[:mr*kl]
	for p := range r0 {
		d := (*[mr]float32)(dst[p*mr : p*mr+mr])
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// microKernelPacked is microKernel for a packed A panel: the 6×16 tile
// goes to kernel6x16Panels (one tile, no prefetch), which drops the
// kernel's A strides (the same arithmetic, tested bit for bit against
// kernel6x16AVX2).
func microKernelPacked(width, kc int, a, b, c *float32, ldc int, alpha, beta float32) {
	switch {
	case useAVX512 && width == nr:
		kernel6x16Panels512(kc, 1, a, b, c, ldc, alpha, beta, a, 0, 0, 0, 0)
		return
	case useAVX2 && width == nr:
		kernel6x16Panels(kc, 1, a, b, c, ldc, alpha, beta, a, 0, 0, 0, 0)
		return
	}
	microKernel(width, kc, a, 1, mr, b, c, ldc, alpha, beta)
}

// packBBlock packs the kc×nc block of op(B) at (pc, jc) as packB does. A
// row-major op(B) whose block fills L2 (sweepMinB), such as the weight
// gradients' activation from d 512 on, read once from memory, is read row
// by row across all full micro-panels at once (packRows16Sweep) rather
// than one 16-column strip at a time down rows ldb apart, which the
// hardware prefetcher follows poorly. The bits are moved, not converted,
// so the panels hold what packB stores.
func packBBlock(trans bool, dst, b []float32, ldb, pc, jc, kc, nc int) {
	full := nc / nr
	if trans || !useAVX2 || full == 0 || kc*nc < sweepMinB {
		packB(trans, dst, b, ldb, pc, jc, kc, nc)
		return
	}
	// These checks make the assembly's unchecked accesses safe.
	_ = b[(pc+kc-1)*ldb+jc+full*nr-1]
	_ = dst[full*nr*kc-1]
	packRows16Sweep(kc, full, &b[pc*ldb+jc], ldb, &dst[0])
	if nc > full*nr {
		packB(trans, dst[full*nr*kc:], b, ldb, pc, jc+full*nr, kc, nc-full*nr)
	}
}

// sweepMinB is the smallest B block (kc×nc floats, 512 KiB: L2) that
// packBBlock sweeps. Paired, sweep against strips on the step's row-major-B
// GEMMs (medians of 31): 1.01-1.04x on blocks of 128K floats or more (the
// d 512 weight gradients, d 256's of width ffn; LoRA's dA at d 512 with n
// 1408 1.18x); on smaller blocks, whose source can sit in L2, 0.96-1.03x,
// and 0.83x on LoRA's dA at d 64 (8×176, k 2048), which is all packing.
const sweepMinB = 128 << 10
