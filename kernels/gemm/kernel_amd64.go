//go:build !openblas && !purego

package gemm

import (
	"golang.org/x/sys/cpu"

	"github.com/relorago/harness/internal/kernelchoice"
)

// useAVX2 selects the assembly micro-kernel. It needs AVX2 and FMA in the CPU
// and YMM state enabled by the OS (x/sys/cpu checks XGETBV for the latter).
// It is a variable so tests can force the portable kernel.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x16AVX2 computes C[0:6,0:16] = alpha*A·Bpanel + beta*C, reading
// A(r, p) at a[r*rsa+p*csa] and a packed kc×16 B panel; see kernel_amd64.s.
// It keeps no pointers, hence noescape, which lets the edge-tile buffer in
// the driver live on the stack.
//
//go:noescape
func kernel6x16AVX2(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

// kernel6x8AVX2 is kernel6x16AVX2 for a panel at most 8 columns wide:
// C[0:6,0:8] = alpha*A·B + beta*C, B read as the first 8 floats of each
// 16-float packed row.
//
//go:noescape
func kernel6x8AVX2(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

// copyRows16AVX2 packs a kc×16 panel: dst[p*16:p*16+16] = src[p*lds:...+16].
// kc must be >= 1.
//
//go:noescape
func copyRows16AVX2(kc int, src *float32, lds int, dst *float32)

// packRows16 packs a kc×16 panel from rows of src with stride lds.
func packRows16(kc int, src []float32, lds int, dst []float32) {
	// These checks make the unchecked assembly accesses safe.
	_ = src[(kc-1)*lds+nr-1]
	_ = dst[kc*nr-1]
	if useAVX2 {
		copyRows16AVX2(kc, &src[0], lds, &dst[0])
		return
	}
	packRows16Go(kc, src, lds, dst)
}

// packCols16AVX2 packs 8·n8 k steps of a transposed micro-panel,
// dst[p*16+j] = src[j*lds+p], as two 8×8 transposes per 8 k steps; see
// packcols_amd64.s. n8 must be >= 1.
//
//go:noescape
func packCols16AVX2(n8 int, src *float32, lds int, dst *float32)

// packCols16 packs a kc×16 micro-panel from 16 stored rows of src (stride
// lds), transposing: dst[p*16+j] = src[j*lds+p]; with AVX2 8 k steps at a
// time, the last kc mod 8 in Go.
func packCols16(kc int, src []float32, lds int, dst []float32) {
	n8 := kc / 8
	if !useAVX2 || n8 == 0 {
		packCols16Go(kc, src, lds, dst)
		return
	}
	// These checks make the assembly's unchecked accesses safe.
	_ = src[(nr-1)*lds+kc-1]
	_ = dst[kc*nr-1]
	packCols16AVX2(n8, &src[0], lds, &dst[0])
	if done := n8 * 8; done < kc {
		packCols16Go(kc-done, src[done:], lds, dst[done*nr:])
	}
}

// packPanelT6 packs a 6×kc panel of a transposed A: dst[p*6:p*6+6] =
// src[p*lds:p*lds+6]. kc must be >= 1.
//
//go:noescape
func packPanelT6(kc int, src *float32, lds int, dst *float32)

// packPanelN6 packs a 6×kl panel of a row-major A: dst[p*6+r] =
// src[r*lds+p].
func packPanelN6(kl int, src []float32, lds int, dst []float32) {
	if !useAVX2 {
		packPanelN6Go(kl, src, lds, dst)
		return
	}
	// These checks make the unchecked assembly accesses safe.
	_ = src[(mr-1)*lds+kl-1]
	_ = dst[mr*kl-1]
	packPanelN6AVX(kl, &src[0], lds, &dst[0])
}

// packPanelN6AVX is packPanelN6 in assembly (AVX); kl must be >= 1.
//
//go:noescape
func packPanelN6AVX(kl int, src *float32, lds int, dst *float32)

// kernel6x16Panels computes np 6×16 tiles that share one packed B
// micro-panel, from np consecutive packed 6×kc A panels, tile t into C
// rows 6t..6t+5; each tile bit for bit as kernel6x16AVX2 computes it
// (rsa 1, csa 6). Before each tile it prefetches up to pfPerTile rows of
// pfLines cache lines, pfStride floats apart from pf, pfRows rows in all;
// see panels_amd64.s.
//
//go:noescape
func kernel6x16Panels(kc, np int, a, b, c *float32, ldc int, alpha, beta float32, pf *float32, pfStride, pfLines, pfPerTile, pfRows int)

// packRows16Sweep packs np kc×16 micro-panels of a row-major matrix,
// reading it row by row: dst[j*kc*16+p*16 : +16] = src[p*lds+j*16 : +16].
// kc and np must be >= 1.
//
//go:noescape
func packRows16Sweep(kc, np int, src *float32, lds int, dst *float32)

// useAVX512 sends full tiles to the ZMM kernels, which give their AVX2
// twins' bits: pairs of adjacent 6×16 tiles as one 6×32 tile
// (kernel6x32Panels512, kernel6x32AVX512; see wide512), a 6×16 tile left
// over to kernel6x16Panels512 or kernel6x16AVX512 (in place, two of them
// stacked in a 16-wide product to kernel12x16AVX512). It needs AVX-512F
// in the CPU and ZMM state enabled by the OS (x/sys/cpu checks both), and
// kernelchoice.Var (RELORA_GEMM_KERNEL) not set to "avx2". A variable so tests can compare the kernels
// on one machine.
var useAVX512 = hasAVX512 && !kernelchoice.AVX2Only()

// hasAVX512 is whether the ZMM kernels can run here at all: what their
// tests need, whatever kernelchoice.Var chose.
var hasAVX512 = useAVX2 && cpu.X86.HasAVX512F

// kernel6x16Panels512 is kernel6x16Panels on ZMM registers, two tiles at
// a time; same contract, same bits (panels512_amd64.s).
//
//go:noescape
func kernel6x16Panels512(kc, np int, a, b, c *float32, ldc int, alpha, beta float32, pf *float32, pfStride, pfLines, pfPerTile, pfRows int)

// kernel6x16AVX512 is kernel6x16AVX2 on ZMM registers, one per tile row;
// same contract, same bits (kernel512_amd64.s).
//
//go:noescape
func kernel6x16AVX512(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

// kernel6x32Panels512 is kernel6x16Panels512 for 6×32 tiles, reading two
// adjacent B micro-panels (the second 16·kc floats after b); every tile
// gives the bits of two 6×16 tiles side by side (wide512_amd64.s).
//
//go:noescape
func kernel6x32Panels512(kc, np int, a, b, c *float32, ldc int, alpha, beta float32, pf *float32, pfStride, pfLines, pfPerTile, pfRows int)

// kernel6x32AVX512 is kernel6x16AVX512 for a 6×32 tile whose second B
// micro-panel starts bs floats after b; same bits as two 6×16 tiles
// (wide512_amd64.s).
//
//go:noescape
func kernel6x32AVX512(kc int, a *float32, rsa, csa int, b *float32, bs int, c *float32, ldc int, alpha, beta float32)

// kernel12x16AVX512 is kernel6x16AVX512 for two 6-row A panels at once
// (rows 0-5 over k steps [0, head+both), rows 6-11 over [head,
// head+both+tail)); same bits as the two 6×16 tiles (tall512_amd64.s).
//
//go:noescape
func kernel12x16AVX512(head, both, tail int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32)

// tall512 lets the in-place driver compute two 6×16 tiles stacked in a
// product 16 columns wide as one 12×16 tile (kernel12x16AVX512). A
// variable so that tests can time and compare the kernels with and
// without it.
var tall512 = true

// wide512 lets the AVX-512 drivers compute two adjacent 6×16 tiles as one
// 6×32 tile (kernel6x32Panels512, kernel6x32AVX512). A variable so that
// tests can time and compare the kernels with and without it.
var wide512 = true
