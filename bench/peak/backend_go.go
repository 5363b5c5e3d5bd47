//go:build !openblas

package peak

// goGEMM is whether the GEMM is this module's (its kernels follow
// RELORA_GEMM_KERNEL) rather than OpenBLAS's (which picks its own).
const goGEMM = true
