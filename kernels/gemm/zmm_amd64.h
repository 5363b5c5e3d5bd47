// Macros shared by the AVX-512 micro-kernels (kernel512_amd64.s,
// panels512_amd64.s). R8 holds ldc in bytes, DX the C row being stored.

// A_STRIDES is the in-place kernels' A addressing (A at SI): R11 the row
// stride and R12 the k stride in bytes, R10 row 3.
#define A_STRIDES(rsa, csa) \
	MOVQ rsa, R11;         \
	SHLQ $2, R11;          \
	MOVQ csa, R12;         \
	SHLQ $2, R12;          \
	LEAQ (SI)(R11*2), R10; \
	ADDQ R11, R10

// ZSTORE_BETA adds beta·C (beta broadcast in Z15) to one row's accumulator
// by one FMA, stores the 16 floats at DX and advances DX a row.
#define ZSTORE_BETA(acc) \
	VFMADD231PS (DX), Z15, acc; \
	VMOVUPS     acc, (DX);      \
	ADDQ        R8, DX

// ZSTORE_ONLY stores one row's accumulator without reading C (beta == 0)
// and advances DX a row.
#define ZSTORE_ONLY(acc) \
	VMOVUPS acc, (DX); \
	ADDQ    R8, DX

// ZALPHA6 and ZALPHA12 multiply the accumulators Z0-Z5 (Z0-Z11) by alpha
// (broadcast in Z14).
#define ZALPHA6 \
	VMULPS Z14, Z0, Z0; \
	VMULPS Z14, Z1, Z1; \
	VMULPS Z14, Z2, Z2; \
	VMULPS Z14, Z3, Z3; \
	VMULPS Z14, Z4, Z4; \
	VMULPS Z14, Z5, Z5

#define ZALPHA12 \
	ZALPHA6; \
	VMULPS Z14, Z6, Z6;   \
	VMULPS Z14, Z7, Z7;   \
	VMULPS Z14, Z8, Z8;   \
	VMULPS Z14, Z9, Z9;   \
	VMULPS Z14, Z10, Z10; \
	VMULPS Z14, Z11, Z11

// ZZERO6 clears Z0-Z5: a VEX-encoded XOR of the YMM half clears the whole
// ZMM register.
#define ZZERO6 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5

// PF_CROW touches the C row at reg (two lines, as 16 floats may straddle
// two) so its miss overlaps the k loop, and advances reg a row.
#define PF_CROW(reg) \
	PREFETCHT0 (reg);   \
	PREFETCHT0 60(reg); \
	ADDQ       R8, reg

// PF_CROWS6 touches the 6 C rows of a tile from reg on.
#define PF_CROWS6(reg) \
	PF_CROW(reg); \
	PF_CROW(reg); \
	PF_CROW(reg); \
	PF_CROW(reg); \
	PF_CROW(reg); \
	PF_CROW(reg)

// ZSTORE6_ONLY and ZSTORE6_BETA store Z0-Z5 to six C rows from DX on.
#define ZSTORE6_ONLY \
	ZSTORE_ONLY(Z0); \
	ZSTORE_ONLY(Z1); \
	ZSTORE_ONLY(Z2); \
	ZSTORE_ONLY(Z3); \
	ZSTORE_ONLY(Z4); \
	ZSTORE_ONLY(Z5)

#define ZSTORE6_BETA \
	ZSTORE_BETA(Z0); \
	ZSTORE_BETA(Z1); \
	ZSTORE_BETA(Z2); \
	ZSTORE_BETA(Z3); \
	ZSTORE_BETA(Z4); \
	ZSTORE_BETA(Z5)

// ZSTORE12ROWS_ONLY and ZSTORE12ROWS_BETA store Z0-Z11 to twelve
// 16-float C rows from DX on (two 6×16 tiles stacked).
#define ZSTORE12ROWS_ONLY \
	ZSTORE6_ONLY;     \
	ZSTORE_ONLY(Z6);  \
	ZSTORE_ONLY(Z7);  \
	ZSTORE_ONLY(Z8);  \
	ZSTORE_ONLY(Z9);  \
	ZSTORE_ONLY(Z10); \
	ZSTORE_ONLY(Z11)

#define ZSTORE12ROWS_BETA \
	ZSTORE6_BETA;     \
	ZSTORE_BETA(Z6);  \
	ZSTORE_BETA(Z7);  \
	ZSTORE_BETA(Z8);  \
	ZSTORE_BETA(Z9);  \
	ZSTORE_BETA(Z10); \
	ZSTORE_BETA(Z11)

// ZBETA_ZERO jumps to general unless beta (loaded and broadcast into Z15)
// is +0 or -0; a NaN beta compares unordered and takes general too.
#define ZBETA_ZERO(beta, general) \
	VBROADCASTSS beta, Z15;   \
	VXORPS       X13, X13, X13; \
	VUCOMISS     X13, X15;    \
	JNE          general;     \
	JPS          general

// The 6×32 kernels (wide512_amd64.s) keep row r of a tile in Z(2r) for
// its first 16 columns and Z(2r+1) for the next 16.

// ZSTORE2_ONLY and ZSTORE2_BETA store one 32-column row (acc0, acc1) at
// DX, without or with beta·C (beta in Z15), and advance DX a row.
#define ZSTORE2_ONLY(acc0, acc1) \
	VMOVUPS acc0, (DX);   \
	VMOVUPS acc1, 64(DX); \
	ADDQ    R8, DX

#define ZSTORE2_BETA(acc0, acc1) \
	VFMADD231PS (DX), Z15, acc0;   \
	VFMADD231PS 64(DX), Z15, acc1; \
	VMOVUPS     acc0, (DX);        \
	VMOVUPS     acc1, 64(DX);      \
	ADDQ        R8, DX

// ZSTORE12_ONLY and ZSTORE12_BETA store a 6×32 tile (Z0-Z11) from DX on.
#define ZSTORE12_ONLY \
	ZSTORE2_ONLY(Z0, Z1); \
	ZSTORE2_ONLY(Z2, Z3); \
	ZSTORE2_ONLY(Z4, Z5); \
	ZSTORE2_ONLY(Z6, Z7); \
	ZSTORE2_ONLY(Z8, Z9); \
	ZSTORE2_ONLY(Z10, Z11)

#define ZSTORE12_BETA \
	ZSTORE2_BETA(Z0, Z1); \
	ZSTORE2_BETA(Z2, Z3); \
	ZSTORE2_BETA(Z4, Z5); \
	ZSTORE2_BETA(Z6, Z7); \
	ZSTORE2_BETA(Z8, Z9); \
	ZSTORE2_BETA(Z10, Z11)

// ZZERO12 clears Z0-Z11.
#define ZZERO12 \
	ZZERO6; \
	VXORPS Y6, Y6, Y6;   \
	VXORPS Y7, Y7, Y7;   \
	VXORPS Y8, Y8, Y8;   \
	VXORPS Y9, Y9, Y9;   \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11

// PF_CROW32 touches a 32-float C row at reg (128 bytes: up to three
// lines) and advances reg a row.
#define PF_CROW32(reg) \
	PREFETCHT0 (reg);    \
	PREFETCHT0 64(reg);  \
	PREFETCHT0 124(reg); \
	ADDQ       R8, reg

// ZFMA6 is one k step of six A rows read in place, B's 16 floats in Z12:
// the A values at r0 + {0, 1, 2}·R11 (rows 0-2) and r3 + {0, 1, 2}·R11
// (rows 3-5) broadcast into the FMAs of accumulators a0-a5. The in-place
// 6×16 kernel runs one such group, the 12×16 kernel two.
#define ZFMA6(r0, r3, a0, a1, a2, a3, a4, a5) \
	VFMADD231PS.BCST (r0), Z12, a0;        \
	VFMADD231PS.BCST (r0)(R11*1), Z12, a1; \
	VFMADD231PS.BCST (r0)(R11*2), Z12, a2; \
	VFMADD231PS.BCST (r3), Z12, a3;        \
	VFMADD231PS.BCST (r3)(R11*1), Z12, a4; \
	VFMADD231PS.BCST (r3)(R11*2), Z12, a5

// ZROW2 is one tile row's k step in a 6×32 kernel: the A value at addr
// broadcast into bc, times B's two 16-float halves in Z12 and Z13.
#define ZROW2(addr, bc, acc0, acc1) \
	VBROADCASTSS addr, bc;           \
	VFMADD231PS  bc, Z12, acc0;      \
	VFMADD231PS  bc, Z13, acc1

// The blocked driver's two AVX-512 kernels (panels512_amd64.s,
// wide512_amd64.s) share kernel6x16Panels's signature, argument registers
// and prefetch contract; these two macros are their common parts.

// PANELS_ARGS loads the arguments the tile loop keeps in registers: np in
// R13, a in SI, c in DX, ldc in bytes in R8, pf in AX, pfStride in bytes
// in R11, pfRows in R12.
#define PANELS_ARGS \
	MOVQ np+8(FP), R13;       \
	MOVQ a+16(FP), SI;        \
	MOVQ c+32(FP), DX;        \
	MOVQ ldc+40(FP), R8;      \
	SHLQ $2, R8;              \
	MOVQ pf+56(FP), AX;       \
	MOVQ pfStride+64(FP), R11; \
	SHLQ $2, R11;             \
	MOVQ pfRows+88(FP), R12

// PF_ROWS prefetches up to R10 rows of pfLines lines from AX on, R11
// bytes apart, while R12 rows of the plan remain, advancing AX and
// counting R12 down; row, line and done name the labels it uses (a
// function's labels must be its own). Clobbers BX, CX and R10.
#define PF_ROWS(row, line, done) \
row:                              \
	TESTQ R10, R10;               \
	JZ    done;                   \
	TESTQ R12, R12;               \
	JZ    done;                   \
	MOVQ  pfLines+72(FP), CX;     \
	MOVQ  AX, BX;                 \
line:                             \
	PREFETCHT0 (BX);              \
	ADDQ       $64, BX;           \
	DECQ       CX;                \
	JNZ        line;              \
	ADDQ       R11, AX;           \
	DECQ       R12;               \
	DECQ       R10;               \
	JMP        row;               \
done:
