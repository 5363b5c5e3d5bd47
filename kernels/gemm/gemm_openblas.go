//go:build openblas

package gemm

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>

// noescape/nocallback (Go >= 1.24) tell cgo that cblas_sgemm neither keeps
// the Go pointers it is given nor calls back into Go. Without noescape every
// a/b/c slice passed to Sgemm would escape to the heap in the caller, and
// nocallback lets the runtime skip callback bookkeeping. Together they keep
// the per-call overhead small for the many 128×128×32 attention GEMMs.
#cgo noescape cblas_sgemm
#cgo nocallback cblas_sgemm
*/
import "C"

import "unsafe"

// Backend names the implementation compiled in: "openblas" or "go".
const Backend = "openblas"

// MicroKernel names the kernel this backend runs: OpenBLAS picks its own
// for the CPU.
func MicroKernel() string { return "OpenBLAS" }

// FMAKernels is false: OpenBLAS orders its sums its own way.
func FMAKernels() bool { return false }

// AccumulateRoundsSeparately is false: how OpenBLAS rounds alpha·acc + C
// (fused or not, its k order) is its own.
const AccumulateRoundsSeparately = false

func init() {
	// One OpenBLAS thread: callers already split work across goroutines, one
	// per core, and OpenBLAS's own thread pool on top of that oversubscribes
	// the cores (measured 3.6x slower on 2 cores). With one thread every call
	// runs on the calling goroutine's OS thread, so concurrent calls on
	// disjoint C are independent.
	C.openblas_set_num_threads(1)
}

// sgemm forwards to cblas_sgemm in a single cgo call. Arguments have been
// validated by Sgemm (m, n, k > 0, alpha != 0), so every slice is non-empty
// and &x[0] is valid; Go slices of float32 contain no Go pointers, so passing
// them directly (no copies) satisfies the cgo pointer rules.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans), C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans)
	if transA {
		ta = C.CblasTrans
	}
	if transB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb,
		C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

// sgemmTri computes the full product: OpenBLAS has no triangular GEMM of
// this kind, and the skipped parts are zeros or unread.
func sgemmTri(_ Tri, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
