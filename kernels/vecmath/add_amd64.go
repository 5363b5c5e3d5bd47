//go:build !purego

package vecmath

// addScaledAVX2 is AddScaled's loop over n floats, n a positive multiple of
// 8; see add_amd64.s.
//
//go:noescape
func addScaledAVX2(dst, a, b *float32, s float32, n int)
