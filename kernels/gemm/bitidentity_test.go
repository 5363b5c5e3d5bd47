//go:build !openblas

package gemm

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// The pure-Go backend's driver may change (blocking, packing, loop order),
// its arithmetic may not: every committed training result depends on the
// GEMM's exact bits. These tests hold Sgemm and SgemmTri to old_kernel_test.go,
// a copy of the driver the results were computed with, bit for bit, and pin
// that copy (and the assembly micro-kernels it shares with the current
// driver) to hashes of its output recorded when it was the production code.

// bitCase is one product: shapes, strides (pad extra elements per stored
// row), scalars and, for SgemmTri, the triangle.
type bitCase struct {
	tri            Tri
	transA, transB bool
	m, n, k        int
	pad            int
	alpha, beta    float32
	nanC           bool // C starts as NaN (beta == 0 must not read it)
}

func (c bitCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("tri%d/%s%s/m%d_n%d_k%d/pad%d/a%g_b%g/nan%v", c.tri, t(c.transA), t(c.transB), c.m, c.n, c.k, c.pad, c.alpha, c.beta, c.nanC)
}

// bitValues fills a slice with values that exercise rounding: mostly
// uniform in ±1 at exponents from 2^-20 to 2^20, with exact zeros, negative
// zeros, subnormals and integers mixed in.
func bitValues(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		switch r := rng.IntN(64); {
		case r == 0:
			s[i] = 0
		case r == 1:
			s[i] = float32(math.Copysign(0, -1))
		case r == 2:
			s[i] = math.Float32frombits(rng.Uint32() & 0x807fffff) // subnormal of either sign
		case r < 6:
			s[i] = float32(rng.IntN(17) - 8)
		case r < 12:
			s[i] = (rng.Float32()*2 - 1) * float32(math.Ldexp(1, rng.IntN(41)-20))
		default:
			s[i] = rng.Float32()*2 - 1
		}
	}
	return s
}

// operands returns A, B and C for a case, with its strides.
func (c bitCase) operands(rng *rand.Rand) (a, b, cm []float32, lda, ldb, ldc int) {
	ar, ac := c.m, c.k
	if c.transA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.transB {
		br, bc = c.n, c.k
	}
	lda, ldb, ldc = max(1, ac+c.pad), max(1, bc+c.pad), max(1, c.n+c.pad)
	a = bitValues(rng, ar*lda)
	b = bitValues(rng, br*ldb)
	if c.tri == LowerA || c.tri == UpperA {
		// Zero op(A)'s known-zero triangle, as the causal softmax does.
		for i := 0; i < c.m; i++ {
			for p := 0; p < c.k; p++ {
				if (c.tri == LowerA && p > i) || (c.tri == UpperA && p < i) {
					if c.transA {
						a[p*lda+i] = 0
					} else {
						a[i*lda+p] = 0
					}
				}
			}
		}
	}
	cm = bitValues(rng, c.m*ldc)
	if c.nanC {
		for i := range cm {
			cm[i] = float32(math.NaN())
		}
	}
	return a, b, cm, lda, ldb, ldc
}

// gemmFunc is Sgemm's signature with the triangle in front.
type gemmFunc func(tri Tri, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

func newGemm(tri Tri, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if tri == Full {
		Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	SgemmTri(tri, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// oldGemm is the old driver behind Sgemm's argument handling (checkArgs,
// degenerate), which did not change.
func oldGemm(tri Tri, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if degenerate(m, n, k, alpha, beta, c, ldc) {
		return
	}
	oldSgemmTri(tri, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// split is how kernels.Ctx.gemm cuts a product into tasks for its threads
// (kernels/ctx.go, gemmSplit): by rows of C at i·m/tasks, or by columns at
// multiples of 16; each task is one Sgemm call on a view.
type split struct {
	byCols bool
	tasks  int
}

// ctxSplit mirrors kernels.Ctx.gemmSplit for the pure-Go backend.
func ctxSplit(threads, m, n, k int) split {
	tasks := max(1, min(threads*2, m*n*k/(1<<20)))
	if tasks == 1 || threads == 1 {
		return split{false, 1}
	}
	if k > max(m, n) && n >= 32 {
		return split{true, min(tasks, n/16)}
	}
	return split{false, min(tasks, m)}
}

// run computes the case with f, cut as s, the tasks on `threads`
// goroutines at once, and returns C.
func (c bitCase) run(f gemmFunc, s split, threads int, a, b, c0 []float32, lda, ldb, ldc int) []float32 {
	cm := append([]float32(nil), c0...)
	task := func(i int) {
		if s.tasks <= 1 {
			f(c.tri, c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, cm, ldc)
			return
		}
		if s.byCols {
			panels := c.n / 16
			lo, hi := i*panels/s.tasks*16, (i+1)*panels/s.tasks*16
			if i == s.tasks-1 {
				hi = c.n
			}
			bOff := lo
			if c.transB {
				bOff = lo * ldb
			}
			f(c.tri, c.transA, c.transB, c.m, hi-lo, c.k, c.alpha, a, lda, b[bOff:], ldb, c.beta, cm[lo:], ldc)
			return
		}
		lo, hi := i*c.m/s.tasks, (i+1)*c.m/s.tasks
		aOff := lo * lda
		if c.transA {
			aOff = lo
		}
		f(c.tri, c.transA, c.transB, hi-lo, c.n, c.k, c.alpha, a[aOff:], lda, b, ldb, c.beta, cm[lo*ldc:], ldc)
	}
	if threads <= 1 || s.tasks <= 1 {
		for i := 0; i < max(1, s.tasks); i++ {
			task(i)
		}
		return cm
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				task(i)
			}
		}()
	}
	for i := 0; i < s.tasks; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return cm
}

// check runs one case through the old and the new driver, uncut and cut as
// kernels.Ctx cuts it for 1 and 2 threads, and fails on the first element
// whose bits differ. Elements a Tri mode leaves unspecified (above the
// diagonal for LowerC) are not compared.
func (c bitCase) check(t *testing.T, rng *rand.Rand) {
	t.Helper()
	a, b, c0, lda, ldb, ldc := c.operands(rng)
	want := c.run(oldGemm, split{false, 1}, 1, a, b, c0, lda, ldb, ldc)
	cuts := []struct {
		s       split
		threads int
	}{{split{false, 1}, 1}, {ctxSplit(1, c.m, c.n, c.k), 1}, {ctxSplit(2, c.m, c.n, c.k), 2}}
	if c.m*c.n*c.k > 1<<28 {
		// The largest products: uncut and as for 2 threads only.
		cuts = cuts[:1]
		cuts = append(cuts, struct {
			s       split
			threads int
		}{ctxSplit(2, c.m, c.n, c.k), 2})
	} else if c.m >= 8 {
		cuts = append(cuts, struct {
			s       split
			threads int
		}{split{false, 3}, 2})
	}
	if c.n >= 48 {
		cuts = append(cuts, struct {
			s       split
			threads int
		}{split{true, 3}, 2})
	}
	for _, cut := range cuts {
		old := want
		if cut.s.tasks > 1 {
			// The old driver cut the same way: a cut may change the edge
			// tiles' rounding for beta ∉ {0, 1}, which no caller uses,
			// and the new driver must follow the old one there too.
			old = c.run(oldGemm, cut.s, 1, a, b, c0, lda, ldb, ldc)
		}
		got := c.run(newGemm, cut.s, cut.threads, a, b, c0, lda, ldb, ldc)
		for i := 0; i < c.m; i++ {
			for j := 0; j < ldc; j++ {
				if i*ldc+j >= len(got) {
					break
				}
				if c.tri == LowerC && j > i && j < c.n {
					continue
				}
				g, w := got[i*ldc+j], old[i*ldc+j]
				if math.Float32bits(g) != math.Float32bits(w) {
					t.Fatalf("%v, cut %+v on %d thread(s): C[%d][%d] = %g (%#08x), old driver %g (%#08x)",
						c, cut.s, cut.threads, i, j, g, math.Float32bits(g), w, math.Float32bits(w))
				}
			}
		}
	}
}

// modelShapes are the GEMMs of a training step of a model of width d
// (ffn ≈ 2.75·d, LoRA rank r, `tokens` tokens), with the scalars the
// kernels package passes: forward y = x·Wᵀ (beta 0), dX = dY·W (beta 0),
// dW += dYᵀ·X (beta 1), the LoRA path's six thin products (scale s on the
// low-rank output and dB/dh, beta 1 where it accumulates), and one
// attention head's products (hd = d/heads, T = 128).
func modelShapes(d, r, tokens int, s float32) []bitCase {
	ffn := int(2.75*float64(d)/2+0.5) * 2
	var cs []bitCase
	for _, l := range [][2]int{{d, d}, {ffn, d}, {d, ffn}, {256, d}} {
		out, in := l[0], l[1]
		cs = append(cs,
			bitCase{Full, false, true, tokens, out, in, 0, 1, 0, true},  // y = x·Wᵀ
			bitCase{Full, false, false, tokens, in, out, 0, 1, 0, true}, // dx = dy·W
			bitCase{Full, true, false, out, in, tokens, 0, 1, 1, false}, // dW += dyᵀ·x
			bitCase{Full, true, false, out, in, tokens, 0, 1, 0, false}, // dW of an operator (beta 0)
			bitCase{Full, false, true, tokens, r, in, 0, 1, 0, false},   // h = x·Aᵀ
			bitCase{Full, false, true, tokens, out, r, 0, s, 1, false},  // y += s·h·Bᵀ
			bitCase{Full, true, false, out, r, tokens, 0, s, 1, false},  // dB += s·gᵀ·h
			bitCase{Full, false, false, tokens, r, out, 0, s, 0, false}, // dh = s·g·B
			bitCase{Full, true, false, r, in, tokens, 0, 1, 1, false},   // dA += dhᵀ·x
			bitCase{Full, false, false, tokens, in, r, 0, 1, 1, false},  // dx += dh·A
		)
	}
	return cs
}

// attentionShapes are one head's products as kernels/op_attention.go calls
// them: views of width hd into [T×d] rows (pad = d − hd).
func attentionShapes(T, hd, heads int, scale float32) []bitCase {
	pad := (heads - 1) * hd
	return []bitCase{
		{LowerC, false, true, T, T, hd, pad, scale, 0, true},  // S = Q·Kᵀ
		{LowerA, false, false, T, hd, T, 0, 1, 0, true},       // O = P·V (P is T×T: no pad on A)
		{UpperA, true, false, T, hd, T, 0, 1, 0, true},        // dV = Pᵀ·dO
		{LowerC, false, true, T, T, hd, pad, 1, 0, false},     // dP = dO·Vᵀ
		{LowerA, false, false, T, hd, T, 0, scale, 0, false},  // dQ = dS·K
		{UpperA, true, false, T, hd, T, 0, scale, 0, false},   // dK = dSᵀ·Q
		{LowerC, false, true, T, T, hd, pad, scale, 1, false}, // beta 1 keeps skipped tiles
		{UpperA, true, false, T, hd, T, 0, 0.5, 0.25, false},  // a general beta
	}
}

// TestKernelMatchesOld holds the current driver to the old one bit for bit:
// every transpose combination over small, odd and tile-edge sizes, depths
// across the k-slice boundaries (256, 512, ...) and sizes across the B
// block boundary, every alpha/beta the kernels package uses plus general
// ones and NaN in C with beta 0, padded strides, the triangular modes on
// attention's head views, the GEMMs of a training step at widths 64 to
// 1024 (fewer tokens from d 256 on: the same code paths), 1024³ in all
// four transpose combinations, each uncut and cut as kernels.Ctx cuts it
// for 1 and 2 threads (the tasks run concurrently).
func TestKernelMatchesOld(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 12))
	cases := matchCases(rng, !testing.Short() && !raceEnabled && useAVX2)
	for _, c := range cases {
		c.check(t, rng)
	}
	t.Logf("%d cases, each uncut and cut as for 1 and 2 threads", len(cases))
}

// TestBlockedMatchesOld sends every product through the blocked driver
// (blocked.go), which Sgemm otherwise takes only for large slices of op(B):
// TestKernelMatchesOld's cases up to d 128, which cover its edge tiles, the
// 6×8 kernel, the triangular modes and the partial A block, each uncut and
// cut as for 1 and 2 threads.
func TestBlockedMatchesOld(t *testing.T) {
	defer func(v int) { blockedMinB = v }(blockedMinB)
	blockedMinB = 0
	rng := rand.New(rand.NewPCG(2026, 13))
	cases := matchCases(rng, false)
	for _, c := range cases {
		c.check(t, rng)
	}
	t.Logf("%d cases through the blocked driver", len(cases))
	if useAVX2 {
		// And with the portable micro-kernel and packing.
		defer portable()()
		for _, c := range append(modelShapes(64, 8, 150, 1), attentionShapes(50, 16, 2, 0.25)...) {
			c.check(t, rng)
		}
	}
}

// matchCases are TestKernelMatchesOld's products; heavy adds the training
// step's GEMMs from d 256 on and the 1024³ ones.
func matchCases(rng *rand.Rand, heavy bool) []bitCase {
	var cases []bitCase
	trs := [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}}
	scalars := [][2]float32{{1, 0}, {1, 1}, {0.25, 1}, {0.125, 0}, {-1.5, 0.25}, {2, -1}}
	// Small and odd sizes: around the 6-row and 16/8-column tiles.
	dims := []int{1, 2, 3, 5, 6, 7, 8, 9, 12, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49, 64, 65, 96, 100}
	for i := 0; i < 240; i++ {
		tr, ab := trs[i%4], scalars[rng.IntN(len(scalars))]
		m, n, k := dims[rng.IntN(len(dims))], dims[rng.IntN(len(dims))], dims[rng.IntN(len(dims))]
		cases = append(cases, bitCase{Full, tr[0], tr[1], m, n, k, rng.IntN(2) * 3, ab[0], ab[1], ab[1] == 0 && i%3 == 0})
	}
	// Depths across the k-slice boundaries and widths across the B block.
	for _, k := range []int{255, 256, 257, 300, 511, 512, 513, 700, 1025} {
		for _, tr := range trs {
			ab := scalars[rng.IntN(len(scalars))]
			cases = append(cases, bitCase{Full, tr[0], tr[1], 13 + rng.IntN(40), 9 + rng.IntN(70), k, 0, ab[0], ab[1], false})
		}
	}
	for _, n := range []int{255, 257, 272, 300, 520, 1030, 1600} {
		for _, tr := range trs {
			cases = append(cases, bitCase{Full, tr[0], tr[1], 7 + rng.IntN(30), n, 250 + rng.IntN(30), 5, 1, float32(rng.IntN(2)), false})
		}
	}
	// Triangular modes on head views, and odd sizes.
	for _, T := range []int{13, 50, 128, 300} {
		for _, hd := range []int{8, 16, 32, 64} {
			cases = append(cases, attentionShapes(T, hd, 3, 1/float32(math.Sqrt(float64(hd))))...)
		}
	}
	// The triangular modes where the blocked driver takes them (a k slice
	// of op(B) over 64K floats), with odd sizes.
	cases = append(cases,
		bitCase{LowerC, false, true, 1100, 1100, 64, 7, 0.125, 0, true},
		bitCase{LowerC, false, true, 1030, 1030, 70, 0, 1, 1, false},
		bitCase{LowerA, false, false, 250, 300, 250, 0, 1, 0, true},
		bitCase{UpperA, true, false, 250, 300, 250, 0, 0.5, 0, false},
		bitCase{UpperA, true, false, 253, 290, 253, 3, 1, 1, false})
	// A training step's GEMMs at every width Table 4 measures (up to d 128
	// with the portable kernel, under -race or -short: minutes otherwise).
	for _, d := range []int{64, 128, 256, 512, 1024} {
		if d > 128 && !heavy {
			break
		}
		tokens := 2048
		switch {
		case d >= 512:
			tokens = 300 // same paths (two k slices, row and column cuts) in a fraction of the time
		case d == 256:
			tokens = 600
		}
		for _, r := range []int{d / 16, d / 8} {
			cases = append(cases, modelShapes(d, r, tokens, 1)...)
		}
		cases = append(cases, modelShapes(d, 4, 300, 2)...) // another LoRA scale, rank 4
	}
	if heavy {
		for _, tr := range trs {
			cases = append(cases, bitCase{Full, tr[0], tr[1], 1024, 1024, 1024, 0, 1, 0, false})
		}
		cases = append(cases,
			bitCase{Full, true, false, 1024, 1024, 1024, 0, 1, 1, false},
			bitCase{Full, false, false, 1024, 1024, 1024, 0, 0.5, 0.25, false},
			bitCase{Full, true, false, 1024, 1024, 2048, 0, 1, 1, false})
	}
	return cases
}

// TestPortableKernelMatchesOld does the same for the portable Go
// micro-kernel (CPUs without AVX2/FMA) on the small and odd sizes.
func TestPortableKernelMatchesOld(t *testing.T) {
	if !useAVX2 {
		t.Skip("the portable kernel is the default here; TestKernelMatchesOld covers it")
	}
	defer portable()()
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range append(modelShapes(64, 8, 150, 1), attentionShapes(50, 16, 2, 0.25)...) {
		c.check(t, rng)
	}
}

// goldenCases and goldenHashes pin the old driver's output (and so the
// assembly micro-kernels both drivers call) to what it computed when it was
// the production code: a change to kernel6x16AVX2, kernel6x8AVX2 or the
// packing helpers that moved a bit would move a hash.
var goldenCases = []bitCase{
	{Full, false, true, 300, 200, 70, 3, 1, 0, false},
	{Full, false, false, 97, 131, 600, 0, 0.5, 1, false},
	{Full, true, false, 133, 72, 2048, 1, 1, 1, false},
	{Full, true, true, 61, 45, 257, 2, -1.5, 0.25, false},
	{Full, false, true, 2048, 8, 64, 0, 1, 0, false},
	{Full, true, false, 64, 4, 2048, 0, 1, 1, false},
	{LowerC, false, true, 128, 128, 32, 96, 0.17677669, 0, false},
	{LowerA, false, false, 128, 32, 128, 0, 1, 0, false},
	{UpperA, true, false, 128, 32, 128, 0, 0.17677669, 0, false},
}

var goldenHashes = []uint64{
	0xe3986204fc9b160, 0x58400f4be42f7d0, 0xbd8e973e87719fe4, 0x8297f114aed96e9d, 0xdc501a44d8eaefe2,
	0x68d0d1fad9431082, 0x619950cbb00bfd42, 0x37ab55a2653f189c, 0xdb69070946e8bd78,
}

func TestOldKernelGolden(t *testing.T) {
	if !useAVX2 {
		t.Skip("the hashes are of the AVX2 kernels' output")
	}
	for i, c := range goldenCases {
		rng := rand.New(rand.NewPCG(uint64(i), 99))
		a, b, c0, lda, ldb, ldc := c.operands(rng)
		got := c.run(oldGemm, split{false, 1}, 1, a, b, c0, lda, ldb, ldc)
		h := fnv.New64a()
		for ii := 0; ii < c.m; ii++ {
			for j := 0; j < c.n; j++ {
				if c.tri == LowerC && j > ii {
					continue
				}
				v := math.Float32bits(got[ii*ldc+j])
				h.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)})
			}
		}
		if h.Sum64() != goldenHashes[i] {
			t.Errorf("golden case %d (%v): hash %#x, recorded %#x", i, c, h.Sum64(), goldenHashes[i])
		}
	}
}
