//go:build !openblas && !purego

#include "textflag.h"
#include "zmm_amd64.h"

// The blocked driver's micro-kernel on AVX-512 (kernel6x16Panels512): the
// same contract and the same bits as kernel6x16Panels, two tiles at a
// time. A ZMM register holds a whole 16-column row of a tile, so a pair of
// 6-row tiles is 12 accumulators fed by one B load and 12 FMAs whose A
// value is broadcast from memory inside the instruction; the AVX2 kernel
// needs 2 B loads, 6 broadcasts and 12 FMAs for one tile.
//
// Why the bits are the same: every C element is still one accumulator
// lane, started at zero and updated by one fused multiply-add per k step
// in k order (the product a(r,p)·b(p,j) is exact inside an FMA, so the
// operands' order does not matter), then multiplied by alpha and either
// stored or added to beta·C by one more FMA. Lane width changes which
// elements share a register, never what is computed for one.
// TestPanels512Matches checks it bit for bit against kernel6x16Panels.

// ZSTEP2 is one k step of a pair of tiles: B's 16 floats at bo from DI,
// the first tile's 6 A values at ao..ao+20 from SI, the second's from R9.
#define ZSTEP2(ao, bo) \
	VMOVUPS          bo(DI), Z12;      \
	VFMADD231PS.BCST ao(SI), Z12, Z0;  \
	VFMADD231PS.BCST ao+4(SI), Z12, Z1; \
	VFMADD231PS.BCST ao+8(SI), Z12, Z2; \
	VFMADD231PS.BCST ao+12(SI), Z12, Z3; \
	VFMADD231PS.BCST ao+16(SI), Z12, Z4; \
	VFMADD231PS.BCST ao+20(SI), Z12, Z5; \
	VFMADD231PS.BCST ao(R9), Z12, Z6;  \
	VFMADD231PS.BCST ao+4(R9), Z12, Z7; \
	VFMADD231PS.BCST ao+8(R9), Z12, Z8; \
	VFMADD231PS.BCST ao+12(R9), Z12, Z9; \
	VFMADD231PS.BCST ao+16(R9), Z12, Z10; \
	VFMADD231PS.BCST ao+20(R9), Z12, Z11

// ZSTEP1 is one k step of a single tile (the odd tile of a run).
#define ZSTEP1(ao, bo) \
	VMOVUPS          bo(DI), Z12;      \
	VFMADD231PS.BCST ao(SI), Z12, Z0;  \
	VFMADD231PS.BCST ao+4(SI), Z12, Z1; \
	VFMADD231PS.BCST ao+8(SI), Z12, Z2; \
	VFMADD231PS.BCST ao+12(SI), Z12, Z3; \
	VFMADD231PS.BCST ao+16(SI), Z12, Z4; \
	VFMADD231PS.BCST ao+20(SI), Z12, Z5

// func kernel6x16Panels512(kc, np int, a, b, c *float32, ldc int, alpha, beta float32, pf *float32, pfStride, pfLines, pfPerTile, pfRows int)
//
// kernel6x16Panels's contract (panels_amd64.s): for t in [0, np),
// C[6t:6t+6, 0:16] = alpha * A_t·Bpanel + beta*C with A_t the packed 6×kc
// panel at a[6·kc·t] and Bpanel the packed kc×16 micro-panel at b; beta 0
// (or -0) does not read C, a NaN beta takes the general path; before each
// tile up to pfPerTile rows of pfLines lines are prefetched from pf,
// pfStride floats apart, pfRows rows in all. kc and np must be >= 1.
// Needs AVX-512F (and the OS's ZMM state). Only Z0-Z15 are used, so the
// closing VZEROUPPER leaves no dirty upper state behind.
TEXT ·kernel6x16Panels512(SB), NOSPLIT, $0-96
	PANELS_ARGS

group:
	// The prefetch of the tiles this group computes: two, or the last one.
	MOVQ pfPerTile+80(FP), R10
	CMPQ R13, $2
	JLT  zpfrow
	SHLQ $1, R10

	PF_ROWS(zpfrow, zpfline, zpfdone)
	MOVQ kc+0(FP), CX
	MOVQ b+24(FP), DI
	MOVQ DX, R10
	CMPQ R13, $2
	JLT  single

	// R9 = the second tile's A panel, 6·kc floats on.
	LEAQ (CX)(CX*2), R9
	SHLQ $3, R9
	ADDQ SI, R9

	PF_CROWS6(R10)
	PF_CROWS6(R10)

	ZZERO6
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	// Unrolled 4x; both A panels stream from L2 and are prefetched 16 k
	// steps ahead, as in kernel6x16Panels.
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   ztail2

zloop2:
	PREFETCHT0 384(SI)
	PREFETCHT0 384(R9)
	ZSTEP2(0, 0)
	ZSTEP2(24, 64)
	ZSTEP2(48, 128)
	ZSTEP2(72, 192)
	ADDQ $96, SI
	ADDQ $96, R9
	ADDQ $256, DI
	DECQ BX
	JNZ  zloop2

ztail2:
	ANDQ $3, CX
	JZ   zepilogue2

zloop2one:
	ZSTEP2(0, 0)
	ADDQ $24, SI
	ADDQ $24, R9
	ADDQ $64, DI
	DECQ CX
	JNZ  zloop2one

zepilogue2:
	// R9 now points at the next group's A panel (SI at the pair's second).
	MOVQ         R9, SI
	VBROADCASTSS alpha+48(FP), Z14
	ZALPHA12

	ZBETA_ZERO(beta+52(FP), zgeneral2)

	ZSTORE12ROWS_ONLY
	JMP zpairdone

zgeneral2:
	ZSTORE12ROWS_BETA

zpairdone:
	SUBQ $2, R13
	JNZ  group
	VZEROUPPER
	RET

single:
	PF_CROWS6(R10)

	ZZERO6

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   ztail1

zloop1:
	PREFETCHT0 384(SI)
	ZSTEP1(0, 0)
	ZSTEP1(24, 64)
	ZSTEP1(48, 128)
	ZSTEP1(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  zloop1

ztail1:
	ANDQ $3, CX
	JZ   zepilogue1

zloop1one:
	ZSTEP1(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  zloop1one

zepilogue1:
	VBROADCASTSS alpha+48(FP), Z14
	ZALPHA6

	ZBETA_ZERO(beta+52(FP), zgeneral1)

	ZSTORE6_ONLY
	VZEROUPPER
	RET

zgeneral1:
	ZSTORE6_BETA
	VZEROUPPER
	RET
