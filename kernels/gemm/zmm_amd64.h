// Macros shared by the AVX-512 micro-kernels (kernel512_amd64.s,
// panels512_amd64.s). R8 holds ldc in bytes, DX the C row being stored.

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

// ZBETA_ZERO jumps to general unless beta (loaded and broadcast into Z15)
// is +0 or -0; a NaN beta compares unordered and takes general too.
#define ZBETA_ZERO(beta, general) \
	VBROADCASTSS beta, Z15;   \
	VXORPS       X13, X13, X13; \
	VUCOMISS     X13, X15;    \
	JNE          general;     \
	JPS          general
