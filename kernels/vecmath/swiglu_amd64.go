//go:build !purego

package vecmath

// swigluForwardAVX2 is SwiGLUForward's loop over n floats, n a positive
// multiple of 8; see swiglu_amd64.s.
//
//go:noescape
func swigluForwardAVX2(y, gate, sig, u *float32, n int)

// swigluBackwardAVX2 is SwiGLUBackward's loop over n floats, n a positive
// multiple of 8; see swiglu_amd64.s.
//
//go:noescape
func swigluBackwardAVX2(dg, du, dy, gate, sig, u *float32, n int)
