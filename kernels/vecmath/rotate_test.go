package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRotateBitIdentical checks the assembly against the Go formula bit for
// bit, both directions, with and without a scalar tail.
func TestRotateBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, n := range []int{1, 8, 16, 21} {
		for _, sign := range []float32{1, -1} {
			lo, hi, cs, sn := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range lo {
				lo[i], hi[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
				th := rng.Float64() * 100
				cs[i], sn[i] = float32(math.Cos(th)), float32(math.Sin(th))
			}
			dl, dh := make([]float32, n), make([]float32, n)
			Rotate(dl, dh, lo, hi, cs, sn, sign)
			for i := 0; i < n; i++ {
				s := sign * sn[i]
				wl, wh := lo[i]*cs[i]-hi[i]*s, lo[i]*s+hi[i]*cs[i]
				if math.Float32bits(dl[i]) != math.Float32bits(wl) || math.Float32bits(dh[i]) != math.Float32bits(wh) {
					t.Fatalf("n=%d sign=%g i=%d: (%g, %g), want (%g, %g)", n, sign, i, dl[i], dh[i], wl, wh)
				}
			}
		}
	}
}

// TestRotateHeadsMatchesRotate checks RotateHeads against Rotate head by
// head, bit for bit, at head widths whose half is a multiple of 8 (the
// assembly) and others (the per-head fallback), both directions.
func TestRotateHeadsMatchesRotate(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, hd := range []int{16, 32, 48, 64, 128, 10, 20} {
		for _, heads := range []int{1, 3, 4, 8} {
			half := hd / 2
			src := make([]float32, heads*hd)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			cs, sn := make([]float32, half), make([]float32, half)
			for i := range cs {
				th := rng.Float64() * 100
				cs[i], sn[i] = float32(math.Cos(th)), float32(math.Sin(th))
			}
			for _, sign := range []float32{1, -1} {
				got, want := make([]float32, heads*hd), make([]float32, heads*hd)
				RotateHeads(got, src, cs, sn, heads, sign)
				for h := 0; h < heads; h++ {
					s, o := src[h*hd:(h+1)*hd], want[h*hd:(h+1)*hd]
					Rotate(o[:half], o[half:], s[:half], s[half:], cs, sn, sign)
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("hd %d, %d heads, sign %g: element %d is %g, Rotate gives %g", hd, heads, sign, i, got[i], want[i])
					}
				}
			}
		}
	}
}
