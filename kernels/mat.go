package kernels

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/nlpodyssey/spago/mat"

	"github.com/relorago/harness/kernels/vecmath"
)

// Mat is a row-major float32 matrix that spago's autograd uses both as a leaf
// (a parameter) and as the value of an operator. It implements mat.Tensor
// itself (mat_tensor.go) rather than wrapping a spago Dense, for reasons
// spago's Dense does not fit a training loop that must be fast and
// reproducible:
//   - A Dense header costs about seven heap objects to build, and a step
//     builds hundreds of Mats; step-scoped Mats instead come from the
//     Arena, which reuses their headers every step (mat_slab.go).
//   - Dense.AccGrad clones the first gradient (a fresh 1 MB allocation per
//     activation per step); Mat adopts buffers from the step's Arena instead.
//   - Gradients arriving from several consumers are summed in the order the
//     consumers ran forward, not in the order their backward goroutines
//     finished (spago runs each operator's backward in its own goroutine),
//     so the same seed gives bit-identical runs.
//   - Dense.AddInPlace uses AVX assembly without VZEROUPPER, which slows the
//     scalar code that follows it; Mat sums in plain Go.
type Mat struct {
	// Matrix is left nil: it only gives Mat the rest of mat.Matrix's method
	// set, which spago checks with a type assertion. spago's autograd calls
	// none of those methods beyond the ones Mat defines (mat_tensor.go), and
	// neither does this module; calling one panics.
	mat.Matrix
	rows, cols int
	shape      [2]int // {rows, cols}, for Shape without an allocation
	data       []float32

	mu           sync.Mutex
	requiresGrad bool
	arena        *Arena     // source of gradient buffers; nil means persistent (parameters)
	parts        []gradPart // gradient contributions not yet summed
	grad         *Mat       // the summed gradient, nil until one is read or accumulated
	persistent   []float32  // parameters keep one gradient buffer for the whole run
	hasGrad      bool
	// seq numbers the Mats an op creates in forward order. A gradient Mat
	// carries the seq of the output of the op that produced it, which fixes
	// the order in which contributions are summed.
	seq int64
	// shared marks a gradient buffer that another tensor also holds (an Add
	// passes its output gradient on to both operands instead of copying it):
	// it may be read but never written, so sums go to a fresh buffer.
	shared bool
	// also is a second gradient contribution delivered together with this
	// one, as a separate part with its own seq (see LoRAComposed).
	also *Mat
	// summing is materialize's parallel work, kept here so that summing
	// allocates nothing.
	summing partsSum
}

// partsSum is the sum of gradient contributions that Mat.materialize hands
// the step's cores, element range by element range: dst = parts[0] +
// parts[1] + … in that order when fresh, else dst (which is parts[0]'s
// buffer) += parts[1] + ….
type partsSum struct {
	dst   []float32
	parts []gradPart
	fresh bool
}

func (s *partsSum) chunk(_, lo, hi int) {
	rest := s.parts[1:]
	if s.fresh {
		addTo(s.dst[lo:hi], s.parts[0].data[lo:hi], rest[0].data[lo:hi])
		rest = rest[1:]
	}
	for _, p := range rest {
		addInto(s.dst[lo:hi], p.data[lo:hi])
	}
}

// gradPart is one gradient contribution and the forward position of the op
// that sent it.
type gradPart struct {
	seq    int64
	data   []float32
	shared bool // data belongs to another tensor too: read only
}

// NewMat wraps data (len rows*cols, row-major) as a Mat that does not require gradients.
func NewMat(rows, cols int, data []float32) *Mat {
	if len(data) != rows*cols {
		panic(fmt.Sprintf("kernels: NewMat %dx%d with %d values", rows, cols, len(data)))
	}
	return &Mat{rows: rows, cols: cols, shape: [2]int{rows, cols}, data: data}
}

// NewParam returns a zero rows×cols trainable matrix with its own persistent
// gradient buffer (allocated on first use and reused every step).
func NewParam(rows, cols int) *Mat {
	m := NewMat(rows, cols, make([]float32, rows*cols))
	m.requiresGrad = true
	return m
}

// Rows returns the number of rows.
func (m *Mat) Rows() int { return m.rows }

// Cols returns the number of columns.
func (m *Mat) Cols() int { return m.cols }

// Raw returns the backing slice (row-major, no copy).
func (m *Mat) Raw() []float32 { return m.data }

// Value returns the matrix itself: a Mat is its own value.
func (m *Mat) Value() mat.Tensor { return m }

// RequiresGrad reports whether gradients flow into this matrix.
func (m *Mat) RequiresGrad() bool { return m.requiresGrad }

// SetRequiresGrad sets whether gradients flow into this matrix. Freezing a
// parameter this way is how a LoRA linear skips the weight gradient.
func (m *Mat) SetRequiresGrad(v bool) { m.requiresGrad = v }

// HasGrad reports whether a gradient has been accumulated since the last ZeroGrad.
func (m *Mat) HasGrad() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hasGrad
}

// Grad returns the accumulated gradient, or nil (an untyped nil, as spago
// expects) when there is none. Contributions are summed here, once, after
// spago has waited for all of them.
func (m *Mat) Grad() mat.Tensor {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.hasGrad {
		return nil
	}
	m.materialize()
	return m.grad
}

// GradRaw returns the accumulated gradient's backing slice, or nil.
func (m *Mat) GradRaw() []float32 {
	g := m.Grad()
	if g == nil {
		return nil
	}
	return g.(*Mat).data
}

// AccGrad adds gx to the gradient (and the contributions chained to it by
// Mat.also). It is safe for concurrent use.
func (m *Mat) AccGrad(gx mat.Tensor) {
	m.accGrad(gx)
	if g, ok := gx.(*Mat); ok && g.also != nil {
		// spago counts one AccGrad per operand edge, so an op that sends one
		// operand two contributions delivers them in one call.
		m.accGrad(g.also)
	}
}

func (m *Mat) accGrad(gx mat.Tensor) {
	src := Data(gx)
	if len(src) != len(m.data) {
		panic(fmt.Sprintf("kernels: AccGrad %d values into %dx%d", len(src), m.rows, m.cols))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.arena == nil {
		// A parameter: add straight into its persistent buffer. A parameter is
		// read by one operator per step, so there is only one contribution.
		addInto(m.persistentGrad(), src)
		m.hasGrad = true
		return
	}
	if g, ok := gx.(*Mat); ok && g.arena == m.arena {
		m.parts = append(m.parts, gradPart{g.seq, src, g.shared}) // adopt the step-scoped buffer, no copy
	} else {
		buf := m.arena.Get(len(src))
		copy(buf, src)
		m.parts = append(m.parts, gradPart{-1, buf, false})
	}
	m.hasGrad = true
}

// gradBuffer returns the parameter's persistent gradient slice for in-place
// accumulation (e.g. a GEMM with beta=1), marking it as holding a gradient.
// The caller must hold no other lock on m; the returned slice must only be
// written by one goroutine at a time (parameters have one consumer).
func (m *Mat) gradBuffer() []float32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hasGrad = true
	return m.persistentGrad()
}

func (m *Mat) persistentGrad() []float32 {
	if m.persistent == nil {
		m.persistent = make([]float32, len(m.data))
		m.grad = NewMat(m.rows, m.cols, m.persistent)
	}
	return m.persistent
}

// ZeroGrad clears the gradient; a parameter keeps (and zeroes) its buffer.
func (m *Mat) ZeroGrad() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.persistent != nil && m.hasGrad {
		clear(m.persistent)
	}
	m.parts = m.parts[:0]
	if m.arena != nil {
		m.grad = nil
	}
	m.hasGrad = false
}

// materialize sums pending contributions into m.grad, in the forward order
// of the ops that sent them: float addition is not associative, and the
// order in which spago's backward goroutines deliver them varies.
func (m *Mat) materialize() {
	if m.arena == nil || len(m.parts) == 0 {
		return
	}
	if m.grad != nil {
		// Read once before every contribution arrived: fold it in first.
		m.parts = append(m.parts, gradPart{-2, m.grad.data, m.grad.shared})
	}
	slices.SortFunc(m.parts, func(a, b gradPart) int { return cmp.Compare(a.seq, b.seq) })
	first := m.parts[0]
	sum, shared := first.data, first.shared
	if len(m.parts) > 1 {
		// Element by element, the same additions in the same order, each
		// chunk on whichever core is free. A shared first part is read, not
		// written: the first two are summed into a fresh buffer, the same
		// additions, in the same order, as adding the second into the first.
		fresh := shared
		if fresh {
			sum, shared = m.arena.Get(len(first.data)), false
		}
		m.summing = partsSum{dst: sum, parts: m.parts, fresh: fresh}
		m.arena.each(len(sum), &m.summing)
		m.summing = partsSum{}
	}
	m.parts = m.parts[:0]
	m.grad = m.arena.newMat(m.rows, m.cols, sum)
	m.grad.shared = shared // a lone shared part is adopted read-only
}

// addInto sets dst += src (8 lanes at a time, bit-identical to the scalar sum).
func addInto(dst, src []float32) { vecmath.AddScaled(dst, dst, src, 1) }

// addTo sets dst = a + b.
func addTo(dst, a, b []float32) { vecmath.AddScaled(dst, a, b, 1) }

// Data returns the float32 values behind a tensor without copying when it is
// a Mat or a spago Dense.
func Data(t mat.Tensor) []float32 {
	switch v := t.(type) {
	case *Mat:
		return v.data
	case *mat.Dense[float32]:
		return mat.Data[float32](v)
	}
	if v, ok := t.Value().(*Mat); ok {
		return v.data
	}
	return mat.Data[float32](t.Value())
}

// ValueOf returns the Mat holding t's value (t is a Mat or a spago operator
// whose forward produced a Mat).
func ValueOf(t mat.Tensor) *Mat {
	if m, ok := t.(*Mat); ok {
		return m
	}
	m, ok := t.Value().(*Mat)
	if !ok {
		panic(fmt.Sprintf("kernels: value of %T is %T, not *kernels.Mat", t, t.Value()))
	}
	return m
}

// HasNonFinite reports whether any value is NaN or ±Inf.
func HasNonFinite(x []float32) bool {
	for _, v := range x {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return true
		}
	}
	return false
}
