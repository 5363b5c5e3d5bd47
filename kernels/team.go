package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
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
}

// job is one forEach call: tasks handed out in order through next.
type job struct {
	tasks     int
	task      func(i int)
	next      atomic.Int64 // next task index to hand out
	remaining atomic.Int64 // tasks not yet finished
}

// helperIdle is how long a helper spins without finding a task before it
// exits. A step's serial stretches (an operator's bookkeeping, the gradient
// clip and the optimizer) are shorter than this, so helpers live through a
// step; between steps of a run that also evaluates or writes checkpoints,
// they leave and the next step starts new ones.
const helperIdle = 2 * time.Millisecond

// forEach runs task(0) … task(tasks-1) on up to c.threads cores: the caller
// and the team's helpers take the next task as they become free, each
// holding a compute slot while it runs one, and forEach returns when all
// are done.
func (c *Ctx) forEach(tasks int, task func(i int)) {
	if c.threads == 1 || tasks == 1 {
		c.slots <- struct{}{}
		for i := range tasks {
			task(i)
		}
		<-c.slots
		return
	}
	j := &job{tasks: tasks, task: task}
	j.remaining.Store(int64(tasks))
	t := &c.team
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
			go c.helper()
		}
	}
	c.slots <- struct{}{}
	j.work()
	<-c.slots
	t.remove(j)
	// Tasks a helper took may still be running: wait for them, yielding so
	// that a goroutine readied meanwhile on this core gets to run.
	for j.remaining.Load() > 0 {
		runtime.Gosched()
	}
}

// work runs tasks of j until none is left to hand out.
func (j *job) work() {
	for {
		i := int(j.next.Add(1)) - 1
		if i >= j.tasks {
			return
		}
		j.task(i)
		j.remaining.Add(-1)
	}
}

// remove drops j from the jobs helpers look at (every task handed out).
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

// pick returns a job with tasks left to hand out, or nil.
func (t *team) pick() *job {
	if t.njobs.Load() == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, j := range t.jobs {
		if j.next.Load() < int64(j.tasks) {
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
		}
		runtime.Gosched()
		if spins%64 == 63 && time.Since(idleSince) > helperIdle {
			return
		}
	}
}
