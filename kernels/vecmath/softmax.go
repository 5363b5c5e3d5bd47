package vecmath

// Max returns the largest value of x (len ≥ 1) under the builtin max's
// rules (a NaN wins, +0 beats −0). The AVX2 loop compares 8 lanes at a
// time; the maximum of non-zero, non-NaN values is the same whatever the
// order of comparison, and a row whose maximum is a zero or that holds a
// NaN is done again by the Go loop, so the result is always the Go loop's.
func Max(x []float32) float32 {
	n := len(x)
	if useAVX2 && n >= 16 {
		done := n &^ 7
		m, nan := maxAVX2(&x[0], done)
		if !nan {
			for _, v := range x[done:] {
				m = max(m, v)
			}
			if m != 0 && m == m {
				return m
			}
		}
	}
	return maxGo(x)
}

// maxGo is Max's portable loop: four independent chains instead of one
// serial one (the builtin max's rules make the order irrelevant).
func maxGo(x []float32) float32 {
	m0, m1, m2, m3 := x[0], x[0], x[0], x[0]
	i := 1
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		m0, m1, m2, m3 = max(m0, v[0]), max(m1, v[1]), max(m2, v[2]), max(m3, v[3])
	}
	for ; i < len(x); i++ {
		m0 = max(m0, x[i])
	}
	return max(max(m0, m1), max(m2, m3))
}

// Scale sets dst[i] = x[i]·s (dst may be x): a softmax row's normalisation.
func Scale(dst, x []float32, s float32) {
	n := len(dst)
	x = x[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		scaleAVX2(&dst[0], &x[0], s, done)
	}
	for i := done; i < n; i++ {
		dst[i] = x[i] * s
	}
}

// SoftmaxGrad sets g[i] = p[i]·(g[i] − dot), the softmax backward's
// elementwise step once dot = Σ p·g is known. The assembly rounds the
// difference, then the product, like the Go loop.
func SoftmaxGrad(g, p []float32, dot float32) {
	n := len(g)
	p = p[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		softmaxGradAVX2(&g[0], &p[0], dot, done)
	}
	for i := done; i < n; i++ {
		g[i] = p[i] * (g[i] - dot)
	}
}
