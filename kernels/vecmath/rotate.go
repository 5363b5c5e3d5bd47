package vecmath

// Rotate turns the pairs (lo[i], hi[i]) by the angles whose cosines and
// sines are cos[i] and sign·sin[i] (rotary embeddings; sign = −1 rotates
// back, for the gradient):
//
//	dstLo[i] = lo[i]·c − hi[i]·s,  dstHi[i] = lo[i]·s + hi[i]·c,  s = sign·sin[i].
//
// The assembly rounds each product and the sum as the Go loop does, so the
// two are bit-identical. All slices must be at least as long as dstLo.
func Rotate(dstLo, dstHi, lo, hi, cos, sin []float32, sign float32) {
	n := len(dstLo)
	dstHi, lo, hi, cos, sin = dstHi[:n], lo[:n], hi[:n], cos[:n], sin[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		rotateAVX2(&dstLo[0], &dstHi[0], &lo[0], &hi[0], &cos[0], &sin[0], sign, done)
	}
	for i := done; i < n; i++ {
		a, b := lo[i], hi[i]
		c, s := cos[i], sign*sin[i]
		dstLo[i] = a*c - b*s
		dstHi[i] = a*s + b*c
	}
}

// RotateHeads rotates one row of heads side by side: for each of the
// len(dst)/heads-wide heads, the pairs (i, i+hd/2) of src by cos[i] and
// sign·sin[i] into dst, as Rotate does head by head (bit for bit). One
// call a row instead of one a head: at head width 32 Rotate's call cost
// more than its 16 pairs. cos and sin must hold at least hd/2 floats; dst
// and src must not overlap.
func RotateHeads(dst, src, cos, sin []float32, heads int, sign float32) {
	hd := len(dst) / heads
	half := hd / 2
	src = src[:heads*hd]
	cos, sin = cos[:half], sin[:half]
	if useAVX2 && half >= 8 && half%8 == 0 {
		rotateHeadsAVX2(&dst[0], &src[0], &cos[0], &sin[0], sign, heads, hd)
		return
	}
	for h := 0; h < heads; h++ {
		s, o := src[h*hd:(h+1)*hd], dst[h*hd:(h+1)*hd]
		Rotate(o[:half], o[half:], s[:half], s[half:], cos, sin, sign)
	}
}
