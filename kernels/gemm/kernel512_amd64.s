//go:build !openblas && !purego

#include "textflag.h"
#include "zmm_amd64.h"

// The in-place driver's 6×16 micro-kernel on AVX-512 (kernel6x16AVX512):
// kernel6x16AVX2's contract and bits, one ZMM accumulator per tile row.
// Per k step one B load and 6 FMAs that broadcast their A value from
// memory, against 2 loads, 6 broadcasts and 12 FMAs on YMM. Each C element
// is the same lane sum: one FMA per k step in k order from zero, times
// alpha, then stored or added to beta·C by one FMA (panels512_amd64.s says
// why lane width cannot change the bits). TestKernel512Matches checks it
// bit for bit against kernel6x16AVX2.

// ZKSTEP is one k step: B's 16 floats at bo from DI; the 6 A values at row
// offsets 0, rs, 2rs from SI (rows 0-2) and R10 (rows 3-5), rs in R11.
#define ZKSTEP(bo) \
	VMOVUPS bo(DI), Z12;                     \
	ZFMA6(SI, R10, Z0, Z1, Z2, Z3, Z4, Z5);  \
	ADDQ    R12, SI;                         \
	ADDQ    R12, R10

// func kernel6x16AVX512(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)
//
// C[0:6, 0:16] = alpha * A·Bpanel + beta*C, A(r, p) at a[r*rsa + p*csa],
// Bpanel kc×16 packed (16 floats per k step), C row-major with stride ldc;
// beta 0 (or -0) does not read C, a NaN beta takes the general path. kc
// must be >= 1. Needs AVX-512F; uses Z0-Z15 only, so VZEROUPPER leaves no
// dirty upper state.
TEXT ·kernel6x16AVX512(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	A_STRIDES(rsa+16(FP), csa+24(FP))
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8            // ldc in bytes

	// Touch the 6 C rows early so their cache misses overlap the k loop.
	MOVQ DX, R9
	PF_CROWS6(R9)

	ZZERO6

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   ktail

kloop4:
	ZKSTEP(0)
	ZKSTEP(64)
	ZKSTEP(128)
	ZKSTEP(192)
	ADDQ $256, DI
	DECQ BX
	JNZ  kloop4

ktail:
	ANDQ $3, CX
	JZ   kepilogue

kloop1:
	ZKSTEP(0)
	ADDQ $64, DI
	DECQ CX
	JNZ  kloop1

kepilogue:
	VBROADCASTSS alpha+56(FP), Z14
	ZALPHA6

	ZBETA_ZERO(beta+60(FP), kgeneral)

	ZSTORE6_ONLY
	VZEROUPPER
	RET

kgeneral:
	ZSTORE6_BETA
	VZEROUPPER
	RET
