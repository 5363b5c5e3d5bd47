//go:build !purego

package vecmath

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly loops. They need AVX2 and FMA in the CPU and
// YMM state enabled by the OS (x/sys/cpu checks XGETBV for the latter). It is
// a variable so tests and benchmarks can force the portable code.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// expShiftAVX2 sets dst[i] = e^(src[i]+negShift) for i < n and returns the
// sum; see vecmath_amd64.s. n must be >= 1 and both arrays hold n floats.
//
//go:noescape
func expShiftAVX2(dst, src *float32, n int, negShift float32) float32

// sigmoidAVX2 sets dst[i] = 1/(1+e^(−x[i])) for i < n; see vecmath_amd64.s.
// n must be >= 1 and both arrays hold n floats.
//
//go:noescape
func sigmoidAVX2(dst, x *float32, n int)
