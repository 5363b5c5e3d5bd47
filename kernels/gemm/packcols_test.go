//go:build !openblas

package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPackCols16 holds the transposing micro-panel pack (8 k steps at a
// time in assembly, the rest in Go) to packCols16Go bit for bit, over
// depths around multiples of 8 and strides from the panel's own width up.
func TestPackCols16(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, kc := range []int{1, 7, 8, 9, 15, 16, 17, 23, 32, 64, 100, 255, 256} {
		for _, pad := range []int{0, 1, 5, 64} {
			lds := kc + pad
			src := bitValues(rng, (nr-1)*lds+kc)
			want, got := make([]float32, kc*nr), make([]float32, kc*nr)
			packCols16Go(kc, src, lds, want)
			packCols16(kc, src, lds, got)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("kc %d, lds %d: dst[%d] = %#08x, want %#08x", kc, lds, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
				}
			}
		}
	}
}
