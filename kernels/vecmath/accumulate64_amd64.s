//go:build !purego

#include "textflag.h"

// func accumulateWidenAVX2(dst *float64, x *float32, s float64, n int)
//
// dst[i] += s·float64(x[i]), 8 values per iteration in two independent
// halves: VCVTPS2PD widens 4 floats exactly, VMULPD rounds the product (exact
// here: two 24-bit significands) and VADDPD the sum, as the Go loop does.
TEXT ·accumulateWidenAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSD s+16(FP), Y4
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX

widen:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VMULPD    Y4, Y0, Y0
	VMULPD    Y4, Y1, Y1
	VADDPD    (DI), Y0, Y0
	VADDPD    32(DI), Y1, Y1
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y1, 32(DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       widen
	VZEROUPPER
	RET

// func accumulate64AVX2(dst, x *float64, s float64, n int)
//
// dst[i] += s·x[i], 8 values per iteration: VMULPD rounds s·x and VADDPD the
// sum, as the Go loop does (no fused multiply-add).
TEXT ·accumulate64AVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSD s+16(FP), Y4
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX

acc:
	VMULPD  (SI), Y4, Y0
	VMULPD  32(SI), Y4, Y1
	VADDPD  (DI), Y0, Y0
	VADDPD  32(DI), Y1, Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     acc
	VZEROUPPER
	RET
