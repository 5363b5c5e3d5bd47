package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
)

// TestLoRAComposedMatchesGraph checks that the op gives the composed
// graph's output and every gradient bit for bit (the committed results
// depend on it): W frozen as in ReLoRA, the input shared with other
// consumers before and after the LoRA linear (so the order in which x's
// gradient parts are summed matters), scales 1 and not 1, 1 and 2 threads,
// and sizes that leave edge tiles.
func TestLoRAComposedMatchesGraph(t *testing.T) {
	const n, d, out, r = 50, 24, 40, 8
	for _, scale := range []float32{1, 4, 0.7} {
		for _, threads := range []int{1, 2} {
			var results [2][][]float32
			for k, composed := range []bool{true, false} {
				rng := rand.New(rand.NewPCG(41, 42))
				x0, g := randParam(rng, n, d, 1), randParam(rng, 1, d, 1)
				w, a, b := randParam(rng, out, d, 0.3), randParam(rng, r, d, 0.3), randParam(rng, out, r, 0.3)
				v1, v2 := randParam(rng, out, d, 0.3), randParam(rng, out, d, 0.3)
				w.SetRequiresGrad(false)
				c := NewCtx(threads)
				c.arena.poison = true
				x := c.RMSNorm(x0, g, 1e-6)
				before := c.Linear(x, v1)
				var y mat.Tensor
				if composed {
					y = c.Add(c.Linear(x, w), c.Linear(c.Linear(x, a), b), scale)
				} else {
					y = c.LoRAComposed(x, w, a, b, scale)
				}
				after := c.Linear(x, v2)
				sum := c.Add(c.Add(before, y, 1), after, 1)
				sm := ValueOf(sum)
				rg := make([]float32, len(sm.data))
				for i := range rg {
					rg[i] = float32(rng.NormFloat64())
				}
				sum.AccGrad(NewMat(sm.rows, sm.cols, rg))
				if err := ag.Backward(sum); err != nil {
					t.Fatal(err)
				}
				results[k] = [][]float32{append([]float32(nil), ValueOf(y).data...), x0.GradRaw(), g.GradRaw(), a.GradRaw(), b.GradRaw(), v1.GradRaw(), v2.GradRaw()}
			}
			for i := range results[0] {
				for j := range results[0][i] {
					if math.Float32bits(results[0][i][j]) != math.Float32bits(results[1][i][j]) {
						t.Fatalf("scale %g, %d threads, result %d (y, dx0, dg, dA, dB, dV1, dV2) [%d]: graph %g, op %g",
							scale, threads, i, j, results[0][i][j], results[1][i][j])
					}
				}
			}
		}
	}
}
