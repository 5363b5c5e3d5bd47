package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relorago/harness/internal/freelist"
)

// team keeps the cores of a multi-threaded Ctx awake between parallel
// sections. On this project's VM a core with nothing to run halts, and a
// goroutine handed to it starts 50 µs to 1 ms later: a Go execution trace of
// the tiny step on 2 threads showed one core idle ~20% of the time, mostly
// while the first half of a GEMM or chunk loop waited, finished, for the
// second half that started late. So, like an OpenMP team, helper goroutines
// spin looking for tasks while a step's work keeps coming, and leave after
// helperIdle without any. Which goroutine runs a task never changes what
// the task computes.
type team struct {
	mu    sync.Mutex
	jobs  []*job       // jobs that may still have tasks to hand out
	njobs atomic.Int32 // len(jobs), read by spinning helpers without the lock
	alive atomic.Int32 // helper goroutines running
	spare freelist.List[job]
}

// chunker is the work of one parallel section: chunk(p, lo, hi) does chunk
// p, items [lo, hi), of the section. Ops implement it on a struct they
// already have (often their own operator, under another type name) rather
// than passing a closure: a closure that goroutines share escapes to the
// heap, one allocation per section, hundreds per step.
type chunker interface {
	chunk(p, lo, hi int)
}

// taskFunc runs task p of a section cut into as many chunks as items.
type taskFunc func(p int)

func (f taskFunc) chunk(p, _, _ int) { f(p) }

// chunkFunc is a chunker as a closure, for sections off the training
// step's path, where the closure's allocation does not matter.
type chunkFunc func(p, lo, hi int)

func (f chunkFunc) chunk(p, lo, hi int) { f(p, lo, hi) }

// job is one forChunks call: chunks handed out in order through next.
type job struct {
	parts, n  int
	body      chunker
	next      atomic.Int64 // next chunk to hand out
	remaining atomic.Int64 // chunks not yet finished
	users     atomic.Int32 // helpers that picked the job and may still read it
}

// run does chunk p of j.
func (j *job) run(p int) { j.body.chunk(p, p*j.n/j.parts, (p+1)*j.n/j.parts) }

// helperIdle is how long a helper spins without finding a task before it
// exits. A step's serial stretches (an operator's bookkeeping, the gradient
// clip and the optimizer) are shorter than this, so helpers live through a
// step; between steps of a run that also evaluates or writes checkpoints,
// they leave and the next step starts new ones.
const helperIdle = 2 * time.Millisecond

// forEach runs task(0) … task(tasks-1) on up to c.threads cores (see
// forChunks).
func (c *Ctx) forEach(tasks int, task func(i int)) { c.forChunks(tasks, tasks, taskFunc(task)) }

// forChunks cuts items [0, n) into parts contiguous chunks and runs
// body.chunk on each, on up to c.threads cores: the caller and the team's
// helpers take the next chunk as they become free, each holding a compute
// slot while it runs one, and forChunks returns when all are done.
func (c *Ctx) forChunks(parts, n int, body chunker) {
	if c.threads == 1 || parts == 1 {
		c.slots <- struct{}{}
		for p := range parts {
			body.chunk(p, p*n/parts, (p+1)*n/parts)
		}
		<-c.slots
		return
	}
	t := &c.team
	j := t.spare.Get()
	j.parts, j.n, j.body = parts, n, body
	j.next.Store(0)
	j.remaining.Store(int64(parts))
	t.mu.Lock()
	t.jobs = append(t.jobs, j)
	t.njobs.Store(int32(len(t.jobs)))
	t.mu.Unlock()
	// One helper per other core the Go scheduler runs: with more threads
	// than that, extra spinning helpers would only take turns on the cores
	// with the workers.
	helpers := int32(min(c.threads, runtime.GOMAXPROCS(0)) - 1)
	for n := t.alive.Load(); n < helpers; n = t.alive.Load() {
		if t.alive.CompareAndSwap(n, n+1) {
			go c.startHelper() // a func value: starting it allocates nothing
		}
	}
	c.slots <- struct{}{}
	j.work()
	<-c.slots
	t.remove(j)
	// Chunks a helper took may still be running: wait for them, and for
	// helpers that picked j to let go of it before it is reused, yielding so
	// that a goroutine readied meanwhile on this core gets to run.
	for j.remaining.Load() > 0 || j.users.Load() > 0 {
		runtime.Gosched()
	}
	j.body = nil
	t.spare.Put(j)
}

// work runs chunks of j until none is left to hand out.
func (j *job) work() {
	for {
		p := int(j.next.Add(1)) - 1
		if p >= j.parts {
			return
		}
		j.run(p)
		j.remaining.Add(-1)
	}
}

// remove drops j from the jobs helpers look at (every chunk handed out).
func (t *team) remove(j *job) {
	t.mu.Lock()
	for i, x := range t.jobs {
		if x == j {
			t.jobs = append(t.jobs[:i], t.jobs[i+1:]...)
			break
		}
	}
	t.njobs.Store(int32(len(t.jobs)))
	t.mu.Unlock()
}

// pick returns a job with chunks left to hand out, or nil. The caller
// must call j.users.Add(-1) when it no longer reads j.
func (t *team) pick() *job {
	if t.njobs.Load() == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, j := range t.jobs {
		if j.next.Load() < int64(j.parts) {
			j.users.Add(1)
			return j
		}
	}
	return nil
}

// helper takes tasks from the team's jobs while there are any, spinning
// (and yielding to other goroutines) in between, and exits after
// helperIdle without work. It only takes a compute slot that is free, so it
// never waits on one.
func (c *Ctx) helper() {
	t := &c.team
	defer t.alive.Add(-1)
	idleSince := time.Now()
	for spins := 0; ; spins++ {
		if j := t.pick(); j != nil {
			select {
			case c.slots <- struct{}{}:
				j.work()
				<-c.slots
				idleSince = time.Now()
			default:
			}
			j.users.Add(-1)
		}
		runtime.Gosched()
		if spins%64 == 63 && time.Since(idleSince) > helperIdle {
			return
		}
	}
}
