package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/relorago/harness/kernels/vecmath"
)

// The one-row-at-a-time passes the four-row ones replaced, kept as the
// reference they must match bit for bit.

func oneRowRMSNormRows(y, inv, x, g []float32, d int, eps float32) {
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

func oneRowRMSNormBackwardRows(dx, dg, dy, x, g, inv []float32, d int) {
	for r, iv := range inv {
		xr, dyr := x[r*d:(r+1)*d], dy[r*d:(r+1)*d]
		if dg != nil {
			vecmath.AddMulScaled(dg, dyr, xr, iv)
		}
		if dx == nil {
			continue
		}
		var dot float32
		for j := range xr {
			dot += dyr[j] * g[j] * xr[j] * iv
		}
		vecmath.RMSNormDx(dx[r*d:(r+1)*d], dyr, g, xr, iv, dot/float32(d))
	}
}

func oneRowCausalSoftmaxBackward(dP, P []float32, T int) {
	for i := 0; i < T; i++ {
		pr, gr := P[i*T:i*T+i+1], dP[i*T:i*T+i+1]
		var dot float32
		for j, pv := range pr {
			dot += pv * gr[j]
		}
		vecmath.SoftmaxGrad(gr, pr, dot)
		clear(dP[i*T+i+1 : (i+1)*T])
	}
}

func randFloats(rng *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = scale * float32(rng.NormFloat64())
	}
	return v
}

func requireSameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if i := sameBits(got, want); i >= 0 {
		t.Fatalf("%s: element %d is %v, one row at a time gives %v", what, i, got[i], want[i])
	}
}

// TestRowSumsMatchOneRowAtATime holds the four-row passes to the one-row
// ones bit for bit, for row counts that are and are not multiples of four
// and for every combination of wanted gradients.
func TestRowSumsMatchOneRowAtATime(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, rows := range []int{1, 3, 4, 7, 64, 66} {
		for _, d := range []int{1, 5, 16, 128, 131} {
			x, g, dy := randFloats(rng, rows*d, 3), randFloats(rng, d, 1), randFloats(rng, rows*d, 1)
			y, inv := make([]float32, rows*d), make([]float32, rows)
			wy, winv := make([]float32, rows*d), make([]float32, rows)
			RMSNormRows(y, inv, x, g, d, 1e-5)
			oneRowRMSNormRows(wy, winv, x, g, d, 1e-5)
			requireSameBits(t, "RMSNorm y", y, wy)
			requireSameBits(t, "RMSNorm 1/rms", inv, winv)
			for _, wantDX := range []bool{false, true} {
				for _, wantDG := range []bool{false, true} {
					var dx, dg, wdx, wdg []float32
					if wantDX {
						dx, wdx = make([]float32, rows*d), make([]float32, rows*d)
					}
					if wantDG {
						dg = randFloats(rng, d, 1)
						wdg = slices.Clone(dg)
					}
					RMSNormBackwardRows(dx, dg, dy, x, g, inv, d)
					oneRowRMSNormBackwardRows(wdx, wdg, dy, x, g, inv, d)
					requireSameBits(t, "RMSNorm dx", dx, wdx)
					requireSameBits(t, "RMSNorm dg", dg, wdg)
				}
			}
		}
	}
	for _, T := range []int{1, 2, 4, 5, 11, 128} {
		P, dP := randFloats(rng, T*T, 1), randFloats(rng, T*T, 2)
		want := slices.Clone(dP)
		CausalSoftmaxBackward(dP, P, T)
		oneRowCausalSoftmaxBackward(want, P, T)
		requireSameBits(t, "softmax dS", dP, want)
	}
}
