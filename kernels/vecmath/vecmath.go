// Package vecmath provides vectorised float32 elementwise math for the
// training kernels: e^(x−shift) with its sum (softmax) and the logistic
// sigmoid (SwiGLU).
//
// On amd64 with AVX2 and FMA the loops run in Go assembly, 8 or 16 floats
// per iteration (ExpShift and Sigmoid 32 in ZMM registers where the CPU has
// AVX-512F, with the AVX2 loops' bits); elsewhere, or when built with the purego tag, they run the
// portable scalar Go code below. Both use the same algorithm and agree with
// math.Exp to within 3e-7 relative error over [−87, 88] (float32 normal
// range), but are not bit-identical: the assembly uses fused multiply-adds
// and sums in a different order.
package vecmath

import (
	"math"

	_ "github.com/relorago/harness/internal/unfused" // its Go loops must not be fused: no GOAMD64=v3
)

// Vectorised reports whether the loops run in the Go assembly (amd64 with
// AVX2 and FMA, no purego tag). The portable loops agree with it to within
// the stated error but not bit for bit (ExpShift, Sigmoid).
func Vectorised() bool { return useAVX2 }

// ExpShift sets dst[i] = e^(src[i]−shift) for i < len(dst) and returns the
// float32 sum of dst. src must be at least as long as dst (it panics
// otherwise). src[i]−shift is computed in float32 and clamped to [−87, 88],
// so results stay normal floats: e^(−1000) gives ~1.6e-38 rather than 0 and
// e^(1000) gives ~1.65e38 rather than +Inf. dst and src may be the same slice
// (in place) but must not otherwise overlap.
func ExpShift(dst, src []float32, shift float32) float32 {
	src = src[:len(dst)]
	if len(dst) == 0 {
		return 0
	}
	if useAVX2 {
		if useAVX512 && len(dst) >= 16 {
			return expShift512(&dst[0], &src[0], len(dst), -shift)
		}
		return expShiftAVX2(&dst[0], &src[0], len(dst), -shift)
	}
	return expShiftGo(dst, src, shift)
}

// Sigmoid sets dst[i] = σ(x[i]) = 1/(1+e^(−x[i])) for i < len(dst). x must be
// at least as long as dst (it panics otherwise). e^(−x) is clamped as in
// ExpShift, so σ(x) for x < −88 is ~6e-39 rather than smaller. dst and x may
// be the same slice (in place) but must not otherwise overlap.
func Sigmoid(dst, x []float32) {
	x = x[:len(dst)]
	if len(dst) == 0 {
		return
	}
	if useAVX2 {
		if useAVX512 && len(dst) >= 16 {
			sigmoid512(&dst[0], &x[0], len(dst))
			return
		}
		sigmoidAVX2(&dst[0], &x[0], len(dst))
		return
	}
	sigmoidGo(dst, x)
}

// Constants of the exp algorithm, shared by the Go code and (as bit
// patterns) by the assembly tables.
const (
	expLo, expHi = -87, 88 // clamp bounds: e^x is a normal float32 on [−87, 88]
	ln2Hi, ln2Lo = 0.693145751953125, 1.428606765330187e-06
	log2e        = 1.4426950408889634
	magic        = 12582912 // 1.5·2²³
)

// expShiftGo is the portable ExpShift: dst[i] = e^(src[i]−shift), returning
// the sum (sequential, in float32).
//
// Range reduction x = k·ln2 + r, |r| ≤ ln2/2, e^x = 2^k·e^r with e^r from its
// degree-7 Taylor polynomial. k is rounded with the 1.5·2²³ trick (adding it
// pushes the fraction bits out, leaving k in the low mantissa bits): no
// branch and no call to math.Floor. ln2 is split in two (Cody–Waite) so that
// k·ln2Hi is exact.
func expShiftGo(dst, src []float32, shift float32) float32 {
	src = src[:len(dst)]
	var sum float32
	for i, v := range src {
		e := expGo(v - shift)
		dst[i] = e
		sum += e
	}
	return sum
}

// sigmoidGo is the portable Sigmoid: 1/(1+e^(−x)) with expGo.
func sigmoidGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = 1 / (1 + expGo(-v))
	}
}

// expGo is one exponential of the portable path (see expShiftGo). It is a
// call per element, which the fallback can afford: the AVX2 path is the one
// training uses on amd64.
func expGo(x float32) float32 {
	if x < expLo {
		x = expLo
	}
	if x > expHi {
		x = expHi
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
	return p * math.Float32frombits(uint32(ki+127)<<23)
}
