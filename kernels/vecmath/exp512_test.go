//go:build amd64 && !purego

package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpShift512Matches holds the ZMM ExpShift to expShiftAVX2 bit for
// bit, the values and the sum: every length from 16 to 300 (the blocks of
// 32, a block of 16, the AVX2 code's block of 8 and its masked tail after
// them), arguments across the clamp bounds, NaN and ±Inf among them, and
// the float past the end left alone. It runs only where the CPU has
// AVX-512F; elsewhere it says so as a skip.
func TestExpShift512Matches(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512F on this CPU: the AVX-512 exp loop is untested here (it is never used here either)")
	}
	rng := rand.New(rand.NewPCG(512, 87))
	for n := 16; n <= 300; n++ {
		// Terms of one scale (even n), whose sum rounds in every
		// addition and so tells orders apart, or across the whole range
		// with the special values among them (odd n).
		src := args512(rng, n, float64(2+28*(n%2)), n%2 == 1)
		shift := float32(rng.NormFloat64() * 5)
		want, got := make([]float32, n+1), make([]float32, n+1)
		want[n], got[n] = 7, 7
		ws := expShiftAVX2(&want[0], &src[0], n, -shift)
		gs := expShift512(&got[0], &src[0], n, -shift)
		if math.Float32bits(gs) != math.Float32bits(ws) {
			t.Fatalf("n %d: sum %#08x, expShiftAVX2 %#08x", n, math.Float32bits(gs), math.Float32bits(ws))
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n %d: [%d] = %#08x, expShiftAVX2 %#08x", n, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
	}
}

// TestSigmoid512Matches holds the ZMM Sigmoid to sigmoidAVX2 bit for bit,
// over the same lengths and arguments as TestExpShift512Matches.
func TestSigmoid512Matches(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512F on this CPU: the AVX-512 sigmoid loop is untested here (it is never used here either)")
	}
	rng := rand.New(rand.NewPCG(512, 88))
	for n := 16; n <= 300; n++ {
		x := args512(rng, n, 10, true)
		want, got := make([]float32, n+1), make([]float32, n+1)
		want[n], got[n] = 7, 7
		sigmoidAVX2(&want[0], &x[0], n)
		sigmoid512(&got[0], &x[0], n)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n %d: [%d] = %#08x, sigmoidAVX2 %#08x", n, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
	}
}

// args512 returns n normal arguments of the given scale and, when special
// is set, one in 20 of them NaN, ±Inf, a signed zero or on or past a clamp
// bound (e^x's −87 and 88, the sigmoid's argument negated).
func args512(rng *rand.Rand, n int, scale float64, special bool) []float32 {
	odd := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -87, 88, -87.5, 88.5, -88, 87, 0, float32(math.Copysign(0, -1))}
	x := make([]float32, n)
	for i := range x {
		if special && rng.IntN(20) == 0 {
			x[i] = odd[rng.IntN(len(odd))]
		} else {
			x[i] = float32(rng.NormFloat64() * scale)
		}
	}
	return x
}
