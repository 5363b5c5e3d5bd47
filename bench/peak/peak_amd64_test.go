package peak

import "testing"

// TestLanesFollowTheKernel: the peak is the running kernel's ceiling, so an
// AVX-512 core running the AVX2 kernels (RELORA_GEMM_KERNEL=avx2) is timed
// on 8 lanes.
func TestLanesFollowTheKernel(t *testing.T) {
	for _, c := range []struct {
		avx512 bool
		kernel string
		want   int
	}{{true, "AVX-512", 16}, {true, "AVX2", 8}, {true, "OpenBLAS", 16}, {false, "AVX2", 8}, {false, "OpenBLAS", 8}, {false, "portable Go", 8}} {
		if got := lanes(c.avx512, c.kernel); got != c.want {
			t.Errorf("lanes(%v, %q) = %d, want %d", c.avx512, c.kernel, got, c.want)
		}
	}
}
