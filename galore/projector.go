// Package galore is GaLore's gradient projection (Zhao et al. 2024,
// arXiv:2403.03507, Algorithm 2): the projector onto the top-r singular
// subspace of a weight's gradient, the projection of a gradient into that
// subspace (where Adam's moments live) and the projection of an update back
// to the weight's shape. The optimizer that uses it is train.AdamW.
package galore

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/relorago/harness/kernels/vecmath"
)

// Projector is P (m×r, the left side) or Q (n×r, the right side) for a
// weight gradient G of shape m×n, row-major float32: the checkpoint stores
// it as training uses it, so a resumed run projects with the same bits.
//
// The side is the paper's: the projector spans the gradient's shorter side
// (P m×r when m ≤ n, else Q n×r) and the moments keep the longer one (r×n
// or m×r), so a matrix's optimizer state is m·r + 2·n·r for m ≤ n, as the
// paper's Table 1 counts it. At m = n either side holds the same numbers;
// this code takes the left one there (the paper's released code takes the
// right one), which changes which subspace a square matrix's update lives
// in, not its size.
type Projector struct {
	Left       bool      // R = Pᵀ·G (m ≤ n), else R = G·Q
	Rows, Cols int       // m×n, the gradient's shape
	Rank       int       // r
	P          []float32 // m×r (left) or n×r (right), orthonormal columns
}

// LeftFor reports whether a gradient of shape rows×cols is projected from
// the left.
func LeftFor(rows, cols int) bool { return rows <= cols }

// ProjectedLen is the number of values of a projected gradient, and so of
// each Adam moment: r×n on the left, m×r on the right.
func ProjectedLen(rows, cols, rank int) int {
	if LeftFor(rows, cols) {
		return rank * cols
	}
	return rows * rank
}

// Len is the number of values of P, m×r or n×r.
func (p *Projector) Len() int { return p.side() * p.Rank }

// side is the length of the projector's columns: m on the left, n on the right.
func (p *Projector) side() int {
	if p.Left {
		return p.Rows
	}
	return p.Cols
}

// New computes the projector of a gradient g (rows×cols, row-major) onto its
// top-rank singular subspace:
//
//	G = U·Σ·Vᵀ,   P = U[:, :r] if m ≤ n,   else Q = V[:, :r]
//
// by gonum's SVD (LAPACK's dgesvd, in float64; the matrices here are at
// most a few thousand wide, and the SVD runs once every T steps, so the
// exact decomposition costs little next to T training steps and needs no
// randomized range finder with its own error to test). Singular vectors are
// defined up to sign; each column is flipped so that its entry of largest
// magnitude (the first such, on a tie) is positive, so the projector is a
// function of G alone and runs stay bit-reproducible.
func New(g []float32, rows, cols, rank int) (*Projector, error) {
	if rows < 1 || cols < 1 || len(g) != rows*cols {
		return nil, fmt.Errorf("galore: gradient of %d values is not %d×%d", len(g), rows, cols)
	}
	if rank < 1 || rank > min(rows, cols) {
		return nil, fmt.Errorf("galore: rank %d outside [1, %d] for a %d×%d gradient", rank, min(rows, cols), rows, cols)
	}
	a := mat.NewDense(rows, cols, nil)
	for i := range rows {
		for j := range cols {
			a.Set(i, j, float64(g[i*cols+j]))
		}
	}
	p := &Projector{Left: LeftFor(rows, cols), Rows: rows, Cols: cols, Rank: rank}
	var svd mat.SVD
	var vecs mat.Dense
	if p.Left {
		if !svd.Factorize(a, mat.SVDThinU) {
			return nil, fmt.Errorf("galore: the SVD of a %d×%d gradient did not converge", rows, cols)
		}
		svd.UTo(&vecs)
	} else {
		if !svd.Factorize(a, mat.SVDThinV) {
			return nil, fmt.Errorf("galore: the SVD of a %d×%d gradient did not converge", rows, cols)
		}
		svd.VTo(&vecs)
	}
	n := p.side()
	col := make([]float64, n)
	p.P = make([]float32, n*rank)
	for k := range rank {
		mat.Col(col, k, &vecs)
		FixSign(col)
		for i, v := range col {
			p.P[i*rank+k] = float32(v)
		}
	}
	return p, nil
}

// FixSign flips v so that its entry of largest magnitude (the first such)
// is positive: the sign convention of every singular vector here, and of
// the float64 reference's.
func FixSign(v []float64) {
	best := 0
	for i, x := range v {
		if math.Abs(x) > math.Abs(v[best]) {
			best = i
		}
	}
	if v[best] < 0 {
		for i := range v {
			v[i] = -v[i]
		}
	}
}

// Project writes the projected gradient into r, of ProjectedLen values,
// each a float64 sum rounded once to float32:
//
//	R = Pᵀ·G  (r×n)   or   R = G·Q  (m×r)
//
// acc is float64 scratch of at least ProjectedLen values (the caller keeps
// it between steps); Project leaves the unrounded sums there.
func (p *Projector) Project(r, g []float32, acc []float64) {
	acc = acc[:ProjectedLen(p.Rows, p.Cols, p.Rank)]
	p.project64(acc, g)
	for j, s := range acc {
		r[j] = float32(s)
	}
}

// project64 writes Project's float64 sums into acc. Each element's sum adds
// its terms in the order of the shared index (G's rows on the left, its
// columns on the right), from +0; the loops run so that the innermost reads
// a row of G or of Q, where a loop per element would read G down its
// columns. On the right a row's r sums stay in registers over the whole
// row of G (vecmath.AccumulateWidenRows), where one call per element of G
// spent more time in calls than in additions at ranks of 8 to 32.
func (p *Projector) project64(acc []float64, g []float32) {
	m, n, k := p.Rows, p.Cols, p.Rank
	clear(acc)
	if p.Left {
		for i := range m {
			gi := g[i*n : (i+1)*n]
			for a := range k {
				vecmath.AccumulateWiden(acc[a*n:(a+1)*n], float64(p.P[i*k+a]), gi)
			}
		}
		return
	}
	for i := range m {
		vecmath.AccumulateWidenRows(acc[i*k:(i+1)*k], g[i*n:(i+1)*n], p.P)
	}
}

// Back writes an update u of the projected shape back in the weight's
// shape into w (m×n), in float64:
//
//	W = P·N  (left)   or   W = N·Qᵀ  (right)
func (p *Projector) Back(w, u []float64) {
	var qt []float64
	if !p.Left {
		qt = p.Transposed(make([]float64, p.Len()))
	}
	for i := range p.Rows {
		p.BackRow(w[i*p.Cols:(i+1)*p.Cols], i, u, qt)
	}
}

// Transposed returns Q (the right side's n×r projector) transposed into t,
// r×n in float64 (exact: a float32 widens without rounding), which BackRow
// reads on the right. t holds at least Len values; the caller keeps it
// between steps.
func (p *Projector) Transposed(t []float64) []float64 {
	n, k := p.side(), p.Rank
	t = t[:n*k]
	for j := range n {
		for a, x := range p.P[j*k : (j+1)*k] {
			t[a*n+j] = float64(x)
		}
	}
	return t
}

// BackRow writes row i of Back's result into w (Cols long): a caller that
// applies the update row by row needs one row of scratch, not a float64
// copy of the whole weight. qt is Transposed's Q on the right (unused on
// the left). Each element's sum runs in Back's order (over the rank, from
// +0), the rank's loop the outer one, so that the inner loop adds a scaled
// row of u (left) or of Qᵀ (right) to the elements side by side.
func (p *Projector) BackRow(w []float64, i int, u, qt []float64) {
	n, k := p.Cols, p.Rank
	w = w[:n]
	clear(w)
	if p.Left {
		for a := range k {
			vecmath.Accumulate64(w, float64(p.P[i*k+a]), u[a*n:(a+1)*n])
		}
		return
	}
	for a, x := range u[i*k : (i+1)*k] {
		vecmath.Accumulate64(w, x, qt[a*n:(a+1)*n])
	}
}

// Clone returns a deep copy.
func (p *Projector) Clone() *Projector {
	if p == nil {
		return nil
	}
	q := *p
	q.P = append([]float32(nil), p.P...)
	return &q
}
