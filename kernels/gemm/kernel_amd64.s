//go:build !openblas && !purego

#include "textflag.h"

// Go assembly micro-kernels and packing helper for the pure-Go backend
// (no cgo). Every routine that touches YMM registers ends with VZEROUPPER:
// Go compiles scalar float code to legacy-SSE instructions, which run slower
// while the upper YMM halves are dirty (measured ~8% on a scalar loop on
// this EPYC; far more on some Intel cores).

// KSTEP performs one rank-1 update of the 6×16 accumulator tile held in
// Y0..Y11 (row r in Y(2r), Y(2r+1)): it loads the 16 packed B values of the
// current k step (offset bo from DI) and broadcasts the 6 A values of that
// step, which live at row offsets 0, rs, 2rs from SI (rows 0-2) and from R10
// (rows 3-5, R10 = SI + 3rs), rs in R11. Y12/Y13 hold B, Y14/Y15 alternate
// as the broadcast so consecutive rows do not serialise on one register.
// Reading A through (row stride, k stride) lets the same kernel consume a
// packed panel (rs=1, cs=6), a row-major A in place (rs=lda, cs=1) or a
// transposed A in place (rs=1, cs=lda).
#define KSTEP(bo) \
	VMOVUPS      bo(DI), Y12;         \
	VMOVUPS      bo+32(DI), Y13;      \
	VBROADCASTSS (SI), Y14;           \
	VFMADD231PS  Y12, Y14, Y0;        \
	VFMADD231PS  Y13, Y14, Y1;        \
	VBROADCASTSS (SI)(R11*1), Y15;    \
	VFMADD231PS  Y12, Y15, Y2;        \
	VFMADD231PS  Y13, Y15, Y3;        \
	VBROADCASTSS (SI)(R11*2), Y14;    \
	VFMADD231PS  Y12, Y14, Y4;        \
	VFMADD231PS  Y13, Y14, Y5;        \
	VBROADCASTSS (R10), Y15;          \
	VFMADD231PS  Y12, Y15, Y6;        \
	VFMADD231PS  Y13, Y15, Y7;        \
	VBROADCASTSS (R10)(R11*1), Y14;   \
	VFMADD231PS  Y12, Y14, Y8;        \
	VFMADD231PS  Y13, Y14, Y9;        \
	VBROADCASTSS (R10)(R11*2), Y15;   \
	VFMADD231PS  Y12, Y15, Y10;       \
	VFMADD231PS  Y13, Y15, Y11;       \
	ADDQ         R12, SI;             \
	ADDQ         R12, R10

// STORE_BETA writes row accumulators (lo, hi) to the 16 floats at DX after
// adding beta*C (beta broadcast in Y15), then advances DX one row.
#define STORE_BETA(lo, hi) \
	VFMADD231PS (DX), Y15, lo;   \
	VFMADD231PS 32(DX), Y15, hi; \
	VMOVUPS     lo, (DX);        \
	VMOVUPS     hi, 32(DX);      \
	ADDQ        R8, DX

// STORE_ONLY writes row accumulators (lo, hi) without reading C (beta == 0),
// then advances DX one row.
#define STORE_ONLY(lo, hi) \
	VMOVUPS lo, (DX);   \
	VMOVUPS hi, 32(DX); \
	ADDQ    R8, DX

// func kernel6x16AVX2(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)
//
// C[0:6, 0:16] = alpha * A·Bpanel + beta*C, where A(r, p) is at
// a[r*rsa + p*csa] and Bpanel is kc×16 packed row by row (16 floats per k
// step); C is row-major with stride ldc floats. When
// beta == 0, C is not read, so NaN/Inf already in C do not propagate.
// kc must be >= 1.
TEXT ·kernel6x16AVX2(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R11
	SHLQ $2, R11           // A row stride in bytes
	MOVQ csa+24(FP), R12
	SHLQ $2, R12           // A k stride in bytes
	LEAQ (SI)(R11*2), R10
	ADDQ R11, R10          // R10 = row 3 of A
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8            // ldc in bytes

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

	// Main loop, unrolled 4x to amortise the loop branch and pointer bumps.
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	KSTEP(0)
	KSTEP(64)
	KSTEP(128)
	KSTEP(192)
	ADDQ $256, DI
	DECQ BX
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   epilogue

loop1:
	KSTEP(0)
	ADDQ $64, DI
	DECQ CX
	JNZ  loop1

epilogue:
	VBROADCASTSS alpha+56(FP), Y14
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

	// beta == 0 (or -0) means "overwrite": skip reading C entirely. A NaN
	// beta compares unordered (PF=1) and takes the general path, as BLAS
	// would propagate it.
	VBROADCASTSS beta+60(FP), Y15
	VXORPS       X13, X13, X13
	VUCOMISS     X13, X15
	JNE          general
	JPS          general

	STORE_ONLY(Y0, Y1)
	STORE_ONLY(Y2, Y3)
	STORE_ONLY(Y4, Y5)
	STORE_ONLY(Y6, Y7)
	STORE_ONLY(Y8, Y9)
	STORE_ONLY(Y10, Y11)
	VZEROUPPER
	RET

general:
	STORE_BETA(Y0, Y1)
	STORE_BETA(Y2, Y3)
	STORE_BETA(Y4, Y5)
	STORE_BETA(Y6, Y7)
	STORE_BETA(Y8, Y9)
	STORE_BETA(Y10, Y11)

	// Always clear the upper YMM halves before returning to Go code: Go's
	// compiler emits SSE (non-VEX) instructions for scalar float math, and on
	// CPUs that track a dirty upper state those pay a large transition or
	// false-dependency penalty until VZEROUPPER runs.
	VZEROUPPER
	RET

// func copyRows16AVX2(kc int, src *float32, lds int, dst *float32)
//
// dst[p*16 : p*16+16] = src[p*lds : p*lds+16] for p in [0, kc): packs a
// kc×16 micro-panel of a row-major matrix. Go compiles a [16]float32 array
// copy between slices into a runtime.memmove call (the slices may overlap),
// which made packing cost as much as a third of the kernel time.
TEXT ·copyRows16AVX2(SB), NOSPLIT, $0-32
	MOVQ kc+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R8
	SHLQ $2, R8
	MOVQ dst+24(FP), DI

copy16:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R8, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     copy16
	VZEROUPPER
	RET

// func packRows16Sweep(kc, np int, src *float32, lds int, dst *float32)
//
// Packs np kc×16 micro-panels of a row-major matrix at once:
// dst[j*kc*16 + p*16 : +16] = src[p*lds + j*16 : +16] for p < kc, j < np.
// It reads the source row by row, each row's np·16 floats in order, where
// copyRows16AVX2 walks one 16-float column strip down kc rows lds apart:
// a sequential read the hardware prefetcher follows, for the blocked
// driver's B blocks (the weight gradients' B is a whole activation, read
// once from memory). kc and np must be >= 1.
TEXT ·packRows16Sweep(SB), NOSPLIT, $0-40
	MOVQ kc+0(FP), CX
	MOVQ np+8(FP), BX
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	SHLQ $2, R8            // source row stride in bytes
	MOVQ dst+32(FP), DI
	MOVQ CX, R9
	SHLQ $6, R9            // panel stride in bytes: kc*16 floats

sweeprow:
	MOVQ SI, R10
	MOVQ DI, R11
	MOVQ BX, DX

sweeppanel:
	VMOVUPS (R10), Y0
	VMOVUPS 32(R10), Y1
	VMOVUPS Y0, (R11)
	VMOVUPS Y1, 32(R11)
	ADDQ    $64, R10
	ADDQ    R9, R11
	DECQ    DX
	JNZ     sweeppanel
	ADDQ    R8, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     sweeprow
	VZEROUPPER
	RET

// func kernel6x8AVX2(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)
//
// Same contract as kernel6x16AVX2 but for a right-edge panel at most 8
// columns wide (e.g. n=8 for LoRA rank 8): C[0:6, 0:8] = alpha*A·B + beta*C,
// reading only the first 8 floats of each 16-float packed B row. Six
// accumulators alone would be bound by FMA latency, so even and odd k steps
// accumulate into separate registers (Y0-Y5 and Y6-Y11) that are summed at
// the end, keeping 12 independent FMA chains in flight.
TEXT ·kernel6x8AVX2(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R11
	SHLQ $2, R11
	MOVQ csa+24(FP), R12
	SHLQ $2, R12
	LEAQ (SI)(R11*2), R10
	ADDQ R11, R10          // R10 = row 3 of A
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8

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

	// R9/R13 point at k step p+1 of rows 0 and 3.
	LEAQ (SI)(R12*1), R9
	LEAQ (R10)(R12*1), R13
	MOVQ R12, AX
	SHLQ $1, AX            // two k steps in bytes

	MOVQ CX, BX
	SHRQ $1, BX
	JZ   tail8

loop8:
	VMOVUPS      (DI), Y12
	VMOVUPS      64(DI), Y13
	VBROADCASTSS (SI), Y14
	VFMADD231PS  Y12, Y14, Y0
	VBROADCASTSS (R9), Y15
	VFMADD231PS  Y13, Y15, Y6
	VBROADCASTSS (SI)(R11*1), Y14
	VFMADD231PS  Y12, Y14, Y1
	VBROADCASTSS (R9)(R11*1), Y15
	VFMADD231PS  Y13, Y15, Y7
	VBROADCASTSS (SI)(R11*2), Y14
	VFMADD231PS  Y12, Y14, Y2
	VBROADCASTSS (R9)(R11*2), Y15
	VFMADD231PS  Y13, Y15, Y8
	VBROADCASTSS (R10), Y14
	VFMADD231PS  Y12, Y14, Y3
	VBROADCASTSS (R13), Y15
	VFMADD231PS  Y13, Y15, Y9
	VBROADCASTSS (R10)(R11*1), Y14
	VFMADD231PS  Y12, Y14, Y4
	VBROADCASTSS (R13)(R11*1), Y15
	VFMADD231PS  Y13, Y15, Y10
	VBROADCASTSS (R10)(R11*2), Y14
	VFMADD231PS  Y12, Y14, Y5
	VBROADCASTSS (R13)(R11*2), Y15
	VFMADD231PS  Y13, Y15, Y11
	ADDQ         AX, SI
	ADDQ         AX, R10
	ADDQ         AX, R9
	ADDQ         AX, R13
	ADDQ         $128, DI
	DECQ         BX
	JNZ          loop8

tail8:
	ANDQ $1, CX
	JZ   sum8
	VMOVUPS      (DI), Y12
	VBROADCASTSS (SI), Y14
	VFMADD231PS  Y12, Y14, Y0
	VBROADCASTSS (SI)(R11*1), Y14
	VFMADD231PS  Y12, Y14, Y1
	VBROADCASTSS (SI)(R11*2), Y14
	VFMADD231PS  Y12, Y14, Y2
	VBROADCASTSS (R10), Y14
	VFMADD231PS  Y12, Y14, Y3
	VBROADCASTSS (R10)(R11*1), Y14
	VFMADD231PS  Y12, Y14, Y4
	VBROADCASTSS (R10)(R11*2), Y14
	VFMADD231PS  Y12, Y14, Y5

sum8:
	VBROADCASTSS alpha+56(FP), Y14
	VADDPS       Y6, Y0, Y0
	VADDPS       Y7, Y1, Y1
	VADDPS       Y8, Y2, Y2
	VADDPS       Y9, Y3, Y3
	VADDPS       Y10, Y4, Y4
	VADDPS       Y11, Y5, Y5
	VMULPS       Y14, Y0, Y0
	VMULPS       Y14, Y1, Y1
	VMULPS       Y14, Y2, Y2
	VMULPS       Y14, Y3, Y3
	VMULPS       Y14, Y4, Y4
	VMULPS       Y14, Y5, Y5

	VBROADCASTSS beta+60(FP), Y15
	VXORPS       X13, X13, X13
	VUCOMISS     X13, X15
	JNE          general8
	JPS          general8

	VMOVUPS Y0, (DX)
	ADDQ    R8, DX
	VMOVUPS Y1, (DX)
	ADDQ    R8, DX
	VMOVUPS Y2, (DX)
	ADDQ    R8, DX
	VMOVUPS Y3, (DX)
	ADDQ    R8, DX
	VMOVUPS Y4, (DX)
	ADDQ    R8, DX
	VMOVUPS Y5, (DX)
	VZEROUPPER
	RET

general8:
	VFMADD231PS (DX), Y15, Y0
	VMOVUPS     Y0, (DX)
	ADDQ        R8, DX
	VFMADD231PS (DX), Y15, Y1
	VMOVUPS     Y1, (DX)
	ADDQ        R8, DX
	VFMADD231PS (DX), Y15, Y2
	VMOVUPS     Y2, (DX)
	ADDQ        R8, DX
	VFMADD231PS (DX), Y15, Y3
	VMOVUPS     Y3, (DX)
	ADDQ        R8, DX
	VFMADD231PS (DX), Y15, Y4
	VMOVUPS     Y4, (DX)
	ADDQ        R8, DX
	VFMADD231PS (DX), Y15, Y5
	VMOVUPS     Y5, (DX)
	VZEROUPPER
	RET

// func packPanelT6(kc int, src *float32, lds int, dst *float32)
//
// dst[p*6 : p*6+6] = src[p*lds : p*lds+6] for p in [0, kc): packs one
// 6-row A panel of a transposed A (the 6 values of a k step are contiguous
// in a stored row) into the k-major order the kernels broadcast from. Bits
// are moved, never converted. kc must be >= 1.
TEXT ·packPanelT6(SB), NOSPLIT, $0-32
	MOVQ kc+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R8
	SHLQ $2, R8
	MOVQ dst+24(FP), DI

pack6:
	MOVUPS (SI), X0
	MOVQ   16(SI), X1
	MOVUPS X0, (DI)
	MOVQ   X1, 16(DI)
	ADDQ   R8, SI
	ADDQ   $24, DI
	DECQ   CX
	JNZ    pack6
	RET

// func packPanelN6AVX(kl int, src *float32, lds int, dst *float32)
//
// dst[p*6 + r] = src[r*lds + p] for r < 6, p < kl: packs one 6-row panel
// of a row-major A into the k-major order the kernels broadcast from. Four
// k steps at a time: rows 0-3 are transposed 4×4 (16 bytes a k step),
// rows 4-5 interleaved (8 bytes a k step); the rest one k step at a time.
// Bits are moved, never converted. kl must be >= 1.
TEXT ·packPanelN6AVX(SB), NOSPLIT, $0-32
	MOVQ kl+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), BX
	SHLQ $2, BX            // row stride in bytes
	MOVQ dst+24(FP), DI
	LEAQ (SI)(BX*2), R10
	ADDQ BX, R10           // R10 = row 3

	MOVQ CX, DX
	SHRQ $2, DX
	JZ   ntail

nloop4:
	VMOVUPS   (SI), X0
	VMOVUPS   (SI)(BX*1), X1
	VMOVUPS   (SI)(BX*2), X2
	VMOVUPS   (R10), X3
	VMOVUPS   (R10)(BX*1), X4
	VMOVUPS   (R10)(BX*2), X5
	VUNPCKLPS X1, X0, X6   // r0p0 r1p0 r0p1 r1p1
	VUNPCKHPS X1, X0, X7   // r0p2 r1p2 r0p3 r1p3
	VUNPCKLPS X3, X2, X8   // r2p0 r3p0 r2p1 r3p1
	VUNPCKHPS X3, X2, X9   // r2p2 r3p2 r2p3 r3p3
	VUNPCKLPS X5, X4, X10  // r4p0 r5p0 r4p1 r5p1
	VUNPCKHPS X5, X4, X11  // r4p2 r5p2 r4p3 r5p3
	VMOVLHPS  X8, X6, X0   // rows 0-3 at p0
	VMOVHLPS  X6, X8, X1   // rows 0-3 at p1
	VMOVLHPS  X9, X7, X2   // p2
	VMOVHLPS  X7, X9, X3   // p3
	VMOVUPS   X0, (DI)
	VMOVQ     X10, 16(DI)
	VMOVUPS   X1, 24(DI)
	VMOVHPS   X10, 40(DI)
	VMOVUPS   X2, 48(DI)
	VMOVQ     X11, 64(DI)
	VMOVUPS   X3, 72(DI)
	VMOVHPS   X11, 88(DI)
	ADDQ      $16, SI
	ADDQ      $16, R10
	ADDQ      $96, DI
	DECQ      DX
	JNZ       nloop4

ntail:
	ANDQ $3, CX
	JZ   ndone

nloop1:
	MOVL (SI), AX
	MOVL AX, (DI)
	MOVL (SI)(BX*1), AX
	MOVL AX, 4(DI)
	MOVL (SI)(BX*2), AX
	MOVL AX, 8(DI)
	MOVL (R10), AX
	MOVL AX, 12(DI)
	MOVL (R10)(BX*1), AX
	MOVL AX, 16(DI)
	MOVL (R10)(BX*2), AX
	MOVL AX, 20(DI)
	ADDQ $4, SI
	ADDQ $4, R10
	ADDQ $24, DI
	DECQ CX
	JNZ  nloop1

ndone:
	VZEROUPPER
	RET
