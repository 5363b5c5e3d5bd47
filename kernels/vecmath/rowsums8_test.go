package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sameBits is bit equality, with any NaN equal to any NaN (which operand's
// payload an addition of two NaNs returns is not part of the promise).
func sameBits(a, b float32) bool {
	if a != a && b != b {
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

// rowValues fills n values of mixed scales (so that sums round and orders
// differ), with a rare Inf, NaN or signed zero when special is set.
func rowValues(rng *rand.Rand, v []float32, special bool) {
	odd := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0, float32(math.Copysign(0, -1))}
	for i := range v {
		v[i] = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(24)-12)))
		if special && rng.IntN(40) == 0 {
			v[i] = odd[rng.IntN(len(odd))]
		}
	}
}

// The eight-row sums are each row's serial sum, bit for bit, on and off the
// assembly: every n from 0 to 80 (blocks of 8 and the Go tail), strides
// above n, ordinary and special values.
func TestRowSums8MatchOneRowAtATime(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, asm := range []bool{true, false} {
		prev := useAVX2
		useAVX2 = asm && prev
		for n := 0; n <= 80; n++ {
			for _, special := range []bool{false, true} {
				ld := n + rng.IntN(9)
				size := 7*ld + n
				a, b, g := make([]float32, size), make([]float32, size), make([]float32, n)
				rowValues(rng, a, special)
				rowValues(rng, b, special)
				rowValues(rng, g, special)
				var iv [8]float32
				for r := range iv {
					iv[r] = float32(0.5 + rng.Float64())
				}
				sq, nd, dt := SumSquares8(a, ld, n), NormDot8(a, b, ld, g, iv, n), Dot8(a, b, ld, n)
				for r := range 8 {
					ar, br := a[r*ld:r*ld+n], b[r*ld:r*ld+n]
					var s1, s2, s3 float32
					for j := range n {
						s1 += ar[j] * ar[j]
						s2 += ar[j] * g[j] * br[j] * iv[r]
						s3 += ar[j] * br[j]
					}
					if !sameBits(sq[r], s1) || !sameBits(nd[r], s2) || !sameBits(dt[r], s3) {
						t.Fatalf("asm %v n %d ld %d special %v row %d: SumSquares8 %v (want %v), NormDot8 %v (%v), Dot8 %v (%v)",
							useAVX2, n, ld, special, r, sq[r], s1, nd[r], s2, dt[r], s3)
					}
				}
			}
		}
		useAVX2 = prev
	}
}
