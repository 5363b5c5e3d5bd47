//go:build !purego

package vecmath

// rotateAVX2 is Rotate's loop over n floats, n a positive multiple of 8;
// see rotate_amd64.s.
//
//go:noescape
func rotateAVX2(dstLo, dstHi, lo, hi, cos, sin *float32, sign float32, n int)

// rotateHeadsAVX2 is RotateHeads' loop: heads heads of hd floats, hd/2 a
// positive multiple of 8; see rotate_amd64.s.
//
//go:noescape
func rotateHeadsAVX2(dst, src, cos, sin *float32, sign float32, heads, hd int)
