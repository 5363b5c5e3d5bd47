// Package unfused refuses to build where the Go compiler would fuse
// floating-point multiplies and adds on x86-64, which would change the
// harness's results.
//
// The harness promises the same bits on any x86-64 CPU with AVX2. Its
// assembly says exactly which operations are fused (the GEMM kernels' FMA
// accumulation) and which are not (the elementwise loops: a multiply, then
// an add, each rounded). Its Go code around them (the loops' tails, the
// row sums kept in index order, the GEMM's edge tiles, the schedules and
// optimizers) is written to compute the same roundings, and does only while
// the compiler leaves a*b + c as two instructions. Up to GOAMD64=v2 it
// does. From GOAMD64=v3 on (a level that guarantees FMA) the compiler
// turns a*b + c into one VFMADD, rounding once instead of twice: the row
// sums, the tails and the updates then give other bits, every run drifts
// from its committed record, and the run cache, keyed by config, cannot
// tell. So at GOAMD64=v3 or v4 the packages that compute training values
// import this one and the build stops with an error naming the fix
// (guard_v3.go). The Makefile sets GOAMD64=v1.
//
// Other architectures (arm64 among them) fuse whatever the settings and
// are outside the promise: there, results are correct but not the
// committed records' bits.
package unfused
