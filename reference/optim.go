package reference

import (
	"math"
	"sort"
)

// ClipGradNorm scales every gradient in place so that their global L2 norm
// is at most maxNorm, as torch.nn.utils.clip_grad_norm_ does:
//
//	norm = √(Σ g²) over all parameters,  coef = maxNorm / (norm + 1e-6),  g ← g·coef if coef < 1.
//
// maxNorm ≤ 0 turns clipping off. It returns the norm before clipping.
func ClipGradNorm(grads Params, maxNorm float64) float64 {
	var ss float64
	for _, name := range sortedNames(grads) {
		for _, v := range grads[name] {
			ss += v * v
		}
	}
	norm := math.Sqrt(ss)
	if maxNorm <= 0 {
		return norm
	}
	if coef := maxNorm / (norm + 1e-6); coef < 1 {
		for _, g := range grads {
			for i := range g {
				g[i] *= coef
			}
		}
	}
	return norm
}

// AdamW is PyTorch's torch.optim.AdamW (Loshchilov & Hutter 2019): decoupled
// weight decay, then the bias-corrected Adam step. For a parameter updated
// for the t-th time, with gradient g:
//
//	p ← p·(1 − lr·λ)
//	m ← β1·m + (1 − β1)·g,        v ← β2·v + (1 − β2)·g²
//	m̂ = m / (1 − β1ᵗ),            v̂ = v / (1 − β2ᵗ)
//	p ← p − lr·m̂ / (√v̂ + ε)
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
	M, V                           Params
	T                              map[string]int // updates applied, per parameter
}

// NewAdamW returns an optimizer with empty state.
func NewAdamW(beta1, beta2, eps, weightDecay float64) *AdamW {
	return &AdamW{Beta1: beta1, Beta2: beta2, Eps: eps, WeightDecay: weightDecay,
		M: Params{}, V: Params{}, T: map[string]int{}}
}

// Step updates every parameter that has a gradient in grads; the others
// (frozen weights) are left alone and get no state.
func (o *AdamW) Step(params, grads Params, lr float64) {
	for name, g := range grads {
		p := params[name]
		if o.M[name] == nil {
			o.M[name], o.V[name] = make([]float64, len(g)), make([]float64, len(g))
		}
		o.T[name]++
		t := float64(o.T[name])
		m, v := o.M[name], o.V[name]
		for i := range p {
			p[i] *= 1 - lr*o.WeightDecay
			m[i] = o.Beta1*m[i] + (1-o.Beta1)*g[i]
			v[i] = o.Beta2*v[i] + (1-o.Beta2)*g[i]*g[i]
			mHat := m[i] / (1 - math.Pow(o.Beta1, t))
			vHat := v[i] / (1 - math.Pow(o.Beta2, t))
			p[i] -= lr * mHat / (math.Sqrt(vHat) + o.Eps)
		}
	}
}

// Merge returns W + s·B·A for W [out×in], B [out×r], A [r×in] (flat,
// row-major): the weight a LoRA linear applies, and what a ReLoRA merge
// folds into W.
func Merge(w, a, b []float64, out, in int, s float64) []float64 {
	r := len(a) / in
	merged := append([]float64(nil), w...)
	for i := 0; i < out; i++ {
		for j := 0; j < in; j++ {
			var sum float64
			for k := 0; k < r; k++ {
				sum += b[i*r+k] * a[k*in+j]
			}
			merged[i*in+j] += s * sum
		}
	}
	return merged
}

// Clone returns a deep copy.
func (p Params) Clone() Params {
	out := Params{}
	for k, v := range p {
		out[k] = append([]float64(nil), v...)
	}
	return out
}

func sortedNames(p Params) []string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
