package kernels

import (
	"fmt"
	"runtime"

	"github.com/relorago/harness/kernels/gemm"
	"github.com/relorago/harness/kernels/vecmath"
	"golang.org/x/sys/cpu"
)

// ReferenceArithmetic returns nil when this build on this CPU computes
// what the committed run records were trained with: the Go GEMM on its
// FMA kernels (AVX2 or AVX-512, which give the same bits) and the
// elementwise loops in Go assembly. Otherwise it says what runs instead:
// those paths are correct but round differently, so a run here cannot
// reproduce a record digit for digit.
func ReferenceArithmetic() error {
	switch {
	case GemmBackend != "go":
		return fmt.Errorf("the GEMM runs on %s (built with -tags %s), which orders its sums its own way", gemm.MicroKernel(), GemmBackend)
	case gemm.FMAKernels() && vecmath.Vectorised():
		return nil
	case runtime.GOARCH != "amd64":
		return fmt.Errorf("GOARCH=%s has only the portable Go kernels, which round differently from the x86-64 assembly", runtime.GOARCH)
	case !cpu.X86.HasAVX2 || !cpu.X86.HasFMA:
		return fmt.Errorf("this CPU lacks AVX2 or FMA, so the portable Go kernels run, which round differently from the AVX2 assembly")
	}
	return fmt.Errorf("this binary was built with -tags purego, so the portable Go kernels run, which round differently from the AVX2 assembly")
}
