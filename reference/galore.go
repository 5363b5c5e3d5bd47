package reference

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/relorago/harness/galore"
)

// GaLore is the GaLore optimizer (Zhao et al. 2024, arXiv:2403.03507,
// Algorithm 2) over the projections it is given the shapes of, AdamW over
// every other parameter. For a projected weight W (m×n) at its t-th update:
//
//	if (t−1) mod T = 0:  P = top-r eigenvectors of G·Gᵀ (m ≤ n), else Q = those of Gᵀ·G
//	R = Pᵀ·G  or  G·Q
//	m ← β1·m + (1−β1)·R,   v ← β2·v + (1−β2)·R²      (kept across new projectors)
//	N = (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
//	W ← W·(1 − lr·λ) − lr·α·P·N   or   lr·α·N·Qᵀ
//
// The eigenvectors of G·Gᵀ (Gᵀ·G) are G's left (right) singular vectors:
// another algorithm than the fast code's SVD, with the same sign
// convention (galore.FixSign), so the two agree only if both are right.
type GaLore struct {
	Adam         *AdamW
	Shapes       map[string][2]int // m×n of each projected weight
	Rank         int
	RefreshEvery int
	Scale        float64
	P            Params // each projector, m×r or n×r row-major
}

// NewGaLore returns an optimizer with empty state.
func NewGaLore(adam *AdamW, shapes map[string][2]int, rank, refreshEvery int, scale float64) *GaLore {
	return &GaLore{Adam: adam, Shapes: shapes, Rank: rank, RefreshEvery: refreshEvery, Scale: scale, P: Params{}}
}

// Step updates every parameter that has a gradient in grads.
func (o *GaLore) Step(params, grads Params, lr float64) error {
	plain := Params{}
	for name, g := range grads {
		if _, ok := o.Shapes[name]; !ok {
			plain[name] = g
			continue
		}
		if err := o.stepProjected(name, params[name], g, lr); err != nil {
			return err
		}
	}
	o.Adam.Step(params, plain, lr)
	return nil
}

func (o *GaLore) stepProjected(name string, w, g []float64, lr float64) error {
	a := o.Adam
	rows, cols := o.Shapes[name][0], o.Shapes[name][1]
	left, r := rows <= cols, o.Rank
	if a.T[name]%o.RefreshEvery == 0 {
		p, err := topEigenvectors(g, rows, cols, left, r)
		if err != nil {
			return fmt.Errorf("reference galore %s: %w", name, err)
		}
		o.P[name] = p
	}
	p := o.P[name]
	var proj []float64 // R
	if left {
		proj = make([]float64, r*cols)
		for k := 0; k < r; k++ {
			for j := 0; j < cols; j++ {
				for i := 0; i < rows; i++ {
					proj[k*cols+j] += p[i*r+k] * g[i*cols+j]
				}
			}
		}
	} else {
		proj = make([]float64, rows*r)
		for i := 0; i < rows; i++ {
			for k := 0; k < r; k++ {
				for j := 0; j < cols; j++ {
					proj[i*r+k] += g[i*cols+j] * p[j*r+k]
				}
			}
		}
	}
	if a.M[name] == nil {
		a.M[name], a.V[name] = make([]float64, len(proj)), make([]float64, len(proj))
	}
	a.T[name]++
	t := float64(a.T[name])
	m, v := a.M[name], a.V[name]
	n := make([]float64, len(proj))
	for i, x := range proj {
		m[i] = a.Beta1*m[i] + (1-a.Beta1)*x
		v[i] = a.Beta2*v[i] + (1-a.Beta2)*x*x
		n[i] = (m[i] / (1 - math.Pow(a.Beta1, t))) / (math.Sqrt(v[i]/(1-math.Pow(a.Beta2, t))) + a.Eps)
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			var u float64
			for k := 0; k < r; k++ {
				if left {
					u += p[i*r+k] * n[k*cols+j]
				} else {
					u += n[i*r+k] * p[j*r+k]
				}
			}
			w[i*cols+j] = w[i*cols+j]*(1-lr*a.WeightDecay) - lr*o.Scale*u
		}
	}
	return nil
}

// topEigenvectors returns the r eigenvectors of G·Gᵀ (left) or Gᵀ·G
// (right) of largest eigenvalue, as the columns of a row-major matrix,
// each signed by galore.FixSign.
func topEigenvectors(g []float64, rows, cols int, left bool, r int) ([]float64, error) {
	gm := mat.NewDense(rows, cols, append([]float64(nil), g...))
	var gram mat.Dense
	if left {
		gram.Mul(gm, gm.T())
	} else {
		gram.Mul(gm.T(), gm)
	}
	n, _ := gram.Dims()
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			sym.SetSym(i, j, (gram.At(i, j)+gram.At(j, i))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, fmt.Errorf("the eigendecomposition of a %d×%d Gram matrix did not converge", n, n)
	}
	values := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return values[order[a]] > values[order[b]] })
	out := make([]float64, n*r)
	col := make([]float64, n)
	for k := 0; k < r; k++ {
		mat.Col(col, order[k], &vecs)
		galore.FixSign(col)
		for i := 0; i < n; i++ {
			out[i*r+k] = col[i]
		}
	}
	return out, nil
}
