package kernels

// Tasks is the work of a ForTasks section: Task(i) runs task i. Code
// outside the package implements it on a struct it keeps between steps
// (a pointer to it), where handing ForEach a closure would allocate one
// object every call: a closure the workers share escapes to the heap.
type Tasks interface {
	Task(i int)
}

// tasksChunker runs a Tasks as the chunks of a section cut into as many
// chunks as tasks. It comes from a free list, so wrapping costs no
// allocation once a step has run.
type tasksChunker struct{ t Tasks }

func (a *tasksChunker) chunk(p, _, _ int) { a.t.Task(p) }

// ForTasks runs t.Task(0) … t.Task(n-1) on the context's cores and returns
// when all are done, as ForEach does (the same cut, the same order of
// hand-out). Tasks must be independent of each other.
func (c *Ctx) ForTasks(n int, t Tasks) {
	a := c.taskChunkers.Get()
	a.t = t
	c.forChunks(n, n, a)
	a.t = nil // drop the caller's struct
	c.taskChunkers.Put(a)
}
