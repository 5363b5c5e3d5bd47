package elementwise

import (
	"math"

	"github.com/relorago/harness/kernels/vecmath"
)

// The passes below are the loops of kernels' op_rmsnorm.go, op_swiglu.go,
// op_attention.go (causalSoftmax and the backward's row step) and
// op_rotary.go, and of train.AdamW.Step, run on one thread: chunk after
// chunk, as kernels.Ctx.parallel runs them with one core. A test holds the
// forward passes to the ops' outputs.

// The ops' minimum chunk sizes (the second argument of their parallel call).
const (
	rmsNormGrain = 64
	swigluGrain  = 1 << 13
)

// filled returns n floats of a fixed pattern in (−0.5, 0.5), never zero:
// cheap to make at a d 1024 model's size, and no denormals.
func filled(n, seed int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((i*7+seed)%97)/97 - 0.5
	}
	return x
}

func (s Shape) rmsNormForward() func() {
	n, d, eps := s.Rows(), s.Dim, float32(s.NormEps)
	x, g, y, inv := filled(n*d, 1), filled(d, 2), make([]float32, n*d), make([]float32, n)
	return func() { rmsNormRows(y, inv, x, g, d, eps) }
}

// rmsNormRows is RMSNorm's forward over the rows of x [len(inv) × d].
func rmsNormRows(y, inv, x, g []float32, d int, eps float32) {
	for r := range inv {
		xr, yr := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
		var ss float32
		for _, v := range xr {
			ss += v * v
		}
		iv := float32(1 / math.Sqrt(float64(ss/float32(d)+eps)))
		inv[r] = iv
		vecmath.ScaleMul(yr, xr, iv, g)
	}
}

func (s Shape) rmsNormBackward() func() {
	n, d := s.Rows(), s.Dim
	parts := chunks(n, rmsNormGrain)
	x, dy, g := filled(n*d, 1), filled(n*d, 3), filled(d, 2)
	inv := make([]float32, n)
	for r := range inv {
		inv[r] = 3.5 // about 1/rms of the fill pattern's rows
	}
	dx, partial := make([]float32, n*d), make([]float32, parts*d)
	return func() {
		clear(partial) // the op takes it zeroed from the arena
		for p := range parts {
			dg := partial[p*d : (p+1)*d]
			for r := p * n / parts; r < (p+1)*n/parts; r++ {
				xr, dyr, iv := x[r*d:(r+1)*d], dy[r*d:(r+1)*d], inv[r]
				vecmath.AddMulScaled(dg, dyr, xr, iv)
				var dot float32
				for j := range xr {
					dot += dyr[j] * g[j] * xr[j] * iv
				}
				vecmath.RMSNormDx(dx[r*d:(r+1)*d], dyr, g, xr, iv, dot/float32(d))
			}
		}
	}
}

func (s Shape) swigluForward() func() {
	n := s.Rows() * s.FFN
	parts := chunks(n, swigluGrain)
	g, u, sig, y := filled(n, 1), filled(n, 2), make([]float32, n), make([]float32, n)
	return func() { swigluChunks(y, sig, g, u, parts) }
}

// swigluChunks is SwiGLU's forward, chunk after chunk: σ of a chunk is
// re-read while it is still in cache.
func swigluChunks(y, sig, g, u []float32, parts int) {
	n := len(y)
	for p := range parts {
		lo, hi := p*n/parts, (p+1)*n/parts
		vecmath.Sigmoid(sig[lo:hi], g[lo:hi])
		vecmath.SwiGLUForward(y[lo:hi], g[lo:hi], sig[lo:hi], u[lo:hi])
	}
}

func (s Shape) swigluBackward() func() {
	n := s.Rows() * s.FFN
	parts := chunks(n, swigluGrain)
	g, u, dy := filled(n, 1), filled(n, 2), filled(n, 3)
	sig := make([]float32, n)
	vecmath.Sigmoid(sig, g)
	dg, du := make([]float32, n), make([]float32, n)
	return func() {
		for p := range parts {
			lo, hi := p*n/parts, (p+1)*n/parts
			vecmath.SwiGLUBackward(dg[lo:hi], du[lo:hi], dy[lo:hi], g[lo:hi], sig[lo:hi], u[lo:hi])
		}
	}
}

// softmaxForward runs causalSoftmax over every pair's scores, in place:
// after the first pass it normalises probabilities again, whose values
// stay in (0, 1], so every pass does the same work.
func (s Shape) softmaxForward() func() {
	T, pairs := s.SeqLen, s.pairs()
	P := filled(pairs*T*T, 1)
	return func() {
		for p := range pairs {
			causalSoftmax(P[p*T*T:(p+1)*T*T], T)
		}
	}
}

// causalSoftmax is kernels' causalSoftmax: softmax over each row's columns
// 0..i, exact zeros above the diagonal.
func causalSoftmax(s []float32, T int) {
	for i := range T {
		row := s[i*T : (i+1)*T]
		m := vecmath.Max(row[:i+1])
		inv := 1 / vecmath.ExpShift(row[:i+1], row[:i+1], m)
		vecmath.Scale(row[:i+1], row[:i+1], inv)
		clear(row[i+1:])
	}
}

// softmaxBackward is the attention backward's row step, dS = P ⊙ (dP −
// rowsum(dP ⊙ P)), over every pair. In the op a GEMM writes dP into the
// chunk's scratch just before; here the scratch starts at zero, which the
// step maps to zero (no denormals on later passes) at the same cost.
func (s Shape) softmaxBackward() func() {
	T, pairs := s.SeqLen, s.pairs()
	parts := chunks(pairs, 1)
	P := filled(pairs*T*T, 1)
	for p := range pairs {
		causalSoftmax(P[p*T*T:(p+1)*T*T], T)
	}
	scratch := make([]float32, parts*T*T)
	return func() {
		for c := range parts {
			dP := scratch[c*T*T : (c+1)*T*T]
			for p := c * pairs / parts; p < (c+1)*pairs/parts; p++ {
				Pp := P[p*T*T : (p+1)*T*T]
				for i := range T {
					pr, gr := Pp[i*T:i*T+i+1], dP[i*T:i*T+i+1]
					var dot float32
					for j, pv := range pr {
						dot += pv * gr[j]
					}
					vecmath.SoftmaxGrad(gr, pr, dot)
					clear(dP[i*T+i+1 : (i+1)*T])
				}
			}
		}
	}
}

// rotary rotates every head's pairs (i, i+hd/2) of every row by its
// position's angles, from a cos/sin table made as kernels' ropeTable.
func (s Shape) rotary() func() {
	cos, sin := ropeTable(s.SeqLen, s.headDim(), s.RopeBase)
	x, y := filled(s.Rows()*s.Dim, 1), make([]float32, s.Rows()*s.Dim)
	return func() { rotateRows(y, x, cos, sin, s.Dim, s.Heads, s.SeqLen) }
}

// rotateRows is Rotary's forward over the rows of x [n × d]; row r is
// position r mod T.
func rotateRows(y, x, cos, sin []float32, d, heads, T int) {
	hd := d / heads
	half := hd / 2
	for r := range len(x) / d {
		pos := r % T
		cs, sn := cos[pos*half:(pos+1)*half], sin[pos*half:(pos+1)*half]
		for h := range heads {
			src, dst := x[r*d+h*hd:r*d+(h+1)*hd], y[r*d+h*hd:r*d+(h+1)*hd]
			vecmath.Rotate(dst[:half], dst[half:], src[:half], src[half:], cs, sn, 1)
		}
	}
}

// ropeTable is cos and sin of pos·base^(−2i/hd), [T × hd/2] each.
func ropeTable(T, hd int, base float64) (cos, sin []float32) {
	half := hd / 2
	cos, sin = make([]float32, T*half), make([]float32, T*half)
	for p := range T {
		for i := range half {
			theta := float64(p) * math.Pow(base, -2*float64(i)/float64(hd))
			cos[p*half+i], sin[p*half+i] = float32(math.Cos(theta)), float32(math.Sin(theta))
		}
	}
	return cos, sin
}

// adamw updates every parameter tensor of the full-rank model, one
// vecmath.AdamW call each, with a fixed gradient: m and v settle at g and
// g², w moves by about lr a pass, so no value drifts to a denormal.
func (s Shape) adamw() func() {
	sizes := s.paramSizes()
	total := 0
	for _, n := range sizes {
		total += n
	}
	w, g, m, v := filled(total, 1), filled(total, 2), make([]float32, total), make([]float32, total)
	for i := range g {
		g[i] *= 1e-2
	}
	const lr, decay = 1e-3, 0.01
	c := vecmath.AdamWStep{B1: 0.9, B2: 0.999, StepSize: lr, InvBc2: 1, Eps: 1e-8, Decay: 1 - lr*decay}
	return func() {
		off := 0
		for _, n := range sizes {
			vecmath.AdamW(w[off:off+n], g[off:off+n], m[off:off+n], v[off:off+n], c)
			off += n
		}
	}
}
