package kernels

import (
	"fmt"

	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/mat/float"
)

// The methods of mat.Tensor that mat.go does not define (the gradient ones),
// and NewScalar, the one of mat.Matrix besides SetRequiresGrad that spago's
// autograd calls, implemented on the Mat's own fields: a Mat holds no spago
// Dense (see Mat).

// Shape returns {rows, cols}.
func (m *Mat) Shape() []int { return m.shape[:] }

// Dims returns 2: a Mat is always a matrix.
func (m *Mat) Dims() int { return 2 }

// Size returns rows·cols.
func (m *Mat) Size() int { return len(m.data) }

// Data returns the values as a spago slice (no copy). Code of this module
// reads them with kernels.Data, which does not allocate.
func (m *Mat) Data() float.Slice { return float.Make(m.data...) }

// Item returns the value of a 1×1 matrix.
func (m *Mat) Item() float.Float {
	if len(m.data) != 1 {
		panic(fmt.Sprintf("kernels: Item of a %dx%d matrix", m.rows, m.cols))
	}
	return float.Interface(m.data[0])
}

// At returns element (i, j) as a 1×1 matrix.
func (m *Mat) At(indices ...int) mat.Tensor {
	return NewMat(1, 1, []float32{m.data[m.index(indices)]})
}

// SetAt sets element (i, j) to the value of the 1×1 tensor v.
func (m *Mat) SetAt(v mat.Tensor, indices ...int) {
	m.data[m.index(indices)] = Data(v)[0]
}

func (m *Mat) index(indices []int) int {
	if len(indices) != 2 || indices[0] < 0 || indices[0] >= m.rows || indices[1] < 0 || indices[1] >= m.cols {
		panic(fmt.Sprintf("kernels: index %v of a %dx%d matrix", indices, m.rows, m.cols))
	}
	return indices[0]*m.cols + indices[1]
}

// NewScalar returns a 1×1 matrix holding v. spago's backward seeds a scalar
// loss's gradient with NewScalar(1); for a step-scoped Mat it comes from
// the step's arena.
func (m *Mat) NewScalar(v float64, _ ...mat.OptionsFunc) mat.Matrix {
	var s *Mat
	if m.arena != nil {
		s = m.arena.newMat(1, 1, m.arena.Get(1))
	} else {
		s = NewMat(1, 1, make([]float32, 1))
	}
	s.data[0] = float32(v)
	return s
}

// String describes the matrix by its shape (fmt's %v).
func (m *Mat) String() string { return fmt.Sprintf("kernels.Mat %dx%d", m.rows, m.cols) }
