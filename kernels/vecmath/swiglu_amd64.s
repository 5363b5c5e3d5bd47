//go:build !purego

#include "textflag.h"

// SwiGLU's products, 8 floats per iteration, with exactly the roundings of
// the Go loops in swiglu.go: plain VMULPS/VADDPS/VSUBPS in the Go
// expression's left-to-right order, no fused multiply-add.

// func swigluForwardAVX2(y, gate, sig, u *float32, n int)
TEXT ·swigluForwardAVX2(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DI
	MOVQ gate+8(FP), SI
	MOVQ sig+16(FP), DX
	MOVQ u+24(FP), R8
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	XORQ AX, AX

fwd:
	VMOVUPS (SI)(AX*1), Y0
	VMULPS  (DX)(AX*1), Y0, Y0 // g·σ
	VMULPS  (R8)(AX*1), Y0, Y0 // (g·σ)·u
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     fwd
	VZEROUPPER
	RET

// func swigluBackwardAVX2(dg, du, dy, gate, sig, u *float32, n int)
TEXT ·swigluBackwardAVX2(SB), NOSPLIT, $0-56
	MOVQ         dg+0(FP), DI
	MOVQ         du+8(FP), R9
	MOVQ         dy+16(FP), SI
	MOVQ         gate+24(FP), DX
	MOVQ         sig+32(FP), R8
	MOVQ         u+40(FP), R10
	MOVQ         n+48(FP), CX
	SHRQ         $3, CX
	XORQ         AX, AX
	MOVL         $0x3f800000, R11 // 1.0
	MOVQ         R11, X8
	VBROADCASTSS X8, Y8

bwd:
	VMOVUPS (SI)(AX*1), Y0      // dy
	VMOVUPS (DX)(AX*1), Y1      // g
	VMOVUPS (R8)(AX*1), Y2      // σ
	VMULPS  (R10)(AX*1), Y0, Y3 // dy·u
	VMULPS  Y2, Y3, Y3          // (dy·u)·σ
	VSUBPS  Y2, Y8, Y4          // 1 − σ
	VMULPS  Y4, Y1, Y4          // g·(1 − σ)
	VADDPS  Y4, Y8, Y4          // 1 + g·(1 − σ)
	VMULPS  Y4, Y3, Y3          // dg
	VMOVUPS Y3, (DI)(AX*1)
	VMULPS  Y1, Y0, Y5          // dy·g
	VMULPS  Y2, Y5, Y5          // (dy·g)·σ = du
	VMOVUPS Y5, (R9)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     bwd
	VZEROUPPER
	RET
