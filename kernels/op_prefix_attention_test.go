package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
)

// prefixShape is one test shape: sequences of T positions, heads of hd
// columns, p prefix slots.
type prefixShape struct{ seqs, T, heads, hd, p int }

// Shapes with several sequences and heads, one position (a row that sees
// only the prefix and itself), rows and columns off the GEMM's 6×16 tiles,
// and more prefix slots than positions.
var prefixShapes = []prefixShape{{3, 6, 2, 4, 3}, {2, 1, 2, 4, 2}, {2, 13, 3, 6, 1}, {1, 5, 1, 8, 7}, {2, 20, 2, 16, 4}}

// prefixInputs draws q, k, v [n×d] and the prefix's keys and values [p×d].
func prefixInputs(seed uint64, s prefixShape) []*Mat {
	rng := rand.New(rand.NewPCG(seed, 99))
	n, d := s.seqs*s.T, s.heads*s.hd
	return []*Mat{randParam(rng, n, d, 1), randParam(rng, n, d, 1), randParam(rng, n, d, 1), randParam(rng, s.p, d, 1), randParam(rng, s.p, d, 1)}
}

func prefixOp(s prefixShape) func(c *Ctx, in []mat.Tensor) mat.Tensor {
	return func(c *Ctx, in []mat.Tensor) mat.Tensor {
		return c.PrefixAttention(in[0], in[1], in[2], in[3], in[4], s.heads, s.T)
	}
}

// The op's gradients with respect to q, k, v and both prefix tensors agree
// with central finite differences, with 1 and 2 threads, a NaN-poisoned
// arena, and the prefix frozen (as a model's weights are in LoRA) too.
func TestPrefixAttentionGradients(t *testing.T) {
	var worst float64
	for i, s := range prefixShapes {
		for _, threads := range []int{1, 2} {
			in := prefixInputs(uint64(i), s)
			worst = math.Max(worst, checkGrad(t, threads, in, prefixOp(s)))
			in[0].SetRequiresGrad(false) // only the prefix and k, v train
			in[1].SetRequiresGrad(false)
			worst = math.Max(worst, checkGrad(t, threads, in, prefixOp(s)))
		}
	}
	t.Logf("max relative error of the analytic gradients against finite differences: %.3g", worst)
}

// attentionRun runs one attention op forward and backward with output
// gradient drawn from seed, and returns the output and every input's
// gradient (nil for one that requires none), copied.
func attentionRun(t *testing.T, threads int, in []*Mat, seed uint64, f func(c *Ctx, in []mat.Tensor) mat.Tensor) [][]float32 {
	t.Helper()
	ts := make([]mat.Tensor, len(in))
	for i, m := range in {
		m.ZeroGrad()
		ts[i] = m
	}
	c := NewCtx(threads)
	c.arena.poison = true
	y := f(c, ts)
	ym := ValueOf(y)
	rng := rand.New(rand.NewPCG(seed, 5))
	g := make([]float32, len(ym.data))
	for i := range g {
		g[i] = float32(rng.NormFloat64())
	}
	y.AccGrad(NewMat(ym.rows, ym.cols, g))
	if err := ag.Backward(y); err != nil {
		t.Fatal(err)
	}
	out := [][]float32{append([]float32(nil), ym.data...)}
	for _, m := range in {
		out = append(out, append([]float32(nil), m.GradRaw()...))
	}
	return out
}

func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// With no prefix slots (p = 0) the op's output and the gradients of q, k
// and v are CausalAttention's bit for bit, with 1 and 2 threads: a model
// whose prefix is empty computes what the plain model does.
func TestPrefixAttentionWithoutPrefixIsCausalAttention(t *testing.T) {
	for i, s := range prefixShapes {
		s.p = 0
		for _, threads := range []int{1, 2} {
			in := prefixInputs(uint64(i), s)
			plain := attentionRun(t, threads, in[:3], 3, func(c *Ctx, in []mat.Tensor) mat.Tensor {
				return c.CausalAttention(in[0], in[1], in[2], s.heads, s.T)
			})
			prefixed := attentionRun(t, threads, in, 3, prefixOp(s))
			for j, what := range []string{"output", "dq", "dk", "dv"} {
				if k := sameBits(plain[j], prefixed[j]); k >= 0 {
					t.Fatalf("%+v, %d threads: %s differs at %d", s, threads, what, k)
				}
			}
		}
	}
}

// The prefix's gradients are sums over the batch's sequences; they, and
// everything else, do not depend on the thread count.
func TestPrefixAttentionThreadsAgree(t *testing.T) {
	for i, s := range prefixShapes {
		in := prefixInputs(uint64(i), s)
		one := attentionRun(t, 1, in, 4, prefixOp(s))
		two := attentionRun(t, 2, in, 4, prefixOp(s))
		for j := range one {
			if k := sameBits(one[j], two[j]); k >= 0 {
				t.Fatalf("%+v: result %d (y, dq, dk, dv, dPk, dPv) differs at %d", s, j, k)
			}
		}
	}
}

// naivePrefixAttention is the definition, in float64: per sequence and
// head, the keys are the prefix's p rows then the sequence's T rows
// concatenated, the values likewise, and query i attends with a plain
// softmax to rows 0..p+i of them.
func naivePrefixAttention(s prefixShape, q, k, v, pk, pv []float64) []float64 {
	d := s.heads * s.hd
	y := make([]float64, len(q))
	scale := 1 / math.Sqrt(float64(s.hd))
	for b := 0; b < s.seqs; b++ {
		for h := 0; h < s.heads; h++ {
			var keys, vals [][]float64
			for j := 0; j < s.p; j++ {
				keys = append(keys, pk[j*d+h*s.hd:j*d+(h+1)*s.hd])
				vals = append(vals, pv[j*d+h*s.hd:j*d+(h+1)*s.hd])
			}
			for j := 0; j < s.T; j++ {
				r := (b*s.T + j) * d
				keys = append(keys, k[r+h*s.hd:r+(h+1)*s.hd])
				vals = append(vals, v[r+h*s.hd:r+(h+1)*s.hd])
			}
			for i := 0; i < s.T; i++ {
				r := (b*s.T + i) * d
				qi := q[r+h*s.hd : r+(h+1)*s.hd]
				visible := s.p + i + 1
				scores := make([]float64, visible)
				mx := math.Inf(-1)
				for j := range scores {
					for c, x := range qi {
						scores[j] += x * keys[j][c]
					}
					scores[j] *= scale
					mx = math.Max(mx, scores[j])
				}
				var z float64
				for j := range scores {
					scores[j] = math.Exp(scores[j] - mx)
					z += scores[j]
				}
				for j, e := range scores {
					for c := range s.hd {
						y[r+h*s.hd+c] += e / z * vals[j][c]
					}
				}
			}
		}
	}
	return y
}

func float64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// The op agrees with the naive definition: its output, and every input's
// gradient against central differences of the float64 definition (step
// 1e-6, so the reference's own error is far below float32's), to a
// relative error of float32 rounding (≤ 1e-5 of the largest value).
func TestPrefixAttentionMatchesNaiveReference(t *testing.T) {
	var worst float64
	for i, s := range prefixShapes {
		in := prefixInputs(uint64(100+i), s)
		got := attentionRun(t, 1, in, 6, prefixOp(s))
		rng := rand.New(rand.NewPCG(6, 5)) // attentionRun's output gradient
		r := make([]float64, len(got[0]))
		for j := range r {
			r[j] = float64(float32(rng.NormFloat64()))
		}
		x := make([][]float64, len(in))
		for j, m := range in {
			x[j] = float64s(m.data)
		}
		loss := func() float64 {
			var l float64
			for j, yv := range naivePrefixAttention(s, x[0], x[1], x[2], x[3], x[4]) {
				l += yv * r[j]
			}
			return l
		}
		want := [][]float64{naivePrefixAttention(s, x[0], x[1], x[2], x[3], x[4])}
		for j := range x {
			g := make([]float64, len(x[j]))
			for e := range g {
				const eps = 1e-6
				orig := x[j][e]
				x[j][e] = orig + eps
				lp := loss()
				x[j][e] = orig - eps
				lm := loss()
				x[j][e] = orig
				g[e] = (lp - lm) / (2 * eps)
			}
			want = append(want, g)
		}
		for j, what := range []string{"output", "dq", "dk", "dv", "dPk", "dPv"} {
			var maxErr, maxRef float64
			for e, w := range want[j] {
				maxErr = math.Max(maxErr, math.Abs(float64(got[j][e])-w))
				maxRef = math.Max(maxRef, math.Abs(w))
			}
			rel := maxErr / math.Max(maxRef, 1e-3)
			if !(rel <= 1e-5) {
				t.Errorf("%+v: %s: max abs err %.3g, max |ref| %.3g (rel %.3g)", s, what, maxErr, maxRef, rel)
			}
			worst = math.Max(worst, rel)
		}
	}
	t.Logf("max relative error against the float64 definition: %.3g", worst)
}
