//go:build !openblas && (!amd64 || purego)

package gemm

// useAVX2 is false off amd64 (or with the purego tag): only the portable Go
// micro-kernel exists there.
var useAVX2 = false

// kernel6x16AVX2 and kernel6x8AVX2 are never called when useAVX2 is false;
// they exist so the driver compiles on every architecture.
func kernel6x16AVX2(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32) {
	panic("gemm: AVX2 kernel not available")
}

func kernel6x8AVX2(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32) {
	panic("gemm: AVX2 kernel not available")
}

// packRows16 packs a kc×16 panel from rows of src with stride lds.
func packRows16(kc int, src []float32, lds int, dst []float32) {
	packRows16Go(kc, src, lds, dst)
}

// packCols16 packs a transposed kc×16 micro-panel: dst[p*16+j] =
// src[j*lds+p].
func packCols16(kc int, src []float32, lds int, dst []float32) {
	packCols16Go(kc, src, lds, dst)
}

// packPanelT6 is never called when useAVX2 is false.
func packPanelT6(kc int, src *float32, lds int, dst *float32) {
	panic("gemm: AVX2 packing not available")
}

// packPanelN6 packs a 6×kl panel of a row-major A: dst[p*6+r] =
// src[r*lds+p].
func packPanelN6(kl int, src []float32, lds int, dst []float32) {
	packPanelN6Go(kl, src, lds, dst)
}

func kernel6x16Panels(kc, np int, a, b, c *float32, ldc int, alpha, beta float32, pf *float32, pfStride, pfLines, pfPerTile, pfRows int) {
	panic("gemm: AVX2 kernel not available")
}

func packRows16Sweep(kc, np int, src *float32, lds int, dst *float32) {
	panic("gemm: AVX2 packing not available")
}

// useAVX512 and hasAVX512 are false off amd64 (or with the purego tag).
var useAVX512, hasAVX512 = false, false

// wide512 and tall512 have no effect off amd64.
var wide512, tall512 = false, false

func kernel6x16Panels512(kc, np int, a, b, c *float32, ldc int, alpha, beta float32, pf *float32, pfStride, pfLines, pfPerTile, pfRows int) {
	panic("gemm: AVX-512 kernel not available")
}

func kernel6x16AVX512(kc int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32) {
	panic("gemm: AVX-512 kernel not available")
}

func kernel6x32Panels512(kc, np int, a, b, c *float32, ldc int, alpha, beta float32, pf *float32, pfStride, pfLines, pfPerTile, pfRows int) {
	panic("gemm: AVX-512 kernel not available")
}

func kernel6x32AVX512(kc int, a *float32, rsa, csa int, b *float32, bs int, c *float32, ldc int, alpha, beta float32) {
	panic("gemm: AVX-512 kernel not available")
}

func kernel12x16AVX512(head, both, tail int, a *float32, rsa, csa int, b, c *float32, ldc int, alpha, beta float32) {
	panic("gemm: AVX-512 kernel not available")
}
