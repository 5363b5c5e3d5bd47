package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRMSNormLoopsBitIdentical checks the assembly loops against the Go
// formulas bit for bit, over lengths with and without a scalar tail.
func TestRMSNormLoopsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, n := range []int{1, 7, 8, 13, 128} {
		x, g, dy, acc := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
			g[i] = float32(1 + 0.1*rng.NormFloat64())
			dy[i] = float32(rng.NormFloat64() * 1e-2)
			acc[i] = float32(rng.NormFloat64())
		}
		inv, mean := float32(1.37), float32(-0.021)
		y, dg, dx := make([]float32, n), append([]float32(nil), acc...), make([]float32, n)
		ScaleMul(y, x, inv, g)
		AddMulScaled(dg, dy, x, inv)
		RMSNormDx(dx, dy, g, x, inv, mean)
		for i := 0; i < n; i++ {
			want := [3]float32{x[i] * inv * g[i], acc[i] + dy[i]*x[i]*inv, (dy[i]*g[i] - x[i]*inv*mean) * inv}
			got := [3]float32{y[i], dg[i], dx[i]}
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("n=%d i=%d loop %d: %g, want %g", n, i, j, got[j], want[j])
				}
			}
		}
	}
}
