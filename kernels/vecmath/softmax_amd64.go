//go:build !purego

package vecmath

// maxAVX2 returns the largest of n floats (n a positive multiple of 8) as
// VMAXPS finds it, and whether any of them is a NaN; see softmax_amd64.s.
//
//go:noescape
func maxAVX2(x *float32, n int) (m float32, nan bool)

// scaleAVX2 is Scale's loop over n floats, n a positive multiple of 8.
//
//go:noescape
func scaleAVX2(dst, x *float32, s float32, n int)

// softmaxGradAVX2 is SoftmaxGrad's loop over n floats, n a positive
// multiple of 8.
//
//go:noescape
func softmaxGradAVX2(grad, p *float32, dot float32, n int)
