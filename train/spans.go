package train

import "github.com/relorago/harness/kernels"

// spanLen is the largest piece of a parameter one task of an elementwise
// pass over all parameters updates: the embedding (32k floats) is cut in
// two, a norm's weights (128) is one task.
const spanLen = 1 << 14

// span is one task of eachSpan: values lo..hi-1 of parameter i.
type span struct{ i, lo, hi int }

// eachSpan runs body over the values of n parameters of the given lengths,
// cut into spans of at most spanLen, on c's cores. Where each cut falls
// depends only on the lengths, and body must treat values independently,
// so the result does not depend on the thread count.
func eachSpan(c *kernels.Ctx, lengths []int, body func(i, lo, hi int)) {
	var spans []span
	for i, n := range lengths {
		for lo := 0; lo < n; lo += spanLen {
			spans = append(spans, span{i, lo, min(lo+spanLen, n)})
		}
	}
	c.ForEach(len(spans), func(t int) {
		s := spans[t]
		body(s.i, s.lo, s.hi)
	})
}
