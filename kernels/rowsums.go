package kernels

// Row sums four rows at a time, bit for bit as one row at a time: where
// vecmath's assembly runs, the callers take eight rows at a time there
// (vecmath.SumSquares8, NormDot8, Dot8: one lane a row, a transpose of
// each 8×8 block) and these four-row loops only for the rows left over.
//
// RMSNorm's sum of squares and the dot products of its backward and of the
// softmax's backward are serial float32 sums: their index order is each
// result's rounding, so one row's sum cannot be split into lanes. A serial sum waits
// on the latency of its add, 3 to 4 cycles an element, whatever the vector
// width. Four rows summed side by side are four independent chains that the
// core overlaps, while each row's chain keeps its own order and so its
// bits. At the tiny preset's shapes (bench/elementwise, d 128, one thread,
// a shared machine) RMSNorm's forward ran 1.9x as fast with them, its
// backward 1.5x and the softmax's backward about 1.1x (its time goes to
// the elementwise update more than to the dot products).

// sumSquares is x[0]² + x[1]² + … in index order.
func sumSquares(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v * v
	}
	return s
}

// sumSquares4 is sumSquares of four rows of equal length.
func sumSquares4(x0, x1, x2, x3 []float32) (s0, s1, s2, s3 float32) {
	x1, x2, x3 = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)]
	for j, v0 := range x0 {
		v1, v2, v3 := x1[j], x2[j], x3[j]
		s0 += v0 * v0
		s1 += v1 * v1
		s2 += v2 * v2
		s3 += v3 * v3
	}
	return s0, s1, s2, s3
}

// normDot is RMSNorm's backward row sum Σ dy[j]·g[j]·x[j]·iv, each term
// rounded left to right, summed in index order.
func normDot(dy, g, x []float32, iv float32) float32 {
	g, x = g[:len(dy)], x[:len(dy)]
	var dot float32
	for j, v := range dy {
		dot += v * g[j] * x[j] * iv
	}
	return dot
}

// normDot4 is normDot of four rows of equal length sharing g.
func normDot4(dy [4][]float32, g []float32, x [4][]float32, iv [4]float32) (dots [4]float32) {
	n := len(g)
	dy0, dy1, dy2, dy3 := dy[0][:n], dy[1][:n], dy[2][:n], dy[3][:n]
	x0, x1, x2, x3 := x[0][:n], x[1][:n], x[2][:n], x[3][:n]
	var s0, s1, s2, s3 float32
	for j, gj := range g {
		s0 += dy0[j] * gj * x0[j] * iv[0]
		s1 += dy1[j] * gj * x1[j] * iv[1]
		s2 += dy2[j] * gj * x2[j] * iv[2]
		s3 += dy3[j] * gj * x3[j] * iv[3]
	}
	return [4]float32{s0, s1, s2, s3}
}

// dotFrom adds Σ a[j]·b[j] for j from lo on, in index order, onto s.
func dotFrom(s float32, a, b []float32, lo int) float32 {
	b = b[:len(a)]
	for j := lo; j < len(a); j++ {
		s += a[j] * b[j]
	}
	return s
}

// dot4 is Σ a[j]·b[j] over the first n elements of four pairs of rows, in
// index order.
func dot4(a, b [4][]float32, n int) (dots [4]float32) {
	a0, a1, a2, a3 := a[0][:n], a[1][:n], a[2][:n], a[3][:n]
	b0, b1, b2, b3 := b[0][:n], b[1][:n], b[2][:n], b[3][:n]
	var s0, s1, s2, s3 float32
	for j := range a0 {
		s0 += a0[j] * b0[j]
		s1 += a1[j] * b1[j]
		s2 += a2[j] * b2[j]
		s3 += a3[j] * b3[j]
	}
	return [4]float32{s0, s1, s2, s3}
}
