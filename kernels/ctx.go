package kernels

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/gemm"
)

// Ctx is what every op needs besides its operands: the step's Arena and the
// number of cores it may use. A training run owns one Ctx; Reset it at the
// start of each step, after the previous step's graph is no longer needed.
type Ctx struct {
	threads int
	arena   *Arena
	// slots limits how many heavy kernel chunks run at once. spago runs the
	// backward of independent operators concurrently (q, k and v, for
	// instance), and each of them splits its work again; without a bound,
	// cgo calls would put more threads on the cores than there are cores.
	slots chan struct{}

	seq atomic.Int64 // numbers the Mats ops create, see Mat.seq

	ropeMu sync.Mutex
	rope   map[[3]int]*ropeTable
}

// NewCtx returns a context whose kernels use up to threads cores.
func NewCtx(threads int) *Ctx {
	if threads < 1 {
		threads = 1
	}
	return &Ctx{
		threads: threads,
		arena:   NewArena(),
		slots:   make(chan struct{}, threads),
		rope:    map[[3]int]*ropeTable{},
	}
}

// Threads returns the number of cores the kernels use.
func (c *Ctx) Threads() int { return c.threads }

// Arena returns the step-scoped buffer arena.
func (c *Ctx) Arena() *Arena { return c.arena }

// Reset releases every activation and gradient of the previous step.
func (c *Ctx) Reset() {
	c.arena.Reset()
	c.seq.Store(0)
}

// newOut returns a step-scoped rows×cols Mat with unspecified contents, for
// an op's forward output.
func (c *Ctx) newOut(rows, cols int) *Mat {
	m := NewMat(rows, cols, c.arena.Get(rows*cols))
	m.arena = c.arena
	m.seq = c.seq.Add(1)
	return m
}

// gradFrom returns a step-scoped rows×cols Mat with unspecified contents, for
// a gradient that the op whose forward output is y sends to an operand.
func (c *Ctx) gradFrom(y *Mat, rows, cols int) *Mat {
	m := NewMat(rows, cols, c.arena.Get(rows*cols))
	m.arena = c.arena
	m.seq = y.seq
	return m
}

// sharedGrad wraps data, which the op whose forward output is y reads as
// its output gradient, as a gradient it sends on unchanged (to one operand
// or several). It is marked shared: receivers may read it, never write it.
func (c *Ctx) sharedGrad(y *Mat, rows, cols int, data []float32) *Mat {
	m := NewMat(rows, cols, data)
	m.arena = c.arena
	m.seq = y.seq
	m.shared = true
	return m
}

// run records fn in spago's graph and computes its forward pass now.
func run(fn ag.AutoGradFunction) mat.Tensor {
	return ag.NewOperator(fn).Run()
}

// maxChunks bounds how many pieces an elementwise or reduction op is cut
// into. The cut depends only on the problem size, never on the thread
// count, so reductions that keep one partial per chunk and add them in order
// give bit-identical results with 1 or 2 threads.
const maxChunks = 8

// parallel runs body over [0, n) cut into chunks of at least minChunk items.
func (c *Ctx) parallel(n, minChunk int, body func(lo, hi int)) {
	c.parallelChunks(n, minChunk, func(_, lo, hi int) { body(lo, hi) })
}

// parallelChunks cuts [0, n) into c.chunks(n, minChunk) contiguous chunks
// and runs body(p, lo, hi) for each, spread over up to c.threads workers,
// each holding a compute slot while it works.
func (c *Ctx) parallelChunks(n, minChunk int, body func(p, lo, hi int)) {
	parts := c.chunks(n, minChunk)
	workers := min(c.threads, parts)
	work := func(w int) {
		c.slots <- struct{}{}
		defer func() { <-c.slots }()
		for p := w; p < parts; p += workers {
			body(p, p*n/parts, (p+1)*n/parts)
		}
	}
	if workers == 1 {
		work(0)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(w)
		}()
	}
	wg.Wait()
}

// chunks returns how many chunks parallelChunks cuts n items into.
func (c *Ctx) chunks(n, minChunk int) int {
	return max(1, min(maxChunks, n/max(1, minChunk)))
}

// gemm computes C = alpha·op(A)·op(B) + beta·C (row-major), splitting the
// rows of C across the context's threads. Each element of C is computed the
// same way whatever the split, so the result does not depend on it.
func (c *Ctx) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cm []float32, ldc int) {
	// Below ~2 MFLOP per part the goroutine hand-off costs more than it saves.
	parts := max(1, min(c.threads, m*n*k/(1<<20)))
	one := func(lo, hi int) {
		c.slots <- struct{}{}
		defer func() { <-c.slots }()
		aOff := lo * lda
		if transA {
			aOff = lo
		}
		gemm.Sgemm(transA, transB, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, cm[lo*ldc:], ldc)
	}
	if parts == 1 {
		one(0, m)
		return
	}
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			one(p*m/parts, (p+1)*m/parts)
		}()
	}
	wg.Wait()
}

// GemmBackend names the GEMM implementation compiled in ("openblas" or "go").
const GemmBackend = gemm.Backend

func checkCols(op string, t *Mat, cols int) {
	if t.cols != cols {
		panic(fmt.Sprintf("kernels: %s: operand is %dx%d, want %d columns", op, t.rows, t.cols, cols))
	}
}
