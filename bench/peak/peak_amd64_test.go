package peak

import "testing"

// TestLanesFollowTheKernel: the peak is the running kernel's ceiling, so an
// AVX-512 core running the AVX2 kernels (RELORA_GEMM_KERNEL=avx2) is timed
// on 8 lanes.
func TestLanesFollowTheKernel(t *testing.T) {
	for _, c := range []struct {
		avx512, avx2Kept bool
		want             int
	}{{true, false, 16}, {true, true, 8}, {false, false, 8}, {false, true, 8}} {
		if got := lanes(c.avx512, c.avx2Kept); got != c.want {
			t.Errorf("lanes(avx512 %v, AVX2 kept %v) = %d, want %d", c.avx512, c.avx2Kept, got, c.want)
		}
	}
}
