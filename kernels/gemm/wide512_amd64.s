//go:build !openblas && !purego

#include "textflag.h"
#include "zmm_amd64.h"

// 6×32 tiles on AVX-512: the micro-kernels for cores that run two 512-bit
// FMAs a cycle (Zen 5, Intel's server cores). There a 6×16 tile's FMAs
// each need an A value of their own: per k step 13 loads for 12 FMAs in
// the pair kernel (panels512_amd64.s), and the loads, not the FMAs, set
// the pace (80-90% of the peak with A and B in L1D). A 6×32 tile reads two
// adjacent 16-column B micro-panels, so one broadcast A value feeds two
// FMAs: per k step 2 B loads, 6 broadcasts and 12 FMAs into 12
// accumulators, enough to cover the FMA latency on two units.
//
// The bits are those of two 6×16 tiles side by side: every C element is
// one accumulator lane, started at zero, one FMA per k step in k order,
// times alpha, then stored or added to beta·C by one more FMA
// (panels512_amd64.s says why the lane layout cannot change them).
// TestWide512Matches holds both kernels to the AVX2 ones bit for bit.

// ZWSTEP is one k step of a 6×32 tile: B's halves at bo from DI and R9,
// the 6 A values at ao..ao+20 from SI (a packed panel).
#define ZWSTEP(ao, bo) \
	VMOVUPS bo(DI), Z12; \
	VMOVUPS bo(R9), Z13; \
	ZROW2(ao(SI), Z14, Z0, Z1);    \
	ZROW2(ao+4(SI), Z15, Z2, Z3);  \
	ZROW2(ao+8(SI), Z14, Z4, Z5);  \
	ZROW2(ao+12(SI), Z15, Z6, Z7); \
	ZROW2(ao+16(SI), Z14, Z8, Z9); \
	ZROW2(ao+20(SI), Z15, Z10, Z11)

// func kernel6x32Panels512(kc, np int, a, b, c *float32, ldc int, alpha, beta float32, pf *float32, pfStride, pfLines, pfPerTile, pfRows int)
//
// kernel6x16Panels's contract (panels_amd64.s) for 32 columns: for t in
// [0, np), C[6t:6t+6, 0:32] = alpha * A_t·[B0 B1] + beta*C with A_t the
// packed 6×kc panel at a[6·kc·t], B0 the packed kc×16 micro-panel at b and
// B1 the next one, at b[16·kc]; beta 0 (or -0) does not read C, a NaN beta
// takes the general path; before each tile up to pfPerTile rows of
// pfLines lines are prefetched from pf, pfStride floats apart, pfRows
// rows in all. kc and np must be >= 1. Needs AVX-512F; uses Z0-Z15 only.
TEXT ·kernel6x32Panels512(SB), NOSPLIT, $0-96
	PANELS_ARGS

wtile:
	MOVQ pfPerTile+80(FP), R10

	PF_ROWS(wpfrow, wpfline, wpfdone)
	MOVQ kc+0(FP), CX
	MOVQ b+24(FP), DI
	MOVQ CX, R9
	SHLQ $6, R9
	ADDQ DI, R9            // R9 = the second B micro-panel, 16·kc floats on

	MOVQ DX, R10
	PF_CROW32(R10)
	PF_CROW32(R10)
	PF_CROW32(R10)
	PF_CROW32(R10)
	PF_CROW32(R10)
	PF_CROW32(R10)

	ZZERO12

	// Unrolled 4x; the A panel streams from L2, prefetched 16 k steps
	// ahead as in the other blocked-driver kernels.
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   wtail

wloop4:
	PREFETCHT0 384(SI)
	ZWSTEP(0, 0)
	ZWSTEP(24, 64)
	ZWSTEP(48, 128)
	ZWSTEP(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	ADDQ $256, R9
	DECQ BX
	JNZ  wloop4

wtail:
	ANDQ $3, CX
	JZ   wepilogue

wloop1:
	ZWSTEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	ADDQ $64, R9
	DECQ CX
	JNZ  wloop1

wepilogue:
	// SI now points at the next tile's A panel, and the stores leave DX
	// at its first C row.
	VBROADCASTSS alpha+48(FP), Z14
	ZALPHA12

	ZBETA_ZERO(beta+52(FP), wgeneral)

	ZSTORE12_ONLY
	JMP wdone

wgeneral:
	ZSTORE12_BETA

wdone:
	DECQ R13
	JNZ  wtile
	VZEROUPPER
	RET

// ZWKSTEP is one k step of the in-place 6×32 kernel: B's halves at bo
// from DI and R9; the 6 A values at row offsets 0, rs, 2rs from SI (rows
// 0-2) and R10 (rows 3-5), rs in R11, both advanced by the k stride R12.
#define ZWKSTEP(bo) \
	VMOVUPS bo(DI), Z12; \
	VMOVUPS bo(R9), Z13; \
	ZROW2((SI), Z14, Z0, Z1);          \
	ZROW2((SI)(R11*1), Z15, Z2, Z3);   \
	ZROW2((SI)(R11*2), Z14, Z4, Z5);   \
	ZROW2((R10), Z15, Z6, Z7);         \
	ZROW2((R10)(R11*1), Z14, Z8, Z9);  \
	ZROW2((R10)(R11*2), Z15, Z10, Z11); \
	ADDQ R12, SI;                      \
	ADDQ R12, R10

// func kernel6x32AVX512(kc int, a *float32, rsa, csa int, b *float32, bs int, c *float32, ldc int, alpha, beta float32)
//
// kernel6x16AVX2's contract (kernel_amd64.s) for 32 columns: C[0:6, 0:32]
// = alpha * A·[B0 B1] + beta*C, A(r, p) at a[r*rsa + p*csa], B0 the kc×16
// packed micro-panel at b and B1 the one at b[bs], C row-major with stride
// ldc; beta 0 (or -0) does not read C, a NaN beta takes the general path.
// kc must be >= 1. Needs AVX-512F; uses Z0-Z15 only.
TEXT ·kernel6x32AVX512(SB), NOSPLIT, $0-72
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	A_STRIDES(rsa+16(FP), csa+24(FP))
	MOVQ b+32(FP), DI
	MOVQ bs+40(FP), R9
	LEAQ (DI)(R9*4), R9    // R9 = the second B micro-panel
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R8
	SHLQ $2, R8            // ldc in bytes

	MOVQ DX, BX
	PF_CROW32(BX)
	PF_CROW32(BX)
	PF_CROW32(BX)
	PF_CROW32(BX)
	PF_CROW32(BX)
	PF_CROW32(BX)

	ZZERO12

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   kwtail

kwloop4:
	ZWKSTEP(0)
	ZWKSTEP(64)
	ZWKSTEP(128)
	ZWKSTEP(192)
	ADDQ $256, DI
	ADDQ $256, R9
	DECQ BX
	JNZ  kwloop4

kwtail:
	ANDQ $3, CX
	JZ   kwepilogue

kwloop1:
	ZWKSTEP(0)
	ADDQ $64, DI
	ADDQ $64, R9
	DECQ CX
	JNZ  kwloop1

kwepilogue:
	VBROADCASTSS alpha+64(FP), Z14
	ZALPHA12

	ZBETA_ZERO(beta+68(FP), kwgeneral)

	ZSTORE12_ONLY
	VZEROUPPER
	RET

kwgeneral:
	ZSTORE12_BETA
	VZEROUPPER
	RET
