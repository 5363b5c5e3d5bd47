//go:build !amd64 || purego

package vecmath

// useAVX2 is false off amd64 (or with the purego tag): only the portable Go
// loops exist there.
var useAVX2 = false

// useAVX512 and hasAVX512 are false there too.
var useAVX512, hasAVX512 = false, false

// expShiftAVX2 and sigmoidAVX2 are never called when useAVX2 is false; they
// exist so the package compiles on every architecture.
func expShiftAVX2(dst, src *float32, n int, negShift float32) float32 {
	panic("vecmath: AVX2 code not available")
}

func sigmoidAVX2(dst, x *float32, n int) {
	panic("vecmath: AVX2 code not available")
}

func swigluForwardAVX2(y, gate, sig, u *float32, n int) {
	panic("vecmath: AVX2 code not available")
}

func swigluBackwardAVX2(dg, du, dy, gate, sig, u *float32, n int) {
	panic("vecmath: AVX2 code not available")
}

func addScaledAVX2(dst, a, b *float32, s float32, n int) {
	panic("vecmath: AVX2 code not available")
}

func scaleMulAVX2(dst, x *float32, s float32, gain *float32, n int) {
	panic("vecmath: AVX2 code not available")
}

func addMulScaledAVX2(dst, a, b *float32, s float32, n int) {
	panic("vecmath: AVX2 code not available")
}

func rmsNormDxAVX2(dx, dy, gain, x *float32, inv, mean float32, n int) {
	panic("vecmath: AVX2 code not available")
}

func adamwAVX2(w, grad, m, v *float32, c *AdamWStep, n int) {
	panic("vecmath: AVX2 code not available")
}

func rotateAVX2(dstLo, dstHi, lo, hi, cos, sin *float32, sign float32, n int) {
	panic("vecmath: AVX2 code not available")
}

func rotateHeadsAVX2(dst, src, cos, sin *float32, sign float32, heads, hd int) {
	panic("vecmath: AVX2 code not available")
}

func maxAVX2(x *float32, n int) (float32, bool) {
	panic("vecmath: AVX2 code not available")
}

func scaleAVX2(dst, x *float32, s float32, n int) {
	panic("vecmath: AVX2 code not available")
}

func softmaxGradAVX2(grad, p *float32, dot float32, n int) {
	panic("vecmath: AVX2 code not available")
}

func accumulateWidenAVX2(dst *float64, x *float32, s float64, n int) {
	panic("vecmath: AVX2 code not available")
}

func accumulate64AVX2(dst, x *float64, s float64, n int) {
	panic("vecmath: AVX2 code not available")
}

func prefetchLines(p *float32, lines int) {
	panic("vecmath: AVX2 code not available")
}

func accumulateWidenRowsAVX2(dst *float64, s, q *float32, ns, k, cols int) {
	panic("vecmath: AVX2 code not available")
}

func expShift512(dst, src *float32, n int, negShift float32) float32 {
	panic("vecmath: AVX-512 code not available")
}

func sigmoid512(dst, x *float32, n int) {
	panic("vecmath: AVX-512 code not available")
}

func normDot8AVX2(dy, x *float32, ld int, gain *float32, iv *[8]float32, n int, s *[8]float32) {
	panic("vecmath: AVX2 code not available")
}

func dot8AVX2(a, b *float32, ld, n int, s *[8]float32) {
	panic("vecmath: AVX2 code not available")
}
