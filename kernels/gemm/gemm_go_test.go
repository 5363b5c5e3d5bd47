//go:build !openblas

package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPortableKernel runs the reference cases with the pure-Go micro-kernel
// that CPUs without AVX2/FMA (and non-amd64 builds) use, so that fallback
// stays correct even though this machine normally takes the assembly path.
func TestPortableKernel(t *testing.T) {
	if !useAVX2 {
		t.Skip("portable kernel is already the default here; covered by TestSgemmMatchesReference")
	}
	defer portable()()
	rng := rand.New(rand.NewPCG(21, 22))
	for _, tc := range testCases() {
		checkCase(t, rng, tc)
	}
}

// BenchmarkPackBTrans packs op(B) = Kᵀ for one attention head (K a 128×32
// view with stride 128), the transposed packing of S = Q·Kᵀ.
func BenchmarkPackBTrans(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	const T, hd, ld = 128, 32, 128
	src := randSlice(rng, (T-1)*ld+hd)
	dst := make([]float32, T*hd)
	for b.Loop() {
		packB(true, dst, src, ld, 0, 0, hd, T)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(T*hd), "ns/float")
}

// TestPackPanelN6 checks the assembly packing of a row-major A panel
// against the portable loop, bit for bit, at every depth around its 4-step
// unrolling, on a padded stride.
func TestPackPanelN6(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for kl := 1; kl <= 40; kl++ {
		lds := kl + 3
		src := randSlice(rng, (mr-1)*lds+kl)
		want, got := make([]float32, mr*kl), make([]float32, mr*kl)
		packPanelN6Go(kl, src, lds, want)
		packPanelN6(kl, src, lds, got)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("kl %d: dst[%d] = %g, want %g", kl, i, got[i], want[i])
			}
		}
	}
}

// portable switches the assembly kernels off, AVX2 and AVX-512 alike (the
// AVX-512 ones are picked before the AVX2 test), until the returned
// function restores them: defer portable()().
func portable() (restore func()) {
	avx2, avx512 := useAVX2, useAVX512
	useAVX2, useAVX512 = false, false
	return func() { useAVX2, useAVX512 = avx2, avx512 }
}
