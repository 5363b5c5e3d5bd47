package kernelchoice

import (
	"fmt"
	"strings"
	"testing"
)

// TestParse checks the parsing of RELORA_GEMM_KERNEL: unset and auto allow
// AVX-512, avx2 keeps the AVX2 kernels, anything else stops with a message
// naming the variable.
func TestParse(t *testing.T) {
	for v, want := range map[string]bool{"": false, "auto": false, "avx2": true} {
		if got := Parse(v); got != want {
			t.Errorf("Parse(%q) = %v, want %v", v, got, want)
		}
	}
	for _, v := range []string{"AVX2", "avx512", "portable", " avx2"} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, Var) || !strings.Contains(msg, fmt.Sprintf("%q", v)) {
					t.Errorf("Parse(%q): panic %q, want one naming %s and the value", v, msg, Var)
				}
			}()
			Parse(v)
		}()
	}
}

// TestAVX2OnlyReadsTheVariable: the choice is the environment's.
func TestAVX2OnlyReadsTheVariable(t *testing.T) {
	t.Setenv(Var, "avx2")
	if !AVX2Only() {
		t.Errorf("AVX2Only() with %s=avx2 = false", Var)
	}
	t.Setenv(Var, "")
	if AVX2Only() {
		t.Errorf("AVX2Only() with %s unset = true", Var)
	}
}
