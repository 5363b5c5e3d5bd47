package vecmath

// SwiGLU's elementwise products. Unlike ExpShift and Sigmoid, the assembly
// here is bit-identical to the Go code: it does the same multiplications
// and additions in the same order, unfused (Go does not fuse them on amd64
// without GOAMD64=v3), 8 lanes at a time. The training results depend on
// these values, so they must not change with the code path.

// SwiGLUForward sets y[i] = g[i]·sig[i]·u[i] (silu(g)·u, with sig = σ(g)),
// multiplied left to right. g, sig and u must be at least as long as y.
func SwiGLUForward(y, g, sig, u []float32) {
	n := len(y)
	g, sig, u = g[:n], sig[:n], u[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		swigluForwardAVX2(&y[0], &g[0], &sig[0], &u[0], done)
	}
	for i := done; i < n; i++ {
		y[i] = g[i] * sig[i] * u[i]
	}
}

// SwiGLUBackward sets, for dy the gradient of y = silu(g)·u and sig = σ(g),
//
//	dg[i] = dy[i]·u[i]·sig[i]·(1 + g[i]·(1 − sig[i])),  du[i] = dy[i]·g[i]·sig[i],
//
// each product left to right. All inputs must be at least as long as dg and du.
func SwiGLUBackward(dg, du, dy, g, sig, u []float32) {
	n := len(dg)
	du, dy, g, sig, u = du[:n], dy[:n], g[:n], sig[:n], u[:n]
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		swigluBackwardAVX2(&dg[0], &du[0], &dy[0], &g[0], &sig[0], &u[0], done)
	}
	for i := done; i < n; i++ {
		x, s := g[i], sig[i]
		dg[i] = dy[i] * u[i] * s * (1 + x*(1-s))
		du[i] = dy[i] * x * s
	}
}
