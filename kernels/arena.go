package kernels

import (
	"fmt"
	"math"
	"sync"
)

// Arena hands out float32 buffers for one training step's activations and
// gradients, and the Mat headers that wrap them, and takes them all back at
// Reset. Shapes repeat every step, so after the first steps a step
// allocates no buffer: spago allocates every op's output, which at the tiny
// preset cost ~300 MB per step and much GC time.
type Arena struct {
	mu   sync.Mutex
	free map[int][][]float32 // by length
	used [][]float32
	mats matSlab
	// poison fills every buffer Get hands out with NaN. Tests set it so an op
	// that reads a buffer before writing it cannot pass by luck of fresh
	// (zeroed) memory.
	poison bool
	// split runs body over [0, n) on the cores of the Ctx that owns the
	// arena (elementwise work: the cut does not change the result). Nil
	// for an arena without one: the work then runs on the caller.
	split func(n int, body chunker)
}

// each runs body over [0, n), on the owning Ctx's cores when there is one.
func (a *Arena) each(n int, body chunker) {
	if a.split == nil {
		body.chunk(0, 0, n)
		return
	}
	a.split(n, body)
}

// NewArena returns an empty arena.
func NewArena() *Arena {
	return &Arena{free: map[int][][]float32{}}
}

// Get returns a buffer of n values with unspecified contents.
func (a *Arena) Get(n int) []float32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var buf []float32
	if list := a.free[n]; len(list) > 0 {
		buf = list[len(list)-1]
		a.free[n] = list[:len(list)-1]
	} else {
		buf = make([]float32, n)
	}
	a.used = append(a.used, buf)
	if a.poison {
		nan := float32(math.NaN())
		for i := range buf {
			buf[i] = nan
		}
	}
	return buf
}

// newMat returns a step-scoped rows×cols Mat over data (len rows*cols).
func (a *Arena) newMat(rows, cols int, data []float32) *Mat {
	if len(data) != rows*cols {
		panic(fmt.Sprintf("kernels: newMat %dx%d with %d values", rows, cols, len(data)))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mats.get(a, rows, cols, data)
}

// GetZero returns a zeroed buffer of n values.
func (a *Arena) GetZero(n int) []float32 {
	buf := a.Get(n)
	clear(buf)
	return buf
}

// Reset makes every buffer handed out so far available again. Nothing
// obtained before the reset may be used after it.
func (a *Arena) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, buf := range a.used {
		a.free[len(buf)] = append(a.free[len(buf)], buf)
	}
	clear(a.used)
	a.used = a.used[:0]
	a.mats.reset()
}

// Bytes returns the memory the arena holds, in use or free.
func (a *Arena) Bytes() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, buf := range a.used {
		n += len(buf)
	}
	for _, list := range a.free {
		for _, buf := range list {
			n += len(buf)
		}
	}
	return 4 * n
}
