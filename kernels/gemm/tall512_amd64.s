//go:build !openblas && !purego

#include "textflag.h"
#include "zmm_amd64.h"

// The in-place driver's 12×16 tile on AVX-512 (kernel12x16AVX512): two
// 6-row A panels over one 16-column B micro-panel. A product only 16
// columns wide (one head's attention products at head width 16, LoRA's
// products of rank 16) gives kernel6x16AVX512 six accumulators, one FMA
// chain per row: on a core with two FMA units and 4-cycle FMAs that keeps
// at most 6 of the 8 FMAs in flight, and each k step waits on its B load.
// Twelve rows keep twelve chains on one B load.
//
// Each row's chain is its own: the FMAs of a row run in k order from zero
// over that row's panel's k range, then alpha, then beta·C by one FMA,
// exactly as kernel6x16AVX512 computes each of the two panels alone. The
// panels of a triangular A have different k ranges, so the kernel runs
// three phases: `head` k steps for rows 0-5 only (UpperA: the first panel
// starts 6 k steps earlier), `both` for all 12 rows, `tail` for rows 6-11
// only (LowerA: the second panel ends 6 k steps later). TestTall512Matches
// holds it to two kernel6x16AVX2 tiles bit for bit.

// The 12 A row pointers: rows 0-2 at SI + {0,1,2}·rs, rows 3-5 from R10,
// rows 6-8 from R13, rows 9-11 from AX; rs in R11, the k stride in R12.

// TOP6 and BOTTOM6 are one k step's 6 FMAs of rows 0-5 and rows 6-11 with
// B's 16 floats in Z12.
#define TOP6 ZFMA6(SI, R10, Z0, Z1, Z2, Z3, Z4, Z5)
#define BOTTOM6 ZFMA6(R13, AX, Z6, Z7, Z8, Z9, Z10, Z11)

// NEXTK advances the 4 row pointers one k step.
#define NEXTK \
	ADDQ R12, SI;  \
	ADDQ R12, R10; \
	ADDQ R12, R13; \
	ADDQ R12, AX

// TSTEP12 is one k step of both panels, B at bo from DI.
#define TSTEP12(bo) \
	VMOVUPS bo(DI), Z12; \
	TOP6;                \
	BOTTOM6;             \
	NEXTK

// func kernel12x16AVX512(head, both, tail int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)
//
// C[0:12, 0:16] = alpha * A·Bpanel + beta*C, A(r, p) at a[r*rsa + p*csa],
// Bpanel packed (16 floats per k step from b), C row-major with stride
// ldc, where rows 0-5 sum over k steps [0, head+both) and rows 6-11 over
// [head, head+both+tail); A(r, p) is not read outside its row's range.
// beta 0 (or -0) does not read C, a NaN beta takes the general path. head
// and tail must be >= 0, both >= 1. Needs AVX-512F; uses Z0-Z15 only.
TEXT ·kernel12x16AVX512(SB), NOSPLIT, $0-80
	MOVQ a+24(FP), SI
	A_STRIDES(rsa+32(FP), csa+40(FP))
	LEAQ (R10)(R11*2), R13
	ADDQ R11, R13          // R13 = row 6
	LEAQ (R13)(R11*2), AX
	ADDQ R11, AX           // AX = row 9
	MOVQ b+48(FP), DI
	MOVQ c+56(FP), DX
	MOVQ ldc+64(FP), R8
	SHLQ $2, R8            // ldc in bytes

	// Touch the 12 C rows early so their misses overlap the k loop.
	MOVQ DX, R9
	PF_CROWS6(R9)
	PF_CROWS6(R9)

	ZZERO12

	// Rows 0-5 alone.
	MOVQ head+0(FP), CX
	TESTQ CX, CX
	JZ   tboth

thead:
	VMOVUPS (DI), Z12
	TOP6
	NEXTK
	ADDQ $64, DI
	DECQ CX
	JNZ  thead

tboth:
	MOVQ both+8(FP), CX
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tboth1

tboth4:
	TSTEP12(0)
	TSTEP12(64)
	TSTEP12(128)
	TSTEP12(192)
	ADDQ $256, DI
	DECQ BX
	JNZ  tboth4

tboth1:
	ANDQ $3, CX
	JZ   ttail

tboth1loop:
	TSTEP12(0)
	ADDQ $64, DI
	DECQ CX
	JNZ  tboth1loop

	// Rows 6-11 alone.
ttail:
	MOVQ tail+16(FP), CX
	TESTQ CX, CX
	JZ   tepilogue

ttailloop:
	VMOVUPS (DI), Z12
	BOTTOM6
	NEXTK
	ADDQ $64, DI
	DECQ CX
	JNZ  ttailloop

tepilogue:
	VBROADCASTSS alpha+72(FP), Z14
	ZALPHA12

	ZBETA_ZERO(beta+76(FP), tgeneral)

	ZSTORE12ROWS_ONLY
	VZEROUPPER
	RET

tgeneral:
	ZSTORE12ROWS_BETA
	VZEROUPPER
	RET
