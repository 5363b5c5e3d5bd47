package kernels

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/internal/freelist"
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
	team  team // helpers that keep the other cores busy (see team.go)
	// startHelper is c.helper as a func value, made once: a go statement
	// on a method would build (allocate) a new one each time.
	startHelper func()
	gemmTasks   freelist.List[gemmTask]
	// taskChunkers wrap ForTasks' callers' tasks (tasks.go).
	taskChunkers freelist.List[tasksChunker]
	ops          opSlabs // the structs of the step's operators

	seq atomic.Int64 // numbers the Mats ops create, see Mat.seq

	ropeMu sync.Mutex
	rope   map[ropeKey]*ropeTable
}

// NewCtx returns a context whose kernels use up to threads cores.
func NewCtx(threads int) *Ctx {
	if threads < 1 {
		threads = 1
	}
	c := &Ctx{
		threads: threads,
		arena:   NewArena(),
		slots:   make(chan struct{}, threads),
		rope:    map[ropeKey]*ropeTable{},
	}
	c.startHelper = c.helper
	// Gradient contributions are summed on the step's cores (Mat.materialize).
	c.arena.split = func(n int, body chunker) { c.parallel(n, 1<<14, body) }
	return c
}

// Threads returns the number of cores the kernels use.
func (c *Ctx) Threads() int { return c.threads }

// Arena returns the step-scoped buffer arena.
func (c *Ctx) Arena() *Arena { return c.arena }

// Reset releases every activation, gradient and operator of the previous
// step.
func (c *Ctx) Reset() {
	c.arena.Reset()
	c.ops.reset()
	c.seq.Store(0)
}

// newOut returns a step-scoped rows×cols Mat with unspecified contents, for
// an op's forward output.
func (c *Ctx) newOut(rows, cols int) *Mat {
	m := c.arena.newMat(rows, cols, c.arena.Get(rows*cols))
	m.seq = c.seq.Add(1)
	return m
}

// gradFrom returns a step-scoped rows×cols Mat with unspecified contents, for
// a gradient that the op whose forward output is y sends to an operand.
func (c *Ctx) gradFrom(y *Mat, rows, cols int) *Mat {
	m := c.arena.newMat(rows, cols, c.arena.Get(rows*cols))
	m.seq = y.seq
	return m
}

// sharedGrad wraps data, which the op whose forward output is y reads as
// its output gradient, as a gradient it sends on unchanged (to one operand
// or several). It is marked shared: receivers may read it, never write it.
func (c *Ctx) sharedGrad(y *Mat, rows, cols int, data []float32) *Mat {
	m := c.arena.newMat(rows, cols, data)
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

// ForEach runs task(0) … task(tasks-1) on the context's cores and returns
// when all are done. Tasks must be independent of each other.
func (c *Ctx) ForEach(tasks int, task func(i int)) { c.forEach(tasks, task) }

// parallel runs body over [0, n) cut into c.chunks(n, minChunk)
// contiguous chunks, on up to c.threads cores (see forChunks).
func (c *Ctx) parallel(n, minChunk int, body chunker) {
	c.forChunks(c.chunks(n, minChunk), n, body)
}

// chunks returns how many chunks parallel cuts n items into (Chunks).
func (c *Ctx) chunks(n, minChunk int) int { return Chunks(n, minChunk) }

// Chunks returns how many contiguous chunks an elementwise or reduction op
// cuts n items into: at most maxChunks, none smaller than minChunk items
// (but at least one); chunk p is items p·n/parts up to (p+1)·n/parts. It
// depends on n alone, never on the thread count. bench/elementwise cuts
// its passes with it, as the ops are cut.
func Chunks(n, minChunk int) int {
	return max(1, min(maxChunks, n/max(1, minChunk)))
}

// gemmTasksPerThread is how many tasks a large GEMM is cut into per
// thread when there is more than one: more than one, so that a worker
// delayed by another operator's work leaves less of a tail for the other
// to finish alone, but few, since each task of a cut by rows packs op(B)
// again. On the tiny step with 2 threads (paired runs, medians of 8) 2
// beat both 1 and 4. With one thread there is no tail to shorten and a
// GEMM is never cut: alternating cut and uncut steps of one model (one
// core, medians of 20 pairs, a shared machine) the uncut step was 1.01x
// as fast at d 64, 1.03x at d 128 and 1.07x at d 256.
const gemmTasksPerThread = 2

// gemm computes C = alpha·op(A)·op(B) + beta·C (row-major), cut into tasks
// that each compute a block of rows or of columns of C. Each element of C
// is computed the same way whatever the cut (see gemmSplit), so the result
// does not depend on it or on the thread count.
func (c *Ctx) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cm []float32, ldc int) {
	byCols, tasks := c.gemmSplit(m, n, k)
	if tasks == 1 {
		c.slots <- struct{}{}
		gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
		<-c.slots
		return
	}
	t := c.gemmTasks.Get()
	*t = gemmTask{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc, byCols, tasks}
	c.forChunks(tasks, tasks, t)
	*t = gemmTask{} // drop the operands
	c.gemmTasks.Put(t)
}

// gemmPanel is the column granularity of a split by columns: the Go
// kernel's register tile is 16 columns wide, with a narrower kernel (and
// another summation order) for a last tile of 8 columns or fewer. Cutting
// at multiples of 16 keeps every tile, and so every element's arithmetic,
// as in the uncut product.
const gemmPanel = 16

// gemmSplit decides how c.gemm cuts an m×n×k product: into how many tasks,
// and whether by columns of C rather than rows. Below ~2 MFLOP a task the
// hand-off costs more than it saves. A cut by rows makes every task pack
// all of op(B) (k×n floats) again; a cut by columns makes every task read
// all of op(A) in place, which costs no packing. Deep products (k larger
// than m and n: the weight gradients, summed over the batch's tokens) are
// therefore cut by columns: on the tiny preset's dW shapes with 2 threads
// that measured ~4% faster. Only the pure-Go backend keeps elements
// bit-identical under a column cut, so OpenBLAS is always cut by rows.
func (c *Ctx) gemmSplit(m, n, k int) (byCols bool, tasks int) {
	tasks = max(1, min(c.threads*gemmTasksPerThread, m*n*k/(1<<20)))
	if tasks == 1 || c.threads == 1 {
		return false, 1
	}
	if gemm.Backend == "go" && k > max(m, n) && n >= 2*gemmPanel {
		return true, min(tasks, n/gemmPanel)
	}
	return false, min(tasks, m)
}

// GemmBackend names the GEMM implementation compiled in ("openblas" or "go").
const GemmBackend = gemm.Backend

func checkCols(op string, t *Mat, cols int) {
	if t.cols != cols {
		panic(fmt.Sprintf("kernels: %s: operand is %dx%d, want %d columns", op, t.rows, t.cols, cols))
	}
}
