//go:build !purego

package vecmath

// adamwAVX2 is AdamW's loop over n floats, n a positive multiple of 8; see
// adamw_amd64.s.
//
//go:noescape
func adamwAVX2(w, grad, m, v *float32, c *AdamWStep, n int)
