package vecmath

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

const (
	expTol = 3e-7 // relative error bound of e^x on [−87, 88]
	sigTol = 1e-6 // relative error bound of σ(x) where σ(x) is a normal float
	sumTol = 1e-5 // relative error of the float32 sum vs a float64 sum
)

// impl is one implementation under test.
type impl struct {
	name    string
	exp     func(dst, src []float32, shift float32) float32
	sigmoid func(dst, x []float32)
}

// impls returns the public functions (on the assembly path when the CPU has
// it) and the portable Go code.
func impls(t testing.TB) []impl {
	is := []impl{{"go", expShiftGo, sigmoidGo}}
	if useAVX2 {
		is = append(is, impl{"asm", ExpShift, Sigmoid})
	} else {
		t.Logf("AVX2+FMA path not available: testing the Go code only")
	}
	return is
}

// withGo runs f with the public functions forced onto the portable code.
func withGo(f func()) {
	saved := useAVX2
	useAVX2 = false
	defer func() { useAVX2 = saved }()
	f()
}

func relErr(got float32, want float64) float64 {
	return math.Abs(float64(got)-want) / math.Abs(want)
}

// sigmoid64 is σ(x) evaluated in float64 on the float32 argument.
func sigmoid64(x float32) float64 {
	return 1 / (1 + math.Exp(-float64(x)))
}

// checkExp verifies dst = e^(src−shift) elementwise (rel error expTol where
// the clamped argument lies in [−87, 88]) and the returned sum against a
// float64 sum. It returns the max relative error of the elements and that of
// the sum.
func checkExp(t *testing.T, name string, dst, src []float32, shift, sum float32) (maxRel, sumRel float64) {
	t.Helper()
	var sum64 float64
	for i := range dst {
		x := src[i] - shift // the float32 argument the code sees
		xc := math.Min(math.Max(float64(x), -87), 88)
		want := math.Exp(xc)
		sum64 += want
		rel := relErr(dst[i], want)
		if !(rel <= expTol) {
			t.Fatalf("%s: len %d: e^(%g − %g) = %g at [%d], want %g (rel err %.3g)",
				name, len(dst), src[i], shift, dst[i], i, want, rel)
		}
		maxRel = math.Max(maxRel, rel)
	}
	if len(dst) == 0 {
		if sum != 0 {
			t.Fatalf("%s: empty: sum = %g, want 0", name, sum)
		}
		return 0, 0
	}
	if sum64 > math.MaxFloat32 {
		return maxRel, 0 // the float32 sum overflows: nothing to compare
	}
	sumRel = relErr(sum, sum64)
	if !(sumRel <= sumTol) {
		t.Fatalf("%s: len %d: sum = %g, want %g (rel err %.3g)", name, len(dst), sum, sum64, sumRel)
	}
	return maxRel, sumRel
}

// checkSigmoid verifies dst = σ(x): rel error sigTol where σ(x) ≥ 2^−126,
// and below that (x < ~−87.3, including the clamped region) that the result
// is in [0, 2^−126].
func checkSigmoid(t *testing.T, name string, dst, x []float32) float64 {
	t.Helper()
	var maxRel float64
	for i := range dst {
		want := sigmoid64(x[i])
		if want < 0x1p-126 {
			if !(dst[i] >= 0 && dst[i] <= 0x1p-126) {
				t.Fatalf("%s: σ(%g) = %g, want %g (tiny)", name, x[i], dst[i], want)
			}
			continue
		}
		rel := relErr(dst[i], want)
		if !(rel <= sigTol) {
			t.Fatalf("%s: len %d: σ(%g) = %g at [%d], want %g (rel err %.3g)",
				name, len(dst), x[i], dst[i], i, want, rel)
		}
		maxRel = math.Max(maxRel, rel)
	}
	return maxRel
}

// grid returns n evenly spaced values covering [lo, hi].
func grid(lo, hi float64, n int) []float32 {
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(lo + (hi-lo)*float64(i)/float64(n-1))
	}
	return xs
}

func TestExpShiftGrid(t *testing.T) {
	// Dense grid over the required range [−87, 80] plus the rest of the
	// unclamped range, at shift 0, and shifted inputs whose float32
	// difference lands in range.
	xs := grid(-87, 88, 1<<20)
	for _, im := range impls(t) {
		dst := make([]float32, len(xs))
		// Sum the grid in chunks: the float32 sum of values spanning e^±87
		// is meaningless, so the sum is checked on small windows.
		var maxRel float64
		for lo := 0; lo < len(xs); lo += 1000 {
			hi := min(lo+1000, len(xs))
			s := im.exp(dst[lo:hi], xs[lo:hi], 0)
			rel, _ := checkExp(t, im.name, dst[lo:hi], xs[lo:hi], 0, s)
			maxRel = math.Max(maxRel, rel)
		}
		shifted := grid(-60, 25, 100003)
		for _, shift := range []float32{-7.25, 0.5, 3.1415927, 20} {
			for lo := 0; lo < len(shifted); lo += 997 {
				hi := min(lo+997, len(shifted))
				s := im.exp(dst[lo:hi], shifted[lo:hi], shift)
				rel, _ := checkExp(t, im.name, dst[lo:hi], shifted[lo:hi], shift, s)
				maxRel = math.Max(maxRel, rel)
			}
		}
		t.Logf("%s: max rel err of e^x on [−87, 88]: %.3g", im.name, maxRel)
	}
}

func TestExpShiftRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, im := range impls(t) {
		var maxRel, maxSumRel float64
		for trial := 0; trial < 200; trial++ {
			n := rng.Intn(3000)
			src := make([]float32, n)
			// Softmax-like rows: values within a spread of the max.
			spread := []float64{1, 10, 40, 87}[trial%4]
			var m float32 = -1e30
			for i := range src {
				src[i] = float32(rng.NormFloat64() * spread / 3)
				m = max(m, src[i])
			}
			dst := make([]float32, n)
			s := im.exp(dst, src, m)
			rel, sumRel := checkExp(t, im.name, dst, src, m, s)
			maxRel, maxSumRel = math.Max(maxRel, rel), math.Max(maxSumRel, sumRel)
		}
		t.Logf("%s: random softmax rows: max rel err %.3g, of the sum %.3g", im.name, maxRel, maxSumRel)
	}
}

func TestExpShiftLengths(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	lengths := []int{}
	for n := 0; n <= 40; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 63, 64, 65, 1000, 4099, 10007)
	for _, im := range impls(t) {
		for _, n := range lengths {
			// Guard cells around dst catch writes out of range; src is a
			// sub-slice at offset 1 (not 32-byte aligned).
			buf := make([]float32, n+3)
			for i := range buf {
				buf[i] = float32(rng.Float64()*20 - 15)
			}
			src := buf[1 : n+1]
			out := make([]float32, n+16)
			for i := range out {
				out[i] = -1
			}
			dst := out[1 : n+1]
			s := im.exp(dst, src, 0.5)
			checkExp(t, im.name, dst, src, 0.5, s)
			if out[0] != -1 || out[n+1] != -1 || out[len(out)-1] != -1 {
				t.Fatalf("%s: len %d: wrote outside dst", im.name, n)
			}

			// In place: dst and src the same (unaligned) slice.
			orig := append([]float32(nil), src...)
			g0, g1 := buf[0], buf[n+1]
			s = im.exp(src, src, 0.5)
			checkExp(t, im.name, src, orig, 0.5, s)
			if buf[0] != g0 || buf[n+1] != g1 {
				t.Fatalf("%s: len %d: in-place wrote outside the slice", im.name, n)
			}
		}
	}
}

func TestExpShiftEdges(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, im := range impls(t) {
		// Clamping: far-out and infinite arguments give e^−87 / e^88.
		src := []float32{-1000, -inf, -87, -88, 88, 89, 1000, inf, 0, -0.0, 1, -1}
		dst := make([]float32, len(src))
		im.exp(dst, src, 0)
		for i, x := range src {
			want := math.Exp(math.Min(math.Max(float64(x), -87), 88))
			if rel := relErr(dst[i], want); !(rel <= expTol) {
				t.Errorf("%s: e^(%g) = %g, want %g (clamped)", im.name, x, dst[i], want)
			}
		}
		// NaN (input or shift) may give anything but must not crash or touch
		// other elements.
		src = []float32{1, nan, 2, 3, nan, 4, 5, 6, 7, nan}
		dst = make([]float32, len(src))
		im.exp(dst, src, 0)
		for i, x := range src {
			if x == x && relErr(dst[i], math.Exp(float64(x))) > expTol {
				t.Errorf("%s: with NaN neighbours e^(%g) = %g", im.name, x, dst[i])
			}
		}
		im.exp(dst, src, nan)
		im.sigmoid(dst, src)
		for i, x := range src {
			if x == x && relErr(dst[i], sigmoid64(x)) > sigTol {
				t.Errorf("%s: with NaN neighbours σ(%g) = %g", im.name, x, dst[i])
			}
		}
	}
	// Short src panics (before touching memory).
	for _, im := range []impl{{"public", ExpShift, Sigmoid}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: ExpShift with short src did not panic", im.name)
				}
			}()
			im.exp(make([]float32, 5), make([]float32, 4), 0)
		}()
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Sigmoid with short x did not panic", im.name)
				}
			}()
			im.sigmoid(make([]float32, 5), make([]float32, 4))
		}()
	}
	// Longer src is fine: only len(dst) elements are used.
	dst := make([]float32, 3)
	if s := ExpShift(dst, []float32{0, 0, 0, 1000}, 0); s != 3 {
		t.Errorf("ExpShift(3 zeros of a longer src) sum = %g, want 3", s)
	}
}

func TestSigmoidGrid(t *testing.T) {
	xs := grid(-100, 100, 1<<20)
	for _, im := range impls(t) {
		dst := make([]float32, len(xs))
		im.sigmoid(dst, xs)
		maxRel := checkSigmoid(t, im.name, dst, xs)
		t.Logf("%s: max rel err of σ(x) on [−100, 100]: %.3g", im.name, maxRel)
	}
}

func TestSigmoidRandomAndLengths(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	lengths := []int{}
	for n := 0; n <= 40; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 63, 64, 65, 1000, 4099, 10007)
	for _, im := range impls(t) {
		for _, n := range lengths {
			buf := make([]float32, n+3)
			for i := range buf {
				buf[i] = float32(rng.NormFloat64() * 6)
			}
			x := buf[1 : n+1]
			out := make([]float32, n+16)
			for i := range out {
				out[i] = -1
			}
			dst := out[1 : n+1]
			im.sigmoid(dst, x)
			checkSigmoid(t, im.name, dst, x)
			if out[0] != -1 || out[n+1] != -1 || out[len(out)-1] != -1 {
				t.Fatalf("%s: len %d: wrote outside dst", im.name, n)
			}
			orig := append([]float32(nil), x...)
			im.sigmoid(x, x)
			checkSigmoid(t, im.name, x, orig)
		}
	}
}

// TestPublicFallback runs the public functions with the assembly switched off
// (the path taken without AVX2+FMA) and checks they match the Go code
// exactly.
func TestPublicFallback(t *testing.T) {
	src := grid(-30, 30, 1001)[1:]
	want := make([]float32, len(src))
	wantSum := expShiftGo(want, src, 1.5)
	wantSig := make([]float32, len(src))
	sigmoidGo(wantSig, src)
	got := make([]float32, len(src))
	gotSig := make([]float32, len(src))
	var gotSum float32
	withGo(func() {
		gotSum = ExpShift(got, src, 1.5)
		Sigmoid(gotSig, src)
	})
	if gotSum != wantSum {
		t.Errorf("fallback ExpShift sum = %g, want %g", gotSum, wantSum)
	}
	for i := range src {
		if got[i] != want[i] || gotSig[i] != wantSig[i] {
			t.Fatalf("fallback differs from the Go code at %d: %g, %g vs %g, %g",
				i, got[i], gotSig[i], want[i], wantSig[i])
		}
	}
}

// TestAsmMatchesGo compares the two paths directly: both are within the
// tolerance of math.Exp, so they are within twice it of each other.
func TestAsmMatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("AVX2+FMA path not available")
	}
	rng := rand.New(rand.NewSource(4))
	src := make([]float32, 4097)
	for i := range src {
		src[i] = float32(rng.Float64()*170 - 86)
	}
	a, g := make([]float32, len(src)), make([]float32, len(src))
	ExpShift(a, src, 0)
	expShiftGo(g, src, 0)
	for i := range src {
		if d := math.Abs(float64(a[i]-g[i])) / float64(g[i]); d > 2*expTol {
			t.Fatalf("e^(%g): asm %g, go %g", src[i], a[i], g[i])
		}
	}
}

func benchInput() []float32 {
	xs := make([]float32, 4096)
	for i := range xs {
		xs[i] = float32(i%200)/10 - 15
	}
	return xs
}

var sink float32

func benchPaths(b *testing.B, f func(b *testing.B)) {
	for _, path := range []string{"asm", "go"} {
		b.Run(path, func(b *testing.B) {
			if path == "asm" && !useAVX2 {
				b.Skip("AVX2+FMA path not available")
			}
			if path == "go" {
				saved := useAVX2
				useAVX2 = false
				defer func() { useAVX2 = saved }()
			}
			f(b)
		})
	}
}

func BenchmarkExpShift(b *testing.B) {
	xs := benchInput()
	dst := make([]float32, len(xs))
	benchPaths(b, func(b *testing.B) {
		b.SetBytes(int64(4 * len(xs)))
		for b.Loop() {
			sink += ExpShift(dst, xs, 0.5)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/elem")
	})
}

func BenchmarkSigmoid(b *testing.B) {
	xs := benchInput()
	dst := make([]float32, len(xs))
	benchPaths(b, func(b *testing.B) {
		b.SetBytes(int64(4 * len(xs)))
		for b.Loop() {
			Sigmoid(dst, xs)
		}
		sink += dst[0]
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(xs)), "ns/elem")
	})
}

// ExampleExpShift shows a numerically stable softmax.
func ExampleExpShift() {
	logits := []float32{1, 2, 3}
	p := make([]float32, len(logits))
	inv := 1 / ExpShift(p, logits, 3) // shift by the max
	for i := range p {
		p[i] *= inv
	}
	fmt.Printf("%.4f\n", p)
	// Output: [0.0900 0.2447 0.6652]
}
