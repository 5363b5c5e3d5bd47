// Package gemm provides a row-major single-precision matrix multiply (SGEMM)
// for the hot loops of a small transformer trained on CPU.
//
// Two implementations exist, chosen at build time:
//
//   - default (no build tag): pure Go, no cgo. A BLIS-style blocked GEMM:
//     op(B) is packed into contiguous 16-column panels and a 6×16 (or 6×8
//     for narrow edges) register micro-kernel written in Go assembly
//     (AVX2+FMA, amd64) does the arithmetic. Small products read op(A) in
//     place (gemm_go.go); large ones (a k slice of op(B) over 128 KiB) pack
//     op(A) into 6-row panels in L2-sized blocks and keep each B
//     micro-panel in L1 (blocked.go). Both give the same bits. It runs at
//     about the speed of single-threaded OpenBLAS on this project's
//     shapes; gonum's and vek's routines measured 4-20x slower (see
//     candidates_test.go). CPUs without AVX2/FMA, other architectures and
//     the "purego" build tag use a portable Go micro-kernel (~3 GFLOP/s).
//   - build tag "openblas": cgo call to cblas_sgemm from the system OpenBLAS
//     (Debian: libopenblas-dev), forced to one thread.
//
// Both are single-threaded by design: the caller parallelises by splitting
// work across goroutines (each writing a disjoint part of C), and both
// backends are safe for such concurrent use. Threads inside the GEMM on top
// of that oversubscribe the cores.
package gemm

import (
	"fmt"
	"time"

	_ "github.com/relorago/harness/internal/unfused" // its Go edge tiles must not be fused: no GOAMD64=v3
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, like cblas_sgemm
// with CblasRowMajor. op(A) is m×k, op(B) is k×n, C is m×n. lda/ldb/ldc are row strides
// (elements), so callers can pass sub-matrix views (e.g. one attention head's columns).
// When beta == 0, C is overwritten and its prior contents (even NaN) are ignored.
//
// op(A) is A when transA is false (A stored m×k, lda >= k) and Aᵀ when it is
// true (A stored k×m, lda >= m); likewise for B (stored k×n with ldb >= n, or
// n×k with ldb >= k when transB). Only the elements of the views are read or
// written, so strided views into larger matrices are safe, including
// concurrent calls whose C views are disjoint. Sgemm panics on negative
// sizes, too-small strides or too-short slices, like gonum's BLAS.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if degenerate(m, n, k, alpha, beta, c, ldc) {
		return
	}
	if statsOn.Load() {
		defer record(Shape{Full, transA, transB, m, n, k}, 2*int64(m)*int64(n)*int64(k), time.Now())
	}
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Tri tells SgemmTri which part of a product it may skip: causal attention
// multiplies triangular matrices and wants only triangles of its results.
type Tri int

const (
	// Full is the whole product, as Sgemm computes it.
	Full Tri = iota
	// LowerC: only C(i, j) with j <= i is wanted. Tiles of C wholly above
	// the diagonal are neither computed nor written; tiles that cross it are
	// computed whole, so some elements with j > i get values too.
	LowerC
	// LowerA: op(A)(i, p) is zero for p > i (the causal softmax P in P·V).
	LowerA
	// UpperA: op(A)(i, p) is zero for p < i (Pᵀ in Pᵀ·dO).
	UpperA
)

// SgemmTri is Sgemm for a triangular operand or result (see Tri). With the
// pure-Go backend the elements it computes are bit-identical to Sgemm's:
// it only leaves out tiles nobody reads and products with an exact zero. The
// OpenBLAS backend computes the full product.
func SgemmTri(tri Tri, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if degenerate(m, n, k, alpha, beta, c, ldc) {
		return
	}
	if statsOn.Load() {
		defer record(Shape{tri, transA, transB, m, n, k}, triFlops(tri, m, n, k), time.Now())
	}
	sgemmTri(tri, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// degenerate handles the products that need no kernel and reports whether
// it did: an empty C, or op(A)*op(B) contributing nothing (C = beta*C).
// Handled here so that neither backend sees degenerate inputs (OpenBLAS
// would print an xerbla error for lda=0 with k=0, and the Go kernels would
// pack nothing) and so both backends treat beta == 0 identically.
func degenerate(m, n, k int, alpha, beta float32, c []float32, ldc int) bool {
	if m == 0 || n == 0 {
		return true
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return true
	}
	return false
}

// checkArgs panics when the arguments do not describe valid row-major views,
// before any memory is touched: the cgo backend would otherwise read or write
// out of bounds, and the Go backend would fail with a less helpful message.
func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	// Stored shapes (rows × cols) of A and B.
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	// Like BLAS, strides must be at least max(1, cols) even for empty views.
	if lda < max(1, ac) {
		panic(fmt.Sprintf("gemm: lda=%d < max(1, %d)", lda, ac))
	}
	if ldb < max(1, bc) {
		panic(fmt.Sprintf("gemm: ldb=%d < max(1, %d)", ldb, bc))
	}
	if ldc < max(1, n) {
		panic(fmt.Sprintf("gemm: ldc=%d < max(1, %d)", ldc, n))
	}
	if m == 0 || n == 0 {
		return
	}
	if need := viewLen(m, n, ldc); len(c) < need {
		panic(fmt.Sprintf("gemm: len(c)=%d < %d", len(c), need))
	}
	if k == 0 {
		return
	}
	if need := viewLen(ar, ac, lda); len(a) < need {
		panic(fmt.Sprintf("gemm: len(a)=%d < %d", len(a), need))
	}
	if need := viewLen(br, bc, ldb); len(b) < need {
		panic(fmt.Sprintf("gemm: len(b)=%d < %d", len(b), need))
	}
}

// viewLen is the number of elements a rows×cols view with the given stride
// spans; the last row need not be padded to the full stride.
func viewLen(rows, cols, stride int) int {
	return (rows-1)*stride + cols
}

// scaleC sets C = beta*C over the m×n view. beta == 0 stores zeros rather
// than multiplying, so NaN/Inf already in C are discarded as BLAS specifies.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
