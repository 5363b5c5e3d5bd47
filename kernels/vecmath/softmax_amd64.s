//go:build !purego

#include "textflag.h"

// func maxAVX2(x *float32, n int) (m float32, nan bool)
//
// Lane-wise VMAXPS over 8 floats per iteration, then a horizontal
// reduction. VMAXPS passes a NaN on only in some operand orders, so NaNs are
// tracked apart: VCMPPS with predicate 3 (unordered) of x with itself sets a
// lane for each NaN, and those masks are ORed together.
TEXT ·maxAVX2(SB), NOSPLIT, $0-21
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	SHRQ    $3, CX
	VMOVUPS (SI), Y0  // running maxima
	VXORPS  Y2, Y2, Y2 // NaN lanes seen

loop:
	VMOVUPS (SI), Y1
	VMAXPS  Y1, Y0, Y0
	VCMPPS  $3, Y1, Y1, Y3
	VORPS   Y3, Y2, Y2
	ADDQ    $32, SI
	DECQ    CX
	JNZ     loop

	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4E, X0, X1 // swap 64-bit halves
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xB1, X0, X1 // swap neighbours
	VMAXPS       X1, X0, X0
	VMOVSS       X0, m+16(FP)
	VMOVMSKPS    Y2, AX
	TESTL        AX, AX
	SETNE        nan+20(FP)
	VZEROUPPER
	RET

// func scaleAVX2(dst, x *float32, s float32, n int)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSS s+16(FP), Y1
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX
	XORQ         AX, AX

sloop:
	VMULPS  (SI)(AX*1), Y1, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     sloop
	VZEROUPPER
	RET

// func softmaxGradAVX2(grad, p *float32, dot float32, n int)
//
// grad = p·(grad − dot): VSUBPS rounds the difference, VMULPS the product.
TEXT ·softmaxGradAVX2(SB), NOSPLIT, $0-32
	MOVQ         grad+0(FP), DI
	MOVQ         p+8(FP), SI
	VBROADCASTSS dot+16(FP), Y1
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX
	XORQ         AX, AX

gloop:
	VMOVUPS (DI)(AX*1), Y0
	VSUBPS  Y1, Y0, Y0 // g − dot
	VMULPS  (SI)(AX*1), Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     gloop
	VZEROUPPER
	RET
