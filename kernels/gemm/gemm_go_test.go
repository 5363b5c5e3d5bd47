//go:build !openblas

package gemm

import (
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
	useAVX2 = false
	defer func() { useAVX2 = true }()
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
