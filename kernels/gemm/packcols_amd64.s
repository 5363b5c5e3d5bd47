//go:build !openblas && !purego

#include "textflag.h"

// TRANSPOSE8 transposes the 8×8 block of floats in Y0..Y7 (row r in Yr)
// into Y8..Y15 (column c in Y(8+c)), clobbering Y0..Y7: unpack pairs of
// rows, shuffle pairs of pairs, then swap 128-bit halves. Shuffles move
// bits and never convert them.
#define TRANSPOSE8 \
	VUNPCKLPS  Y1, Y0, Y8;         \
	VUNPCKHPS  Y1, Y0, Y9;         \
	VUNPCKLPS  Y3, Y2, Y10;        \
	VUNPCKHPS  Y3, Y2, Y11;        \
	VUNPCKLPS  Y5, Y4, Y12;        \
	VUNPCKHPS  Y5, Y4, Y13;        \
	VUNPCKLPS  Y7, Y6, Y14;        \
	VUNPCKHPS  Y7, Y6, Y15;        \
	VSHUFPS    $0x44, Y10, Y8, Y0; \
	VSHUFPS    $0xEE, Y10, Y8, Y1; \
	VSHUFPS    $0x44, Y11, Y9, Y2; \
	VSHUFPS    $0xEE, Y11, Y9, Y3; \
	VSHUFPS    $0x44, Y14, Y12, Y4; \
	VSHUFPS    $0xEE, Y14, Y12, Y5; \
	VSHUFPS    $0x44, Y15, Y13, Y6; \
	VSHUFPS    $0xEE, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8;  \
	VPERM2F128 $0x20, Y5, Y1, Y9;  \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15

// STORE8 writes the 8 columns in Y8..Y15 as 8 consecutive k steps of a
// packed 16-float panel row, at float offset off/4 of each.
#define STORE8(off) \
	VMOVUPS Y8, off(DI);      \
	VMOVUPS Y9, off+64(DI);   \
	VMOVUPS Y10, off+128(DI); \
	VMOVUPS Y11, off+192(DI); \
	VMOVUPS Y12, off+256(DI); \
	VMOVUPS Y13, off+320(DI); \
	VMOVUPS Y14, off+384(DI); \
	VMOVUPS Y15, off+448(DI)

// func packCols16AVX2(n8 int, src *float32, lds int, dst *float32)
//
// dst[p*16+j] = src[j*lds+p] for j < 16, p < 8·n8: packCols16's transposing
// pack of a micro-panel from 16 stored rows, 8 k steps at a time as two
// 8×8 transposes (rows 0-7 into the panel rows' first halves, 8-15 into
// their second), where the Go loop moves one float per load and store.
// n8 must be >= 1.
TEXT ·packCols16AVX2(SB), NOSPLIT, $0-32
	MOVQ n8+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), R8
	SHLQ $2, R8            // row stride in bytes
	MOVQ dst+24(FP), DI
	LEAQ (SI)(R8*2), R10
	ADDQ R8, R10           // row 3
	LEAQ (R10)(R8*2), R11
	ADDQ R8, R11           // row 6
	LEAQ (R11)(R8*2), R12
	ADDQ R8, R12           // row 9
	LEAQ (R12)(R8*2), R13
	ADDQ R8, R13           // row 12
	LEAQ (R13)(R8*2), R9
	ADDQ R8, R9            // row 15

cols8:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (R10), Y3
	VMOVUPS (R10)(R8*1), Y4
	VMOVUPS (R10)(R8*2), Y5
	VMOVUPS (R11), Y6
	VMOVUPS (R11)(R8*1), Y7
	TRANSPOSE8
	STORE8(0)
	VMOVUPS (R11)(R8*2), Y0
	VMOVUPS (R12), Y1
	VMOVUPS (R12)(R8*1), Y2
	VMOVUPS (R12)(R8*2), Y3
	VMOVUPS (R13), Y4
	VMOVUPS (R13)(R8*1), Y5
	VMOVUPS (R13)(R8*2), Y6
	VMOVUPS (R9), Y7
	TRANSPOSE8
	STORE8(32)
	ADDQ $32, SI
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	ADDQ $32, R9
	ADDQ $512, DI
	DECQ CX
	JNZ  cols8
	VZEROUPPER
	RET
