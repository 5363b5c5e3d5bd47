//go:build !openblas && !purego

package gemm

import (
	"fmt"
	"strings"
	"testing"
)

// TestKernelEnv checks the parsing of RELORA_GEMM_KERNEL: unset and auto
// allow AVX-512, avx2 keeps the AVX2 kernels, anything else stops with a
// message naming the variable.
func TestKernelEnv(t *testing.T) {
	for v, want := range map[string]bool{"": false, "auto": false, "avx2": true} {
		if got := avx2Only(v); got != want {
			t.Errorf("avx2Only(%q) = %v, want %v", v, got, want)
		}
	}
	for _, v := range []string{"AVX2", "avx512", "portable", " avx2"} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, kernelEnv) || !strings.Contains(msg, fmt.Sprintf("%q", v)) {
					t.Errorf("avx2Only(%q): panic %q, want one naming %s and the value", v, msg, kernelEnv)
				}
			}()
			avx2Only(v)
		}()
	}
}
