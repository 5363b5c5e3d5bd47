//go:build !purego

package vecmath

// accumulateWidenAVX2 is AccumulateWiden's loop over n values, n a positive
// multiple of 8; see accumulate64_amd64.s.
//
//go:noescape
func accumulateWidenAVX2(dst *float64, x *float32, s float64, n int)

// accumulate64AVX2 is Accumulate64's loop over n values, n a positive
// multiple of 8; see accumulate64_amd64.s.
//
//go:noescape
func accumulate64AVX2(dst, x *float64, s float64, n int)

// accumulateWidenRowsAVX2 is AccumulateWidenRows's loop over the first
// cols of the k sums (cols a positive multiple of 8, ns >= 1); see
// accumulate64_amd64.s.
//
//go:noescape
func accumulateWidenRowsAVX2(dst *float64, s, q *float32, ns, k, cols int)
