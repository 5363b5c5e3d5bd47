package kernels

import "sync"

// freeList keeps values of T that are done with for the next user, so that
// work repeated every step (a GEMM's task, a parallel section's job) does
// not allocate a new one each time. It grows to the most values in use at
// once and stays there. Safe for concurrent use: spago runs operators'
// backward passes concurrently.
type freeList[T any] struct {
	mu   sync.Mutex
	free []*T
}

// get returns a value that is not in use: one put back earlier, with the
// contents it had then, or a new zero one.
func (l *freeList[T]) get() *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		x := l.free[n-1]
		l.free = l.free[:n-1]
		return x
	}
	return new(T)
}

// put gives x back; the caller must not use it afterwards.
func (l *freeList[T]) put(x *T) {
	l.mu.Lock()
	l.free = append(l.free, x)
	l.mu.Unlock()
}
