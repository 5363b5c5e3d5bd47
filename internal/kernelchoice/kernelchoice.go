// Package kernelchoice reads the user's choice of GEMM micro-kernels, the
// RELORA_GEMM_KERNEL environment variable. It is its own package because
// three others act on it: kernels/gemm, which runs the kernels,
// kernels/vecmath, whose exp and sigmoid loops follow the same choice, and
// bench/peak, which times the FMA loop of the width they run (and which
// the gemm package's own benchmarks import).
package kernelchoice

import (
	"fmt"
	"os"
)

// Var names the environment variable that can keep the AVX2 kernels (and
// vecmath's AVX2 exp and sigmoid loops) on a CPU with AVX-512F: "avx2" does, "auto" or unset picks the widest the CPU
// has. The bits are the same either way; it is there to time one against
// the other on whole runs, and for cores whose clock drops under AVX-512
// load, where the wider kernels may not pay (none was measured).
const Var = "RELORA_GEMM_KERNEL"

// AVX2Only reports whether the environment keeps the AVX2 kernels.
func AVX2Only() bool { return Parse(os.Getenv(Var)) }

// Parse reads one value of Var. Any other value stops the program before
// anything is computed, naming the variable and what it accepts: a
// misspelt choice must not silently run the other kernel.
func Parse(v string) bool {
	switch v {
	case "", "auto":
		return false
	case "avx2":
		return true
	}
	panic(fmt.Sprintf("gemm: %s=%q: want avx2 (keep the AVX2 kernels) or auto (the widest the CPU has), or leave it unset", Var, v))
}
