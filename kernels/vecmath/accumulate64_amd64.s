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

// WIDEN_TERM adds one term s·q to an accumulator: widen 4 floats of q at
// off(BX), multiply by the widened s in Y4, add. The operands keep
// accumulateWidenAVX2's roles (the product the first addend), so each sum
// is that loop's to the bit, NaN payloads included.
#define WIDEN_TERM(off, t, acc) \
	VCVTPS2PD off(BX), t; \
	VMULPD    Y4, t, t;   \
	VADDPD    acc, t, acc

// func accumulateWidenRowsAVX2(dst *float64, s, q *float32, ns, k, cols int)
//
// For each block of 16 (then 8) of the first cols sums: load them into
// registers, add s[j]·q[j·k+a] for j = 0..ns-1 in order (q's rows k floats
// apart), store them back. One AccumulateWiden call per j does the same
// arithmetic with the sums in memory.
TEXT ·accumulateWidenRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ s+8(FP), R8
	MOVQ q+16(FP), SI
	MOVQ ns+24(FP), R9
	MOVQ k+32(FP), R10
	SHLQ $2, R10          // q's row stride in bytes
	MOVQ cols+40(FP), R11

block16:
	CMPQ    R11, $16
	JLT     block8
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	MOVQ    R8, AX
	MOVQ    SI, BX
	MOVQ    R9, CX

terms16:
	VBROADCASTSS (AX), X4
	VCVTPS2PD    X4, Y4
	WIDEN_TERM(0, Y5, Y0)
	WIDEN_TERM(16, Y6, Y1)
	WIDEN_TERM(32, Y7, Y2)
	WIDEN_TERM(48, Y8, Y3)
	ADDQ         $4, AX
	ADDQ         R10, BX
	DECQ         CX
	JNZ          terms16
	VMOVUPD      Y0, (DI)
	VMOVUPD      Y1, 32(DI)
	VMOVUPD      Y2, 64(DI)
	VMOVUPD      Y3, 96(DI)
	ADDQ         $128, DI
	ADDQ         $64, SI
	SUBQ         $16, R11
	JMP          block16

block8:
	CMPQ    R11, $8
	JLT     done
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	MOVQ    R8, AX
	MOVQ    SI, BX
	MOVQ    R9, CX

terms8:
	VBROADCASTSS (AX), X4
	VCVTPS2PD    X4, Y4
	WIDEN_TERM(0, Y5, Y0)
	WIDEN_TERM(16, Y6, Y1)
	ADDQ         $4, AX
	ADDQ         R10, BX
	DECQ         CX
	JNZ          terms8
	VMOVUPD      Y0, (DI)
	VMOVUPD      Y1, 32(DI)
	ADDQ         $64, DI
	ADDQ         $32, SI
	SUBQ         $8, R11
	JMP          block8

done:
	VZEROUPPER
	RET
