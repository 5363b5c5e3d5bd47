package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The float64 accumulations give the Go formula's bits, whatever the
// length's remainder of 8, for scales and terms whose products and sums
// round.
func TestAccumulate64BitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(64, 65))
	for _, n := range []int{1, 7, 8, 9, 16, 63, 1001} {
		for _, s := range []float64{1, 0.1, -3.7e-5} {
			dst, x64 := make([]float64, n), make([]float64, n)
			x32 := make([]float32, n)
			for i := range dst {
				dst[i] = rng.NormFloat64()
				x64[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(7)-3))
				x32[i] = float32(x64[i])
			}
			wide, full := append([]float64(nil), dst...), append([]float64(nil), dst...)
			AccumulateWiden(wide, s, x32)
			Accumulate64(full, s, x64)
			for i := range dst {
				w := dst[i] + s*float64(x32[i])
				f := dst[i] + s*x64[i]
				if math.Float64bits(wide[i]) != math.Float64bits(w) {
					t.Fatalf("AccumulateWiden n %d s %g [%d]: %v, want %v", n, s, i, wide[i], w)
				}
				if math.Float64bits(full[i]) != math.Float64bits(f) {
					t.Fatalf("Accumulate64 n %d s %g [%d]: %v, want %v", n, s, i, full[i], f)
				}
			}
		}
	}
}

// A fused multiply-add would round s·x[i] + dst[i] once; the assembly must
// not: this term's product is inexact, and its fused sum differs.
func TestAccumulate64IsNotFused(t *testing.T) {
	s, x := 1+0x1p-30, 1+0x1p-30 // s·x = 1 + 2⁻²⁹ + 2⁻⁶⁰: the last bit is lost when rounded
	n := 8
	dst, xs := make([]float64, n), make([]float64, n)
	for i := range dst {
		dst[i], xs[i] = -(1 + 0x1p-29), x
	}
	Accumulate64(dst, s, xs)
	fused := math.FMA(s, x, -(1 + 0x1p-29))
	if fused == 0 {
		t.Fatal("the test's operands do not tell a fused sum apart")
	}
	for i, v := range dst {
		if v != 0 {
			t.Fatalf("[%d] = %g: the product was not rounded before the sum (fused gives %g)", i, v, fused)
		}
	}
}

// AccumulateWidenRows gives the bits of one AccumulateWiden call per term
// (which TestAccumulate64BitIdentical holds to the Go formula) for every
// width's remainder of 16 and of 8, row strides past the width, and terms
// whose sums round, with Inf and NaN among them.
func TestAccumulateWidenRowsMatchesOneCallPerTerm(t *testing.T) {
	rng := rand.New(rand.NewPCG(66, 67))
	for k := 1; k <= 41; k++ {
		for _, ns := range []int{1, 2, 7, 33} {
			s, q := make([]float32, ns), make([]float32, ns*k+3)
			for j := range s {
				s[j] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
			}
			for i := range q {
				q[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
			}
			if k == 24 && ns == 7 {
				// A positive NaN in a sum, then a negative one added to it: the
				// sum keeps the product's payload, as AccumulateWiden's does.
				q[2*k+5], q[4*k+17], s[6] = float32(math.Inf(1)), float32(math.NaN()), math.Float32frombits(0xffc00000)
			}
			dst := make([]float64, k)
			for a := range dst {
				dst[a] = rng.NormFloat64()
			}
			want, got := append([]float64(nil), dst...), append([]float64(nil), dst...)
			for j, x := range s {
				AccumulateWiden(want, float64(x), q[j*k:(j+1)*k])
			}
			AccumulateWidenRows(got, s, q)
			for a := range got {
				if math.Float64bits(got[a]) != math.Float64bits(want[a]) {
					t.Fatalf("k %d, %d terms, [%d]: %v, want %v", k, ns, a, got[a], want[a])
				}
			}
		}
	}
}
