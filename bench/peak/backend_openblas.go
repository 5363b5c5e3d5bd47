//go:build openblas

package peak

// goGEMM is false: OpenBLAS picks its own kernels, AVX-512 where the CPU
// has it, whatever RELORA_GEMM_KERNEL says.
const goGEMM = false
