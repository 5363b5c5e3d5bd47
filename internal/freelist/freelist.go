// Package freelist keeps values that are done with for their next user, so
// that work repeated every training step (a GEMM's task, a parallel
// section's job, an optimizer's scratch) does not allocate anew each time.
package freelist

import "sync"

// List grows to the most values in use at once and stays there. Safe for
// concurrent use: spago runs operators' backward passes concurrently, and
// a parallel section's tasks take scratch side by side.
type List[T any] struct {
	mu   sync.Mutex
	free []*T
}

// Get returns a value that is not in use: one put back earlier, with the
// contents it had then, or a new zero one.
func (l *List[T]) Get() *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		x := l.free[n-1]
		l.free = l.free[:n-1]
		return x
	}
	return new(T)
}

// Put gives x back; the caller must not use it afterwards.
func (l *List[T]) Put(x *T) {
	l.mu.Lock()
	l.free = append(l.free, x)
	l.mu.Unlock()
}
