//go:build !purego

package vecmath

import (
	"golang.org/x/sys/cpu"

	"github.com/relorago/harness/internal/kernelchoice"
)

// useAVX2 selects the assembly loops. They need AVX2 and FMA in the CPU and
// YMM state enabled by the OS (x/sys/cpu checks XGETBV for the latter). It is
// a variable so tests and benchmarks can force the portable code.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512 sends ExpShift's and Sigmoid's blocks of 16 to expShift512
// and sigmoid512, which give their AVX2 twins' bits. It needs AVX-512F in the CPU and ZMM state enabled
// by the OS (x/sys/cpu checks both), and kernelchoice.Var not set to
// "avx2", which keeps every AVX2 loop, the GEMM's and these. A variable so
// tests can compare the two on one machine.
var useAVX512 = hasAVX512 && !kernelchoice.AVX2Only()

// hasAVX512 is whether the ZMM loops can run here at all.
var hasAVX512 = useAVX2 && cpu.X86.HasAVX512F

// expShiftAVX2 sets dst[i] = e^(src[i]+negShift) for i < n and returns the
// sum; see vecmath_amd64.s. n must be >= 1 and both arrays hold n floats.
//
//go:noescape
func expShiftAVX2(dst, src *float32, n int, negShift float32) float32

// expShift512 is expShiftAVX2 with its blocks of 16 in ZMM registers, the
// same bits; see vecmath_amd64.s.
//
//go:noescape
func expShift512(dst, src *float32, n int, negShift float32) float32

// sigmoid512 is sigmoidAVX2 with its blocks of 16 in ZMM registers, the
// same bits; see vecmath_amd64.s.
//
//go:noescape
func sigmoid512(dst, x *float32, n int)

// sigmoidAVX2 sets dst[i] = 1/(1+e^(−x[i])) for i < n; see vecmath_amd64.s.
// n must be >= 1 and both arrays hold n floats.
//
//go:noescape
func sigmoidAVX2(dst, x *float32, n int)
