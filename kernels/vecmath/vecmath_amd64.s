//go:build !purego

#include "textflag.h"

// AVX2+FMA versions of expShiftGo and sigmoidGo (vecmath.go), same algorithm:
// clamp x to [−87, 88]; k = round(x·log2e) by adding 1.5·2²³; r = x − k·ln2Hi
// − k·ln2Lo (fused); e^r by the degree-7 Taylor polynomial in Horner form
// (fused); e^x = e^r·2^k by adding k<<23 to the exponent field of e^r. The
// integer add is safe: with x clamped, k ∈ [−126, 127], e^r ∈ [2^−½, 2^½]
// and k = −126 only when r > 0 (e^r ≥ 1), so the biased exponent stays in
// [1, 254]. The main loops take 16 floats (two independent chains), then one
// block of 8, then a masked block for the last 0..7. Every routine ends with
// VZEROUPPER (see kernels/gemm/kernel_amd64.s for why). The AVX-512 twins
// (expShift512, sigmoid512) take 32 floats (two ZMM chains), then one block
// of 16, then finish as the AVX2 routines do, with the same macros.
//
// Registers: Y15 = −shift (exp) or 0 (sigmoid), Y14 = −87, Y13 = 88,
// Y12 = log2e, Y11 = magic, Y10 = ln2Hi; the other constants are read from
// vecConsts as 32-byte rows (AVX2 has no broadcast memory operands).

// vecConsts: 13 rows of 8 equal float32, then the tail mask source
// (8 × all-ones, 8 × zero).
#define ROW(off, bits) \
	DATA ·vecConsts+off(SB)/8, bits;    \
	DATA ·vecConsts+off+8(SB)/8, bits;  \
	DATA ·vecConsts+off+16(SB)/8, bits; \
	DATA ·vecConsts+off+24(SB)/8, bits

ROW(0, $0xC2AE0000C2AE0000)   // −87
ROW(32, $0x42B0000042B00000)  // 88
ROW(64, $0x3FB8AA3B3FB8AA3B)  // log2e
ROW(96, $0x4B4000004B400000)  // magic 1.5·2²³
ROW(128, $0x3F3172003F317200) // ln2Hi 0.693145751953125
ROW(160, $0x35BFBE8E35BFBE8E) // ln2Lo 1.428606765330187e-06
ROW(192, $0x39500D0139500D01) // 1/5040
ROW(224, $0x3AB60B613AB60B61) // 1/720
ROW(256, $0x3C0888893C088889) // 1/120
ROW(288, $0x3D2AAAAB3D2AAAAB) // 1/24
ROW(320, $0x3E2AAAAB3E2AAAAB) // 1/6
ROW(352, $0x3F0000003F000000) // 1/2
ROW(384, $0x3F8000003F800000) // 1
ROW(416, $0xFFFFFFFFFFFFFFFF) // tail mask source: 8 × all-ones
ROW(448, $0x0000000000000000) // then 8 × zero
GLOBL ·vecConsts(SB), RODATA|NOPTR, $480

#define C_LN2LO ·vecConsts+160(SB)
#define C_P7 ·vecConsts+192(SB)
#define C_P6 ·vecConsts+224(SB)
#define C_P5 ·vecConsts+256(SB)
#define C_P4 ·vecConsts+288(SB)
#define C_P3 ·vecConsts+320(SB)
#define C_P2 ·vecConsts+352(SB)
#define C_ONE ·vecConsts+384(SB)

// LOAD_CONSTS fills Y10..Y14.
#define LOAD_CONSTS \
	VMOVUPS ·vecConsts+0(SB), Y14;  \
	VMOVUPS ·vecConsts+32(SB), Y13; \
	VMOVUPS ·vecConsts+64(SB), Y12; \
	VMOVUPS ·vecConsts+96(SB), Y11; \
	VMOVUPS ·vecConsts+128(SB), Y10

// EXP8 sets p = e^x for the 8 floats in x, clobbering x, t and k. A NaN in x
// becomes −87 (VMAXPS returns its second source when one operand is NaN).
#define EXP8(x, t, k, p) \
	VMAXPS       Y14, x, x;    \ // x = max(x, −87)
	VMINPS       Y13, x, x;    \ // x = min(x, 88)
	VMOVAPS      Y11, t;       \
	VFMADD231PS  Y12, x, t;    \ // t = x·log2e + magic: k in the low mantissa bits
	VSUBPS       Y11, t, k;    \ // k = t − magic = round(x·log2e)
	VFNMADD231PS Y10, k, x;    \ // r = x − k·ln2Hi
	VFNMADD231PS C_LN2LO, k, x; \ // r −= k·ln2Lo
	VMOVUPS      C_P7, p;      \
	VFMADD213PS  C_P6, x, p;   \ // p = p·r + c
	VFMADD213PS  C_P5, x, p;   \
	VFMADD213PS  C_P4, x, p;   \
	VFMADD213PS  C_P3, x, p;   \
	VFMADD213PS  C_P2, x, p;   \
	VFMADD213PS  C_ONE, x, p;  \
	VFMADD213PS  C_ONE, x, p;  \ // p = e^r
	VPSLLD       $23, t, t;    \ // k<<23 (the bits above k shift out)
	VPADDD       t, p, p         // p = e^r·2^k

// EXPSHIFT_REST finishes ExpShift's loop over the CX floats left (0..15)
// and returns the sum: one block of 8 into Y8, a masked block for the last
// 0..7 into Y9 (masked-off lanes are not read or written, and cannot
// fault; they compute e^(negShift) and are zeroed before the sum), then
// Y8 + Y9 reduced. Needs Y15 = −shift and LOAD_CONSTS.
#define EXPSHIFT_REST \
	TESTQ $8, CX;                     \
	JZ    exptail;                    \
	VADDPS  (SI), Y15, Y0;            \
	EXP8(Y0, Y1, Y2, Y3);             \
	VMOVUPS Y3, (DI);                 \
	VADDPS  Y3, Y8, Y8;               \
	ADDQ    $32, SI;                  \
	ADDQ    $32, DI;                  \
exptail:                              \
	ANDQ $7, CX;                      \
	JZ   expsum;                      \
	LEAQ       ·vecConsts+448(SB), AX; \ // mask of the first CX lanes:
	SHLQ       $2, CX;                \ // 8 floats from vecConsts+416+32−4·CX
	SUBQ       CX, AX;                \
	VMOVUPS    (AX), Y4;              \
	VMASKMOVPS (SI), Y4, Y0;          \
	VADDPS     Y15, Y0, Y0;           \
	EXP8(Y0, Y1, Y2, Y3);             \
	VMASKMOVPS Y3, Y4, (DI);          \
	VANDPS     Y4, Y3, Y3;            \
	VADDPS     Y3, Y9, Y9;            \
expsum:                               \
	VADDPS       Y9, Y8, Y8;          \
	VEXTRACTF128 $1, Y8, X9;          \
	VADDPS       X9, X8, X8;          \
	VMOVHLPS     X8, X8, X9;          \
	VADDPS       X9, X8, X8;          \
	VMOVSHDUP    X8, X9;              \
	VADDSS       X9, X8, X8;          \
	VZEROUPPER;                       \
	MOVSS        X8, ret+32(FP);      \
	RET

// EXP16 is EXP8 on the 16 floats of a ZMM register, the same instructions
// lane by lane (so the same bits), with every constant in a register:
// Z10-Z14 as Y10-Y14, Z16 = ln2Lo, Z17-Z22 the polynomial's 1/5040 ... 1/2,
// Z23 = 1.
#define EXP16(x, t, k, p) \
	VMAXPS       Z14, x, x;   \
	VMINPS       Z13, x, x;   \
	VMOVAPS      Z11, t;      \
	VFMADD231PS  Z12, x, t;   \
	VSUBPS       Z11, t, k;   \
	VFNMADD231PS Z10, k, x;   \
	VFNMADD231PS Z16, k, x;   \
	VMOVAPS      Z17, p;      \
	VFMADD213PS  Z18, x, p;   \
	VFMADD213PS  Z19, x, p;   \
	VFMADD213PS  Z20, x, p;   \
	VFMADD213PS  Z21, x, p;   \
	VFMADD213PS  Z22, x, p;   \
	VFMADD213PS  Z23, x, p;   \
	VFMADD213PS  Z23, x, p;   \
	VPSLLD       $23, t, t;   \
	VPADDD       t, p, p

// EXP16_CONSTS fills EXP16's constant registers, Z10-Z14 and Z16-Z23; the
// low halves of Z10-Z14 are then LOAD_CONSTS's Y10-Y14.
#define EXP16_CONSTS \
	VBROADCASTSS ·vecConsts+0(SB), Z14;   \
	VBROADCASTSS ·vecConsts+32(SB), Z13;  \
	VBROADCASTSS ·vecConsts+64(SB), Z12;  \
	VBROADCASTSS ·vecConsts+96(SB), Z11;  \
	VBROADCASTSS ·vecConsts+128(SB), Z10; \
	VBROADCASTSS ·vecConsts+160(SB), Z16; \
	VBROADCASTSS ·vecConsts+192(SB), Z17; \
	VBROADCASTSS ·vecConsts+224(SB), Z18; \
	VBROADCASTSS ·vecConsts+256(SB), Z19; \
	VBROADCASTSS ·vecConsts+288(SB), Z20; \
	VBROADCASTSS ·vecConsts+320(SB), Z21; \
	VBROADCASTSS ·vecConsts+352(SB), Z22; \
	VBROADCASTSS ·vecConsts+384(SB), Z23

// SIGMOID8 sets p = 1/(1+e^(−x)) for 8 floats at off(SI), clobbering x, t, k.
// Needs Y15 = 0 and Y8 = 1.
#define SIGMOID8(off, x, t, k, p) \
	VSUBPS off(SI), Y15, x; \ // x = 0 − src
	EXP8(x, t, k, p);       \
	VADDPS Y8, p, p;        \
	VDIVPS p, Y8, p

// SIGMOID_REST finishes Sigmoid's loop over the CX floats left (0..15):
// one block of 8, then a masked block for the last 0..7. Needs Y15 = 0,
// Y8 = 1 and LOAD_CONSTS.
#define SIGMOID_REST \
	TESTQ $8, CX;                      \
	JZ    sigtail;                     \
	SIGMOID8(0, Y0, Y1, Y2, Y3);       \
	VMOVUPS Y3, (DI);                  \
	ADDQ    $32, SI;                   \
	ADDQ    $32, DI;                   \
sigtail:                               \
	ANDQ $7, CX;                       \
	JZ   sigdone;                      \
	LEAQ       ·vecConsts+448(SB), AX; \
	SHLQ       $2, CX;                 \
	SUBQ       CX, AX;                 \
	VMOVUPS    (AX), Y4;               \
	VMASKMOVPS (SI), Y4, Y0;           \
	VSUBPS     Y0, Y15, Y0;            \
	EXP8(Y0, Y1, Y2, Y3);              \
	VADDPS     Y8, Y3, Y3;             \
	VDIVPS     Y3, Y8, Y3;             \
	VMASKMOVPS Y3, Y4, (DI);           \
sigdone:                               \
	VZEROUPPER;                        \
	RET

// SIGMOID16 is SIGMOID8 on 16 floats in ZMM registers (EXP16's constants,
// Z15 = 0, Z8 = 1): the same instructions lane by lane, the same bits.
#define SIGMOID16(off, x, t, k, p) \
	VSUBPS off(SI), Z15, x; \
	EXP16(x, t, k, p);      \
	VADDPS Z8, p, p;        \
	VDIVPS p, Z8, p

// func expShiftAVX2(dst, src *float32, n int, negShift float32) float32
//
// dst[i] = e^(src[i]+negShift) for i < n (n >= 1); returns the float32 sum,
// accumulated in two 8-lane vectors (Y8, Y9) and reduced at the end: the
// blocks of 16 add their first 8 floats into Y8 and their last 8 into Y9.
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS negShift+24(FP), Y15
	LOAD_CONSTS
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9

	MOVQ CX, BX
	SHRQ $4, BX
	JZ   rest

exp16:
	VADDPS  (SI), Y15, Y0
	VADDPS  32(SI), Y15, Y4
	EXP8(Y0, Y1, Y2, Y3)
	EXP8(Y4, Y5, Y6, Y7)
	VMOVUPS Y3, (DI)
	VMOVUPS Y7, 32(DI)
	VADDPS  Y3, Y8, Y8
	VADDPS  Y7, Y9, Y9
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    BX
	JNZ     exp16

rest:
	EXPSHIFT_REST

// func expShift512(dst, src *float32, n int, negShift float32) float32
//
// expShiftAVX2 with its blocks of 16 in ZMM registers, two blocks an
// iteration: lanes 0-7 of Z8 are Y8's sum and lanes 8-15 Y9's, each block
// adding into it in the same order as expShiftAVX2's, so the bits are its
// bits. The last 0..15 floats run expShiftAVX2's code on the two halves.
TEXT ·expShift512(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS negShift+24(FP), Z15
	EXP16_CONSTS
	VXORPS       Y8, Y8, Y8 // VEX-encoded: clears all of Z8

	MOVQ CX, BX
	SHRQ $5, BX
	JZ   z16

z32:
	VADDPS  (SI), Z15, Z0
	VADDPS  64(SI), Z15, Z4
	EXP16(Z0, Z1, Z2, Z3)
	EXP16(Z4, Z5, Z6, Z7)
	VMOVUPS Z3, (DI)
	VMOVUPS Z7, 64(DI)
	VADDPS  Z3, Z8, Z8
	VADDPS  Z7, Z8, Z8
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    BX
	JNZ     z32

z16:
	TESTQ   $16, CX
	JZ      split
	VADDPS  (SI), Z15, Z0
	EXP16(Z0, Z1, Z2, Z3)
	VMOVUPS Z3, (DI)
	VADDPS  Z3, Z8, Z8
	ADDQ    $64, SI
	ADDQ    $64, DI

split:
	VEXTRACTF64X4 $1, Z8, Y9 // Y8 is Z8's low half
	ANDQ          $15, CX
	EXPSHIFT_REST

// func sigmoidAVX2(dst, x *float32, n int)
//
// dst[i] = 1/(1+e^(−x[i])) for i < n (n >= 1).
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	VXORPS  Y15, Y15, Y15
	VMOVUPS C_ONE, Y8
	LOAD_CONSTS

	MOVQ CX, BX
	SHRQ $4, BX
	JZ   rest

sig16:
	SIGMOID8(0, Y0, Y1, Y2, Y3)
	SIGMOID8(32, Y4, Y5, Y6, Y7)
	VMOVUPS Y3, (DI)
	VMOVUPS Y7, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    BX
	JNZ     sig16

rest:
	SIGMOID_REST

// func sigmoid512(dst, x *float32, n int)
//
// sigmoidAVX2 with its blocks of 16 in ZMM registers, two an iteration;
// the last 0..15 floats run sigmoidAVX2's code.
TEXT ·sigmoid512(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	EXP16_CONSTS
	VXORPS       Y15, Y15, Y15 // VEX-encoded: clears all of Z15
	VBROADCASTSS ·vecConsts+384(SB), Z8

	MOVQ CX, BX
	SHRQ $5, BX
	JZ   z16

z32:
	SIGMOID16(0, Z0, Z1, Z2, Z3)
	SIGMOID16(64, Z4, Z5, Z6, Z7)
	VMOVUPS Z3, (DI)
	VMOVUPS Z7, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    BX
	JNZ     z32

z16:
	TESTQ   $16, CX
	JZ      rest
	SIGMOID16(0, Z0, Z1, Z2, Z3)
	VMOVUPS Z3, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI

rest:
	ANDQ $15, CX
	SIGMOID_REST
