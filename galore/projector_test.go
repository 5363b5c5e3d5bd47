package galore

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// lowRankGradient returns G = U·diag(σ)·Vᵀ (rows×cols) with random
// orthonormal U, V and the given singular values, and U, V themselves.
func lowRankGradient(rows, cols int, sigma []float64, seed uint64) (g []float32, u, v *mat.Dense) {
	rng := rand.New(rand.NewPCG(seed, 7))
	orth := func(n, k int) *mat.Dense {
		a := mat.NewDense(n, k, nil)
		for i := range n {
			for j := range k {
				a.Set(i, j, rng.NormFloat64())
			}
		}
		var qr mat.QR
		qr.Factorize(a)
		var q mat.Dense
		qr.QTo(&q)
		return mat.DenseCopyOf(q.Slice(0, n, 0, k))
	}
	k := len(sigma)
	u, v = orth(rows, k), orth(cols, k)
	var us mat.Dense
	us.Mul(u, mat.NewDiagDense(k, sigma))
	var full mat.Dense
	full.Mul(&us, v.T())
	g = make([]float32, rows*cols)
	for i := range rows {
		for j := range cols {
			g[i*cols+j] = float32(full.At(i, j))
		}
	}
	return g, u, v
}

// The projector spans the top-r singular vectors of G (|cos| of each column
// with the true vector ≈ 1), its columns are orthonormal, its signs follow
// the convention, and the side follows the shape.
func TestProjectorSpansTopSingularVectors(t *testing.T) {
	for _, shape := range [][2]int{{12, 20}, {20, 12}, {16, 16}} {
		rows, cols := shape[0], shape[1]
		sigma := []float64{9, 7, 5, 3, 1, 0.5}
		g, u, v := lowRankGradient(rows, cols, sigma, 3)
		const rank = 3
		p, err := New(g, rows, cols, rank)
		if err != nil {
			t.Fatal(err)
		}
		if p.Left != (rows <= cols) {
			t.Fatalf("%d×%d: left %v", rows, cols, p.Left)
		}
		truth := v
		if p.Left {
			truth = u
		}
		n := p.side()
		for a := range rank {
			var dot, norm float64
			col := make([]float64, n)
			for i := range n {
				col[i] = float64(p.P[i*rank+a])
				dot += col[i] * truth.At(i, a)
				norm += col[i] * col[i]
			}
			if math.Abs(math.Abs(dot)-1) > 1e-6 || math.Abs(norm-1) > 1e-6 {
				t.Errorf("%d×%d column %d: |cos| with singular vector %d is %.9f, norm² %.9f", rows, cols, a, a, math.Abs(dot), norm)
			}
			fixed := slices.Clone(col)
			FixSign(fixed)
			if !slices.Equal(fixed, col) {
				t.Errorf("%d×%d column %d breaks the sign convention", rows, cols, a)
			}
			for b := range a {
				var d float64
				for i := range n {
					d += col[i] * float64(p.P[i*rank+b])
				}
				if math.Abs(d) > 1e-6 {
					t.Errorf("%d×%d columns %d and %d are not orthogonal: %.3g", rows, cols, a, b, d)
				}
			}
		}
	}
}

// A gradient of rank r comes back whole through Back(Project(G)) =
// P·Pᵀ·G (or G·Q·Qᵀ); one of higher rank loses exactly its smaller
// singular values: ‖G − back‖² = Σ_{i>r} σᵢ².
func TestProjectThenBackKeepsTheTopSubspace(t *testing.T) {
	for _, shape := range [][2]int{{10, 14}, {14, 10}} {
		rows, cols := shape[0], shape[1]
		sigma := []float64{4, 3, 2, 0.5, 0.25}
		g, _, _ := lowRankGradient(rows, cols, sigma, 9)
		for _, rank := range []int{3, 5} {
			p, err := New(g, rows, cols, rank)
			if err != nil {
				t.Fatal(err)
			}
			r := make([]float32, ProjectedLen(rows, cols, rank))
			p.Project(r, g, make([]float64, len(r)))
			u := make([]float64, len(r))
			for i, x := range r {
				u[i] = float64(x)
			}
			w := make([]float64, rows*cols)
			p.Back(w, u)
			var lost float64
			for i := range w {
				d := float64(g[i]) - w[i]
				lost += d * d
			}
			var want float64
			for _, s := range sigma[rank:] {
				want += s * s
			}
			if math.Abs(lost-want) > 1e-5*(1+want) {
				t.Errorf("%d×%d rank %d: ‖G − back(project(G))‖² = %.7g, want Σ of the dropped σ² = %.7g", rows, cols, rank, lost, want)
			}
		}
	}
}

// The same gradient gives the same bits, and a gradient of the opposite
// sign the same projector (singular vectors are signed by the convention,
// not by the solver's path).
func TestProjectorIsAFunctionOfTheSubspace(t *testing.T) {
	g, _, _ := lowRankGradient(24, 40, []float64{5, 4, 3, 2, 1}, 5)
	a, err := New(g, 24, 40, 4)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(slices.Clone(g), 24, 40, 4)
	neg := make([]float32, len(g))
	for i, x := range g {
		neg[i] = -x
	}
	c, _ := New(neg, 24, 40, 4)
	if !slices.Equal(a.P, b.P) {
		t.Fatal("two projectors of one gradient differ")
	}
	for i := range a.P {
		if math.Abs(float64(a.P[i]-c.P[i])) > 1e-6 {
			t.Fatalf("the projector of −G differs from G's at %d: %g vs %g", i, a.P[i], c.P[i])
		}
	}
}

func TestNewRefusesBadShapes(t *testing.T) {
	g := make([]float32, 12)
	for _, tc := range []struct {
		rows, cols, rank int
		want             string
	}{{3, 4, 0, "rank 0"}, {3, 4, 4, "rank 4"}, {3, 5, 1, "not 3×5"}} {
		if _, err := New(g[:min(len(g), tc.rows*4)], tc.rows, tc.cols, tc.rank); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d×%d rank %d: error %v, want one naming %q", tc.rows, tc.cols, tc.rank, err, tc.want)
		}
	}
}

// projectInOrder and backInOrder are Project's float64 sums and Back as
// one sum per element, term by term in the order of the shared index: what
// the faster loops must give bit for bit.
func projectInOrder(p *Projector, r []float64, g []float32) {
	m, n, k := p.Rows, p.Cols, p.Rank
	if p.Left {
		for a := range k {
			for j := range n {
				var s float64
				for i := range m {
					s += float64(p.P[i*k+a]) * float64(g[i*n+j])
				}
				r[a*n+j] = s
			}
		}
		return
	}
	for i := range m {
		for a := range k {
			var s float64
			for j := range n {
				s += float64(g[i*n+j]) * float64(p.P[j*k+a])
			}
			r[i*k+a] = s
		}
	}
}

func backInOrder(p *Projector, w, u []float64) {
	m, n, k := p.Rows, p.Cols, p.Rank
	for i := range m {
		for j := range n {
			var s float64
			for a := range k {
				if p.Left {
					s += float64(p.P[i*k+a]) * u[a*n+j]
				} else {
					s += u[i*k+a] * float64(p.P[j*k+a])
				}
			}
			w[i*n+j] = s
		}
	}
}

// Project and Back give the bits of one in-order sum per element, on both
// sides, at ranks and widths on and off the vector loops' multiples of 8,
// with scratch that holds stale values from an earlier call.
func TestProjectAndBackSumInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, shape := range [][3]int{{5, 7, 2}, {7, 5, 2}, {16, 40, 8}, {40, 16, 8}, {33, 70, 9}, {70, 33, 9}, {60, 40, 17}, {24, 24, 6}} {
		rows, cols, rank := shape[0], shape[1], shape[2]
		g := make([]float32, rows*cols)
		for i := range g {
			g[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(5)-2)))
		}
		p, err := New(g, rows, cols, rank)
		if err != nil {
			t.Fatal(err)
		}
		// A gradient other than the projector's own, its magnitudes spread
		// so wide that the float64 sums round (products of float32 values
		// of one scale add up exactly, in any order).
		for i := range g {
			g[i] = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(60)-30)))
		}
		l := ProjectedLen(rows, cols, rank)
		got, want := make([]float32, l), make([]float64, l)
		acc := make([]float64, l)
		for i := range acc {
			acc[i] = 1e3
		}
		p.Project(got, g, acc)
		projectInOrder(p, want, g)
		for i := range got {
			if math.Float64bits(acc[i]) != math.Float64bits(want[i]) || got[i] != float32(want[i]) {
				t.Fatalf("%d×%d rank %d: Project[%d] = %v (sum %v), want %v", rows, cols, rank, i, got[i], acc[i], want[i])
			}
		}
		u := make([]float64, l)
		for i := range u {
			u[i] = rng.NormFloat64() * math.Pow(2, float64(rng.IntN(60)-30))
		}
		w, wantW := make([]float64, rows*cols), make([]float64, rows*cols)
		for i := range w {
			w[i] = -7
		}
		p.Back(w, u)
		backInOrder(p, wantW, u)
		for i := range w {
			if math.Float64bits(w[i]) != math.Float64bits(wantW[i]) {
				t.Fatalf("%d×%d rank %d: Back[%d] = %v, want %v", rows, cols, rank, i, w[i], wantW[i])
			}
		}
	}
}
