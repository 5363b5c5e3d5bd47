//go:build !purego

#include "textflag.h"

// RMSNorm's elementwise loops, 8 floats per iteration, each operation
// rounded in the order of the Go expressions in rmsnorm.go (no FMA).

// func scaleMulAVX2(dst, x *float32, s float32, gain *float32, n int)
TEXT ·scaleMulAVX2(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSS s+16(FP), Y1
	MOVQ         gain+24(FP), DX
	MOVQ         n+32(FP), CX
	SHRQ         $3, CX
	XORQ         AX, AX

sm:
	VMULPS  (SI)(AX*1), Y1, Y0 // x·s
	VMULPS  (DX)(AX*1), Y0, Y0 // (x·s)·g
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     sm
	VZEROUPPER
	RET

// func addMulScaledAVX2(dst, a, b *float32, s float32, n int)
TEXT ·addMulScaledAVX2(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         a+8(FP), SI
	MOVQ         b+16(FP), DX
	VBROADCASTSS s+24(FP), Y1
	MOVQ         n+32(FP), CX
	SHRQ         $3, CX
	XORQ         AX, AX

ams:
	VMOVUPS (SI)(AX*1), Y0
	VMULPS  (DX)(AX*1), Y0, Y0 // a·b
	VMULPS  Y1, Y0, Y0         // (a·b)·s
	VADDPS  (DI)(AX*1), Y0, Y0 // dst + …
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     ams
	VZEROUPPER
	RET

// func rmsNormDxAVX2(dx, dy, gain, x *float32, inv, mean float32, n int)
TEXT ·rmsNormDxAVX2(SB), NOSPLIT, $0-48
	MOVQ         dx+0(FP), DI
	MOVQ         dy+8(FP), SI
	MOVQ         gain+16(FP), DX
	MOVQ         x+24(FP), R8
	VBROADCASTSS inv+32(FP), Y1
	VBROADCASTSS mean+36(FP), Y2
	MOVQ         n+40(FP), CX
	SHRQ         $3, CX
	XORQ         AX, AX

dx:
	VMOVUPS (SI)(AX*1), Y0
	VMULPS  (DX)(AX*1), Y0, Y0 // dy·g
	VMULPS  (R8)(AX*1), Y1, Y3 // x·inv
	VMULPS  Y2, Y3, Y3         // (x·inv)·mean
	VSUBPS  Y3, Y0, Y0         // dy·g − …
	VMULPS  Y1, Y0, Y0         // (…)·inv
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     dx
	VZEROUPPER
	RET
