package kernels

import "math"

// expf returns e^x in float32 precision (relative error < 2e-7 on the range
// softmax uses). math.Exp works in float64 and costs ~3x more; softmax over
// attention scores and the vocabulary calls it millions of times per step.
//
// Range reduction: x = k·ln2 + r with |r| ≤ ln2/2, e^x = 2^k · e^r, and e^r
// by its Taylor polynomial to degree 7 (Horner).
func expf(x float32) float32 {
	if x < -87 {
		return 0 // below float32's normal range; softmax treats it as 0
	}
	if x > 88 {
		return float32(math.Inf(1))
	}
	const ln2Hi, ln2Lo, log2e = 0.693145751953125, 1.428606765330187e-06, 1.4426950408889634
	k := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - k*ln2Hi - k*ln2Lo
	p := float32(1.0 / 5040)
	p = p*r + 1.0/720
	p = p*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	return p * math.Float32frombits(uint32(int32(k)+127)<<23)
}
