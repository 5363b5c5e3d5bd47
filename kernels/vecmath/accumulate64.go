package vecmath

// AccumulateWiden sets dst[i] += s·float64(x[i]): a float64 sum that runs
// over float32 rows, one term at a time (GaLore's projection). Each product
// of two float32 values is exact in float64, and the assembly rounds the
// sum once per term as the Go loop does, so the two are bit-identical. x
// must be at least as long as dst.
func AccumulateWiden(dst []float64, s float64, x []float32) {
	n := len(dst)
	x = x[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		accumulateWidenAVX2(&dst[0], &x[0], s, done)
	}
	for i := done; i < n; i++ {
		dst[i] += s * float64(x[i])
	}
}

// Accumulate64 sets dst[i] += s·x[i] in float64: the assembly rounds s·x[i],
// then the sum, like the Go loop (no fused multiply-add), so the two are
// bit-identical. x must be at least as long as dst.
func Accumulate64(dst []float64, s float64, x []float64) {
	n := len(dst)
	x = x[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		accumulate64AVX2(&dst[0], &x[0], s, done)
	}
	for i := done; i < n; i++ {
		dst[i] += s * x[i]
	}
}
