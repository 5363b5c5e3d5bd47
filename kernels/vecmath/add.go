package vecmath

// AddScaled sets dst[i] = a[i] + s·b[i]: the Add op (residuals, the LoRA
// branch) and the summing of gradient contributions (s = 1, where s·b = b
// exactly). The assembly rounds s·b, then the sum, like the Go loop, so the
// two are bit-identical. a and b must be at least as long as dst; dst may be
// a (in place).
func AddScaled(dst, a, b []float32, s float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		addScaledAVX2(&dst[0], &a[0], &b[0], s, done)
	}
	for i := done; i < n; i++ {
		dst[i] = a[i] + s*b[i]
	}
}
