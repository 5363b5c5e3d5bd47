package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxMatchesBuiltinRules checks Max against a serial fold of the
// builtin max, bit for bit, including rows whose maximum is a zero of
// either sign and rows holding a NaN.
func TestMaxMatchesBuiltinRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	negZero := float32(math.Copysign(0, -1))
	nan := float32(math.NaN())
	for _, n := range []int{1, 7, 15, 16, 17, 64, 129} {
		for trial := 0; trial < 50; trial++ {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			switch trial % 5 {
			case 1: // maximum is a zero of either sign
				for i := range x {
					x[i] = -float32(math.Abs(float64(x[i])))
				}
				x[rng.IntN(n)] = negZero
				x[rng.IntN(n)] = 0
			case 2:
				for i := range x {
					x[i] = -float32(math.Abs(float64(x[i])))
				}
				x[rng.IntN(n)] = negZero
			case 3:
				x[rng.IntN(n)] = nan
			case 4:
				x[rng.IntN(n)] = float32(math.Inf(1))
			}
			want := x[0]
			for _, v := range x[1:] {
				want = max(want, v)
			}
			got := Max(x)
			if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
				t.Fatalf("n=%d trial %d: Max = %v (%#x), want %v (%#x)", n, trial, got, math.Float32bits(got), want, math.Float32bits(want))
			}
		}
	}
}

// TestScaleAndSoftmaxGradBitIdentical checks both loops against their Go
// formulas bit for bit, Scale in place and not.
func TestScaleAndSoftmaxGradBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, n := range []int{1, 7, 8, 9, 64, 1001} {
		x, p, g := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
			p[i] = rng.Float32()
			g[i] = float32(rng.NormFloat64())
		}
		s, dot := float32(0.0371), float32(0.42)
		dst := make([]float32, n)
		Scale(dst, x, s)
		inPlace := append([]float32(nil), x...)
		Scale(inPlace, inPlace, s)
		grad := append([]float32(nil), g...)
		SoftmaxGrad(grad, p, dot)
		for i := range x {
			if want := x[i] * s; math.Float32bits(dst[i]) != math.Float32bits(want) || math.Float32bits(inPlace[i]) != math.Float32bits(want) {
				t.Fatalf("Scale n=%d i=%d: %v / %v, want %v", n, i, dst[i], inPlace[i], want)
			}
			if want := p[i] * (g[i] - dot); math.Float32bits(grad[i]) != math.Float32bits(want) {
				t.Fatalf("SoftmaxGrad n=%d i=%d: %v, want %v", n, i, grad[i], want)
			}
		}
	}
}
