// Package reference is a plain float64 implementation of the harness's
// decoder (model/), its hand-derived backward pass, and the optimizer step
// (global-norm clipping, AdamW) that train/ applies. It exists only so that
// tests can compare the fast float32 kernels against something obviously
// correct: it is written for clarity, not speed — one loop per formula,
// [][]float64 matrices, no concurrency, no reuse of buffers.
//
// The model, exactly as model/ defines it:
//
//	x   = Embed[ids]                                          (N×D, N = batch·T)
//	per layer:
//	  h = RMSNorm(x; attn_norm)                               rms = √(mean(x²) + eps)
//	  q = RoPE(h·Wqᵀ), k = RoPE(h·Wkᵀ), v = h·Wvᵀ
//	  a = softmax(q·kᵀ/√hd + causal mask)·v                   per sequence and head
//	  x = x + a·Woᵀ
//	  h = RMSNorm(x; ffn_norm)
//	  x = x + (silu(h·Wgateᵀ) ⊙ h·Wupᵀ)·Wdownᵀ               silu(z) = z·σ(z)
//	logits = RMSNorm(x; norm)·Headᵀ                           Head untied from Embed
//	loss   = mean over the N rows of −log softmax(logits)[target]
//
// RoPE pairs dimension i of a head with dimension i + hd/2 ("rotate_half",
// as the Hugging Face LLaMA), rotated by pos·base^(−2i/hd), pos = row mod T:
//
//	out[i] = x[i]·cos − x[i+hd/2]·sin,   out[i+hd/2] = x[i]·sin + x[i+hd/2]·cos.
//
// A projection whose parameters include "lora_a" and "lora_b" is a LoRA
// linear: y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ with W [out×in], A [r×in], B [out×r] and
// s = Config.LoRAScale (alpha/r). One given as "factor_a" and "factor_b"
// instead of a "weight" is a low-rank factorisation: y = (x·Aᵀ)·Bᵀ.
//
// Parameters are passed by the fast model's names ("embed",
// "layers.0.attn_norm", "layers.0.q.weight", "layers.0.q.lora_a", ...,
// "norm", "head"), each a flat row-major []float64.
package reference

import (
	"fmt"
	"math"
)

// Config is the decoder's shape (as model.Config) plus the LoRA scale.
type Config struct {
	Vocab, Dim, Layers, Heads, FFN, SeqLen int
	NormEps, RopeBase                      float64
	LoRAScale                              float64 // s = alpha/r of the projections that have LoRA factors

	// Variant deliberately computes a wrong model. Tests use it to prove that
	// their comparison with the fast model would catch these mistakes. The
	// zero value is the correct model.
	Variant Variant
}

// Variant lists deliberate mistakes the reference can make.
type Variant struct {
	AttentionScale    float64 // used instead of 1/√hd when non-zero
	RotaryInterleaved bool    // pair dimension 2i with 2i+1 (GPT-J layout) instead of i with i+hd/2
	RotaryReversed    bool    // rotate by −θ instead of θ (the halves swapped)
	NonCausal         bool    // attend to every position of the sequence, future ones too
}

// Params holds parameters (or gradients) by name, each a flat row-major slice.
type Params map[string][]float64

// ProjNames are the seven projections of a block, as model.ProjNames.
var ProjNames = []string{"q", "k", "v", "o", "gate", "up", "down"}

// Result is a forward and backward pass.
type Result struct {
	Loss   float64
	Logits [][]float64 // N × Vocab
	Grads  Params      // d loss / d parameter, for every parameter given (frozen weights too)
}

// ---------------------------------------------------------------------------
// Matrices: [][]float64, row-major.

func zeros(rows, cols int) [][]float64 {
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
	}
	return m
}

// reshape views a flat row-major slice as rows (copying).
func reshape(flat []float64, rows, cols int) [][]float64 {
	if len(flat) != rows*cols {
		panic(fmt.Sprintf("reference: %d values for a %d×%d matrix", len(flat), rows, cols))
	}
	m := zeros(rows, cols)
	for i := range m {
		copy(m[i], flat[i*cols:(i+1)*cols])
	}
	return m
}

func flatten(m [][]float64) []float64 {
	var out []float64
	for _, row := range m {
		out = append(out, row...)
	}
	return out
}

// matMulT returns x·wᵀ for x [n×in], w [out×in].
func matMulT(x, w [][]float64) [][]float64 {
	y := zeros(len(x), len(w))
	for i := range x {
		for o := range w {
			var s float64
			for j := range x[i] {
				s += x[i][j] * w[o][j]
			}
			y[i][o] = s
		}
	}
	return y
}

// matMul returns x·w for x [n×k], w [k×m].
func matMul(x, w [][]float64) [][]float64 {
	y := zeros(len(x), len(w[0]))
	for i := range x {
		for k := range w {
			for j := range w[k] {
				y[i][j] += x[i][k] * w[k][j]
			}
		}
	}
	return y
}

// tMatMul returns aᵀ·b for a [n×p], b [n×q]: a [p×q] weight gradient.
func tMatMul(a, b [][]float64) [][]float64 {
	y := zeros(len(a[0]), len(b[0]))
	for n := range a {
		for i := range a[n] {
			for j := range b[n] {
				y[i][j] += a[n][i] * b[n][j]
			}
		}
	}
	return y
}

func addInPlace(dst, src [][]float64) {
	for i := range dst {
		for j := range dst[i] {
			dst[i][j] += src[i][j]
		}
	}
}

func scaled(m [][]float64, s float64) [][]float64 {
	y := zeros(len(m), len(m[0]))
	for i := range m {
		for j := range m[i] {
			y[i][j] = s * m[i][j]
		}
	}
	return y
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// ---------------------------------------------------------------------------
// Layers, each a forward function and a backward function.

// linear is a projection, full-rank, LoRA or factored.
type linear struct {
	name     string // "layers.0.q"
	w, a, b  [][]float64
	s        float64
	lora     bool
	factored bool // no W: y = (x·Aᵀ)·Bᵀ
}

// forward returns x·Wᵀ (+ s·(x·Aᵀ)·Bᵀ), or (x·Aᵀ)·Bᵀ when factored.
func (l *linear) forward(x [][]float64) [][]float64 {
	if l.factored {
		return matMulT(matMulT(x, l.a), l.b)
	}
	y := matMulT(x, l.w)
	if l.lora {
		h := matMulT(x, l.a) // x·Aᵀ [n×r]
		addInPlace(y, scaled(matMulT(h, l.b), l.s))
	}
	return y
}

// backward returns dx and adds the parameter gradients to grads:
//
//	dW = dyᵀ·x,  dx = dy·W;  LoRA, with h = x·Aᵀ:  dB = s·dyᵀ·h,  dh = s·dy·B,  dA = dhᵀ·x,  dx += dh·A.
//	factored, with h = x·Aᵀ:  dB = dyᵀ·h,  dh = dy·B,  dA = dhᵀ·x,  dx = dh·A.
func (l *linear) backward(x, dy [][]float64, grads Params) [][]float64 {
	if l.factored {
		h := matMulT(x, l.a)
		grads[l.name+".factor_b"] = flatten(tMatMul(dy, h))
		dh := matMul(dy, l.b)
		grads[l.name+".factor_a"] = flatten(tMatMul(dh, x))
		return matMul(dh, l.a)
	}
	grads[l.name+".weight"] = flatten(tMatMul(dy, x))
	dx := matMul(dy, l.w)
	if l.lora {
		h := matMulT(x, l.a)
		grads[l.name+".lora_b"] = flatten(scaled(tMatMul(dy, h), l.s))
		dh := scaled(matMul(dy, l.b), l.s)
		grads[l.name+".lora_a"] = flatten(tMatMul(dh, x))
		addInPlace(dx, matMul(dh, l.a))
	}
	return dx
}

// rmsNorm returns y = x/rms(x) ⊙ g per row, rms = √(mean(x²) + eps), and the
// 1/rms of each row.
func rmsNorm(x [][]float64, g []float64, eps float64) (y [][]float64, inv []float64) {
	y = zeros(len(x), len(g))
	inv = make([]float64, len(x))
	for n, row := range x {
		var ss float64
		for _, v := range row {
			ss += v * v
		}
		inv[n] = 1 / math.Sqrt(ss/float64(len(row))+eps)
		for j, v := range row {
			y[n][j] = v * inv[n] * g[j]
		}
	}
	return y, inv
}

// rmsNormBackward returns dx and dg. With x̂ = x/rms and u = dy ⊙ g:
//
//	dx = (u − x̂·mean(u ⊙ x̂)) / rms,   dg = Σ_rows dy ⊙ x̂.
//
// (From ∂y_j/∂x_k = g_j·(δ_jk/rms − x_j·x_k/(D·rms³)).)
func rmsNormBackward(x [][]float64, g, inv []float64, dy [][]float64) (dx [][]float64, dg []float64) {
	D := len(g)
	dx = zeros(len(x), D)
	dg = make([]float64, D)
	for n, row := range x {
		var dot float64 // Σ_j u_j·x̂_j
		for j, v := range row {
			xhat := v * inv[n]
			dg[j] += dy[n][j] * xhat
			dot += dy[n][j] * g[j] * xhat
		}
		mean := dot / float64(D)
		for j, v := range row {
			xhat := v * inv[n]
			dx[n][j] = (dy[n][j]*g[j] - xhat*mean) * inv[n]
		}
	}
	return dx, dg
}

// ropePair returns, for pair i of a head of size hd, the two dimensions it
// rotates.
func (c *Config) ropePair(i, hd int) (lo, hi int) {
	if c.Variant.RotaryInterleaved {
		return 2 * i, 2*i + 1
	}
	return i, i + hd/2
}

// ropeAngle returns the rotation angle of pair i at position pos.
func (c *Config) ropeAngle(pos, i, hd int) float64 {
	theta := float64(pos) * math.Pow(c.RopeBase, -2*float64(i)/float64(hd))
	if c.Variant.RotaryReversed {
		return -theta
	}
	return theta
}

// rope rotates each pair (lo, hi) of every head of row n by angle θ(n mod T, i):
//
//	out[lo] = x[lo]·cos θ − x[hi]·sin θ,   out[hi] = x[lo]·sin θ + x[hi]·cos θ.
//
// inverse rotates by −θ: the backward pass (a rotation's transpose is its inverse).
func (c *Config) rope(x [][]float64, inverse bool) [][]float64 {
	hd := c.Dim / c.Heads
	y := zeros(len(x), c.Dim)
	for n := range x {
		pos := n % c.SeqLen
		for h := 0; h < c.Heads; h++ {
			base := h * hd
			for i := 0; i < hd/2; i++ {
				lo, hi := c.ropePair(i, hd)
				theta := c.ropeAngle(pos, i, hd)
				if inverse {
					theta = -theta
				}
				cs, sn := math.Cos(theta), math.Sin(theta)
				a, b := x[n][base+lo], x[n][base+hi]
				y[n][base+lo] = a*cs - b*sn
				y[n][base+hi] = a*sn + b*cs
			}
		}
	}
	return y
}

func (c *Config) attentionScale() float64 {
	if c.Variant.AttentionScale != 0 {
		return c.Variant.AttentionScale
	}
	return 1 / math.Sqrt(float64(c.Dim/c.Heads))
}

// visible returns how many keys query i sees: 0..i (causal).
func (c *Config) visible(i int) int {
	if c.Variant.NonCausal {
		return c.SeqLen
	}
	return i + 1
}

// attention returns softmax(q·kᵀ·scale + causal mask)·v per sequence and
// head, and the softmax probabilities probs[seq][head][i][j] (zero for j > i).
func (c *Config) attention(q, k, v [][]float64) (out [][]float64, probs [][][][]float64) {
	T, hd := c.SeqLen, c.Dim/c.Heads
	scale := c.attentionScale()
	seqs := len(q) / T
	out = zeros(len(q), c.Dim)
	probs = make([][][][]float64, seqs)
	for b := 0; b < seqs; b++ {
		probs[b] = make([][][]float64, c.Heads)
		for h := 0; h < c.Heads; h++ {
			P := zeros(T, T)
			for i := 0; i < T; i++ {
				qi := q[b*T+i][h*hd : (h+1)*hd]
				n := c.visible(i)
				scores := make([]float64, n)
				maxScore := math.Inf(-1)
				for j := 0; j < n; j++ {
					kj := k[b*T+j][h*hd : (h+1)*hd]
					for d := range qi {
						scores[j] += qi[d] * kj[d]
					}
					scores[j] *= scale
					maxScore = math.Max(maxScore, scores[j])
				}
				var sum float64
				for j := range scores {
					sum += math.Exp(scores[j] - maxScore)
				}
				for j := range scores {
					P[i][j] = math.Exp(scores[j]-maxScore) / sum
				}
				for j := 0; j < n; j++ {
					for d := 0; d < hd; d++ {
						out[b*T+i][h*hd+d] += P[i][j] * v[b*T+j][h*hd+d]
					}
				}
			}
			probs[b][h] = P
		}
	}
	return out, probs
}

// attentionBackward returns dq, dk, dv. Per sequence and head, with P the
// softmax and dO the output gradient:
//
//	dV[j] = Σ_i P[i][j]·dO[i],   dP[i][j] = dO[i]·V[j],
//	dS[i][j] = P[i][j]·(dP[i][j] − Σ_k P[i][k]·dP[i][k]),
//	dQ[i] = scale·Σ_j dS[i][j]·K[j],   dK[j] = scale·Σ_i dS[i][j]·Q[i].
func (c *Config) attentionBackward(q, k, v [][]float64, probs [][][][]float64, dOut [][]float64) (dq, dk, dv [][]float64) {
	T, hd := c.SeqLen, c.Dim/c.Heads
	scale := c.attentionScale()
	dq, dk, dv = zeros(len(q), c.Dim), zeros(len(q), c.Dim), zeros(len(q), c.Dim)
	dot := func(x, y []float64) float64 {
		var s float64
		for i := range x {
			s += x[i] * y[i]
		}
		return s
	}
	for b := range probs {
		for h := 0; h < c.Heads; h++ {
			P := probs[b][h]
			col := func(m [][]float64, row int) []float64 { return m[b*T+row][h*hd : (h+1)*hd] }
			for i := 0; i < T; i++ {
				n := c.visible(i)
				dP := make([]float64, n)
				var rowDot float64
				for j := 0; j < n; j++ {
					dP[j] = dot(col(dOut, i), col(v, j))
					rowDot += P[i][j] * dP[j]
				}
				for j := 0; j < n; j++ {
					dS := P[i][j] * (dP[j] - rowDot)
					for d := 0; d < hd; d++ {
						dv[b*T+j][h*hd+d] += P[i][j] * dOut[b*T+i][h*hd+d]
						dq[b*T+i][h*hd+d] += scale * dS * k[b*T+j][h*hd+d]
						dk[b*T+j][h*hd+d] += scale * dS * q[b*T+i][h*hd+d]
					}
				}
			}
		}
	}
	return dq, dk, dv
}

// swiglu returns silu(g) ⊙ u.
func swiglu(g, u [][]float64) [][]float64 {
	y := zeros(len(g), len(g[0]))
	for i := range g {
		for j, z := range g[i] {
			y[i][j] = z * sigmoid(z) * u[i][j]
		}
	}
	return y
}

// swigluBackward: d gate = dy·u·(σ(g) + g·σ(g)·(1 − σ(g))),  d up = dy·g·σ(g).
func swigluBackward(g, u, dy [][]float64) (dg, du [][]float64) {
	dg, du = zeros(len(g), len(g[0])), zeros(len(g), len(g[0]))
	for i := range g {
		for j, z := range g[i] {
			s := sigmoid(z)
			dg[i][j] = dy[i][j] * u[i][j] * (s + z*s*(1-s))
			du[i][j] = dy[i][j] * z * s
		}
	}
	return dg, du
}

// ---------------------------------------------------------------------------
// The model.

type block struct {
	attnNorm, ffnNorm []float64
	proj              map[string]*linear
}

type weights struct {
	embed, head [][]float64
	norm        []float64
	blocks      []block
}

func (c *Config) load(p Params) (*weights, error) {
	get := func(name string, n int) ([]float64, error) {
		v, ok := p[name]
		if !ok {
			return nil, fmt.Errorf("reference: no parameter %q", name)
		}
		if n > 0 && len(v) != n {
			return nil, fmt.Errorf("reference: parameter %q has %d values, want %d", name, len(v), n)
		}
		return v, nil
	}
	D, F, V := c.Dim, c.FFN, c.Vocab
	w := &weights{}
	e, err := get("embed", V*D)
	if err != nil {
		return nil, err
	}
	w.embed = reshape(e, V, D)
	hd, err := get("head", V*D)
	if err != nil {
		return nil, err
	}
	w.head = reshape(hd, V, D)
	if w.norm, err = get("norm", D); err != nil {
		return nil, err
	}
	shapes := map[string][2]int{"q": {D, D}, "k": {D, D}, "v": {D, D}, "o": {D, D}, "gate": {F, D}, "up": {F, D}, "down": {D, F}}
	for l := 0; l < c.Layers; l++ {
		pre := fmt.Sprintf("layers.%d.", l)
		b := block{proj: map[string]*linear{}}
		if b.attnNorm, err = get(pre+"attn_norm", D); err != nil {
			return nil, err
		}
		if b.ffnNorm, err = get(pre+"ffn_norm", D); err != nil {
			return nil, err
		}
		for _, name := range ProjNames {
			out, in := shapes[name][0], shapes[name][1]
			lin := &linear{name: pre + name, s: c.LoRAScale}
			if av, ok := p[lin.name+".factor_a"]; ok {
				r := len(av) / in
				if r < 1 || r*in != len(av) {
					return nil, fmt.Errorf("reference: %s.factor_a has %d values, not a positive multiple of %d", lin.name, len(av), in)
				}
				bv, err := get(lin.name+".factor_b", out*r)
				if err != nil {
					return nil, err
				}
				lin.factored, lin.a, lin.b = true, reshape(av, r, in), reshape(bv, out, r)
				b.proj[name] = lin
				continue
			}
			wv, err := get(lin.name+".weight", out*in)
			if err != nil {
				return nil, err
			}
			lin.w = reshape(wv, out, in)
			if av, ok := p[lin.name+".lora_a"]; ok {
				r := len(av) / in
				bv, err := get(lin.name+".lora_b", out*r)
				if err != nil {
					return nil, err
				}
				if r*in != len(av) || r < 1 {
					return nil, fmt.Errorf("reference: %s.lora_a has %d values, not a multiple of %d", lin.name, len(av), in)
				}
				lin.lora, lin.a, lin.b = true, reshape(av, r, in), reshape(bv, out, r)
			}
			b.proj[name] = lin
		}
		w.blocks = append(w.blocks, b)
	}
	return w, nil
}

// layerCache keeps a block's forward values for the backward pass.
type layerCache struct {
	x, h1, q0, k0, q, k, v, att, x2, h2, gate, up, z [][]float64
	inv1, inv2                                       []float64
	probs                                            [][][][]float64
}

// Forward returns the logits [len(inputs) × vocab].
func Forward(cfg Config, p Params, inputs []int32) ([][]float64, error) {
	res, err := run(cfg, p, inputs, nil)
	if err != nil {
		return nil, err
	}
	return res.Logits, nil
}

// LossAndGrads returns the mean cross-entropy loss, the logits and the
// gradient of the loss with respect to every parameter.
func LossAndGrads(cfg Config, p Params, inputs, targets []int32) (*Result, error) {
	if len(targets) != len(inputs) {
		return nil, fmt.Errorf("reference: %d targets for %d inputs", len(targets), len(inputs))
	}
	return run(cfg, p, inputs, targets)
}

// run is the whole reference in the order of the package comment's
// formulas: embedding, the blocks, the head, the loss, then the backward
// pass through the same steps in reverse. Each block's forward and
// backward sit next to each other below, so one can be checked against
// the other line by line.
func run(cfg Config, p Params, inputs, targets []int32) (*Result, error) {
	c := &cfg
	if c.Dim%c.Heads != 0 || (c.Dim/c.Heads)%2 != 0 {
		return nil, fmt.Errorf("reference: dim %d and heads %d do not give an even head size", c.Dim, c.Heads)
	}
	if len(inputs) == 0 || len(inputs)%c.SeqLen != 0 {
		return nil, fmt.Errorf("reference: %d tokens is not a multiple of seq_len %d", len(inputs), c.SeqLen)
	}
	w, err := c.load(p)
	if err != nil {
		return nil, err
	}

	// Forward.
	x, err := c.embed(w, inputs)
	if err != nil {
		return nil, err
	}
	caches := make([]layerCache, c.Layers)
	for l, b := range w.blocks {
		x = c.blockForward(b, x, &caches[l])
	}
	hf, invF := rmsNorm(x, w.norm, c.NormEps)
	logits := matMulT(hf, w.head)
	res := &Result{Logits: logits}
	if targets == nil {
		return res, nil
	}
	var dlogits [][]float64
	if res.Loss, dlogits, err = c.crossEntropy(logits, targets); err != nil {
		return nil, err
	}

	// Backward, in reverse order of the forward.
	g := Params{}
	g["head"] = flatten(tMatMul(dlogits, hf))
	dhf := matMul(dlogits, w.head)
	dx, dNorm := rmsNormBackward(x, w.norm, invF, dhf)
	g["norm"] = dNorm
	for l := c.Layers - 1; l >= 0; l-- {
		dx = c.blockBackward(l, w.blocks[l], &caches[l], dx, g)
	}
	g["embed"] = flatten(c.embedBackward(inputs, dx))
	res.Grads = g
	return res, nil
}

// embed looks up each token's row of the embedding: x = Embed[ids].
func (c *Config) embed(w *weights, inputs []int32) ([][]float64, error) {
	x := zeros(len(inputs), c.Dim)
	for n, id := range inputs {
		if id < 0 || int(id) >= c.Vocab {
			return nil, fmt.Errorf("reference: token %d outside the vocabulary", id)
		}
		copy(x[n], w.embed[id])
	}
	return x, nil
}

// residual is x + f, a new matrix: the forward keeps every x for the
// backward pass, so none is overwritten.
func residual(x, f [][]float64) [][]float64 {
	y := zeros(len(x), len(x[0]))
	for n := range y {
		for j := range y[n] {
			y[n][j] = x[n][j] + f[n][j]
		}
	}
	return y
}

// blockForward is one block, attention then SwiGLU, each behind an
// RMSNorm and added to the residual stream; it records in lc what
// blockBackward needs.
func (c *Config) blockForward(b block, x [][]float64, lc *layerCache) [][]float64 {
	lc.x = x
	lc.h1, lc.inv1 = rmsNorm(x, b.attnNorm, c.NormEps)
	lc.q0, lc.k0 = b.proj["q"].forward(lc.h1), b.proj["k"].forward(lc.h1)
	lc.q, lc.k = c.rope(lc.q0, false), c.rope(lc.k0, false)
	lc.v = b.proj["v"].forward(lc.h1)
	lc.att, lc.probs = c.attention(lc.q, lc.k, lc.v)
	lc.x2 = residual(x, b.proj["o"].forward(lc.att))
	lc.h2, lc.inv2 = rmsNorm(lc.x2, b.ffnNorm, c.NormEps)
	lc.gate, lc.up = b.proj["gate"].forward(lc.h2), b.proj["up"].forward(lc.h2)
	lc.z = swiglu(lc.gate, lc.up)
	return residual(lc.x2, b.proj["down"].forward(lc.z))
}

// blockBackward is blockForward's lines in reverse: given dx, the gradient
// at the block's output, it adds the block's parameter gradients to g
// (names prefixed "layers.l.") and returns the gradient at its input.
func (c *Config) blockBackward(l int, b block, lc *layerCache, dx [][]float64, g Params) [][]float64 {
	pre := fmt.Sprintf("layers.%d.", l)
	// x3 = x2 + down(z): the residual passes dx on to x2 unchanged.
	dz := b.proj["down"].backward(lc.z, dx, g)
	dGate, dUp := swigluBackward(lc.gate, lc.up, dz)
	dh2 := b.proj["gate"].backward(lc.h2, dGate, g)
	addInPlace(dh2, b.proj["up"].backward(lc.h2, dUp, g))
	dx2, dFFNNorm := rmsNormBackward(lc.x2, b.ffnNorm, lc.inv2, dh2)
	g[pre+"ffn_norm"] = dFFNNorm
	addInPlace(dx2, dx)
	// x2 = x + o(att).
	dAtt := b.proj["o"].backward(lc.att, dx2, g)
	dq, dk, dv := c.attentionBackward(lc.q, lc.k, lc.v, lc.probs, dAtt)
	dh1 := b.proj["q"].backward(lc.h1, c.rope(dq, true), g)
	addInPlace(dh1, b.proj["k"].backward(lc.h1, c.rope(dk, true), g))
	addInPlace(dh1, b.proj["v"].backward(lc.h1, dv, g))
	dx1, dAttnNorm := rmsNormBackward(lc.x, b.attnNorm, lc.inv1, dh1)
	g[pre+"attn_norm"] = dAttnNorm
	addInPlace(dx1, dx2)
	return dx1
}

// crossEntropy is the mean over rows of log-sum-exp − logit[target], with
// its gradient dlogits = (softmax − onehot(target)) / N.
func (c *Config) crossEntropy(logits [][]float64, targets []int32) (loss float64, dlogits [][]float64, err error) {
	N := len(logits)
	dlogits = zeros(N, c.Vocab)
	for n, row := range logits {
		t := targets[n]
		if t < 0 || int(t) >= c.Vocab {
			return 0, nil, fmt.Errorf("reference: target %d outside the vocabulary", t)
		}
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(v - m)
		}
		lse := m + math.Log(sum)
		loss += (lse - row[t]) / float64(N)
		for j, v := range row {
			dlogits[n][j] = math.Exp(v-lse) / float64(N)
		}
		dlogits[n][t] -= 1 / float64(N)
	}
	return loss, dlogits, nil
}

// embedBackward scatters dx back to the embedding rows of the inputs'
// tokens; a token that occurs several times sums its rows' gradients.
func (c *Config) embedBackward(inputs []int32, dx [][]float64) [][]float64 {
	dEmbed := zeros(c.Vocab, c.Dim)
	for n, id := range inputs {
		for j := range dEmbed[id] {
			dEmbed[id][j] += dx[n][j]
		}
	}
	return dEmbed
}
