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
