package kernels

import "github.com/relorago/harness/kernels/gemm"

// gemmTask is one GEMM that Ctx.gemm cuts into tasks blocks of rows of C,
// or of columns (byCols); chunk(i, …) computes block i. Ctx keeps them in
// a free list, so a cut GEMM allocates nothing.
type gemmTask struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
	byCols         bool
	tasks          int
}

func (t *gemmTask) chunk(i, _, _ int) {
	if t.byCols {
		panels := t.n / gemmPanel // the last task takes the remainder too
		lo, hi := i*panels/t.tasks*gemmPanel, (i+1)*panels/t.tasks*gemmPanel
		if i == t.tasks-1 {
			hi = t.n
		}
		bOff := lo
		if t.transB {
			bOff = lo * t.ldb
		}
		gemm.Sgemm(t.transA, t.transB, t.m, hi-lo, t.k, t.alpha, t.a, t.lda, t.b[bOff:], t.ldb, t.beta, t.c[lo:], t.ldc)
		return
	}
	lo, hi := i*t.m/t.tasks, (i+1)*t.m/t.tasks
	aOff := lo * t.lda
	if t.transA {
		aOff = lo
	}
	gemm.Sgemm(t.transA, t.transB, hi-lo, t.n, t.k, t.alpha, t.a[aOff:], t.lda, t.b, t.ldb, t.beta, t.c[lo*t.ldc:], t.ldc)
}
