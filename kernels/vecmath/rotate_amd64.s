//go:build !purego

#include "textflag.h"

// ROTATE8 rotates the 8 pairs at byte offset AX: lo at SI, hi at DX, cos
// at R8, sin at R10 (times the sign broadcast in Y7), into dstLo at DI and
// dstHi at R9; each product and sum rounded as in the Go loop (no fused
// multiply-add). Both loops below run it, so they round alike.
#define ROTATE8 \
	VMOVUPS (SI)(AX*1), Y0;      \ // a
	VMOVUPS (DX)(AX*1), Y1;      \ // b
	VMOVUPS (R8)(AX*1), Y2;      \ // c
	VMULPS  (R10)(AX*1), Y7, Y3; \ // s = sign·sin
	VMULPS  Y2, Y0, Y4;          \ // a·c
	VMULPS  Y3, Y1, Y5;          \ // b·s
	VSUBPS  Y5, Y4, Y4;          \ // a·c − b·s
	VMOVUPS Y4, (DI)(AX*1);      \
	VMULPS  Y3, Y0, Y4;          \ // a·s
	VMULPS  Y2, Y1, Y5;          \ // b·c
	VADDPS  Y5, Y4, Y4;          \ // a·s + b·c
	VMOVUPS Y4, (R9)(AX*1)

// func rotateAVX2(dstLo, dstHi, lo, hi, cos, sin *float32, sign float32, n int)
//
// Rotate's loop, 8 pairs per iteration (ROTATE8).
TEXT ·rotateAVX2(SB), NOSPLIT, $0-64
	MOVQ         dstLo+0(FP), DI
	MOVQ         dstHi+8(FP), R9
	MOVQ         lo+16(FP), SI
	MOVQ         hi+24(FP), DX
	MOVQ         cos+32(FP), R8
	MOVQ         sin+40(FP), R10
	VBROADCASTSS sign+48(FP), Y7
	MOVQ         n+56(FP), CX
	SHRQ         $3, CX
	XORQ         AX, AX

loop:
	ROTATE8
	ADDQ    $32, AX
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET

// func rotateHeadsAVX2(dst, src, cos, sin *float32, sign float32, heads, hd int)
//
// rotateAVX2's arithmetic (ROTATE8) over heads heads
// of hd floats side by side: head h's lo half at src + 4·h·hd, its hi half
// hd/2 floats further (dst likewise), every head with the same cos and sin
// (one row's position). hd/2 must be a positive multiple of 8.
TEXT ·rotateHeadsAVX2(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         cos+16(FP), R8
	MOVQ         sin+24(FP), R10
	VBROADCASTSS sign+32(FP), Y7
	MOVQ         heads+40(FP), BX
	MOVQ         hd+48(FP), R11
	SHLQ         $1, R11              // hd/2 floats in bytes
	MOVQ         R11, R12
	SHRQ         $5, R12              // 8-float steps per half

head:
	LEAQ (SI)(R11*1), DX              // this head's hi half
	LEAQ (DI)(R11*1), R9
	MOVQ R12, CX
	XORQ AX, AX

hloop:
	ROTATE8
	ADDQ    $32, AX
	DECQ    CX
	JNZ     hloop

	LEAQ (SI)(R11*2), SI              // the next head
	LEAQ (DI)(R11*2), DI
	DECQ BX
	JNZ  head
	VZEROUPPER
	RET
