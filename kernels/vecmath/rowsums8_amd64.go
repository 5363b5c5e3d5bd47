//go:build !purego

package vecmath

// normDot8AVX2 and dot8AVX2 are the row sums' loops over the first n
// columns of the eight rows, n a positive multiple of 8; each adds onto the
// sums in s. See rowsums8_amd64.s.
//
//go:noescape
func normDot8AVX2(dy, x *float32, ld int, gain *float32, iv *[8]float32, n int, s *[8]float32)

//go:noescape
func dot8AVX2(a, b *float32, ld, n int, s *[8]float32)
