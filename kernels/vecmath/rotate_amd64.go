//go:build !purego

package vecmath

// rotateAVX2 is Rotate's loop over n floats, n a positive multiple of 8;
// see rotate_amd64.s.
//
//go:noescape
func rotateAVX2(dstLo, dstHi, lo, hi, cos, sin *float32, sign float32, n int)
