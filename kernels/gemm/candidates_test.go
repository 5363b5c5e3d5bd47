//go:build gemmcandidates && !openblas

// Candidate pure-Go SGEMM implementations measured when choosing the
// default backend; kept so the choice can be re-measured:
//
//	go test -tags gemmcandidates -run Candidates -bench Candidates ./kernels/gemm/
//
// Every candidate is run single-threaded (GOMAXPROCS=1 while it runs) since
// the trainer calls Sgemm from one goroutine per core; gonum and vek's
// MatMul otherwise spawn their own goroutines.

package gemm

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/viterin/vek/vek32"
	"gonum.org/v1/gonum/blas"
	gonumblas "gonum.org/v1/gonum/blas/gonum"
)

type sgemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

func gonumSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	gonumblas.Implementation{}.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// packRowsOf copies op(X) (rows×cols) into a contiguous row-major buffer.
func packRowsOf(trans bool, rows, cols int, x []float32, ldx int, dst []float32) {
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			if trans {
				dst[i*cols+j] = x[j*ldx+i]
			} else {
				dst[i*cols+j] = x[i*ldx+j]
			}
		}
	}
}

// vekDotSgemm: C[i][j] = alpha*Dot(op(A) row i, op(B) column j) + beta*C,
// with op(A) rows and op(B) columns packed contiguous (not timed separately).
func vekDotSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ap := make([]float32, m*k)
	bt := make([]float32, n*k) // op(B)ᵀ: n rows of length k
	packRowsOf(transA, m, k, a, lda, ap)
	packRowsOf(!transB, n, k, b, ldb, bt)
	for i := 0; i < m; i++ {
		ar := ap[i*k : i*k+k]
		for j := 0; j < n; j++ {
			v := alpha * vek32.Dot(ar, bt[j*k:j*k+k])
			if beta != 0 {
				v += beta * c[i*ldc+j]
			}
			c[i*ldc+j] = v
		}
	}
}

// vekMatMulSgemm packs op(A) and op(B) contiguous and calls vek32.MatMul_Into
// on 3-row chunks (vek's serial path, an i-k-j AVX2 axpy loop), then merges
// alpha/beta into C with vek32 element-wise primitives.
func vekMatMulSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ap := make([]float32, m*k)
	bp := make([]float32, k*n)
	packRowsOf(transA, m, k, a, lda, ap)
	packRowsOf(transB, k, n, b, ldb, bp)
	tmp := make([]float32, 3*n)
	for i := 0; i < m; i += 3 {
		rows := min(3, m-i)
		vek32.MatMul_Into(tmp, ap[i*k:(i+rows)*k], bp, k)
		for r := 0; r < rows; r++ {
			t := tmp[r*n : r*n+n]
			row := c[(i+r)*ldc : (i+r)*ldc+n]
			vek32.MulNumber_Inplace(t, alpha)
			if beta == 0 {
				copy(row, t)
				continue
			}
			vek32.MulNumber_Inplace(row, beta)
			vek32.Add_Inplace(row, t)
		}
	}
}

// portableSgemm is this package's blocked driver with the pure-Go (no
// assembly) micro-kernel.
func portableSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	defer portable()()
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

var candidates = []struct {
	name string
	f    sgemmFunc
}{
	{"asm", Sgemm},
	{"portable", portableSgemm},
	{"gonum", gonumSgemm},
	{"vekDot", vekDotSgemm},
	{"vekMatMul", vekMatMulSgemm},
}

// TestCandidates checks the candidates against the reference so the
// benchmark compares correct implementations.
func TestCandidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, cand := range candidates {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			m, n, k := 17, 33, 65
			a := randSlice(rng, m*k)
			b := randSlice(rng, k*n)
			c := randSlice(rng, m*n)
			lda, ldb := k, n
			if tr[0] {
				lda = m
			}
			if tr[1] {
				ldb = k
			}
			want, scale := refSgemm(tr[0], tr[1], m, n, k, 1.5, a, lda, b, ldb, 0.5, c, n)
			cand.f(tr[0], tr[1], m, n, k, 1.5, a, lda, b, ldb, 0.5, c, n)
			for i := range want {
				if d := math.Abs(float64(c[i]) - want[i]); d > 1e-4*scale[i] {
					t.Fatalf("%s %v: C[%d] = %g, want %g", cand.name, tr, i, c[i], want[i])
				}
			}
		}
	}
}

func BenchmarkCandidates(b *testing.B) {
	rng := rand.New(rand.NewPCG(13, 14))
	shapes := []benchShape{
		{name: "fwd", transB: true, m: 2048, n: 128, k: 128},
		{name: "fwd", transB: true, m: 2048, n: 352, k: 128},
		{name: "dX", m: 2048, n: 128, k: 352},
		{name: "dW", transA: true, m: 128, n: 128, k: 2048, beta: 1},
		{name: "attnQK", transB: true, m: 128, n: 128, k: 32},
	}
	for _, s := range shapes {
		ar, ac := s.m, s.k
		if s.transA {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.transB {
			br, bc = s.n, s.k
		}
		a := randSlice(rng, ar*ac)
		bm := randSlice(rng, br*bc)
		c := randSlice(rng, s.m*s.n)
		for _, cand := range candidates {
			b.Run(s.String()+"/"+cand.name, func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
				for b.Loop() {
					cand.f(s.transA, s.transB, s.m, s.n, s.k, 1, a, ac, bm, bc, s.beta, c, s.n)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

//go:noinline
func scalarLoop(n int, x float32) float32 {
	s := float32(0)
	for i := 0; i < n; i++ {
		s = s*0.999 + x
		x += 0.5
	}
	return s
}

var scalarSink float32

// BenchmarkCandidatesScalarAfter times a scalar (SSE) float loop right
// after each candidate returns, to detect AVX code that leaves the upper
// YMM halves dirty (no VZEROUPPER), which slows later SSE code. Compare the
// scalar-ns metric with the "none" row.
func BenchmarkCandidatesScalarAfter(b *testing.B) {
	rng := rand.New(rand.NewPCG(15, 16))
	a := randSlice(rng, 64*64)
	bm := randSlice(rng, 64*64)
	c := make([]float32, 64*64)
	all := append([]struct {
		name string
		f    sgemmFunc
	}{{"none", nil}}, candidates...)
	for _, cand := range all {
		b.Run(cand.name, func(b *testing.B) {
			var scalar time.Duration
			for b.Loop() {
				if cand.f != nil {
					cand.f(false, true, 64, 64, 64, 1, a, 64, bm, 64, 0, c, 64)
				}
				t0 := time.Now()
				scalarSink += scalarLoop(2000, 1)
				scalar += time.Since(t0)
			}
			b.ReportMetric(float64(scalar.Nanoseconds())/float64(b.N), "scalar-ns")
		})
	}
}
