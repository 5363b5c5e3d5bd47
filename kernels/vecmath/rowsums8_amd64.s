//go:build !purego

#include "textflag.h"

// The row sums of rowsums8.go: eight rows' products along the rows in
// Y0-Y7 (row r's columns j..j+7 in Yr), an 8×8 transpose, then the eight
// columns added in order into Y15, lane r row r's sum. Every product and
// addition is its own rounding (VMULPS, VADDPS: no fused multiply-add).

// STRIDES sets the row offsets from ld (floats) in BX: BX = ld, DX = 3·ld,
// R8 = 5·ld, R9 = 7·ld, in bytes; rows 0-7 are then at (p), (p)(BX*1),
// (p)(BX*2), (p)(DX*1), (p)(BX*4), (p)(R8*1), (p)(DX*2), (p)(R9*1).
#define STRIDES \
	SHLQ $2, BX;              \
	LEAQ (BX)(BX*2), DX;      \
	LEAQ (BX)(BX*4), R8;      \
	LEAQ (DX)(BX*4), R9

// COLUMN adds one column of the transposed block into Y15: the 128-bit
// halves imm picks from u and v (0x20 their low halves, 0x31 their high
// ones) into c, times Y14.
#define COLUMN(imm, v, u, c) \
	VPERM2F128 imm, v, u, c; \
	VMULPS     Y14, c, c;    \
	VADDPS     c, Y15, Y15

// TRANSPOSE_ADD8 transposes Y0-Y7 (rows a..h) into columns c0..c7, each
// a..h of one column, multiplies each by Y14 (1, or RMSNorm's 1/rms per
// row) and adds them into Y15 in column order. Temporaries Y8-Y13.
#define TRANSPOSE_ADD8 \
	VUNPCKLPS Y1, Y0, Y8;         \ // a0 b0 a1 b1 | a4 b4 a5 b5
	VUNPCKHPS Y1, Y0, Y9;         \ // a2 b2 a3 b3 | a6 b6 a7 b7
	VUNPCKLPS Y3, Y2, Y10;        \ // c d likewise
	VUNPCKHPS Y3, Y2, Y11;        \
	VUNPCKLPS Y5, Y4, Y12;        \ // e f
	VUNPCKHPS Y5, Y4, Y13;        \
	VUNPCKLPS Y7, Y6, Y0;         \ // g h
	VUNPCKHPS Y7, Y6, Y1;         \
	VSHUFPS   $0x44, Y10, Y8, Y2; \ // a0 b0 c0 d0 | a4 b4 c4 d4
	VSHUFPS   $0xEE, Y10, Y8, Y3; \ // a1 b1 c1 d1 | a5 b5 c5 d5
	VSHUFPS   $0x44, Y11, Y9, Y4; \ // a2 … | a6 …
	VSHUFPS   $0xEE, Y11, Y9, Y5; \ // a3 … | a7 …
	VSHUFPS   $0x44, Y0, Y12, Y6; \ // e0 f0 g0 h0 | e4 f4 g4 h4
	VSHUFPS   $0xEE, Y0, Y12, Y7; \
	VSHUFPS   $0x44, Y1, Y13, Y8; \
	VSHUFPS   $0xEE, Y1, Y13, Y9; \
	COLUMN($0x20, Y6, Y2, Y10);   \ // column 0: a0 … h0
	COLUMN($0x20, Y7, Y3, Y11);   \
	COLUMN($0x20, Y8, Y4, Y12);   \
	COLUMN($0x20, Y9, Y5, Y13);   \
	COLUMN($0x31, Y6, Y2, Y10);   \ // column 4: a4 … h4
	COLUMN($0x31, Y7, Y3, Y11);   \
	COLUMN($0x31, Y8, Y4, Y12);   \
	COLUMN($0x31, Y9, Y5, Y13)

// rowsOne is 1.0f, broadcast into Y14 by dot8AVX2, which scales by nothing.
DATA rowsOne<>+0(SB)/4, $0x3f800000
GLOBL rowsOne<>(SB), RODATA|NOPTR, $4

// func normDot8AVX2(dy, x *float32, ld int, gain *float32, iv *[8]float32, n int, s *[8]float32)
//
// Row r's term is ((dy·g)·x) along the row, then ·iv[r] down the column.
TEXT ·normDot8AVX2(SB), NOSPLIT, $0-56
	MOVQ    dy+0(FP), SI
	MOVQ    x+8(FP), DI
	MOVQ    ld+16(FP), BX
	MOVQ    gain+24(FP), R10
	MOVQ    iv+32(FP), AX
	MOVQ    n+40(FP), CX
	MOVQ    s+48(FP), R11
	STRIDES
	SHRQ    $3, CX
	VMOVUPS (R11), Y15
	VMOVUPS (AX), Y14

normdot:
	VMOVUPS (R10), Y8
	VMULPS  (SI), Y8, Y0
	VMULPS  (DI), Y0, Y0
	VMULPS  (SI)(BX*1), Y8, Y1
	VMULPS  (DI)(BX*1), Y1, Y1
	VMULPS  (SI)(BX*2), Y8, Y2
	VMULPS  (DI)(BX*2), Y2, Y2
	VMULPS  (SI)(DX*1), Y8, Y3
	VMULPS  (DI)(DX*1), Y3, Y3
	VMULPS  (SI)(BX*4), Y8, Y4
	VMULPS  (DI)(BX*4), Y4, Y4
	VMULPS  (SI)(R8*1), Y8, Y5
	VMULPS  (DI)(R8*1), Y5, Y5
	VMULPS  (SI)(DX*2), Y8, Y6
	VMULPS  (DI)(DX*2), Y6, Y6
	VMULPS  (SI)(R9*1), Y8, Y7
	VMULPS  (DI)(R9*1), Y7, Y7
	TRANSPOSE_ADD8
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R10
	DECQ    CX
	JNZ     normdot

	VMOVUPS Y15, (R11)
	VZEROUPPER
	RET

// func dot8AVX2(a, b *float32, ld, n int, s *[8]float32)
TEXT ·dot8AVX2(SB), NOSPLIT, $0-40
	MOVQ         a+0(FP), SI
	MOVQ         b+8(FP), DI
	MOVQ         ld+16(FP), BX
	MOVQ         n+24(FP), CX
	MOVQ         s+32(FP), R11
	STRIDES
	SHRQ         $3, CX
	VMOVUPS      (R11), Y15
	VBROADCASTSS rowsOne<>(SB), Y14

dot:
	VMOVUPS (SI), Y0
	VMULPS  (DI), Y0, Y0
	VMOVUPS (SI)(BX*1), Y1
	VMULPS  (DI)(BX*1), Y1, Y1
	VMOVUPS (SI)(BX*2), Y2
	VMULPS  (DI)(BX*2), Y2, Y2
	VMOVUPS (SI)(DX*1), Y3
	VMULPS  (DI)(DX*1), Y3, Y3
	VMOVUPS (SI)(BX*4), Y4
	VMULPS  (DI)(BX*4), Y4, Y4
	VMOVUPS (SI)(R8*1), Y5
	VMULPS  (DI)(R8*1), Y5, Y5
	VMOVUPS (SI)(DX*2), Y6
	VMULPS  (DI)(DX*2), Y6, Y6
	VMOVUPS (SI)(R9*1), Y7
	VMULPS  (DI)(R9*1), Y7, Y7
	TRANSPOSE_ADD8
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     dot

	VMOVUPS Y15, (R11)
	VZEROUPPER
	RET
