package kernels_test

import (
	"math"
	"testing"

	"github.com/relorago/harness/kernels"
)

// These tests pin conventions that finite-difference gradient checks cannot
// see (a consistently wrong forward has consistent gradients): the rotary
// layout and direction, and the attention scale and mask, on inputs whose
// outputs are known in closed form.

// Rotary: dimension i of a head pairs with i + hd/2 and rotates by
// θ = pos·base^(−2i/hd), pos = row mod seqLen:
//
//	out[i] = x[i]·cos θ − x[i+hd/2]·sin θ,   out[i+hd/2] = x[i]·sin θ + x[i+hd/2]·cos θ.
//
// A unit vector at dimension j of head 1 therefore lands on j and its
// partner with cos θ and ±sin θ, and nothing else moves.
func TestRotaryLayoutAndDirection(t *testing.T) {
	const heads, hd, T, base = 2, 8, 5, 10000.0
	const d, half = heads * hd, hd / 2
	for j := 0; j < hd; j++ {
		n := 2 * T // two sequences: positions restart at the second
		x := kernels.NewMat(n, d, make([]float32, n*d))
		for r := 0; r < n; r++ {
			x.Raw()[r*d+hd+j] = 1
		}
		c := kernels.NewCtx(1)
		y := kernels.Data(c.Rotary(x, heads, T, base).Value())
		i, partner, sign := j, j+half, 1.0 // j in the low half: the partner gets +sin
		if j >= half {
			i, partner, sign = j-half, j-half, -1.0 // j in the high half: the partner gets −sin
		}
		for r := 0; r < n; r++ {
			theta := float64(r%T) * math.Pow(base, -2*float64(i)/hd)
			want := make([]float64, d)
			want[hd+j] = math.Cos(theta)
			want[hd+partner] += sign * math.Sin(theta)
			for k := 0; k < d; k++ {
				if got := float64(y[r*d+k]); math.Abs(got-want[k]) > 1e-6 {
					t.Fatalf("unit vector at head 1 dim %d, row %d (position %d): output dim %d = %.7f, want %.7f",
						j, r, r%T, k, got, want[k])
				}
			}
		}
	}
}

// Attention: softmax(q·kᵀ/√hd + causal mask)·v. Query 1 sees keys 0 and 1;
// with q₁·k₀ = √hd·ln 3 and q₁·k₁ = 0 the scaled scores are (ln 3, 0), so
// the weights are exactly (3/4, 1/4) — with 1/hd or no scale they are not.
// Query 0 sees only key 0: its output is v₀ whatever the later rows hold
// (they are made huge here).
func TestAttentionScaleAndMask(t *testing.T) {
	for _, hd := range []int{4, 16} {
		const T = 3
		d := hd // one head
		q, k, v := make([]float32, T*d), make([]float32, T*d), make([]float32, T*d)
		a := math.Sqrt(float64(hd)) * math.Log(3)
		q[1*d+0] = float32(a / 2) // q₁ = (a/2, 0, …), k₀ = (2, 0, …): q₁·k₀ = a
		k[0*d+0] = 2
		v[0*d+0], v[1*d+1] = 1, 1 // v₀ = e₀, v₁ = e₁
		for j := 0; j < d; j++ {
			k[2*d+j], v[2*d+j], q[2*d+j] = 1e3, 1e3, 1e3 // row 2: the future of rows 0 and 1
		}
		c := kernels.NewCtx(1)
		y := kernels.Data(c.CausalAttention(kernels.NewMat(T, d, q), kernels.NewMat(T, d, k), kernels.NewMat(T, d, v), 1, T).Value())
		for j := 0; j < d; j++ {
			want0, want1 := 0.0, 0.0
			switch j {
			case 0:
				want0, want1 = 1, 0.75
			case 1:
				want1 = 0.25
			}
			if got := float64(y[j]); got != want0 {
				t.Errorf("hd %d: output row 0 dim %d = %g, want %g (row 0 may only see v₀)", hd, j, got, want0)
			}
			if got := float64(y[d+j]); math.Abs(got-want1) > 1e-6 {
				t.Errorf("hd %d: output row 1 dim %d = %.7f, want %g (weights (3/4, 1/4) need the scale 1/√hd)", hd, j, got, want1)
			}
		}
	}
}

// One Ctx running Rotary with two bases must use each base's own angles
// (the table cache once keyed bases by their integer part).
func TestRotaryTableCacheKeepsBasesApart(t *testing.T) {
	const T, d = 4, 8
	x := kernels.NewMat(T, d, make([]float32, T*d))
	for r := 0; r < T; r++ {
		x.Raw()[r*d+1] = 1
	}
	fresh := kernels.Data(kernels.NewCtx(1).Rotary(x, 1, T, 10.9).Value())
	c := kernels.NewCtx(1)
	c.Rotary(x, 1, T, 10.2)
	shared := kernels.Data(c.Rotary(x, 1, T, 10.9).Value())
	for i := range fresh {
		if shared[i] != fresh[i] {
			t.Fatalf("base 10.9 after base 10.2 on one Ctx: value %d = %g, a fresh Ctx gives %g", i, shared[i], fresh[i])
		}
	}
}
