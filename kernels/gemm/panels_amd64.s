//go:build !openblas && !purego

#include "textflag.h"

// The blocked driver's micro-kernel (blocked.go): a run of 6×16 tiles that
// share one packed B micro-panel, one call for the whole run, so that the
// Go loop, the call and the ABI wrapper are paid once per run instead of
// once per 1,536-cycle tile (paired timings at d 512: 2-5% per GEMM).
// Each tile is computed exactly as kernel6x16AVX2 computes it (same FMAs
// on the same registers in the same k order, then the same alpha multiply
// and beta FMA or plain store), which TestPanelsKernelMatches checks bit
// for bit.

// PSTEP is one k step of a tile from a packed A panel (6 consecutive
// floats per k step): the A values sit at fixed offsets ao..ao+20 from SI,
// B at bo from DI, so no index registers or per-step pointer bumps are
// needed. Same instructions on the same registers in the same order per
// accumulator as kernel6x16AVX2's KSTEP.
#define PSTEP(ao, bo) \
	VMOVUPS      bo(DI), Y12;      \
	VMOVUPS      bo+32(DI), Y13;   \
	VBROADCASTSS ao(SI), Y14;      \
	VFMADD231PS  Y12, Y14, Y0;     \
	VFMADD231PS  Y13, Y14, Y1;     \
	VBROADCASTSS ao+4(SI), Y15;    \
	VFMADD231PS  Y12, Y15, Y2;     \
	VFMADD231PS  Y13, Y15, Y3;     \
	VBROADCASTSS ao+8(SI), Y14;    \
	VFMADD231PS  Y12, Y14, Y4;     \
	VFMADD231PS  Y13, Y14, Y5;     \
	VBROADCASTSS ao+12(SI), Y15;   \
	VFMADD231PS  Y12, Y15, Y6;     \
	VFMADD231PS  Y13, Y15, Y7;     \
	VBROADCASTSS ao+16(SI), Y14;   \
	VFMADD231PS  Y12, Y14, Y8;     \
	VFMADD231PS  Y13, Y14, Y9;     \
	VBROADCASTSS ao+20(SI), Y15;   \
	VFMADD231PS  Y12, Y15, Y10;    \
	VFMADD231PS  Y13, Y15, Y11

// PSTORE_BETA writes row accumulators (lo, hi) to the 16 floats at DX
// after adding beta*C (beta broadcast in Y15), then advances DX one row:
// kernel_amd64.s's STORE_BETA (macros are local to a file).
#define PSTORE_BETA(lo, hi) \
	VFMADD231PS (DX), Y15, lo;   \
	VFMADD231PS 32(DX), Y15, hi; \
	VMOVUPS     lo, (DX);        \
	VMOVUPS     hi, 32(DX);      \
	ADDQ        R8, DX

// PSTORE_ONLY writes row accumulators (lo, hi) without reading C (beta ==
// 0), then advances DX one row.
#define PSTORE_ONLY(lo, hi) \
	VMOVUPS lo, (DX);   \
	VMOVUPS hi, 32(DX); \
	ADDQ    R8, DX

// func kernel6x16Panels(kc, np int, a, b, c *float32, ldc int, alpha, beta float32, pf *float32, pfStride, pfLines, pfPerTile, pfRows int)
//
// For t in [0, np): C[6t:6t+6, 0:16] = alpha * A_t·Bpanel + beta*C, where
// A_t is the packed 6×kc panel at a[6·kc·t] (A(r, p) at a[6·kc·t + 6p + r])
// and Bpanel the packed kc×16 micro-panel at b (16 floats per k step); C
// is row-major with stride ldc floats. When beta == 0 (or -0), C is not
// read, so NaN/Inf already in C do not propagate; a NaN beta takes the
// general path, as BLAS would propagate it. kc and np must be >= 1.
//
// Before each tile it prefetches up to pfPerTile rows of pfLines cache
// lines each, the first row at pf and each next one pfStride floats
// further, at most pfRows rows over the whole call (pfRows = 0: none;
// otherwise pfLines must be >= 1). The driver points them at the rows of
// op(A) it packs next, late enough that the B panels streaming past do
// not evict them first. A prefetch never faults and moves no bits.
TEXT ·kernel6x16Panels(SB), NOSPLIT, $0-96
	MOVQ np+8(FP), R13
	MOVQ a+16(FP), SI
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8            // ldc in bytes
	MOVQ pf+56(FP), AX
	MOVQ pfStride+64(FP), R11
	SHLQ $2, R11           // prefetch row stride in bytes
	MOVQ pfRows+88(FP), R12

tile:
	// This tile's share of the prefetch.
	MOVQ pfPerTile+80(FP), R10

pfrow:
	TESTQ R10, R10
	JZ    pfdone
	TESTQ R12, R12
	JZ    pfdone
	MOVQ  pfLines+72(FP), CX
	MOVQ  AX, BX

pfline:
	PREFETCHT0 (BX)
	ADDQ       $64, BX
	DECQ       CX
	JNZ        pfline
	ADDQ       R11, AX
	DECQ       R12
	DECQ       R10
	JMP        pfrow

pfdone:
	MOVQ kc+0(FP), CX
	MOVQ b+24(FP), DI

	// Touch the 6 C rows early so their cache misses overlap the k loop.
	MOVQ       DX, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ       R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	// Main loop, unrolled 4x; the A panels stream from L2 past the B
	// micro-panel held in L1, so A is prefetched 16 k steps ahead (into
	// the next panel at the end of one: the panels are contiguous).
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   ptail

ploop4:
	PREFETCHT0 384(SI)
	PSTEP(0, 0)
	PSTEP(24, 64)
	PSTEP(48, 128)
	PSTEP(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  ploop4

ptail:
	ANDQ $3, CX
	JZ   pepilogue

ploop1:
	PSTEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  ploop1

pepilogue:
	// SI now points at the next tile's A panel, DX (after the 6 row
	// stores) at its C rows.
	VBROADCASTSS alpha+48(FP), Y14
	VMULPS       Y14, Y0, Y0
	VMULPS       Y14, Y1, Y1
	VMULPS       Y14, Y2, Y2
	VMULPS       Y14, Y3, Y3
	VMULPS       Y14, Y4, Y4
	VMULPS       Y14, Y5, Y5
	VMULPS       Y14, Y6, Y6
	VMULPS       Y14, Y7, Y7
	VMULPS       Y14, Y8, Y8
	VMULPS       Y14, Y9, Y9
	VMULPS       Y14, Y10, Y10
	VMULPS       Y14, Y11, Y11

	VBROADCASTSS beta+52(FP), Y15
	VXORPS       X13, X13, X13
	VUCOMISS     X13, X15
	JNE          pgeneral
	JPS          pgeneral

	PSTORE_ONLY(Y0, Y1)
	PSTORE_ONLY(Y2, Y3)
	PSTORE_ONLY(Y4, Y5)
	PSTORE_ONLY(Y6, Y7)
	PSTORE_ONLY(Y8, Y9)
	PSTORE_ONLY(Y10, Y11)
	JMP pnext

pgeneral:
	PSTORE_BETA(Y0, Y1)
	PSTORE_BETA(Y2, Y3)
	PSTORE_BETA(Y4, Y5)
	PSTORE_BETA(Y6, Y7)
	PSTORE_BETA(Y8, Y9)
	PSTORE_BETA(Y10, Y11)

pnext:
	DECQ R13
	JNZ  tile

	// Clear the upper YMM halves before returning to Go's SSE code.
	VZEROUPPER
	RET
