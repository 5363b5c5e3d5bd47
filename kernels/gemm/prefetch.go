//go:build !openblas

package gemm

// The blocked driver packs each block of op(A) from memory: at d 512 a
// forward GEMM's A is a 4 MiB activation, read once, and packing it from
// DRAM ran at ~1 ns a float against ~0.17 ns from cache, some 5% of the
// GEMM. The hardware prefetcher does little for the packing's short row
// segments, and a software prefetch issued early in a block is wasted:
// the block's B micro-panels (kc×nc floats, 512 KiB at n 512) stream
// through L2 and evict it before the packing comes. So the micro-kernel
// prefetches the next block's rows of op(A) during the block's last
// column panels only, about 16 cache lines a tile (kernel6x16Panels).

// prefetchPlan spreads the prefetch of the next A block's source rows over
// the kernel runs of the current block's last column panels.
type prefetchPlan struct {
	src     []float32 // the first row to prefetch; nil: no plan
	stride  int       // floats between rows
	rows    int       // rows to prefetch in all
	lines   int       // cache lines per row
	perTile int       // rows per tile
	fromJr  int       // the first column offset (jr) that prefetches
	done    int       // rows handed out so far
}

// prefetchLinesPerTile is the prefetch a tile issues: 16 lines in flight
// stay under Zen 3's L1 miss buffers, so the prefetches do not stall the
// tile's own loads.
const prefetchLinesPerTile = 16

// nextBlockPlan plans the prefetch, during the block of op(A) rows
// ic..ic+mcMax-1, of the rows the next block's packing reads over the same
// k slice [pc, pc+kc): rows of A itself when op(A) = A, rows of k when
// op(A) = Aᵀ. tiles is the number of full tiles per column panel (the
// block's full 6-row panels) and nc the block's columns. Only Full products
// plan (the triangular modes skip panels and k ranges unevenly); a plan
// with src == nil prefetches nothing.
func nextBlockPlan(tri Tri, transA bool, a []float32, lda, m, ic, pc, kc, nc, tiles int) prefetchPlan {
	nic := ic + mcMax
	if tri != Full || nic >= m || tiles == 0 || nc < nr {
		return prefetchPlan{}
	}
	rowsN := min(mcMax, m-nic)
	// One line more than the row's length: it need not start on a line.
	p := prefetchPlan{stride: lda, rows: rowsN, lines: (kc*4+63)/64 + 1}
	if transA {
		p.rows, p.lines = kc, (rowsN*4+63)/64+1
		p.src = a[pc*lda+nic:]
	} else {
		p.src = a[nic*lda+pc:]
	}
	perTile := max(1, prefetchLinesPerTile/p.lines)
	panels := nc / nr
	jrs := min(panels, (p.rows+tiles*perTile-1)/(tiles*perTile))
	p.fromJr = (panels - jrs) * nr
	p.perTile = (p.rows + jrs*tiles - 1) / (jrs * tiles)
	return p
}

// take hands out the prefetch of a kernel run of `tiles` tiles at column
// offset jr: the first row's address, and how many rows the run
// prefetches (0 before fromJr, after the last row, or with no plan).
func (p *prefetchPlan) take(jr, tiles int) (src *float32, rows int) {
	if p.src == nil || jr < p.fromJr || p.done >= p.rows {
		return nil, 0
	}
	rows = min(p.rows-p.done, tiles*p.perTile)
	src = &p.src[p.done*p.stride]
	p.done += rows
	return src, rows
}
