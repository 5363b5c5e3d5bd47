//go:build !purego

#include "textflag.h"

// func adamwAVX2(w, grad, m, v *float32, c *AdamWStep, n int)
//
// AdamW's update, 8 floats per iteration, with the roundings of the Go loop
// in adamw.go in its order: no fused multiply-add; (1−β)·g·g is
// ((1−β)·g)·g; stepSize·m is rounded before the division.
TEXT ·adamwAVX2(SB), NOSPLIT, $0-48
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         m+16(FP), DX
	MOVQ         v+24(FP), R8
	MOVQ         c+32(FP), R9
	MOVQ         n+40(FP), CX
	SHRQ         $3, CX
	XORQ         AX, AX
	VBROADCASTSS 0(R9), Y8   // β1
	VBROADCASTSS 4(R9), Y9   // β2
	VBROADCASTSS 8(R9), Y10  // stepSize
	VBROADCASTSS 12(R9), Y11 // invBc2
	VBROADCASTSS 16(R9), Y12 // eps
	VBROADCASTSS 20(R9), Y13 // decay
	MOVL         $0x3f800000, R10
	MOVQ         R10, X14
	VBROADCASTSS X14, Y14    // 1
	VSUBPS       Y8, Y14, Y6 // 1 − β1
	VSUBPS       Y9, Y14, Y7 // 1 − β2

loop:
	VMOVUPS (SI)(AX*1), Y0     // g
	VMULPS  (DX)(AX*1), Y8, Y1 // β1·m
	VMULPS  Y0, Y6, Y2         // (1−β1)·g
	VADDPS  Y2, Y1, Y1         // m
	VMOVUPS Y1, (DX)(AX*1)
	VMULPS  (R8)(AX*1), Y9, Y3 // β2·v
	VMULPS  Y0, Y7, Y4         // (1−β2)·g
	VMULPS  Y0, Y4, Y4         // ((1−β2)·g)·g
	VADDPS  Y4, Y3, Y3         // v
	VMOVUPS Y3, (R8)(AX*1)
	VSQRTPS Y3, Y3             // √v
	VMULPS  Y11, Y3, Y3        // √v·invBc2
	VADDPS  Y12, Y3, Y3        // + eps
	VMULPS  Y1, Y10, Y1        // stepSize·m
	VDIVPS  Y3, Y1, Y1         // (stepSize·m) / (…)
	VMULPS  (DI)(AX*1), Y13, Y5 // w·decay
	VSUBPS  Y1, Y5, Y5          // w·decay − …
	VMOVUPS Y5, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET
