package vecmath

// Row sums of eight rows at a time, each row's sum serial in index order,
// bit for bit as one row at a time.
//
// RMSNorm's sum of squares and the dot products of its backward and of the
// softmax's backward are serial float32 sums: their index order is each
// result's rounding, so one row's sum cannot be split into lanes. Eight
// rows can share them: the assembly forms each row's products along the
// row (8 columns a load), transposes the 8×8 block so that a register
// holds one column of the eight rows, and adds the columns into the eight
// sums in order, one lane per row. Each product and each addition is
// rounded as in the Go loop (no fused multiply-add), so every lane's sum is
// its row's serial sum. Columns past the last multiple of 8 are added by
// the Go loop, after the assembly's, in order.
//
// The rows are base[r·ld : r·ld+n] for r < 8; base must hold 7·ld + n
// values (it panics otherwise). A NaN's payload may differ from the one-row
// loop's (which operand an addition of two NaNs returns); NaN stays NaN.

// SumSquares8 returns each row's x[0]² + x[1]² + … in index order: Dot8
// of the rows with themselves (x·x is the same product either way).
func SumSquares8(x []float32, ld, n int) [8]float32 { return Dot8(x, x, ld, n) }

// NormDot8 returns each row's Σ dy[j]·g[j]·x[j]·iv[r], each term's
// products rounded left to right, summed in index order: RMSNorm's
// backward row sum. dy and x share the stride ld; g is one row, shared.
func NormDot8(dy, x []float32, ld int, g []float32, iv [8]float32, n int) (s [8]float32) {
	if n == 0 {
		return s
	}
	dy, x, g = dy[:7*ld+n], x[:7*ld+n], g[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		normDot8AVX2(&dy[0], &x[0], ld, &g[0], &iv, done, &s)
	}
	for r := range s {
		dyr, xr := dy[r*ld:r*ld+n], x[r*ld:r*ld+n]
		for j := done; j < n; j++ {
			s[r] += dyr[j] * g[j] * xr[j] * iv[r]
		}
	}
	return s
}

// Dot8 returns each row pair's Σ a[j]·b[j] over its first n values, in
// index order. a and b share the stride ld.
func Dot8(a, b []float32, ld, n int) (s [8]float32) {
	if n == 0 {
		return s
	}
	a, b = a[:7*ld+n], b[:7*ld+n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		dot8AVX2(&a[0], &b[0], ld, done, &s)
	}
	for r := range s {
		ar, br := a[r*ld:r*ld+n], b[r*ld:r*ld+n]
		for j := done; j < n; j++ {
			s[r] += ar[j] * br[j]
		}
	}
	return s
}
