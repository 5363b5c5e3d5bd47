//go:build !purego

#include "textflag.h"

// func addScaledAVX2(dst, a, b *float32, s float32, n int)
//
// dst[i] = a[i] + s·b[i], 8 floats per iteration: VMULPS rounds s·b and
// VADDPS the sum, as the Go loop does (no fused multiply-add).
TEXT ·addScaledAVX2(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         a+8(FP), SI
	MOVQ         b+16(FP), DX
	VBROADCASTSS s+24(FP), Y1
	MOVQ         n+32(FP), CX
	SHRQ         $3, CX
	XORQ         AX, AX

loop:
	VMULPS  (DX)(AX*1), Y1, Y0 // s·b
	VADDPS  (SI)(AX*1), Y0, Y0 // a + s·b
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET
