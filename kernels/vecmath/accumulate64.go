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

// AccumulateWidenRows sets dst[a] += Σ_j float64(s[j])·float64(q[j·k+a])
// for a < k = len(dst), the terms added in ascending j: what one
// AccumulateWiden call per j does (GaLore's right-side projection, a row
// of G times Q), with the k sums held in registers over all of s rather
// than read and written at every j. Each product is rounded (exact here)
// and then each sum, as the Go loop does. q holds at least len(s)·k values.
func AccumulateWidenRows(dst []float64, s, q []float32) {
	k := len(dst)
	if k == 0 || len(s) == 0 {
		return
	}
	q = q[:len(s)*k]
	done := 0
	if useAVX2 && k >= 8 {
		done = k &^ 7
		accumulateWidenRowsAVX2(&dst[0], &s[0], &q[0], len(s), k, done)
	}
	if done == k {
		return
	}
	for j, x := range s {
		AccumulateWiden(dst[done:], float64(x), q[j*k+done:(j+1)*k])
	}
}
