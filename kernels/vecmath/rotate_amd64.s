//go:build !purego

#include "textflag.h"

// func rotateAVX2(dstLo, dstHi, lo, hi, cos, sin *float32, sign float32, n int)
//
// Rotate's loop, 8 pairs per iteration, each product and sum rounded as in
// the Go loop (no fused multiply-add).
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
	VMOVUPS (SI)(AX*1), Y0      // a
	VMOVUPS (DX)(AX*1), Y1      // b
	VMOVUPS (R8)(AX*1), Y2      // c
	VMULPS  (R10)(AX*1), Y7, Y3 // s = sign·sin
	VMULPS  Y2, Y0, Y4          // a·c
	VMULPS  Y3, Y1, Y5          // b·s
	VSUBPS  Y5, Y4, Y4          // a·c − b·s
	VMOVUPS Y4, (DI)(AX*1)
	VMULPS  Y3, Y0, Y4          // a·s
	VMULPS  Y2, Y1, Y5          // b·c
	VADDPS  Y5, Y4, Y4          // a·s + b·c
	VMOVUPS Y4, (R9)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET
