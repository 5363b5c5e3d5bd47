package kernels

// matSlab keeps the Mat headers of one step's activations and gradients
// for the next: a step builds the same few hundred Mats every time, and
// allocating them anew would be most of the step's heap objects. The
// Arena owns one and takes every header back at Reset, as it does the
// buffers. The caller holds the Arena's lock.
type matSlab struct {
	mats []*Mat // every header made so far; mats[:used] are in use this step
	used int
}

// get returns a header for a rows×cols step-scoped Mat over data, as
// NewMat would build it but with the arena set. A reused header keeps only
// its parts slice's capacity, so gradient contributions stop growing it
// after the first steps.
func (s *matSlab) get(a *Arena, rows, cols int, data []float32) *Mat {
	if s.used == len(s.mats) {
		s.mats = append(s.mats, new(Mat))
	}
	m := s.mats[s.used]
	s.used++
	*m = Mat{rows: rows, cols: cols, shape: [2]int{rows, cols}, data: data, arena: a, parts: m.parts[:0]}
	return m
}

// reset makes every header available again.
func (s *matSlab) reset() { s.used = 0 }
