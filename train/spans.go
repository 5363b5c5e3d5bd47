package train

import "github.com/relorago/harness/kernels"

// spanLen is the largest piece of a parameter one task of an elementwise
// pass over all parameters updates: the embedding (32k floats) is cut in
// two, a norm's weights (128) is one task.
const spanLen = 1 << 14

// span is one task of an elementwise pass: values lo..hi-1 of parameter i.
type span struct{ i, lo, hi int }

// spanBody is the work of an elementwise pass: span(i, lo, hi) updates
// values lo..hi-1 of parameter i, independently of every other value.
type spanBody interface {
	span(i, lo, hi int)
}

// spans runs an elementwise pass over parameters, cut into spans of at
// most spanLen, on a Ctx's cores. It keeps its list of spans from one pass
// to the next (a step's passes repeat every step), so a warm pass
// allocates nothing; the zero value is ready to use. Where each cut falls
// depends only on the lengths added, and a body treats values
// independently, so the result does not depend on the thread count.
type spans struct {
	list []span
	body spanBody
}

// reset starts a new pass with no parameters.
func (s *spans) reset() { s.list = s.list[:0] }

// add cuts parameter i, of n values, into spans.
func (s *spans) add(i, n int) {
	for lo := 0; lo < n; lo += spanLen {
		s.list = append(s.list, span{i, lo, min(lo+spanLen, n)})
	}
}

// run calls body.span on every span added since reset, on c's cores.
func (s *spans) run(c *kernels.Ctx, body spanBody) {
	s.body = body
	c.ForTasks(len(s.list), s)
	s.body = nil // the body's struct is the caller's
}

// Task runs span t (kernels.Tasks).
func (s *spans) Task(t int) {
	sp := s.list[t]
	s.body.span(sp.i, sp.lo, sp.hi)
}
