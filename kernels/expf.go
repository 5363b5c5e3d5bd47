package kernels

import "math"

// expShift sets dst[i] = e^(src[i]−shift) and returns the sum, in float32
// precision (relative error < 3e-7). Arguments are clamped to [−87, 88], where
// float32 stays normal, so e^(−1000) gives ~1.6e-38 rather than 0: harmless
// for its users, softmax and sigmoid. math.Exp works in float64 behind a
// call; softmax over attention scores and the vocabulary and the SwiGLU
// sigmoid need ~9M exponentials per step. It works on slices because a scalar
// function this size is not inlined and the call cost as much as the math.
//
// Range reduction x = k·ln2 + r, |r| ≤ ln2/2, e^x = 2^k·e^r with e^r from its
// degree-7 Taylor polynomial. k is rounded with the 1.5·2²³ trick (adding it
// pushes the fraction bits out, leaving k in the low mantissa bits): no
// branch and no call to math.Floor.
func expShift(dst, src []float32, shift float32) float32 {
	const (
		ln2Hi, ln2Lo = 0.693145751953125, 1.428606765330187e-06
		log2e        = 1.4426950408889634
		magic        = 12582912
	)
	src = src[:len(dst)]
	var sum float32
	for i, v := range src {
		x := v - shift
		if x < -87 {
			x = -87
		}
		if x > 88 {
			x = 88
		}
		t := x*log2e + magic
		k := t - magic
		r := x - k*ln2Hi - k*ln2Lo
		p := float32(1.0 / 5040)
		p = p*r + 1.0/720
		p = p*r + 1.0/120
		p = p*r + 1.0/24
		p = p*r + 1.0/6
		p = p*r + 0.5
		p = p*r + 1
		p = p*r + 1
		ki := int32(math.Float32bits(t)) - int32(math.Float32bits(magic))
		e := p * math.Float32frombits(uint32(ki+127)<<23)
		dst[i] = e
		sum += e
	}
	return sum
}
