package vecmath

// RMSNorm's elementwise loops (the row reductions stay scalar: summing 8
// lanes at once would change their order and so their value). Each has an
// assembly body with the Go expression's roundings, in its order, unfused,
// so the two paths are bit-identical.

// ScaleMul sets dst[i] = x[i]·s·g[i] (left to right): x̂·g in the forward.
func ScaleMul(dst, x []float32, s float32, g []float32) {
	n := len(dst)
	x, g = x[:n], g[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		scaleMulAVX2(&dst[0], &x[0], s, &g[0], done)
	}
	for i := done; i < n; i++ {
		dst[i] = x[i] * s * g[i]
	}
}

// AddMulScaled sets dst[i] += a[i]·b[i]·s (left to right): dg += dy·x/rms.
func AddMulScaled(dst, a, b []float32, s float32) {
	n := len(dst)
	a, b = a[:n], b[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		addMulScaledAVX2(&dst[0], &a[0], &b[0], s, done)
	}
	for i := done; i < n; i++ {
		dst[i] += a[i] * b[i] * s
	}
}

// RMSNormDx sets dx[i] = (dy[i]·g[i] − x[i]·inv·mean)·inv, RMSNorm's input
// gradient for one row.
func RMSNormDx(dx, dy, g, x []float32, inv, mean float32) {
	n := len(dx)
	dy, g, x = dy[:n], g[:n], x[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		rmsNormDxAVX2(&dx[0], &dy[0], &g[0], &x[0], inv, mean, done)
	}
	for i := done; i < n; i++ {
		dx[i] = (dy[i]*g[i] - x[i]*inv*mean) * inv
	}
}
