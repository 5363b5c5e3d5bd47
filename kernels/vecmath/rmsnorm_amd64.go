//go:build !purego

package vecmath

// The loops of rmsnorm.go over n floats, n a positive multiple of 8; see
// rmsnorm_amd64.s.

//go:noescape
func scaleMulAVX2(dst, x *float32, s float32, gain *float32, n int)

//go:noescape
func addMulScaledAVX2(dst, a, b *float32, s float32, n int)

//go:noescape
func rmsNormDxAVX2(dx, dy, gain, x *float32, inv, mean float32, n int)
